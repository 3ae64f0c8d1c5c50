"""Operator CLI: ``python -m outbox <command>`` (also installed as ``wa-outbox``).

Every query is an engine function (:mod:`outbox.engine`); this module only parses, asks and
prints. Times are shown in WIB, counts with Indonesian digit grouping. ``list`` masks phone
numbers (``--full`` shows them); ``show`` is the one place a row is shown whole.

Exit codes: :class:`outbox.exitcodes.ExitCode`, documented once in docs/reference/cli.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

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
from outbox.health import HealthThresholds, judge
from outbox.logs import JAKARTA, mask_phone, mask_text
from views.adapter import NAIVE_TIME_ZONE_VARIABLE

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")
_LOCAL_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2})[:.](\d{2}))?\s*$")


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``; a bare number means days."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h or 90m")
    number, unit = int(match.group(1)), match.group(2) or "d"
    return {"d": timedelta(days=number), "h": timedelta(hours=number),
            "m": timedelta(minutes=number)}[unit]


def positive_duration(text: str) -> timedelta:
    """A duration above zero (``purge --older-than 0`` would delete what just finished)."""
    value = parse_duration(text)
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(
            f"{text!r}: the age must be more than zero (0 would purge what just finished)")
    return value


def parse_since(text: str) -> datetime:
    """``2h`` / ``3d`` ago, or a Jakarta date or time: ``2026-12-01``, ``2026-12-01 08.30``."""
    match = _LOCAL_TIME.match(text)
    if match:
        try:
            day = date.fromisoformat(match.group(1))
            return datetime(day.year, day.month, day.day, int(match.group(2) or 0),
                            int(match.group(3) or 0), tzinfo=JAKARTA)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from exc
    try:
        return datetime.now(UTC) - parse_duration(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an age (2h, 3d) nor a WIB time (2026-12-01 or "
            "\"2026-12-01 08.30\")") from None


def wib(value: datetime | None) -> str:
    """``2026-12-02 04.33 WIB``: how a time is shown to an operator."""
    if value is None:
        return "-"
    return value.astimezone(JAKARTA).strftime("%Y-%m-%d %H.%M WIB")


def wib_seconds(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(JAKARTA).strftime("%Y-%m-%d %H.%M.%S WIB")


def thousands(number: int) -> str:
    """``1.234``: Indonesian digit grouping."""
    return f"{number:,}".replace(",", ".")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m outbox", description="Operate the WhatsApp outbox (wa_outbox).",
        epilog="Exit codes: 0 done; 1 nothing matched (or refused at the prompt); 2 bad usage "
               "or configuration; 3 database unavailable or not migrated; 5 health: unhealthy. "
               "See docs/reference/cli.md.")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser(
        "migrate", help="apply the migrations and render the Cicero adapter (one transaction)")
    migrate.add_argument("--naive-time-zone", default=None, metavar="ZONE",
                         help="the zone whose wall clock Cicero's naive timestamp columns hold "
                              "(default: CICERO_NAIVE_TIME_ZONE, else as rendered before, else "
                              "UTC)")
    sub.add_parser("doctor", help="what this database holds, as the migrations and reports see "
                                  "it (read-only; works before migrating)")
    sub.add_parser("status", help="sessions (state, last send) and counts per status")
    sub.add_parser("capacity", help="per session: today's sends, the budget left, the queue "
                   "by priority with projected send times, rows projected to miss their "
                   "deadline")
    listing = sub.add_parser("list", help="messages, newest first, as a table")
    listing.add_argument("--status", action="append", choices=[s.value for s in engine.Status],
                         help="only this status (repeat for several)")
    listing.add_argument("--type", default=None, help="only this message type")
    listing.add_argument("--recipient", default=None,
                         help="only this recipient, in any form (0812..., +62 812..., a JID)")
    listing.add_argument("--session", default=None, help="only this gateway session")
    listing.add_argument("--since", type=parse_since, default=None,
                         help="created since: an age (2h, 3d) or a WIB time (2026-12-01 08.30)")
    listing.add_argument("--limit", type=int, default=50, help="at most this many rows (50)")
    listing.add_argument("--full", action="store_true",
                         help="show recipients unmasked and errors untruncated")
    show = sub.add_parser("show", help="one message: every column, the error history, the "
                                       "complaint it answers")
    show.add_argument("id", type=int)
    health = sub.add_parser("health", help="exit 0 when healthy, 5 when a session is down or "
                                           "the queue is stuck (for monitoring)")
    health.add_argument("--stuck-after", type=positive_duration, default=timedelta(minutes=30),
                        metavar="AGE", help="due messages waiting this long with nothing sent "
                                            "mean the queue is stuck (default 30m)")
    health.add_argument("--down-after", type=positive_duration, default=timedelta(minutes=5),
                        metavar="AGE", help="a session not connected, or without a heartbeat, "
                                            "this long is down (default 5m)")
    retry = sub.add_parser("retry", help="put a failed message (or all failed) back to pending")
    group = retry.add_mutually_exclusive_group(required=True)
    group.add_argument("id", nargs="?", type=int, help="the wa_outbox id")
    group.add_argument("--failed", action="store_true", help="every failed message")
    cancel = sub.add_parser("cancel", help="cancel a pending or failed message")
    cancel.add_argument("id", type=int)
    purge = sub.add_parser("purge", help="delete finished messages older than an age (asks "
                                         "first; rows a complaint points to are kept)")
    purge.add_argument("--older-than", type=positive_duration, default=None, metavar="AGE",
                       help="e.g. 30d, 12h (default: OUTBOX_RETENTION_DAYS, 30 days)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser("web", add_help=False,
                   help="the status page: sessions, pairing QR, queue, /healthz, /metrics "
                        "(its options: python -m outbox web --help)")
    send = sub.add_parser("send-test", help="enqueue an ad-hoc text message")
    send.add_argument("recipient", help="08xx, +62 8xx, 628xx@s.whatsapp.net or ...@g.us")
    send.add_argument("text")
    send.add_argument("--type", default="text")
    send.add_argument("--session", default=None,
                      help="a registered gateway session (default: the default session)")
    return parser


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    seconds = int((now - since).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _cut(text: str | None, width: int) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]],
          right: Sequence[int] = ()) -> list[str]:
    """A plain text table: columns as wide as their widest cell."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _status(conn: engine.Conn) -> int:
    now = datetime.now(UTC)
    sessions = engine.session_health(conn)
    if sessions:
        for line in table(["session", "state", "since", "paired", "last send", "heartbeat"], [
                [s.name + (" (default)" if s.is_default else ""), s.state or "not registered",
                 wib(s.state_changed_at), mask_phone(s.jid) if s.jid else "-",
                 wib(s.last_sent_at),
                 _age(s.heartbeat_at, s.now) + " ago" if s.heartbeat_at else "-"]
                for s in sessions]):
            print(line)
        print()
    rows = engine.counts(conn)
    if not rows:
        print("wa_outbox is empty")
        return ExitCode.OK
    for line in table(["session", "status", "messages", "oldest pending"], [
            [row.session_name, row.status, thousands(row.messages),
             _age(row.oldest_pending_at, now) if row.status == "pending" else ""]
            for row in rows], right=(2,)):
        print(line)
    return ExitCode.OK


def _list(conn: engine.Conn, args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return ExitCode.USAGE
    rows = engine.list_messages(conn, engine.ListFilter(
        status=tuple(args.status) if args.status else None, type=args.type,
        recipient=args.recipient, session=args.session, since=args.since, limit=args.limit))
    if not rows:
        print("no messages match")
        return ExitCode.NOTHING
    width = 10_000 if args.full else 50
    body = [[str(r["id"]), wib(r["created_at"]), r["session_name"], r["type"], r["status"],
             f"{r['attempts']}/{r['max_attempts']}",
             r["recipient"] if args.full else mask_phone(r["recipient"]),
             _cut(r["last_error"], width) if args.full else mask_text(_cut(r["last_error"],
                                                                           width))]
            for r in rows]
    for line in table(["id", "created", "session", "type", "status", "tries", "recipient",
                       "last error"], body, right=(0,)):
        print(line)
    more = " (more match: raise --limit)" if len(rows) == args.limit else ""
    print(f"{thousands(len(rows))} message(s){more}")
    return ExitCode.OK


def _show(conn: engine.Conn, msg_id: int) -> int:
    row = engine.message(conn, msg_id)
    content = row.pop("content")
    width = max(len(k) for k in row)
    for key, value in row.items():
        if isinstance(value, datetime):
            text = wib_seconds(value)
        elif value is None:
            text = "-"
        else:
            text = str(value)
        print(f"{key:<{width}}  {text}")
    history = engine.message_errors(conn, msg_id)
    print("\nerror history (oldest first):" if history else "\nerror history: none")
    for item in history:
        print(f"  {wib_seconds(item['at'])}  attempt {item['attempt']}, became "
              f"{item['became']}: {item['error']}")
    complaints = engine.message_complaints(conn, msg_id)
    if complaints:
        print("\nanswers complaint(s):")
        for c in complaints:
            who = " ".join(str(x) for x in (c["reporter_name"], c["nrp"], c["polres"]) if x)
            print(f"  #{c['id']} from {c['complainant']} {('(' + who + ')') if who else ''}"
                  f" status {c['status']}, delivery {c['delivery_state']}, received "
                  f"{wib(c['created_at'])}, responded {wib(c['responded_at'])}"
                  + (f", issues {', '.join(c['issues'])}" if c["issues"] else ""))
    else:
        print("\nanswers no complaint")
    print("\ncontent:")
    for line in content.splitlines() or [""]:
        print(f"  {line}")
    return ExitCode.OK


def _health(conn: engine.Conn, args: argparse.Namespace) -> int:
    verdicts = judge(engine.session_health(conn),
                     HealthThresholds(stuck=args.stuck_after, heartbeat=args.down_after))
    healthy = all(v.healthy for v in verdicts)
    for v in verdicts:
        print(f"{'ok  ' if v.healthy else 'FAIL'} {v.session or '(pipeline)'}: {v.text}")
    print("healthy" if healthy else "unhealthy")
    return ExitCode.OK if healthy else ExitCode.UNHEALTHY


def _purge(conn: engine.Conn, args: argparse.Namespace, retention: int,
           confirm: Callable[[str], bool]) -> int:
    older: timedelta = args.older_than or timedelta(days=retention)
    preview = engine.purge_preview(conn, older)
    kept = (f"; {thousands(preview.kept_for_complaints)} kept because a complaint points to "
            "them" if preview.kept_for_complaints else "")
    print(f"{thousands(preview.purgeable)} finished message(s) older than {_span(older)} "
          f"(finished before {wib(datetime.now(UTC) - older)}){kept}")
    if args.dry_run:
        print("dry run: nothing deleted")
        return ExitCode.OK
    if preview.purgeable == 0:
        return ExitCode.NOTHING
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: purge asks for confirmation; not on a terminal, pass --yes",
                  file=sys.stderr)
            return ExitCode.USAGE
        if not confirm(f"delete {thousands(preview.purgeable)} message(s)? [y/N] "):
            print("nothing deleted")
            return ExitCode.NOTHING
    deleted = engine.purge(conn, older)
    print(f"purged {thousands(deleted)} finished message(s) older than {_span(older)}")
    return ExitCode.OK


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ask(prompt: str) -> bool:
    return input(prompt).strip().lower() in ("y", "yes", "ya")


def _send_test(conn: engine.Conn, args: argparse.Namespace) -> int:
    if args.session is not None:
        known = sorted(s.name for s in engine.session_health(conn) if s.state is not None)
        if args.session not in known:
            print(f"error: unknown session {args.session!r}; registered sessions: "
                  f"{', '.join(known) or 'none (start a gateway first)'}", file=sys.stderr)
            return ExitCode.USAGE
    result = engine.enqueue(conn, engine.NewMessage(
        recipient=args.recipient, content=args.text, type=args.type,
        session_name=args.session))
    print(f"enqueued message {result.id}")
    return ExitCode.OK


def run(args: argparse.Namespace, env: dict[str, str] | None = None,
        confirm: Callable[[str], bool] = _ask) -> int:
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
            return _status(conn)
        if args.command == "capacity":
            from outbox import capacity

            projection = capacity.capacity(conn)
            print("\n".join(capacity.text(projection)))
            return ExitCode.OK
        if args.command == "list":
            return _list(conn, args)
        if args.command == "show":
            return _show(conn, args.id)
        if args.command == "health":
            return _health(conn, args)
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
            return _purge(conn, args, retention, confirm)
        if args.command == "send-test":
            return _send_test(conn, args)
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["web"]:  # the status page has its own options (python -m outbox web --help)
        from outbox.web import main as web_main

        return web_main(argv[1:])
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
