"""A migrated database is exactly the current-state files: outbox/schema/*.sql, the adapter
rendered by views/adapter.py, and views/*.sql.

The migrations hold frozen copies of the SQL (alembic/versions/sql/); the files in the package
are what a database at head holds and what a reader should read. This compares the whole
catalog (tables, columns, defaults, indexes, constraints, triggers, functions, views,
sequences, comments) of a migrated database with one built from the current-state files, so a
change to either without the other fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

import outbox
from tests.catalog import diff, snapshot
from tests.view_fixtures import apply_view_files, view_files
from views import adapter

SCHEMA_DIR = Path(outbox.__file__).resolve().parent / "schema"


def _exclude(name: str) -> bool:
    return name.startswith(("alembic_version", "whatsmeow_"))


def build_from_current_state(conn: psycopg.Connection[Any]) -> None:
    """An empty database built from the current-state files, as the baseline does."""
    for path in sorted(SCHEMA_DIR.glob("[0-9]*.sql")):
        conn.execute(path.read_text(encoding="utf-8").encode())
    conn.execute((SCHEMA_DIR / "cicero_bootstrap.sql").read_text(encoding="utf-8").encode())
    adapter.refresh(conn)
    apply_view_files(conn)


def test_the_migrated_catalog_is_the_current_state_files(db_url: str, empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        build_from_current_state(conn)
        expected = snapshot(conn, exclude=_exclude)
    with psycopg.connect(db_url, autocommit=True) as conn:
        migrated = snapshot(conn, exclude=_exclude)
    assert expected["table"], "the snapshot read no table"
    assert expected["view"] and expected["function"] and expected["trigger"]
    assert diff(expected, migrated) == []


def test_every_view_file_has_a_layer_and_views_are_named_after_their_file() -> None:
    files = view_files()
    assert files, "views/ is empty"
    for vf in files:
        if vf.layer == 0:
            assert "CREATE OR REPLACE VIEW" not in vf.sql
        else:
            assert f"CREATE OR REPLACE VIEW {vf.name} AS" in vf.sql


def test_report_views_read_cicero_only_through_the_adapter(conn: psycopg.Connection[Any]) -> None:
    """No view of ours depends on a Cicero table (the adapter functions record none either),
    so the Node services can still ALTER their tables."""
    rows = conn.execute(
        """SELECT DISTINCT v.relname, t.relname
             FROM pg_depend d
             JOIN pg_rewrite r ON r.oid = d.objid
             JOIN pg_class v ON v.oid = r.ev_class
             JOIN pg_class t ON t.oid = d.refobjid
            WHERE d.classid = 'pg_rewrite'::regclass AND t.relname = ANY(%s)
              AND v.oid <> t.oid""", (list(adapter.CICERO_TABLES),)).fetchall()
    assert rows == []
    functions = conn.execute(
        """SELECT DISTINCT p.proname FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
             JOIN pg_class t ON t.oid = d.refobjid
            WHERE d.classid = 'pg_proc'::regclass AND t.relname = ANY(%s)""",
        (list(adapter.CICERO_TABLES),)).fetchall()
    assert functions == []
    uses = conn.execute(
        """SELECT DISTINCT v.relname FROM pg_depend d
             JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
             JOIN pg_proc p ON p.oid = d.refobjid
            WHERE d.classid = 'pg_rewrite'::regclass AND p.proname LIKE %s""",
        ("cicero\\_%",)).fetchall()
    assert {"report_ig_post", "report_tiktok_post", "report_audience"} <= {r[0] for r in uses}
