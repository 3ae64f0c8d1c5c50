"""This project on the Cicero databases found in the wild (docs/operations/cicero-database.md).

Every test runs on a real PostgreSQL with the faithful DDL of tests/cicero_variants (Cicero_V2
"v2", the fetch cronjob's "cf", the refactor skeleton) and the sample data of
tests/dev/sample_data.py:

1. a v2 / cf database migrates without any Cicero table being altered, indexed or dropped (the
   catalog and the data of Cicero's objects are exactly as before), and every report job then
   produces exactly what it produces on this project's own bootstrap schema with the same data:
   the same recipients and, for the daily / weekly / monthly recaps, the same texts;
2. the refactor skeleton's wa_outbox / complaint_queue are set aside with every row, their
   pending rows imported (an invalid one logged and left there), then sent once by the real
   gateway; a downgrade gives the skeleton's tables back;
3. a migration that fails (early in the preflight, or late in the views) leaves the whole
   database exactly as it was and says why in one message, also through the CLI;
4. migrating twice is a no-op that re-renders the adapter;
5. the adapter follows the Node services' own schema changes (a new column, the CF migration
   20261203 that makes tiktok_post.created_at timestamptz);
6. ``doctor`` describes each variant and warns when the data contradicts the naive-time setting.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import subprocess
import sys
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from outbox import migrate
from outbox.db import check_adapter, check_schema
from outbox.doctor import Report, diagnose
from outbox.errors import MigrationFailed, SchemaNotReady
from producers.job import JobSpec
from producers.jobs import complaint_response, reports, task_delivery_recap
from producers.runner import RunOutcome, run_slot
from producers.schedule import JAKARTA
from producers.scheduler import connect_producer
from tests.catalog import Snapshot, data_fingerprint, diff, snapshot
from tests.cicero_variants import VARIANTS, load
from tests.dev import REPO_ROOT, devdb
from tests.dev.sample_data import generate
from tests.gateway_helpers import gateway_env, read_jsonl, run_once
from views import adapter

Conn = psycopg.Connection[Any]

# The sample data: one province, Monday 16 to Wednesday 18 November 2026 (Jakarta days).
START = date(2026, 11, 16)
DAYS = 3
# One slot per job, each reading a period that holds the data.
SLOTS: tuple[tuple[JobSpec, datetime], ...] = (
    (reports.DAILY, datetime(2026, 11, 18, 7, 0, tzinfo=JAKARTA)),  # Tuesday 17 November
    (reports.WEEKLY, datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)),  # week of 16 November
    (reports.MONTHLY, datetime(2026, 12, 1, 7, 0, tzinfo=JAKARTA)),  # November
    (task_delivery_recap.JOB, datetime(2026, 11, 17, 12, 0, tzinfo=JAKARTA)),  # hourly slot
    (complaint_response.JOB, datetime(2026, 11, 17, 12, 5, tzinfo=JAKARTA)),  # nothing pending
)
RECAPS = ("daily_report", "weekly_report", "monthly_report")
OUR_TABLES = ("wa_message_type", "wa_session", "wa_outbox", "wa_inbox", "complaint_queue",
              "producer_run", "cicero_bootstrap_table", "cicero_adapter")
NAIVE = "timestamp without time zone"
AWARE = "timestamp with time zone"


# ----------------------------------------------------------------------------- helpers


def one(conn: Conn, query: str, params: Any = None) -> Any:
    row = conn.execute(query.encode() if params is None else query, params).fetchone()
    assert row is not None
    return row[0]


def public_tables(conn: Conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


def new_object_names(before: Snapshot, after: Snapshot) -> set[str]:
    """Names of the relations, sequences, types and functions present in ``after`` only."""
    names: set[str] = set()
    for kind in ("table", "view", "matview", "sequence", "type"):
        names |= set(after[kind]) - set(before[kind])
    names |= {sig.split("(", 1)[0] for sig in set(after["function"]) - set(before["function"])}
    return names


def assert_cicero_untouched(conn: Conn, before: Snapshot, data: dict[str, str]) -> set[str]:
    """Cicero's objects (everything in ``before``) exactly as they were, their rows too.

    The snapshot after the migration leaves out the objects the migration created (and what
    hangs off them): whatever remains must equal ``before``, so an index, a trigger, a
    constraint, a column or a comment added to a Cicero table, a changed function or a dropped
    object all show up. Returns the names of the objects created.
    """
    created = new_object_names(before, snapshot(conn))
    assert not created & set(adapter.CICERO_TABLES), "a Cicero table was created"
    assert diff(before, snapshot(conn, exclude=created.__contains__)) == []
    assert data_fingerprint(conn, list(data)) == data
    return created


def load_and_generate(url: str, variant: str | None) -> None:
    """``variant`` None: this project's bootstrap (migrate an empty database first)."""
    if variant is None:
        migrate.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        if variant is not None:
            load(conn, variant)
        generate(conn, provinces=1, start=START, days=DAYS)


def run_every_job(url: str) -> dict[str, RunOutcome]:
    outcomes: dict[str, RunOutcome] = {}
    with connect_producer(url) as conn:
        for spec, slot in SLOTS:
            outcomes[spec.name] = run_slot(conn, spec, slot, now=slot + timedelta(seconds=5))
    return outcomes


def xlsx_digest(data: bytes | None) -> str | None:
    """The workbook's content: every part but docProps/core.xml (its creation time)."""
    if data is None:
        return None
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for name in sorted(book.namelist()):
            if name != "docProps/core.xml":
                digest.update(name.encode() + b"\0" + book.read(name) + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Message:
    type: str
    recipient: str
    content: str
    attachment_name: str | None
    attachment: str | None  # xlsx_digest


@dataclass(frozen=True)
class JobRun:
    """What the report jobs did on one database: outcomes and messages by dedupe key."""

    outcomes: dict[str, tuple[str, int, int, int]]  # job -> (status, enqueued, dup, skipped)
    messages: dict[str, Message]

    def of(self, type_: str) -> dict[str, Message]:
        return {k: m for k, m in self.messages.items() if m.type == type_}


def job_run(url: str, outcomes: dict[str, RunOutcome]) -> JobRun:
    summary: dict[str, tuple[str, int, int, int]] = {}
    for name, outcome in outcomes.items():
        assert outcome.status == "done", (name, outcome.error)
        assert outcome.result is not None
        summary[name] = (outcome.status, outcome.result.enqueued, outcome.result.duplicates,
                         outcome.result.skipped)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT dedupe_key, type, recipient, content, attachment_name, attachment, status"
            "  FROM wa_outbox ORDER BY id").fetchall()
    messages: dict[str, Message] = {}
    for key, type_, recipient, content, name, attachment, status in rows:
        assert status == "pending"
        assert key not in messages
        messages[key] = Message(type_, recipient, content, name,
                                xlsx_digest(None if attachment is None else bytes(attachment)))
    return JobRun(summary, messages)


def without_content_hash(key: str) -> str:
    """A task_delivery_recap dedupe key without its last part (the hash of the text)."""
    return key.rsplit(":", 1)[0]


def without_upload_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "Upload:" not in line)


@pytest.fixture(scope="module")
def bootstrap_run(pg_server: str) -> Iterator[JobRun]:
    """The report jobs on this project's bootstrap schema holding the same sample data."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = devdb.create_database(pg_server, name)
    try:
        load_and_generate(url, None)
        with psycopg.connect(url) as conn:
            assert one(conn, "SELECT count(*) FROM cicero_bootstrap_table") > 0
        yield job_run(url, run_every_job(url))
    finally:
        devdb.drop_database(pg_server, name)


# ------------------------------------------------------- 1. v2 and cf: untouched, same reports


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("variant", VARIANTS)
def test_a_cicero_database_migrates_untouched_and_reports_like_the_bootstrap(
        empty_db_url: str, variant: str, bootstrap_run: JobRun) -> None:
    load_and_generate(empty_db_url, variant)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        cicero = public_tables(conn)
        assert "insta_post" in cicero and "wa_outbox" not in cicero
        before = snapshot(conn)
        data = data_fingerprint(conn, cicero)
        assert all(not v.startswith("0 rows") for k, v in data.items()
                   if k in ("clients", "user", "insta_post", "insta_like", "tiktok_post",
                            "tiktok_comment"))

    migrate.upgrade(empty_db_url)

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        created = assert_cicero_untouched(conn, before, data)
        assert set(OUR_TABLES) <= created
        assert {"daily_report_view", "weekly_report_view", "monthly_report_view",
                "cicero_insta_posts", "cicero_tiktok_posts"} <= created
        assert one(conn, "SELECT count(*) FROM cicero_bootstrap_table") == 0
        check_schema(conn)
        check_adapter(conn)
        check_adapter(conn, "UTC")

    ran = job_run(empty_db_url, run_every_job(empty_db_url))

    # The core: the same data gives the same messages as on the bootstrap schema.
    assert ran.outcomes == bootstrap_run.outcomes
    for name in RECAPS:
        mine, theirs = ran.of(name), bootstrap_run.of(name)
        assert mine, name
        assert len(mine) == len(theirs), name
        assert sorted(mine) == sorted(theirs), name  # same keys: same messages and recipients
        assert {k: m.content for k, m in mine.items()} == {
            k: m.content for k, m in theirs.items()}, f"{name}: texts differ"
        assert mine == theirs, f"{name}: attachments differ"
        assert any(m.attachment is not None for m in mine.values())
    recaps = ran.of("task_delivery_recap")
    theirs_recaps = bootstrap_run.of("task_delivery_recap")
    assert recaps and not ran.of("complaint_response")
    assert ran.outcomes["complaint_response"] == ("done", 0, 0, 0)
    if variant == "cf":  # original_created_at exists here as in the bootstrap: identical
        assert recaps == theirs_recaps
    else:
        # V2 has no original_created_at: a post's "Upload" time is its created_at (when it was
        # fetched); the lists (task_list_hash), recipients and every other line are the same.
        assert Counter((without_content_hash(k), m.recipient) for k, m in recaps.items()) == (
            Counter((without_content_hash(k), m.recipient) for k, m in theirs_recaps.items()))
        by_list = {without_content_hash(k): m for k, m in theirs_recaps.items()}
        for key, message in recaps.items():
            assert without_upload_lines(message.content) == without_upload_lines(
                by_list[without_content_hash(key)].content)

    with psycopg.connect(empty_db_url) as conn:  # the reports only read Cicero's tables
        assert data_fingerprint(conn, cicero) == data


# ----------------------------------------------------------------------- 2. the skeleton

SKELETON_PENDING: tuple[tuple[str, str, str, str | None, str], ...] = (
    # (recipient as written, content, type, status, canonical recipient)
    ("081234567001", "Pesan satu", "text", "pending", "6281234567001@s.whatsapp.net"),
    ("+62 812-3456-7002", "Pesan dua", "text", "pending", "6281234567002@s.whatsapp.net"),
    ("6281234567003@c.us", "Pesan tiga", "daily_report", "pending",
     "6281234567003@s.whatsapp.net"),
    ("120363000000000777@g.us", "Pesan grup", "text", "pending", "120363000000000777@g.us"),
    ("081234567006", "Rekap dari skeleton", "rekap_harian", "pending",
     "6281234567006@s.whatsapp.net"),
    ("0812 3456 7007", "Status kosong", "text", None, "6281234567007@s.whatsapp.net"),
)
SKELETON_INVALID = ("bukan-nomor", "Tidak terkirim", "text", "pending")
SKELETON_DONE = (
    ("081234567008", "Sudah terkirim", "text", "sent"),
    ("081234567009", "Sudah terkirim juga", "daily_report", "sent"),
)


def seed_skeleton(conn: Conn) -> dict[str, int]:
    """Rows in the skeleton's tables; ``content -> old id`` of the wa_outbox rows."""
    ids: dict[str, int] = {}
    rows = [row[:4] for row in SKELETON_PENDING]
    for recipient, content, type_, status in (*rows[:3], SKELETON_INVALID, *rows[3:]):
        ids[content] = one(conn, "INSERT INTO wa_outbox (recipient, content, type, status,"
                                 " created_at) VALUES (%s, %s, %s, %s,"
                                 " timestamp '2026-11-30 01:00') RETURNING id",
                           (recipient, content, type_, status))
    for recipient, content, type_, status in SKELETON_DONE:
        ids[content] = one(conn, "INSERT INTO wa_outbox (recipient, content, type, status,"
                                 " sent_at) VALUES (%s, %s, %s, %s, timestamp '2026-11-29 02:00')"
                                 " RETURNING id", (recipient, content, type_, status))
    conn.execute("""
        INSERT INTO complaint_queue (complainant, response_template, status, responded_at)
        VALUES ('081234567101', 'Laporan Anda sedang kami periksa', 'pending', NULL),
               ('081234567102', 'Sudah dijawab', 'responded', timestamp '2026-11-29 03:00'),
               ('081234567103', 'Menunggu jawaban', NULL, NULL)""")
    return ids


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_skeleton_is_set_aside_imported_and_sent_once(
        empty_db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "v2", "skeleton")
        ids = seed_skeleton(conn)
        whole_before = snapshot(conn)
        skeleton_data = data_fingerprint(conn, ["wa_outbox", "complaint_queue"])
        cicero = [t for t in public_tables(conn) if t not in ("wa_outbox", "complaint_queue")]
        cicero_before = snapshot(conn, exclude=lambda n: n.startswith(
            ("wa_outbox", "complaint_queue")))
        cicero_data = data_fingerprint(conn, cicero)

    with caplog.at_level(logging.INFO, logger="outbox.migrate"):
        migrate.upgrade(empty_db_url)

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        # The skeleton's tables are set aside with every row, and nothing of Cicero changed.
        assert data_fingerprint(conn, ["wa_outbox_skeleton", "complaint_queue_skeleton"]) == {
            "wa_outbox_skeleton": skeleton_data["wa_outbox"],
            "complaint_queue_skeleton": skeleton_data["complaint_queue"]}
        assert one(conn, "SELECT pg_get_serial_sequence('wa_outbox_skeleton', 'id')") == (
            "public.wa_outbox_skeleton_id_seq")
        after = snapshot(conn, exclude=lambda n: n.startswith(("wa_outbox", "complaint_queue")))
        created = new_object_names(cicero_before, after)
        assert diff(cicero_before, snapshot(conn, exclude=lambda n: n in created or n.startswith(
            ("wa_outbox", "complaint_queue")))) == []
        assert data_fingerprint(conn, cicero) == cicero_data
        check_schema(conn)
        check_adapter(conn)

        # The valid pending rows are pending messages, with canonical recipients.
        imported = {r[0]: r[1:] for r in conn.execute(
            "SELECT dedupe_key, recipient, content, type, status, created_at"
            "  FROM wa_outbox ORDER BY id")}
        expected = {f"skeleton:wa_outbox:{ids[content]}": (canonical, content, type_, "pending")
                    for _, content, type_, _, canonical in SKELETON_PENDING}
        assert {k: v[:4] for k, v in imported.items()} == expected
        assert {v[4] for v in imported.values()} == {
            datetime(2026, 11, 30, 8, 0, tzinfo=JAKARTA)}  # the naive UTC time, as an instant
        assert one(conn, "SELECT description FROM wa_message_type WHERE type = 'rekap_harian'")
        pending_complaints = conn.execute(
            "SELECT complainant, response_template, status FROM complaint_queue ORDER BY id"
        ).fetchall()
        assert pending_complaints == [
            ("081234567101", "Laporan Anda sedang kami periksa", "pending"),
            ("081234567103", "Menunggu jawaban", "pending")]

    # The log says what was done, and names the row left behind with its reason.
    records = [r for r in caplog.records if r.name == "outbox.migrate"]
    infos = [r.getMessage() for r in records if r.levelno == logging.INFO]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any('"wa_outbox" as "wa_outbox_skeleton" (9 row(s) kept there)' in m for m in infos)
    assert any('"complaint_queue" as "complaint_queue_skeleton" (3 row(s) kept there)' in m
               for m in infos)
    assert any("imported 6 pending message(s)" in m for m in infos)
    assert any("imported 2 pending complaint(s)" in m for m in infos)
    assert any("Cicero adapter rendered" in m for m in infos)
    invalid_id = ids[SKELETON_INVALID[1]]
    assert len(warnings) == 1
    assert f"wa_outbox_skeleton id {invalid_id} not imported" in warnings[0]
    assert "'bukan-nomor' is not a phone number or group id" in warnings[0]

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        # A writer that knows only the skeleton's three columns still works.
        plain = one(conn, "INSERT INTO wa_outbox (recipient, content, type)"
                          " VALUES ('0812-3456-7010', 'Pesan baru', 'text') RETURNING id")
        assert conn.execute("SELECT recipient, status FROM wa_outbox WHERE id = %s",
                            (plain,)).fetchone() == ("6281234567010@s.whatsapp.net", "pending")
        to_send = {r[0]: r[1] for r in conn.execute("SELECT id, recipient FROM wa_outbox")}
    assert len(to_send) == 7

    # The real gateway sends each of them exactly once.
    sends = tmp_path / "sent.jsonl"
    env = gateway_env(empty_db_url, sends)
    first = run_once(env, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    lines = read_jsonl(sends)
    assert Counter(line["outbox_id"] for line in lines) == Counter(set(to_send))
    assert {line["outbox_id"]: line["recipient"] for line in lines} == to_send
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert dict(conn.execute("SELECT status, count(*) FROM wa_outbox GROUP BY 1").fetchall(
            )) == {"sent": 7}
    second = run_once(env, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(read_jsonl(sends)) == len(lines)

    # A downgrade gives the skeleton's tables their names back, with every row.
    migrate.downgrade(empty_db_url, "base")
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert data_fingerprint(conn, ["wa_outbox", "complaint_queue"]) == skeleton_data
        assert one(conn, "SELECT pg_get_serial_sequence('wa_outbox', 'id')") == (
            "public.wa_outbox_id_seq")
        assert to_regclass(conn, "wa_outbox_skeleton") is None
        assert diff(whole_before, snapshot(conn, exclude=lambda n: n == "alembic_version")) == []
        assert data_fingerprint(conn, cicero) == cicero_data


def to_regclass(conn: Conn, name: str) -> str | None:
    value = one(conn, "SELECT to_regclass(%s)::text", (f"public.{name}",))
    return None if value is None else str(value)


# ---------------------------------------------------------------- 3. all or nothing


@dataclass(frozen=True)
class Failure:
    """A database the migration must refuse, and the object its message must name."""

    name: str
    prepare: str  # SQL run after the v2 schema and its data
    names: str


FAILURES = (
    Failure("v2 without tiktok_comment", "DROP TABLE tiktok_comment", '"tiktok_comment"'),
    Failure("an unrelated wa_inbox",
            "CREATE TABLE wa_inbox (id int PRIMARY KEY, payload text);"
            " INSERT INTO wa_inbox VALUES (1, 'milik aplikasi lain')", '"wa_inbox"'),
    # Late: after our tables, functions and the adapter were created in the transaction, the
    # views' CREATE OR REPLACE FUNCTION id_number(bigint) RETURNS text meets this one.
    Failure("a function id_number(bigint) returning integer",
            "CREATE FUNCTION id_number(n bigint) RETURNS integer LANGUAGE sql IMMUTABLE"
            " AS 'SELECT 42'", "id_number"),
    # Late too: CREATE OR REPLACE VIEW report_user_day cannot replace this view.
    Failure("a view report_user_day", "CREATE VIEW report_user_day AS SELECT 1 AS x",
            "report_user_day"),
)


def prepare_failure(url: str, failure: Failure) -> tuple[Snapshot, dict[str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        load(conn, "v2")
        generate(conn, provinces=1, start=START, days=1)
        conn.execute(failure.prepare.encode())
        return snapshot(conn), data_fingerprint(conn, public_tables(conn))


def assert_unchanged(url: str, before: Snapshot, data: dict[str, str]) -> None:
    with psycopg.connect(url) as conn:
        assert diff(before, snapshot(conn)) == []
        assert public_tables(conn) == sorted(data)
        assert data_fingerprint(conn, list(data)) == data


@pytest.mark.timeout(300)
@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_a_failed_migration_changes_nothing(empty_db_url: str, failure: Failure) -> None:
    before, data = prepare_failure(empty_db_url, failure)
    with pytest.raises(MigrationFailed) as raised:
        migrate.upgrade(empty_db_url)
    message = str(raised.value)
    assert message.startswith("migration failed, nothing was changed")
    assert len(message.splitlines()) == 1, message
    assert_unchanged(empty_db_url, before, data)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_a_failed_migration_names_the_object(empty_db_url: str, failure: Failure) -> None:
    """outbox/migrate.py promises "one MigrationFailed message naming the object": the operator
    must learn which object to rename or drop, also when the failure comes late (in the views),
    where PostgreSQL's primary message alone does not name it."""
    prepare_failure(empty_db_url, failure)
    with pytest.raises(MigrationFailed) as raised:
        migrate.upgrade(empty_db_url)
    assert failure.names in str(raised.value), str(raised.value)


def cli_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", adapter.NAIVE_TIME_ZONE_VARIABLE, "ADMIN_WHATSAPP")}
    env.update({"DATABASE_URL": url, "PYTHONUNBUFFERED": "1", **extra})
    return env


def run_cli(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_migrate_cli_refuses_in_one_message(empty_db_url: str) -> None:
    before, data = prepare_failure(empty_db_url, FAILURES[0])
    done = run_cli("outbox", "migrate", env=cli_env(empty_db_url))
    assert done.returncode == 3, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert errors[0].startswith("error: migration failed, nothing was changed")
    assert '"tiktok_comment" is missing' in errors[0]
    assert "database migrated" not in output
    assert_unchanged(empty_db_url, before, data)


# ------------------------------------------------------------------------ 4. idempotent


def test_an_empty_database_migrates_and_a_second_migration_is_a_no_op(
        empty_db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        check_schema(conn)
        check_adapter(conn)
        bootstrapped = {r[0] for r in conn.execute("SELECT table_name FROM cicero_bootstrap_table")}
        assert {"clients", "user", "insta_post", "tiktok_post", "tiktok_comment"} <= bootstrapped
        before = snapshot(conn)
        data = data_fingerprint(conn, [t for t in public_tables(conn) if t != "cicero_adapter"])
        rendered = one(conn, "SELECT rendered_at FROM cicero_adapter")
        fingerprint = one(conn, "SELECT fingerprint FROM cicero_adapter")

    with caplog.at_level(logging.INFO, logger="outbox.migrate"):
        migrate.upgrade(empty_db_url)

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert diff(before, snapshot(conn)) == []
        assert data_fingerprint(conn, list(data)) == data
        assert one(conn, "SELECT version_num FROM alembic_version") == migrate.head_revision()
        assert one(conn, "SELECT rendered_at FROM cicero_adapter") > rendered  # rendered again
        assert one(conn, "SELECT fingerprint FROM cicero_adapter") == fingerprint
        check_adapter(conn)
    messages = [r.getMessage() for r in caplog.records if r.name == "outbox.migrate"]
    assert any("Cicero adapter rendered" in m for m in messages)
    assert not any("created the Cicero tables" in m for m in messages)


# --------------------------------------------------------- 5. the adapter follows Cicero


def migrated_v2(url: str, days: int = 1) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        load(conn, "v2")
        generate(conn, provinces=1, start=START, days=days)
    migrate.upgrade(url)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_adapter_follows_a_column_the_node_services_add(empty_db_url: str) -> None:
    migrated_v2(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        check_adapter(conn)
        assert one(conn, "SELECT count(original_created_at) FROM cicero_insta_posts()") == 0
        # What a Node service's own migration does (CF 20261205) while we are installed.
        conn.execute("ALTER TABLE insta_post ADD COLUMN original_created_at timestamptz")
        conn.execute("UPDATE insta_post SET original_created_at"
                     " = (created_at AT TIME ZONE 'UTC') - interval '7 minutes'")
        with pytest.raises(SchemaNotReady) as raised:
            check_adapter(conn)
    message = str(raised.value)
    assert 'column "insta_post".original_created_at appeared' in message
    assert "python -m outbox migrate" in message

    done = run_cli("producers", "--once", env=cli_env(empty_db_url))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert f"producers: {message}" in done.stderr
    with psycopg.connect(empty_db_url) as conn:
        assert one(conn, "SELECT count(*) FROM producer_run") == 0  # nothing ran

    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        check_adapter(conn)
        through_adapter: dict[str, datetime | None] = dict(conn.execute(
            "SELECT shortcode, original_created_at FROM cicero_insta_posts()").fetchall())
        in_table: dict[str, datetime | None] = dict(conn.execute(
            "SELECT shortcode, original_created_at FROM insta_post").fetchall())
        assert through_adapter == in_table
        assert len(in_table) == 400 and None not in in_table.values()


def daily_rows(conn: Conn, day: date) -> list[tuple[str, str, bool, str]]:
    """The view's rows that the default report_routing sends (a directorate's operator is not
    routed)."""
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(
        "SELECT message_key, recipient, recipient_valid, summary FROM daily_report_view"
        " WHERE report_date = %s AND NOT (client_type = 'direktorat'"
        " AND recipient_role = 'operator') ORDER BY message_key, recipient", (day,))]


def task_rows(conn: Conn, at: datetime) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT client_id, recipient, summary, task_list_hash"
                        "  FROM task_delivery_recap_at(%s) ORDER BY 1, 2", (at,)).fetchall()


def daily_texts_sent(conn: Conn, day: date) -> list[tuple[str, str]]:
    """(dedupe key, text) of the daily recap texts enqueued for ``day`` (no documents); a text
    sent in parts (``<message_key>#n``, over WhatsApp's length limit) joined back."""
    parts: dict[str, list[tuple[int, str]]] = {}
    for key, content in conn.execute(
            "SELECT dedupe_key, content FROM wa_outbox WHERE type = 'daily_report'"
            " AND attachment IS NULL AND dedupe_key LIKE %s", (f"daily_report:{day}:%",)):
        match = re.match(r"(.*)#(\d+)(:[^:]*)$", key)
        base, n = (match.group(1) + match.group(3), int(match.group(2))) if match else (key, 1)
        parts.setdefault(base, []).append((n, content))
    return sorted((key, "\n".join(t for _, t in sorted(p))) for key, p in parts.items())


def expected_texts(rows: list[tuple[str, str, bool, str]], day: date) -> list[tuple[str, str]]:
    return sorted((f"daily_report:{day}:{key}:{recipient}", summary)
                  for key, recipient, valid, summary in rows if valid)


def run_daily(conn: Conn, day: date) -> None:
    slot = datetime(day.year, day.month, day.day, 7, 0, tzinfo=JAKARTA) + timedelta(days=1)
    outcome = run_slot(conn, reports.DAILY, slot, now=slot + timedelta(seconds=5))
    assert outcome.status == "done", outcome.error


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_cf_timestamptz_migration_succeeds_on_a_migrated_v2(empty_db_url: str) -> None:
    migrated_v2(empty_db_url, days=2)
    day1, day2 = START, START + timedelta(days=1)
    noon = datetime(2026, 11, 17, 12, 0, tzinfo=JAKARTA)
    with connect_producer(empty_db_url) as conn:
        before = {day: daily_rows(conn, day) for day in (day1, day2)}
        tasks_before = task_rows(conn, noon)
        run_daily(conn, day1)
        assert daily_texts_sent(conn, day1) == expected_texts(before[day1], day1)
    assert before[day1] and before[day2] and tasks_before
    assert before[day1] != before[day2]

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        # CF's migration 20261203, as the Node service runs it: our views do not block it.
        conn.execute("ALTER TABLE tiktok_post ALTER COLUMN created_at TYPE timestamptz"
                     " USING created_at AT TIME ZONE 'UTC'")
        with pytest.raises(SchemaNotReady, match=r'"tiktok_post"\.created_at changed type'):
            check_adapter(conn)
    with connect_producer(empty_db_url) as conn:
        # A scheduler that started before the ALTER: its next slot is refused, with the
        # message, instead of reading the new column through the stale adapter.
        slot = datetime(2026, 11, 19, 7, 0, tzinfo=JAKARTA)
        refused = run_slot(conn, reports.DAILY, slot, now=slot + timedelta(seconds=5))
        assert refused.status == "failed"
        assert refused.error is not None and "python -m outbox migrate" in refused.error
        assert one(conn, "SELECT status FROM producer_run WHERE job = 'daily_report'"
                         " AND slot = %s", (slot,)) == "failed"
        assert one(conn, "SELECT count(*) FROM wa_outbox WHERE dedupe_key LIKE %s",
                   (f"daily_report:{day2}:%",)) == 0
    migrate.upgrade(empty_db_url)

    with connect_producer(empty_db_url) as conn:
        check_adapter(conn)
        assert {day: daily_rows(conn, day) for day in (day1, day2)} == before
        assert task_rows(conn, noon) == tasks_before
        run_daily(conn, day2)
        sent = daily_texts_sent(conn, day2)
    assert sent == expected_texts(before[day2], day2)
    assert any("Rekap Akumulasi Komentar TikTok" in text for _, text in sent)


# ------------------------------------------------------------------------------ 6. doctor


# Doctor's data checks compare with now(): its sample data lies in the past days, whatever the
# date the tests run.
RECENT = datetime.now(JAKARTA).date() - timedelta(days=3)


def doctor(url: str, naive_time_zone: str | None = None) -> Report:
    with psycopg.connect(url, autocommit=True) as conn:
        return diagnose(conn, naive_time_zone)


def line(report: Report, label: str) -> str:
    found = [x for x in report.lines if x.startswith(label + ":")]
    assert len(found) == 1, (label, report.text())
    return found[0][len(label) + 1:].strip()


COLUMN_TYPES: dict[str, dict[str, str]] = {
    "v2": {"  insta_post.created_at": NAIVE, "  insta_post.original_created_at": "absent",
           "  insta_post.source_type": "absent", "  insta_post.like_count": "absent",
           "  tiktok_post.created_at": NAIVE, "  tiktok_post.original_created_at": "absent",
           "  tiktok_post.source_type": "absent", "  insta_post_clients": "absent",
           "  user_roles": "present"},
    "cf": {"  insta_post.created_at": NAIVE, "  insta_post.original_created_at": AWARE,
           "  insta_post.source_type": "character varying(20)",
           "  insta_post.like_count": "integer", "  tiktok_post.created_at": AWARE,
           "  tiktok_post.original_created_at": AWARE, "  tiktok_post.source_type": "text",
           "  insta_post_clients": "present", "  user_roles": "present"},
    "empty": {"  insta_post.created_at": "absent", "  tiktok_post.created_at": "absent",
              "  insta_post_clients": "absent", "  user_roles": "absent"},
}


def assert_columns(report: Report, variant: str) -> None:
    for label, expected in COLUMN_TYPES[variant].items():
        assert line(report, label) == expected, (variant, label, report.text())


@pytest.mark.timeout(300)
def test_doctor_on_an_empty_database(empty_db_url: str) -> None:
    report = doctor(empty_db_url)
    assert_columns(report, "empty")
    head = migrate.head_revision()
    assert line(report, "schema revision") == f"none (not migrated) (this code: {head})"
    assert line(report, "Cicero tables").startswith("none (an empty database")
    assert line(report, "adapter").startswith("not installed")
    assert report.warnings == ["the schema is not at this code's revision: run "
                               "`python -m outbox migrate`"]
    with psycopg.connect(empty_db_url) as conn:
        assert public_tables(conn) == []  # read-only

    done = run_cli("outbox", "doctor", env=cli_env(empty_db_url))
    assert done.returncode == 1, done.stdout + done.stderr  # warnings
    assert done.stdout.strip() == report.text()
    assert "Traceback" not in done.stderr


@pytest.mark.timeout(300)
def test_doctor_on_v2_before_and_after_migrating(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "v2")
        generate(conn, provinces=1, start=RECENT, days=1)
        whole = snapshot(conn)
    head = migrate.head_revision()
    report = doctor(empty_db_url)
    assert_columns(report, "v2")
    assert line(report, "schema revision") == f"none (not migrated) (this code: {head})"
    assert "tiktok_comment" in line(report, "Cicero tables")
    assert "created by this project" not in line(report, "Cicero tables")
    assert line(report, "adapter").startswith("not installed")
    assert report.warnings == ["the schema is not at this code's revision: run "
                               "`python -m outbox migrate`"]
    with psycopg.connect(empty_db_url) as conn:
        assert diff(whole, snapshot(conn)) == []  # read-only

    migrate.upgrade(empty_db_url)
    report = doctor(empty_db_url)
    assert_columns(report, "v2")
    assert line(report, "schema revision") == f"{head} (this code: {head})"
    assert line(report, "adapter").endswith("naive timestamps read as UTC")
    assert line(report, "adapter matches the catalog") == "yes"
    assert report.warnings == []
    assert report.text().endswith("no warnings")
    done = run_cli("outbox", "doctor", env=cli_env(empty_db_url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == report.text()

    # A server in Asia/Jakarta whose writers store Jakarta wall time in the naive column,
    # read as UTC (the setting): the newest posts lie 7 hours in the future.
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO insta_post (shortcode, client_id, caption, created_at)
            SELECT 'jkt' || g, 'BATU', 'tugas',
                   (now() AT TIME ZONE 'Asia/Jakarta') - g * interval '10 minutes'
              FROM generate_series(1, 5) AS g""")
    report = doctor(empty_db_url)
    future = [w for w in report.warnings if w.startswith("insta_post: 5 of the newest")]
    assert len(future) == 1, report.text()
    assert "lie in the future" in future[0] and "read as UTC wall time" in future[0]
    assert adapter.NAIVE_TIME_ZONE_VARIABLE in future[0]
    assert not any(w.startswith("tiktok_post") for w in report.warnings)


@pytest.mark.timeout(300)
def test_doctor_on_cf_warns_when_jakarta_is_set_for_utc_data(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "cf")
        generate(conn, provinces=1, start=RECENT, days=1)  # naive UTC, original_created_at set
    migrate.upgrade(empty_db_url)
    head = migrate.head_revision()
    report = doctor(empty_db_url)
    assert_columns(report, "cf")
    assert line(report, "schema revision") == f"{head} (this code: {head})"
    assert line(report, "adapter matches the catalog") == "yes"
    assert report.warnings == []

    migrate.upgrade(empty_db_url, naive_time_zone="Asia/Jakarta")
    report = doctor(empty_db_url, "Asia/Jakarta")
    assert line(report, "CICERO_NAIVE_TIME_ZONE") == "Asia/Jakarta"
    assert line(report, "adapter").endswith("naive timestamps read as Asia/Jakarta")
    assert line(report, "adapter matches the catalog") == "yes"
    earlier = [w for w in report.warnings if w.startswith("insta_post:")]
    assert len(earlier) == 1, report.text()
    assert "earlier than their original_created_at" in earlier[0]
    assert "400 of 400" in earlier[0] and "read as Asia/Jakarta wall time" in earlier[0]
    assert not any(w.startswith("tiktok_post") for w in report.warnings)  # timestamptz there
    # The setting and the rendered adapter disagree: doctor says so too.
    report = doctor(empty_db_url, "UTC")
    assert line(report, "adapter matches the catalog") == "NO"
    assert any("CICERO_NAIVE_TIME_ZONE is UTC but the adapter was rendered for Asia/Jakarta"
               in w for w in report.warnings)
