"""Migrations: up from empty, down and up again, and on an existing Cicero_V2 database."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory

from outbox import migrate
from outbox.db import REPO_ROOT, check_schema, head_revision
from outbox.errors import SchemaNotReady

OURS = ["wa_outbox", "wa_message_type", "wa_session", "wa_inbox", "complaint_queue",
        "producer_run"]
CICERO = ["clients", "user", "roles", "user_roles", "insta_post", "insta_like", "insta_comment",
          "tiktok_post", "tiktok_comment", "link_report"]


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position", (table,))]


def test_one_head_and_revision_ids_match_file_names() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://unused/x"))
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert rev.path is not None
        assert rev.path.endswith(f"/{rev.revision}.py")
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+", rev.revision)
    assert head_revision() == script.get_current_head()


def test_migrations_up_from_empty_down_to_base_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    after_up = tables(empty_db_url)
    assert set(OURS) | set(CICERO) <= after_up
    with psycopg.connect(empty_db_url) as conn:
        created = {r[0] for r in conn.execute("SELECT table_name FROM cicero_bootstrap_table")}
    assert set(CICERO) <= created
    migrate.downgrade(empty_db_url, "base")
    assert tables(empty_db_url) == {"alembic_version"}
    migrate.upgrade(empty_db_url)
    assert tables(empty_db_url) == after_up
    with psycopg.connect(empty_db_url) as conn:
        check_schema(conn)  # at head: no error


def test_the_schema_check_refuses_an_unmigrated_database(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url) as conn, pytest.raises(SchemaNotReady,
                                                               match="make migrate"):
        check_schema(conn)
    migrate.upgrade(empty_db_url, "0002_outbox_core")
    if head_revision() != "0002_outbox_core":
        with psycopg.connect(empty_db_url) as conn, pytest.raises(SchemaNotReady,
                                                                   match="0002_outbox_core"):
            check_schema(conn)


def legacy_cicero_sql() -> str:
    """The Cicero tables as an existing install has them: the same columns as migration 0001
    but with the naive ``timestamp`` types of Cicero_V2's schema.sql, an extra legacy column,
    some data, and neonize's session table beside them."""
    from importlib import util

    path = REPO_ROOT / "alembic" / "versions" / "0001_cicero_tables.py"
    spec = util.spec_from_file_location("m0001", path)
    assert spec is not None and spec.loader is not None
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ddl = ";\n".join(text for _, text in module.TABLES)
    ddl = ddl.replace("timestamptz", "timestamp")
    return ddl + """;
ALTER TABLE clients ADD COLUMN legacy_note text;
CREATE TABLE whatsmeow_version (version integer, compat integer);
INSERT INTO clients (client_id, nama, client_type, legacy_note)
    VALUES ('BOJONEGORO', 'POLRES BOJONEGORO', 'org', 'kept');
INSERT INTO "user" (user_id, nama, insta, client_id) VALUES ('75020001', 'BUDI', '@budi',
                                                             'BOJONEGORO');
INSERT INTO insta_post (shortcode, client_id, caption, created_at)
    VALUES ('C0DE', 'BOJONEGORO', 'Apel pagi', '2026-11-22 01:00');
INSERT INTO insta_like VALUES ('C0DE', '["budi"]', '2026-11-22 02:00');
INSERT INTO whatsmeow_version VALUES (15, 8);
"""


def test_migrations_leave_an_existing_cicero_install_alone(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute(legacy_cicero_sql())
        before = {t: columns(conn, t) for t in CICERO}
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        for table, cols in before.items():
            assert columns(conn, table) == cols, f"{table} was altered"
        assert conn.execute("SELECT legacy_note FROM clients").fetchone() == ("kept",)
        assert conn.execute("SELECT likes FROM insta_like").fetchone() == (["budi"],)
        created = {r[0] for r in conn.execute("SELECT table_name FROM cicero_bootstrap_table")}
        assert created == set()  # every Cicero table was already there
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                     "VALUES ('081234567890', 'halo', 'text')")
    migrate.downgrade(empty_db_url, "base")
    remaining = tables(empty_db_url)
    assert set(CICERO) | {"whatsmeow_version"} <= remaining
    assert not (set(OURS) & remaining)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute('SELECT count(*) FROM "user"').fetchone() == (1,)
    migrate.upgrade(empty_db_url)
    assert set(OURS) <= tables(empty_db_url)


def test_the_alembic_folder_has_no_init_file() -> None:
    # An alembic/__init__.py would shadow the installed alembic package.
    assert not (REPO_ROOT / "alembic" / "__init__.py").exists()


def test_only_missing_cicero_tables_are_created_and_only_those_are_dropped(
    empty_db_url: str,
) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE clients (client_id varchar PRIMARY KEY, nama varchar NOT NULL,"
                     " client_type varchar, client_status boolean DEFAULT true)")
        conn.execute("INSERT INTO clients VALUES ('LAMONGAN', 'POLRES LAMONGAN', 'org', true)")
    migrate.upgrade(empty_db_url, "0002_outbox_core")
    with psycopg.connect(empty_db_url) as conn:
        created = {r[0] for r in conn.execute("SELECT table_name FROM cicero_bootstrap_table")}
    assert "clients" not in created
    assert {"user", "roles", "insta_post", "tiktok_post", "link_report"} <= created
    migrate.downgrade(empty_db_url, "base")
    assert tables(empty_db_url) == {"alembic_version", "clients"}
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT nama FROM clients").fetchone() == ("POLRES LAMONGAN",)
