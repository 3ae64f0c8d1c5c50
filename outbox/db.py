"""Connections: plain connections, the LISTEN connection, and the schema check at start."""

from __future__ import annotations

import logging
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


def check_schema(conn: psycopg.Connection[Any]) -> None:
    """Stop early, with a clear message, when the database is not migrated to head."""
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
