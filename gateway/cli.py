"""``python -m gateway [--once]``: the WhatsApp gateway process (``make run-gateway``).

Exit codes (:class:`outbox.exitcodes.ExitCode`): 0 stopped cleanly (SIGTERM/SIGINT, or
``--once`` drained what was due); 1 an unexpected error or the database connection lost
(supervisord restarts it); 2 bad configuration (every problem listed on stderr); 3 database
unavailable or not migrated; 4 another gateway already serves this session.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from collections.abc import Sequence

from gateway.config import load_gateway_settings
from gateway.service import Gateway
from outbox.errors import ConfigError, DatabaseUnavailable, SchemaNotReady
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag, stop_on_signals
from outbox.logs import configure_logging

log = logging.getLogger("gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description="Send the wa_outbox of one WhatsApp session (WA_SESSION_NAME) with neonize.",
    )
    parser.add_argument("--once", action="store_true",
                        help="drain what is due now, then exit (cron-style use, tests)")
    parser.add_argument("--check-config", action="store_true",
                        help="validate the environment and print the settings, then exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        settings = load_gateway_settings(worker_id=worker)
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr, flush=True)
        return ExitCode.USAGE
    configure_logging(settings.outbox.log_level, settings.outbox.log_format)
    if args.check_config:
        pacing = settings.pacing
        print(f"session {settings.session_name}, transport {settings.transport}, "
              f"pacing {'on' if pacing.enabled else 'off'} (gap {pacing.gap_min.total_seconds():g}"
              f"-{pacing.gap_max.total_seconds():g} s, {pacing.max_per_hour}/h, "
              f"{pacing.max_per_day}/day, recipient gap {pacing.recipient_gap.total_seconds():g} s)"
              f", poll {settings.poll_cron!r}, admins {len(settings.admins)}")
        return ExitCode.OK
    stop = StopFlag()
    try:
        with stop_on_signals(stop):
            code = Gateway(settings, once=args.once, stop=stop).run()
    except (DatabaseUnavailable, SchemaNotReady) as exc:
        print(f"gateway: {exc}", file=sys.stderr, flush=True)
        code = ExitCode.DATABASE
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()
           if t is not threading.main_thread()):
        os._exit(code)  # a neonize worker thread that did not end must not hold the exit
    return code
