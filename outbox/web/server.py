"""Start the page: settings, logging, the schema check, then uvicorn in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from types import FrameType

import uvicorn

from outbox.db import check_schema, connect
from outbox.errors import ConfigError, DatabaseUnavailable, SchemaNotReady
from outbox.exitcodes import ExitCode
from outbox.logs import configure_logging, log_startup_error
from outbox.web.app import create_app
from outbox.web.settings import load_web_settings

log = logging.getLogger("outbox.web")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m outbox web",
        description="The status page: sessions and pairing QR, queue with retry/cancel, "
                    "producers, /healthz and /metrics (settings: OUTBOX_WEB_* variables).")
    parser.add_argument("--host", help="listen address (default OUTBOX_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default OUTBOX_WEB_PORT or 8080)")
    parser.add_argument("--check-config", action="store_true",
                        help="read the settings, report every problem, and exit")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    values = dict(os.environ if env is None else env)
    if args.host:
        values["OUTBOX_WEB_HOST"] = args.host
    if args.port:
        values["OUTBOX_WEB_PORT"] = str(args.port)
    try:
        settings = load_web_settings(values)
    except ConfigError as exc:
        log_startup_error("outbox.web", str(exc), values)
        return ExitCode.USAGE
    configure_logging(settings.log_level, settings.log_format)
    if args.check_config:
        print("configuration OK")
        return ExitCode.OK
    try:
        with connect(settings.database_url, application_name="wa-outbox-web") as conn:
            check_schema(conn)
    except (DatabaseUnavailable, SchemaNotReady) as exc:
        log.error("status page not started: %s", exc)
        return ExitCode.DATABASE
    if settings.token is None:
        log.warning("OUTBOX_WEB_TOKEN is not set: the page answers anyone on this machine "
                    "(%s is a loopback address)", settings.host)
    log.info("status page on http://%s:%d/", settings.host, settings.port)
    # uvicorn stops gracefully on SIGTERM / SIGINT, then raises the signal again for the
    # handlers it found in place: these make that a clean exit 0 (a stop, for supervisord).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False, server_header=False)
    log.info("status page stopped")
    return ExitCode.OK


def _stopped(signum: int, _frame: FrameType | None) -> None:
    log.debug("signal %d after the graceful stop", signum)
