"""The status page's settings, read from the environment like every other program's.

``OUTBOX_WEB_HOST`` / ``OUTBOX_WEB_PORT`` say where it listens (``127.0.0.1:8080``);
``OUTBOX_WEB_TOKEN`` is the secret an operator gives (HTTP basic auth, any user name, or
``Authorization: Bearer``). Without a token the page starts only on a loopback address: anyone
who can reach a public address could otherwise retry and cancel messages.
``WA_MAX_PER_HOUR`` / ``WA_MAX_PER_DAY`` are the gateway's send caps (same variables, same
defaults), shown next to each session's sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from outbox.config import EnvReader, outbox_settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
TOKEN_MIN_LENGTH = 16


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: reachable from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    host: str
    port: int
    token: str | None
    session_down_after: timedelta
    stuck_after: timedelta
    max_per_hour: int
    max_per_day: int
    log_level: str
    log_format: str

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def web_settings(reader: EnvReader) -> WebSettings:
    """Read the page's settings; problems are collected on ``reader``."""
    outbox = outbox_settings(reader)
    host = reader.text("OUTBOX_WEB_HOST", default="127.0.0.1")
    port = reader.integer("OUTBOX_WEB_PORT", default=8080, minimum=1, maximum=65535)
    token = reader.optional_text("OUTBOX_WEB_TOKEN")
    if token is None and not is_loopback(host):
        reader.problem(f"OUTBOX_WEB_TOKEN is not set: the status page listens on {host}, "
                       "which is not a loopback address, so it needs a token (at least "
                       f"{TOKEN_MIN_LENGTH} characters)")
    elif token is not None and len(token) < TOKEN_MIN_LENGTH:
        reader.problem(f"OUTBOX_WEB_TOKEN is {len(token)} characters long; use at least "
                       f"{TOKEN_MIN_LENGTH} (e.g. python -c 'import secrets; "
                       "print(secrets.token_urlsafe(24))')")
    return WebSettings(
        database_url=outbox.database_url,
        host=host,
        port=port,
        token=token,
        session_down_after=reader.seconds("OUTBOX_WEB_SESSION_DOWN_SECONDS", default=300.0,
                                          minimum=1.0),
        stuck_after=reader.seconds("OUTBOX_WEB_STUCK_SECONDS", default=1800.0, minimum=1.0),
        max_per_hour=reader.integer("WA_MAX_PER_HOUR", default=60, minimum=1),
        max_per_day=reader.integer("WA_MAX_PER_DAY", default=400, minimum=1),
        log_level=outbox.log_level,
        log_format=outbox.log_format,
    )


def load_web_settings(env: Mapping[str, str] | None = None) -> WebSettings:
    reader = EnvReader(env)
    settings = web_settings(reader)
    reader.finish()
    return settings
