"""Connections: plain connections, the LISTEN connection, and the schema check at start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from outbox.errors import DatabaseUnavailable, SchemaNotReady

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def head_revision() -> str:
    """The newest alembic revision shipped with this code."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    quiet = logging.getLogger("alembic")
    previous = quiet.level
    quiet.setLevel(logging.WARNING)  # no plugin set-up chatter on every process start
    try:
        head = ScriptDirectory.from_config(config).get_current_head()
    finally:
        quiet.setLevel(previous)
    if head is None:
        raise SchemaNotReady("no alembic revisions found")
    return head


def check_schema(conn: psycopg.Connection[Any]) -> None:
    """Stop early, with a clear message, when the database is not migrated to head."""
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
