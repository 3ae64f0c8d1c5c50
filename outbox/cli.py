"""Operator CLI: ``python -m outbox <command>`` (also installed as ``wa-outbox``).

Exit codes (for scripts; :class:`outbox.exitcodes.ExitCode`): 0 done; 1 nothing matched
(unknown id, nothing to retry, row not in a state that allows it; ``doctor``: warnings found);
2 bad usage, bad configuration or a message the database refused; 3 database unavailable, not
migrated, or a migration that failed (and changed nothing).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from outbox import engine
from outbox.config import EnvReader, database_url
from outbox.db import check_schema, connect
from outbox.errors import (
    ConfigError,
    DatabaseUnavailable,
    InvalidMessage,
    MigrationFailed,
    NotFound,
    SchemaNotReady,
)
from outbox.exitcodes import ExitCode
from views.adapter import NAIVE_TIME_ZONE_VARIABLE

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``; a bare number means days."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h or 90m")
    number, unit = int(match.group(1)), match.group(2) or "d"
    return {"d": timedelta(days=number), "h": timedelta(hours=number),
            "m": timedelta(minutes=number)}[unit]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m outbox",
                                     description="Operate the WhatsApp outbox (wa_outbox).")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser(
        "migrate", help="apply the migrations and render the Cicero adapter (one transaction)")
    migrate.add_argument("--naive-time-zone", default=None, metavar="ZONE",
                         help="the zone whose wall clock Cicero's naive timestamp columns hold "
                              "(default: CICERO_NAIVE_TIME_ZONE, else as rendered before, else "
                              "UTC)")
    sub.add_parser("doctor", help="what this database holds, as the migrations and reports see "
                                  "it (read-only; works before migrating)")
    sub.add_parser("status", help="counts per session and status, oldest pending age")
    retry = sub.add_parser("retry", help="put a failed message (or all failed) back to pending")
    group = retry.add_mutually_exclusive_group(required=True)
    group.add_argument("id", nargs="?", type=int, help="the wa_outbox id")
    group.add_argument("--failed", action="store_true", help="every failed message")
    cancel = sub.add_parser("cancel", help="cancel a pending or failed message")
    cancel.add_argument("id", type=int)
    purge = sub.add_parser("purge", help="delete finished messages older than a duration")
    purge.add_argument("--older-than", type=parse_duration, default=None,
                       help="e.g. 30d, 12h (default: OUTBOX_RETENTION_DAYS, 30 days)")
    send = sub.add_parser("send-test", help="enqueue an ad-hoc text message")
    send.add_argument("recipient", help="08xx, +62 8xx, 628xx@s.whatsapp.net or ...@g.us")
    send.add_argument("text")
    send.add_argument("--type", default="text")
    send.add_argument("--session", default=None, help="gateway session (default: the default)")
    return parser


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = int((now - since).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def run(args: argparse.Namespace, env: dict[str, str] | None = None) -> int:
    reader = EnvReader(env)
    url = database_url(reader)
    retention = reader.integer("OUTBOX_RETENTION_DAYS", default=30, minimum=1)
    naive_zone = reader.optional_text(NAIVE_TIME_ZONE_VARIABLE)
    reader.finish()

    if args.command == "migrate":
        from outbox import migrate
        from outbox.logs import configure_logging

        configure_logging("info")  # what the migration did (set aside, imported, rendered)
        migrate.upgrade(url, naive_time_zone=args.naive_time_zone or naive_zone)
        print("database migrated to head")
        return ExitCode.OK
    if args.command == "doctor":
        from outbox.doctor import diagnose

        with connect(url, application_name="wa-outbox-doctor") as conn:
            report = diagnose(conn, naive_zone)
        print(report.text())
        return ExitCode.NOTHING if report.warnings else ExitCode.OK

    with connect(url, application_name="wa-outbox-cli") as conn:
        check_schema(conn)
        if args.command == "status":
            now = datetime.now(UTC)
            rows = engine.counts(conn)
            if not rows:
                print("wa_outbox is empty")
            print(f"{'session':<16} {'status':<10} {'messages':>10}  oldest pending")
            for row in rows:
                print(f"{row.session_name:<16} {row.status:<10} {row.messages:>10}  "
                      f"{_age(row.oldest_pending_at, now) if row.status == 'pending' else ''}")
            return ExitCode.OK
        if args.command == "retry":
            ids = engine.requeue_failed(conn, None if args.failed else args.id)
            if not ids:
                if args.failed:
                    print("no failed messages")
                else:
                    state = engine.status_of(conn, args.id)["status"]
                    print(f"message {args.id} is {state}, not failed: nothing to retry")
                return ExitCode.NOTHING
            print(f"requeued {len(ids)} message(s): {', '.join(map(str, ids[:20]))}"
                  + (" ..." if len(ids) > 20 else ""))
            return ExitCode.OK
        if args.command == "cancel":
            if engine.cancel(conn, args.id):
                print(f"message {args.id} cancelled")
                return ExitCode.OK
            state = engine.status_of(conn, args.id)["status"]
            print(f"message {args.id} is {state}: only pending or failed messages can be "
                  "cancelled")
            return ExitCode.NOTHING
        if args.command == "purge":
            older = args.older_than or timedelta(days=retention)
            deleted = engine.purge(conn, older)
            print(f"purged {deleted} finished message(s) older than {older}")
            return ExitCode.OK
        if args.command == "send-test":
            result = engine.enqueue(conn, engine.NewMessage(
                recipient=args.recipient, content=args.text, type=args.type,
                session_name=args.session))
            print(f"enqueued message {result.id}")
            return ExitCode.OK
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except InvalidMessage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.NOTHING
    except (DatabaseUnavailable, SchemaNotReady, MigrationFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.DATABASE
