"""Test fixtures on a real PostgreSQL.

The server is ``TEST_DATABASE_URL`` when set, otherwise an embedded one (see outbox/devdb.py);
tests never skip for want of a database. The migrations run once into a template database named
after a hash of the migration files (built under an advisory lock, so parallel runs share it),
and every test gets its own database cloned from that template.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from outbox import migrate
from tests.dev import REPO_ROOT, devdb

# Settings of the process under test must come from the tests, never from the caller's shell.
for _name in list(os.environ):
    if _name.startswith(("OUTBOX_", "GATEWAY_", "PRODUCERS_", "WA_", "RAPIDAPI_", "INGESTION_",
                         "CICERO_")) or _name.endswith("_CRON"):
        del os.environ[_name]


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    files = [*(REPO_ROOT / "alembic").rglob("*.py"), *(REPO_ROOT / "alembic").rglob("*.sql"),
             *(REPO_ROOT / "views").glob("*.py")]
    for path in sorted(files):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the server's maintenance database."""
    return devdb.server_url("test", env_var="TEST_DATABASE_URL", tune_for_tests=True)


@pytest.fixture(scope="session")
def template_db(pg_server: str) -> str:
    name = f"tmpl_{_migrations_hash()}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('cicero-outbox-test-template'))")
        try:
            if not devdb.database_exists(pg_server, name):
                building = f"{name}_building_{os.getpid()}"
                url = devdb.create_database(pg_server, building, drop_first=True)
                migrate.upgrade(url)
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('cicero-outbox-test-template'))")
    return name


def _fresh(pg_server: str, template: str | None) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = devdb.create_database(pg_server, name, template=template)
    try:
        yield url
    finally:
        devdb.drop_database(pg_server, name)


@pytest.fixture
def db_url(pg_server: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    yield from _fresh(pg_server, template_db)


@pytest.fixture
def empty_db_url(pg_server: str) -> Iterator[str]:
    """A fresh database with nothing in it (for migration tests)."""
    yield from _fresh(pg_server, None)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to this test's database."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def other_conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A second, independent connection to the same database."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


def pytest_unconfigure(config: pytest.Config) -> None:
    """A test that ran ``configure_logging`` left the root handler on that test's captured
    stdout, closed by now; the embedded server's exit hook still logs ("--- Logging error ---"
    lines after the summary). Drop the handlers before it runs."""
    logging.getLogger().handlers.clear()
