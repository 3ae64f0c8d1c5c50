"""Configuration from environment variables.

Every process builds one frozen settings object at start. Values are read through
:class:`EnvReader`, which collects *all* problems and raises one :class:`ConfigError` listing
them, so a bad deployment fails at once with the whole list instead of one variable at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from urllib.parse import quote

from croniter import croniter

from outbox.errors import ConfigError

T = TypeVar("T")

_LIST_SEPARATORS = re.compile(r"[,;\n]+")
_TRUE = {"1", "true", "yes", "on", "y"}


def split_items(value: str | None) -> tuple[str, ...]:
    """A list value (``ADMIN_WHATSAPP`` and the like): items separated by ``,`` ``;`` or new
    lines, as Cicero's multi-value columns are; spaces inside an item (``+62 812``) are kept."""
    if not value:
        return ()
    return tuple(item.strip() for item in _LIST_SEPARATORS.split(value) if item.strip())
_FALSE = {"0", "false", "no", "off", "n", ""}


class EnvReader:
    """Reads typed values from an environment mapping, collecting every problem."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.problems: list[str] = []

    def raw(self, *names: str) -> tuple[str, str] | None:
        """The first of ``names`` that is set and not blank, with its value."""
        for name in names:
            value = self.env.get(name)
            if value is not None and value.strip() != "":
                return name, value.strip()
        return None

    def text(self, *names: str, default: str) -> str:
        found = self.raw(*names)
        return default if found is None else found[1]

    def optional_text(self, *names: str) -> str | None:
        found = self.raw(*names)
        return None if found is None else found[1]

    def items(self, *names: str) -> tuple[str, ...]:
        found = self.raw(*names)
        return () if found is None else split_items(found[1])

    def parsed(self, names: tuple[str, ...], default: T, parse: Callable[[str], T], what: str) -> T:
        found = self.raw(*names)
        if found is None:
            return default
        name, value = found
        try:
            return parse(value)
        except (ValueError, TypeError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            self.problems.append(f"{name}={value!r} is not {what}{detail}")
            return default

    def integer(self, *names: str, default: int, minimum: int | None = None,
            maximum: int | None = None) -> int:
        def parse(value: str) -> int:
            number = int(value)
            if minimum is not None and number < minimum:
                raise ValueError(f"must be >= {minimum}")
            if maximum is not None and number > maximum:
                raise ValueError(f"must be <= {maximum}")
            return number

        return self.parsed(names, default, parse, "a whole number")

    def number(self, *names: str, default: float, minimum: float | None = None,
              maximum: float | None = None) -> float:
        def parse(value: str) -> float:
            number = float(value)
            if number != number:  # NaN
                raise ValueError("NaN")
            if minimum is not None and number < minimum:
                raise ValueError(f"must be >= {minimum}")
            if maximum is not None and number > maximum:
                raise ValueError(f"must be <= {maximum}")
            return number

        return self.parsed(names, default, parse, "a number")

    def seconds(self, *names: str, default: float, minimum: float = 0.0) -> timedelta:
        return timedelta(seconds=self.number(*names, default=default, minimum=minimum))

    def flag(self, *names: str, default: bool) -> bool:
        def parse(value: str) -> bool:
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError("use true/false")

        return self.parsed(names, default, parse, "a boolean")

    def choice(self, *names: str, default: str, choices: tuple[str, ...]) -> str:
        def parse(value: str) -> str:
            lowered = value.lower()
            if lowered not in choices:
                raise ValueError("one of " + ", ".join(choices))
            return lowered

        return self.parsed(names, default, parse, "a known value")

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def finish(self) -> None:
        """Raise :class:`ConfigError` with every problem seen, if any."""
        if self.problems:
            raise ConfigError(self.problems)


def database_url(reader: EnvReader) -> str:
    """``DATABASE_URL``, or a URL built from the old services' ``DB_*`` variables."""
    url = reader.optional_text("DATABASE_URL")
    if url is not None:
        if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
            reader.problem(
                "DATABASE_URL must be a postgresql:// URL (a key=value DSN is not accepted: "
                "neonize would silently treat it as a SQLite file name)"
            )
        return url.replace("postgresql+psycopg://", "postgresql://", 1)
    host = reader.optional_text("DB_HOST")
    name = reader.optional_text("DB_NAME")
    if host and name:
        user = quote(reader.text("DB_USER", default="postgres"), safe="")
        password = quote(reader.text("DB_PASS", default=""), safe="")
        port = reader.integer("DB_PORT", default=5432, minimum=1, maximum=65535)
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}{host}:{port}/{quote(name, safe='')}"
    reader.problem("DATABASE_URL is not set (e.g. postgresql://user:pass@host:5432/cicero)")
    return ""


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    reader = EnvReader(env)
    url = database_url(reader)
    reader.finish()
    return url


def sqlalchemy_url(url: str) -> str:
    """The same URL with the psycopg 3 driver named, for alembic/SQLAlchemy."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class OutboxSettings:
    """Settings of the outbox engine, shared by the gateway, the producers and the CLI."""

    database_url: str
    lease: timedelta
    retry_base: timedelta
    retry_max: timedelta
    expired_lease_policy: str
    retention_days: int
    log_level: str
    log_format: str


def outbox_settings(reader: EnvReader) -> OutboxSettings:
    """Read the engine settings; problems are collected on ``reader``."""
    url = database_url(reader)
    lease = reader.seconds("OUTBOX_LEASE_SECONDS", default=120.0, minimum=5.0)
    retry_base = reader.seconds("OUTBOX_RETRY_BASE_SECONDS", default=30.0, minimum=0.0)
    retry_max = reader.seconds("OUTBOX_RETRY_MAX_SECONDS", default=3600.0, minimum=0.0)
    if retry_max < retry_base:
        reader.problem("OUTBOX_RETRY_MAX_SECONDS must be >= OUTBOX_RETRY_BASE_SECONDS")
    return OutboxSettings(
        database_url=url,
        lease=lease,
        retry_base=retry_base,
        retry_max=retry_max,
        expired_lease_policy=reader.choice(
            "OUTBOX_EXPIRED_LEASE_POLICY", default="resend", choices=("resend", "hold")
        ),
        retention_days=reader.integer("OUTBOX_RETENTION_DAYS", default=30, minimum=1),
        log_level=reader.choice(
            "LOG_LEVEL", default="info", choices=("debug", "info", "warning", "error")
        ),
        log_format=reader.choice("LOG_FORMAT", default="text", choices=("text", "json")),
    )


def load_outbox_settings(env: Mapping[str, str] | None = None) -> OutboxSettings:
    reader = EnvReader(env)
    settings = outbox_settings(reader)
    reader.finish()
    return settings


# --------------------------------------------------------------------------- crons

_CRON_ALIASES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def cron_problem(expression: str) -> str | None:
    """``None`` when ``expression`` is a usable five-field cron, else what is wrong with it.

    croniter also accepts a sixth (seconds) field and ``@reboot``; both are refused, so a slot is
    always a whole minute and ``0 7 * * * *`` is not silently read as "every minute at :00 s"."""
    text = expression.strip()
    if not text:
        return "empty cron expression"
    if text.startswith("@"):
        if text.lower() not in _CRON_ALIASES:
            return f"unknown cron alias {text!r}"
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
    if not croniter.is_valid(text):
        return "not a valid cron expression"
    return None
