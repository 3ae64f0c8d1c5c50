"""Migrate a database: ``python -m outbox migrate`` / ``make migrate``, the tests, the demo.

The whole upgrade runs in ONE transaction (PostgreSQL DDL is transactional): every revision,
then a fresh render of the Cicero adapter (views/adapter.py) for the catalog as it is now, so
re-running ``migrate`` after the Node services changed Cicero's tables re-renders it. Either
all of it is committed or nothing is: a failure leaves the database exactly as it was and is
reported as one MigrationFailed message naming the object and what to do.

The migration scripts are found inside the installed package (``outbox/migrations``, built
from ``alembic/``) or, in a checkout, in ``alembic/``: no repository root is needed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.exc import DBAPIError

from outbox.config import sqlalchemy_url
from outbox.errors import MigrationFailed
from views import adapter

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent


def script_location() -> Path:
    """The migration scripts: packaged (``outbox/migrations``) or the checkout's ``alembic/``."""
    for candidate in (_PACKAGE / "migrations", _PACKAGE.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationFailed("the migration scripts are missing from this installation (looked "
                          f"in {_PACKAGE / 'migrations'} and {_PACKAGE.parent / 'alembic'})")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        config.attributes["database_url"] = url
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    quiet = logging.getLogger("alembic")
    previous = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        quiet.setLevel(previous)
    if head is None:
        raise MigrationFailed("no migration revisions found")
    return head


def _explain(exc: BaseException) -> str:
    """One message for a failed upgrade: what failed, on which object, and what to do."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(cause, psycopg.Error) and cause.diag.message_primary:
        diag = cause.diag
        what = diag.message_primary
        name = type(cause).__name__
        advice = {
            "DuplicateTable": "an object of that name exists but was not created by this "
                              "project's migrations: rename or drop it, then migrate again",
            "DuplicateFunction": "a function of that name exists but was not created by this "
                                 "project's migrations: rename or drop it, then migrate again",
            "DuplicateObject": "an object of that name exists already: rename or drop it, then "
                               "migrate again",
            "UndefinedTable": "a table the migration reads is missing: check that "
                              "DATABASE_URL names the Cicero database "
                              "(`python -m outbox doctor` lists what it finds)",
            "UndefinedColumn": "a column the migration reads is missing: run "
                               "`python -m outbox doctor` to see what this database has",
            "InsufficientPrivilege": "the database user may not do this: migrate as the "
                                     "owner of the schema",
        }.get(name, "run `python -m outbox doctor` to see what this database holds")
        detail = f" ({diag.message_detail})" if diag.message_detail else ""
        hint = f" ({diag.message_hint})" if diag.message_hint else ""
        return f"{what}{detail}{hint} [{name}]: {advice}"
    return str(cause)


def upgrade(url: str, revision: str = "head", *, naive_time_zone: str | None = None) -> None:
    """Upgrade to ``revision`` and re-render the adapter, all in one transaction.

    ``naive_time_zone`` (default: ``CICERO_NAIVE_TIME_ZONE``, else what was rendered before,
    else UTC) is the zone whose wall clock Cicero's naive timestamp columns hold.
    """
    zone = naive_time_zone or adapter.configured_naive_time_zone()
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:  # commits at the end of the block, or rolls back
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            raw = conn.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            if revision == "head" and adapter.installed(raw) is not None:
                state = adapter.refresh(raw, zone)
                log.info("Cicero adapter rendered for this database (naive timestamps read as "
                         "%s)", state.naive_time_zone)
    except MigrationFailed:
        raise
    except Exception as exc:
        log.debug("migration failed", exc_info=True)
        raise MigrationFailed(
            f"migration failed, nothing was changed (the whole upgrade runs in one "
            f"transaction): {_explain(exc)}") from exc
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        engine.dispose()
