"""The report views in a migrated database are exactly the views/*.sql files.

Migration 0003 carries a frozen copy of the files; these tests fail when a file changed without
a matching migration (or the reverse), and when the set of views differs from the set of files.
"""

from __future__ import annotations

from typing import Any

import psycopg

from outbox import migrate
from tests.view_fixtures import apply_view_files, view_files

FUNCTIONS = """
SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' ORDER BY 1
"""
VIEWS = """
SELECT c.relname, pg_get_viewdef(c.oid, true) AS definition,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'v' ORDER BY 1
"""


def _functions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(FUNCTIONS)}


def _views(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute(VIEWS)}


def _objects_of_files(url: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Migrate ``url`` to 0002, apply views/*.sql; the functions and views the files added."""
    migrate.upgrade(url, "0002_outbox_core")
    with psycopg.connect(url, autocommit=True) as conn:
        functions_before, views_before = _functions(conn), _views(conn)
        apply_view_files(conn)
        functions = {k: v for k, v in _functions(conn).items() if k not in functions_before}
        views = {k: v for k, v in _views(conn).items() if k not in views_before}
    return functions, views


def test_every_file_has_a_layer_and_views_are_named_after_their_file() -> None:
    files = view_files()
    assert files, "views/ is empty"
    assert [f.layer for f in files] == sorted(f.layer for f in files)
    for vf in files:
        if vf.layer == 0:
            assert "CREATE OR REPLACE VIEW" not in vf.sql
        else:
            assert f"CREATE OR REPLACE VIEW {vf.name} AS" in vf.sql


def test_migrated_database_matches_the_view_files(db_url: str, empty_db_url: str) -> None:
    functions, views = _objects_of_files(empty_db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        migrated_functions, migrated_views = _functions(conn), _views(conn)
    assert {f.name for f in view_files() if f.layer > 0} == set(views)
    for name, view_def in views.items():
        assert migrated_views.get(name) == view_def, f"view {name} differs from views/{name}.sql"
    for signature, function_def in functions.items():
        assert migrated_functions.get(signature) == function_def, (
            f"function {signature} differs from its views/ file")


def test_revision_0003_creates_exactly_the_file_views(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0002_outbox_core")
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        before_views, before_functions = set(_views(conn)), set(_functions(conn))
    migrate.upgrade(empty_db_url, "0003_report_views")
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        added = set(_views(conn)) - before_views
        added_functions = set(_functions(conn)) - before_functions
    assert added == {f.name for f in view_files() if f.layer > 0}
    assert any(sig.startswith("id_number(") for sig in added_functions)
    migrate.downgrade(empty_db_url, "0002_outbox_core")
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert set(_views(conn)) == before_views
        assert set(_functions(conn)) == before_functions
    migrate.upgrade(empty_db_url, "0003_report_views")  # and back up again
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert set(_views(conn)) - before_views == added
