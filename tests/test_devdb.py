"""The development/test database bootstrap (tests/dev/devdb.py): the fallback to initdb/pg_ctl."""

from __future__ import annotations

import os
import shutil

import psycopg
import pytest

from outbox import migrate
from tests.dev import devdb


def test_the_pg_ctl_fallback_starts_a_usable_server() -> None:
    """What `make test` uses when the pgserver wheel cannot start: initdb/pg_ctl from PATH."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        with pytest.raises(devdb.NoDatabase, match="initdb/pg_ctl not on PATH"):
            devdb._pg_ctl("fallback")
        return
    name = f"fallback-test-{os.getpid()}"  # under .pgdata/, where `make test` would put it
    try:
        url = devdb._pg_ctl(name)
        db = devdb.create_database(url, "fallback_check")
        migrate.upgrade(db)
        with psycopg.connect(db) as conn:
            conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                         "VALUES ('081234567890', 'halo', 'text')")
            assert conn.execute("SELECT recipient FROM wa_outbox").fetchone() == (
                "6281234567890@s.whatsapp.net",)
    finally:
        devdb.stop_pg_ctl(name)
        shutil.rmtree(devdb.PGDATA_ROOT / f"{name}-pgctl", ignore_errors=True)
