"""Logging shared by the gateway, the producers and the CLI: one handler, stdout, text or JSON.

- Every line is stamped in Asia/Jakarta with its offset (``2026-12-02 04:33:32+07:00``), whatever
  the host's clock zone, as the old services logged.
- ``LOG_FORMAT=text`` (``<time> <LEVEL> <logger>: <message> key=value ...``) or ``json`` (one
  object per line: ``ts``, ``level``, ``logger``, ``msg``, then the extras).
- Phone numbers and personal JIDs are masked (``62812****890``) in every record, its extras and
  its exception text included, unless ``LOG_LEVEL=debug``: the mask is a filter on the one
  handler, so third-party records (neonize, psycopg) are masked too. Groups are left alone.
- :func:`configure_logging` replaces whatever handlers the root logger holds (a library that
  called ``logging.basicConfig`` first included), so calling it again, e.g. on a reconnect,
  never duplicates a line.
- Third-party noise stays out of INFO: alembic's INFO lines and neonize's "ffmpeg not found"
  warning (we send only text and documents) unless ``LOG_LEVEL=debug``.
- Start-up errors (bad configuration, no database) go through :func:`log_startup_error`: the
  same stamp and format, on stderr.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}

# Loggers whose chatter is not for an operator, and the level they are held at outside debug.
QUIET_LOGGERS: dict[str, int] = {
    "alembic": logging.WARNING,  # "Context impl PostgresqlImpl", "Running upgrade ..."
    "neonize.utils.ffmpeg": logging.ERROR,  # ffmpeg/ffprobe missing: only media sends need them
}

# A phone number in a log line: international (62...) or national (08...) digits, optionally
# with '+' and '-'/space separators, then optionally the JID server and device part. Digits that
# touch another digit, a letter or '-' are not matched, so ids, times and old-style group ids
# (6281...-1600000000@g.us) stay as they are.
_PHONE = re.compile(
    r"(?<![\w\-+])"
    r"(?P<number>\+?(?:62[\s-]?|0)8\d{1,3}(?:[\s-]?\d{2,5}){1,4}|\+?\d{9,15})"
    r"(?P<server>(?:[.:]\d{1,3})*@(?:s\.whatsapp\.net|c\.us|lid|g\.us))?"
    r"(?![\w\-])")


def mask_number(digits: str) -> str:
    """``6281234567890`` -> ``62812****890``: the country and operator prefix and the last
    three digits stay, enough to tell numbers apart in a log without exposing them; always four
    stars, so the length is not given away either."""
    if len(digits) <= 8:
        return digits
    return f"{digits[:5]}****{digits[-3:]}"


def mask_phone(jid: str) -> str:
    """``6281234567890@s.whatsapp.net`` -> ``62812****890@s.whatsapp.net`` for logs."""
    local, _, server = jid.partition("@")
    number, sep, device = local.partition(":")  # 628...:12@s.whatsapp.net: a linked device
    if len(number) <= 7 or server == "g.us":
        return jid
    return mask_number(number) + sep + device + (f"@{server}" if server else "")


def _mask_match(match: re.Match[str]) -> str:
    number, server = match.group("number"), match.group("server") or ""
    if server.endswith("@g.us"):
        return match.group(0)  # a group id names no person
    digits = re.sub(r"\D", "", number)
    if not 9 <= len(digits) <= 15:
        return match.group(0)
    if not (server or number.startswith("+") or digits.startswith(("62", "08"))):
        return match.group(0)  # a bare long number (an id, epoch milliseconds) is no phone
    return ("+" if number.startswith("+") else "") + mask_number(digits) + server


def mask_text(text: str) -> str:
    """Every phone number and personal JID in ``text``, masked."""
    if not any(ch.isdigit() for ch in text):
        return text
    return _PHONE.sub(_mask_match, text)


class MaskFilter(logging.Filter):
    """Masks phone numbers in the message, the string extras and the exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = mask_text(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def stamp(created: float) -> str:
    """``2026-12-02 04:33:32+07:00``: the record's time in Jakarta with its offset."""
    return datetime.fromtimestamp(created, JAKARTA).isoformat(sep=" ", timespec="seconds")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return stamp(record.created)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _extras(record)
        if extra:
            first, newline, rest = text.partition("\n")
            text = first + " " + " ".join(f"{k}={v}" for k, v in sorted(extra.items()))
            text += newline + rest
        return text


def formatter(fmt: str = "text") -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def _handler(stream: TextIO, fmt: str, level: str) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt))
    if level != "debug":
        handler.addFilter(MaskFilter())
    handler.set_name("outbox")
    return handler


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Install the one stdout handler on the root logger (replacing any other) and hold the
    noisy third-party loggers back. Safe to call again: the result is the same single handler."""
    level = level.lower() if level.lower() in LEVELS else "info"
    root = logging.getLogger()
    root.handlers[:] = [_handler(sys.stdout, fmt, level)]
    root.setLevel(level.upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else quiet)


def settings_from_env(env: Mapping[str, str]) -> tuple[str, str]:
    """``(LOG_LEVEL, LOG_FORMAT)`` read leniently (an invalid value counts as the default), for
    logging a start-up error before the settings themselves could be read."""
    level = (env.get("LOG_LEVEL") or "info").strip().lower()
    fmt = (env.get("LOG_FORMAT") or "text").strip().lower()
    return (level if level in LEVELS else "info"), (fmt if fmt in FORMATS else "text")


def log_startup_error(logger: str, message: str, env: Mapping[str, str],
                      stream: TextIO | None = None, **extra: Any) -> None:
    """A start-up error (bad configuration, database unreachable) written like every other log
    line (Jakarta stamp, ``LOG_FORMAT``, numbers masked), on stderr."""
    level, fmt = settings_from_env(env)
    record = logging.LogRecord(logger, logging.ERROR, "", 0, message, None, None)
    record.__dict__.update(extra)
    handler = _handler(stream or sys.stderr, fmt, level)
    handler.handle(record)
    handler.flush()
