"""deploy/roles.sql: least privilege for the external writer, the gateway, the producers and
monitoring, and the session store readable by the gateway role only (issue 14)."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.dev import REPO_ROOT
from tests.gateway_helpers import gateway_env, read_jsonl

ROLES_SQL = REPO_ROOT / "deploy" / "roles.sql"
Conn = psycopg.Connection[Any]


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture
def logins(db_url: str, conn: Conn) -> Iterator[dict[str, str]]:
    """The script applied, and one login per group role (dropped afterwards)."""
    conn.execute(ROLES_SQL.read_text(encoding="utf-8").encode())
    conn.execute(ROLES_SQL.read_text(encoding="utf-8").encode())  # idempotent
    suffix = secrets.token_hex(4)
    made = {}
    for group in ("wa_writer", "wa_gateway", "wa_producers", "wa_monitor"):
        login = f"t_{group}_{suffix}"
        conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE {group}')
        made[group] = login
    try:
        yield {group: as_user(db_url, login) for group, login in made.items()}
    finally:
        for login in made.values():
            conn.execute(f'DROP OWNED BY "{login}"')
            conn.execute(f'DROP ROLE "{login}"')


def test_the_external_writer_inserts_plainly_and_nothing_more(logins: dict[str, str],
                                                              conn: Conn) -> None:
    with psycopg.connect(logins["wa_writer"], autocommit=True) as w:
        row = w.execute("INSERT INTO wa_outbox (recipient, content, type) "
                        "VALUES ('0812-3456-7890', 'halo', 'text') RETURNING id, status"
                        ).fetchone()
        assert row is not None and row[1] == "pending"
        for _ in range(2):
            w.execute("INSERT INTO wa_outbox (recipient, content, type, dedupe_key, "
                      "attachment, attachment_name) VALUES ('08123456789', 'rekap', "
                      "'weekly_report', 'k1', '\\x504b', 'r.xlsx') "
                      "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING")
        for column, value in (("status", "'sending'"), ("lease_expires_at", "'3000-01-01'"),
                              ("priority", "32767"), ("id", "999999"), ("attempts", "99"),
                              ("claim_token", "gen_random_uuid()")):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                w.execute(f"INSERT INTO wa_outbox (recipient, content, type, {column}) "
                          f"VALUES ('08123456789', 'x', 'text', {value})")
        for statement in ("SELECT content FROM wa_outbox", "UPDATE wa_outbox SET status = "
                          "'cancelled'", "DELETE FROM wa_outbox", "SELECT * FROM wa_inbox",
                          "UPDATE wa_outbox_limits SET attachment_max_bytes = 1"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                w.execute(statement)
        # a collapse key supersedes the writer's older row (the trigger runs as its owner)
        for text in ("daftar tugas 1", "daftar tugas 2"):
            w.execute("INSERT INTO wa_outbox (recipient, content, type, collapse_key) "
                      "VALUES ('08123456780', %s, 'task_delivery_recap', 'tugas:1')", (text,))
    rows = conn.execute("SELECT type, status, priority FROM wa_outbox ORDER BY id").fetchall()
    type_priority = dict(conn.execute("SELECT type, priority FROM wa_message_type").fetchall())
    assert [(t, s) for t, s, _ in rows] == [
        ("text", "pending"), ("weekly_report", "pending"),
        ("task_delivery_recap", "superseded"), ("task_delivery_recap", "pending")]
    assert all(p == type_priority[t] for t, _, p in rows)  # never one the writer chose


def test_the_session_store_is_the_gateway_roles_only(logins: dict[str, str],
                                                     conn: Conn) -> None:
    with psycopg.connect(logins["wa_gateway"], autocommit=True) as g:
        g.execute("SET search_path = wa_store, public")
        g.execute("CREATE TABLE whatsmeow_identity_keys (our_jid text, identity bytea)")
        g.execute("INSERT INTO whatsmeow_identity_keys VALUES ('62812@s.whatsapp.net', "
                  "'\\x01')")
        assert g.execute("SELECT count(*) FROM whatsmeow_identity_keys").fetchone() == (1,)
        assert g.execute("SELECT count(*) FROM wa_outbox").fetchone() is not None
    for group in ("wa_producers", "wa_monitor", "wa_writer"):
        with (psycopg.connect(logins[group], autocommit=True) as other,
              pytest.raises(psycopg.errors.InsufficientPrivilege)):
            other.execute("SELECT * FROM wa_store.whatsmeow_identity_keys")
    # a store an earlier version left in public is moved into wa_store by the script
    conn.execute("CREATE TABLE public.whatsmeow_device (jid text)")
    conn.execute(ROLES_SQL.read_text(encoding="utf-8").encode())
    assert conn.execute("SELECT to_regclass('wa_store.whatsmeow_device') IS NOT NULL"
                        ).fetchone() == (True,)
    with (psycopg.connect(logins["wa_monitor"], autocommit=True) as mon,
          pytest.raises(psycopg.errors.InsufficientPrivilege)):
        mon.execute("SELECT * FROM wa_store.whatsmeow_device")


def test_monitoring_reads_and_writes_nothing(logins: dict[str, str]) -> None:
    with psycopg.connect(logins["wa_monitor"], autocommit=True) as mon:
        assert mon.execute("SELECT count(*) FROM wa_outbox_stats").fetchone() is not None
        mon.execute("SELECT * FROM wa_session")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            mon.execute("INSERT INTO wa_outbox (recipient, content, type) "
                        "VALUES ('08123456789', 'x', 'text')")


@pytest.mark.slow
def test_the_gateway_runs_as_the_gateway_role(logins: dict[str, str], conn: Conn,
                                              tmp_path: Path) -> None:
    with psycopg.connect(logins["wa_writer"], autocommit=True) as w:
        w.execute("INSERT INTO wa_outbox (recipient, content, type) "
                  "VALUES ('08123456789', 'halo', 'text')")
    sends = tmp_path / "sends.jsonl"
    done = subprocess.run([sys.executable, "-m", "gateway", "--once"], cwd=REPO_ROOT,
                          env=gateway_env(logins["wa_gateway"], sends), capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    assert [s["content"] for s in read_jsonl(sends)] == ["halo"]
    assert conn.execute("SELECT status FROM wa_outbox").fetchone() == ("sent",)
