"""Connections: plain connections, the LISTEN connection, and the schema check at start."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from psycopg import sql

from outbox.errors import DatabaseUnavailable, SchemaNotReady

log = logging.getLogger(__name__)


def connect(url: str, *, application_name: str, autocommit: bool = True,
            connect_timeout: int = 10) -> psycopg.Connection[Any]:
    """A connection with its ``application_name`` set (visible in pg_stat_activity)."""
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name=application_name,
                               connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}".strip()) from exc


def listen(conn: psycopg.Connection[Any], *channels: str) -> None:
    """LISTEN on ``channels`` (the connection must be autocommit and not pooled)."""
    if not conn.autocommit:
        raise ValueError("LISTEN needs an autocommit connection")
    for channel in channels:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))


def check_schema(conn: psycopg.Connection[Any], expected: str | None = None) -> None:
    """Stop early, with a clear message, when the database is not migrated to head
    (``expected``: the head, when the caller already knows it; finding it reads every
    revision script, which a process reconnecting after an outage should not do again)."""
    if expected is None:
        from outbox.migrate import head_revision

        expected = head_revision()
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.errors.UndefinedTable as exc:
        raise SchemaNotReady(
            "the database has no alembic_version table: run `make migrate` first"
        ) from exc
    current = None if row is None else row[0]
    if current != expected:
        raise SchemaNotReady(
            f"the database schema is at {current!r} but this code needs {expected!r}: "
            "run `make migrate`"
        )


def check_adapter(conn: psycopg.Connection[Any], naive_time_zone: str | None = None) -> None:
    """Stop early when the Cicero adapter was rendered for other Cicero tables (the Node
    services changed them since) or for another ``CICERO_NAIVE_TIME_ZONE``."""
    from views import adapter

    problems = adapter.check(conn, naive_time_zone)
    if problems:
        raise SchemaNotReady(
            "the Cicero adapter does not match this database: " + "; ".join(problems)
            + ". Run `python -m outbox migrate` to render it again (it changes none of "
            "Cicero's tables); `python -m outbox doctor` shows what it finds")


# Errors that mean "the database (or this connection to it) is gone", not "the database refused
# the statement": the long-running processes wait and reconnect on these.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError, psycopg.InterfaceError, DatabaseUnavailable)


def is_connection_error(exc: BaseException) -> bool:
    """``exc`` says the database went away (a server shutdown, a terminated backend, a refused
    connection), rather than refusing the statement."""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return False  # statement_timeout: the server is there
    return isinstance(exc, CONNECTION_ERRORS)


class Outage:
    """Waiting for the database with backoff, logged once per state change (not per try).

    ``down(exc)`` is called after each failed try and returns the seconds to wait before the
    next one (``base`` doubling up to ``cap``); ``up()`` after a success ends the outage and logs
    how long it lasted.
    """

    def __init__(self, what: str, *, base: float = 0.25, cap: float = 2.0,
                 logger: logging.Logger | None = None) -> None:
        self.what = what
        self.base = base
        self.cap = cap
        self.log = logger or log
        self.since: float | None = None
        self.tries = 0
        self._reason: str | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def down(self, exc: BaseException) -> float:
        reason = type(exc).__name__ if isinstance(exc, psycopg.Error) else "unavailable"
        text = " ".join(str(exc).split())[:300]
        if self.since is None:
            self.since = time.monotonic()
            self.tries = 0
            self._reason = reason
            self.log.error("%s: database unavailable (%s); waiting for it, retrying every "
                           "%.2g-%.2g s", self.what, text or reason, self.base, self.cap)
        elif reason != self._reason:
            self._reason = reason
            self.log.warning("%s: still waiting for the database (%s)", self.what, text or reason)
        self.tries += 1
        return float(min(self.cap, self.base * 2.0 ** min(self.tries - 1, 16)))

    def up(self) -> None:
        if self.since is not None:
            self.log.warning("%s: database available again after %.1f s (%d tries)", self.what,
                             time.monotonic() - self.since, self.tries)
        self.since = None
        self.tries = 0
        self._reason = None
