"""``python -m gateway [--once]``: the WhatsApp gateway process (``make run-gateway``).

Exit codes (:class:`outbox.exitcodes.ExitCode`, documented in docs/reference/cli.md): 0 stopped
cleanly (SIGTERM/SIGINT, or ``--once`` drained what was due); 1 an unexpected error
(supervisord restarts it); 2 bad configuration (every problem listed on stderr); 3 only with
``--once``: database unavailable or not migrated (the long-running gateway waits for its
database instead, logging once per outage); 4 another gateway serves this session, or this
process lost the session lock (fenced: it never sends again); 6 the watchdog ended a hung send
or a send loop that made no progress (supervisord restarts it). ``--check-config``: 0 fine,
2 a configuration problem, 3 only the database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.config import gateway_settings, lease_problem, load_gateway_settings
from gateway.service import Gateway
from outbox.checks import check_environment, print_report
from outbox.config import EnvReader, database_url
from outbox.errors import ConfigError, DatabaseUnavailable, SchemaNotReady
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag, stop_on_signals
from outbox.logs import configure_logging, log_startup_error

log = logging.getLogger("gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description="Send the wa_outbox of one WhatsApp session (WA_SESSION_NAME) with neonize.",
    )
    parser.add_argument("--once", action="store_true",
                        help="drain what is due now, then exit (cron-style use, tests)")
    parser.add_argument("--check-config", action="store_true",
                        help="check the environment (values, unknown variables, WA_AUTH_PATH, "
                             "admin numbers, the database), print every problem or the "
                             "settings, then exit")
    return parser


def check_config(env: Mapping[str, str], worker: str) -> int:
    """``--check-config``: the values, unknown variables, the auth folder, the admin numbers
    and the database, every problem at once (exit 2; 3 when only the database fails)."""
    reader = EnvReader(env)
    settings = gateway_settings(reader, worker_id=worker)
    problems = list(reader.problems)
    lease = lease_problem(settings)
    if lease is not None:
        problems.append(lease)
    folders: dict[str, Path] = {}
    if settings.auth_path is not None:
        folders["WA_AUTH_PATH"] = settings.auth_path
    if settings.jsonl_path is not None:
        folders["WA_TRANSPORT"] = settings.jsonl_path.parent
    probe = EnvReader(env)
    url = database_url(probe)
    lists = EnvReader(env)
    report = check_environment(
        "gateway", env, problems=problems,
        loaders=[lambda e: load_gateway_settings(e, worker_id=worker)],
        database_url=url if url and not probe.problems else None,
        phone_lists={name: lists.items(name)
                     for name in ("GATEWAY_WHATSAPP_ADMIN", "ADMIN_WHATSAPP")},
        folders=folders)
    pacing = settings.pacing
    summary = (f"session {settings.session_name}, transport {settings.transport}, "
               f"pacing {'on' if pacing.enabled else 'off'} (gap "
               f"{pacing.gap_min.total_seconds():g}-{pacing.gap_max.total_seconds():g} s, "
               f"{pacing.max_per_hour}/h, {pacing.max_per_day}/day, of which "
               f"{pacing.reserve_per_hour}/h and {pacing.reserve_per_day}/day kept for answers "
               f"and alerts, recipient gap "
               f"{pacing.recipient_gap.total_seconds():g} s), poll {settings.poll_cron!r}, "
               f"lease {settings.outbox.lease.total_seconds():g} s, send timeout "
               f"{settings.send_timeout.total_seconds():g} s, admins {len(settings.admins)}")
    return print_report("gateway", report, [summary], out=print,
                        err=lambda line: print(line, file=sys.stderr))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    environ: Mapping[str, str] = os.environ if env is None else env
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if args.check_config:
        return check_config(environ, worker)
    try:
        settings = load_gateway_settings(environ, worker_id=worker)
    except ConfigError as exc:
        log_startup_error("gateway", str(exc), environ)
        return ExitCode.USAGE
    configure_logging(settings.outbox.log_level, settings.outbox.log_format)
    stop = StopFlag()
    try:
        with stop_on_signals(stop):
            code = Gateway(settings, once=args.once, stop=stop).run()
    except (DatabaseUnavailable, SchemaNotReady) as exc:
        log_startup_error("gateway", str(exc), environ)
        code = ExitCode.DATABASE
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()
           if t is not threading.main_thread()):
        os._exit(code)  # a neonize worker thread that did not end must not hold the exit
    return code
