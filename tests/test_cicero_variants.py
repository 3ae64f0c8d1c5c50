"""The Cicero variants found in the wild (tests/cicero_variants) and sample data written into them.

The fixtures re-create Cicero_V2 (naive ``created_at`` everywhere, no ``source_type`` /
``original_created_at`` / ``like_count``, no ``insta_post_clients``) and the fetch cronjob's
variant (those columns and table, ``tiktok_post.created_at`` timestamptz). The same
``generate()`` must land the same logical data in both: the same rows, and every timestamp the
same instant (a naive column holds the UTC wall clock: the Cicero contract), whatever the
session's TimeZone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from tests.cicero_variants import NAMES, VARIANTS, ddl, load
from tests.dev import devdb
from tests.dev.sample_data import POLRES, Stats, generate

START = date(2026, 11, 16)
JAKARTA = ZoneInfo("Asia/Jakarta")
NAIVE = "timestamp without time zone"
AWARE = "timestamp with time zone"
# (table, key, timestamp column) written by generate() where the column exists.
STAMPS = [
    ("insta_post", "shortcode", "created_at"),
    ("insta_post", "shortcode", "original_created_at"),
    ("insta_like", "shortcode", "updated_at"),
    ("tiktok_post", "video_id", "created_at"),
    ("tiktok_post", "video_id", "original_created_at"),
    ("tiktok_comment", "video_id", "updated_at"),
]


def one(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query.encode() if not params else query, params or None).fetchone()
    assert row is not None
    return row[0]


def column_type(conn: psycopg.Connection[Any], table: str, column: str) -> str | None:
    row = conn.execute(
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
        (table, column)).fetchone()
    return None if row is None else str(row[0])


def instants(conn: psycopg.Connection[Any], table: str, key: str,
             column: str) -> dict[str, datetime]:
    """key -> the instant stored in ``column``: a naive value is read as UTC (the contract)."""
    kind = column_type(conn, table, column)
    assert kind in (NAIVE, AWARE), (table, column, kind)
    stamp = sql.SQL("{} AT TIME ZONE 'UTC'" if kind == NAIVE else "{}").format(
        sql.Identifier(column))
    rows = conn.execute(sql.SQL("SELECT {}, {} FROM {}").format(
        sql.Identifier(key), stamp, sql.Identifier(table))).fetchall()
    assert all(when is not None for _, when in rows), (table, column)
    return {k: when.astimezone(UTC) for k, when in rows}


def load_and_generate(url: str, variant: str, timezone: str | None = None) -> Stats:
    with psycopg.connect(url, autocommit=True) as conn:
        if timezone is not None:
            conn.execute("SELECT set_config('TimeZone', %s, false)", (timezone,))
            assert one(conn, "SHOW TimeZone") == timezone
        load(conn, variant)
        return generate(conn, provinces=1, start=START, days=2)


@pytest.fixture
def more_empty_dbs(pg_server: str) -> Iterator[Callable[[], str]]:
    """Make further fresh empty databases (like ``empty_db_url``), dropped after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"t_{uuid.uuid4().hex[:16]}")
        return devdb.create_database(pg_server, names[-1])

    yield make
    for name in names:
        devdb.drop_database(pg_server, name)


# --- the fixtures themselves ----------------------------------------------------------------


# (table, column) -> data type, or None where the column must not exist.
EXPECTED_COLUMNS: dict[str, dict[tuple[str, str], str | None]] = {
    "v2": {
        ("insta_post", "created_at"): NAIVE,
        ("tiktok_post", "created_at"): NAIVE,
        ("insta_like", "updated_at"): NAIVE,
        ("tiktok_comment", "updated_at"): NAIVE,
        ("link_report", "created_at"): NAIVE,
        ("user", "created_at"): AWARE,
        ("insta_post", "source_type"): None,
        ("insta_post", "original_created_at"): None,
        ("insta_post", "like_count"): None,
        ("tiktok_post", "source_type"): None,
        ("tiktok_post", "original_created_at"): None,
        ("tiktok_post", "like_count"): "integer",
        ("insta_post_clients", "shortcode"): None,
        ("insta_like", "likes"): "jsonb",
        ("dashboard_user", "dashboard_user_id"): "uuid",
        ("user_roles", "role_id"): "integer",
        ("tiktok_post_roles", "role_name"): "character varying",
        ("wa_outbox", "id"): None,
    },
    "cf": {
        ("insta_post", "created_at"): NAIVE,
        ("tiktok_post", "created_at"): AWARE,
        ("insta_like", "updated_at"): NAIVE,
        ("tiktok_comment", "updated_at"): NAIVE,
        ("insta_post", "source_type"): "character varying",
        ("insta_post", "original_created_at"): AWARE,
        ("insta_post", "like_count"): "integer",
        ("tiktok_post", "source_type"): "text",
        ("tiktok_post", "original_created_at"): AWARE,
        ("insta_post_clients", "created_at"): NAIVE,
        ("wa_notification_outbox", "next_attempt_at"): AWARE,
        ("wa_outbox", "id"): None,
    },
    "skeleton": {
        ("wa_outbox", "created_at"): NAIVE,
        ("wa_outbox", "sent_at"): NAIVE,
        ("complaint_queue", "created_at"): NAIVE,
        ("complaint_queue", "responded_at"): NAIVE,
        ("clients", "client_id"): None,
    },
}


@pytest.mark.parametrize("variant", NAMES)
def test_variant_columns_are_the_ones_found_in_the_wild(empty_db_url: str, variant: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, variant)
        found = {key: column_type(conn, *key) for key in EXPECTED_COLUMNS[variant]}
    assert found == EXPECTED_COLUMNS[variant]


def test_variant_constraints_and_skeleton(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "cf", "skeleton")
        # CF's source_type CHECK, under the name migration 20261204 gives it.
        assert "manual_input" in one(
            conn, "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                  " WHERE conname = 'insta_post_source_type_check'")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO clients (client_id, nama) VALUES ('X', 'X');"
                         "INSERT INTO insta_post (shortcode, client_id, source_type)"
                         " VALUES ('a', 'X', 'manual_fetch')")
        # insta_post_clients follows its post (ON DELETE CASCADE).
        conn.execute("INSERT INTO clients (client_id, nama) VALUES ('X', 'X');"
                     "INSERT INTO insta_post (shortcode, client_id) VALUES ('a', 'X');"
                     "INSERT INTO insta_post_clients (shortcode, client_id) VALUES ('a', 'X');"
                     "DELETE FROM insta_post")
        assert one(conn, "SELECT count(*) FROM insta_post_clients") == 0
        # The skeleton exactly as the refactor skeleton defines it, empty.
        cols = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default"
            "  FROM information_schema.columns WHERE table_name = 'wa_outbox'"
            " ORDER BY ordinal_position").fetchall()
        assert [(c, t, n) for c, t, n, _ in cols] == [
            ("id", "integer", "NO"), ("recipient", "text", "NO"), ("content", "text", "NO"),
            ("type", "text", "NO"), ("status", "text", "YES"), ("created_at", NAIVE, "YES"),
            ("sent_at", NAIVE, "YES")]
        assert dict((c, d) for c, _, _, d in cols)["status"] == "'pending'::text"
        assert one(conn, "SELECT count(*) FROM wa_outbox") == 0
        assert one(conn, "SELECT count(*) FROM complaint_queue") == 0
        # The fetch cronjob's own outbox worker is a cron_job_config row
        # (docs/operations/upgrading-from-node.md).
        assert one(conn, "SELECT is_active FROM cron_job_config"
                         " WHERE job_key = './src/cron/cronWaOutboxWorker.js'") is True


def test_ddl_names() -> None:
    assert VARIANTS == ("v2", "cf")
    assert set(NAMES) == {"v2", "cf", "skeleton"}
    for name in NAMES:
        assert "CREATE TABLE" in ddl(name)
    for name in VARIANTS:  # the real files' first statement
        assert "CREATE EXTENSION IF NOT EXISTS pgcrypto;" in ddl(name)
    with pytest.raises(ValueError, match="unknown Cicero variant"):
        ddl("../alembic/env")


# --- sample data in each variant ----------------------------------------------------------


def test_psycopg_copy_of_an_aware_value_into_a_naive_column(empty_db_url: str) -> None:
    """Why generate() sends UTC values: PostgreSQL drops the offset for a naive column."""
    wib = datetime(2026, 11, 16, 5, 30, tzinfo=JAKARTA)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (k int, naive timestamp, aware timestamptz)")
        with conn.cursor() as cur, cur.copy("COPY t (k, naive, aware) FROM STDIN") as cp:
            cp.write_row((1, wib, wib))
            cp.write_row((2, wib.astimezone(UTC), wib.astimezone(UTC)))
        rows = dict((k, (naive, aware)) for k, naive, aware in
                    conn.execute("SELECT k, naive, aware FROM t").fetchall())
    assert rows[1][0] == datetime(2026, 11, 16, 5, 30)  # noqa: DTZ001 - the Jakarta wall clock
    assert rows[2][0] == datetime(2026, 11, 15, 22, 30)  # noqa: DTZ001 - the UTC wall clock
    assert rows[1][1] == rows[2][1] == wib  # timestamptz: the instant either way


def test_same_instants_in_v2_and_cf(empty_db_url: str,
                                    more_empty_dbs: Callable[[], str]) -> None:
    cf_url = more_empty_dbs()
    load_and_generate(empty_db_url, "v2")
    load_and_generate(cf_url, "cf")
    with psycopg.connect(empty_db_url) as v2, psycopg.connect(cf_url) as cf:
        # The comparison means something: one column is naive in V2 and timestamptz in CF.
        assert column_type(v2, "tiktok_post", "created_at") == NAIVE
        assert column_type(cf, "tiktok_post", "created_at") == AWARE
        compared = 0
        for table, key, column in STAMPS:
            if column_type(v2, table, column) is None:
                assert column == "original_created_at"  # the only column V2 lacks
                continue
            got = instants(v2, table, key, column)
            assert got == instants(cf, table, key, column), (table, column)
            assert len(got) == (800 if table.startswith("insta") else 400)
            compared += 1
        assert compared == 4

        # The instants are the right ones, checked against timestamptz values and the clock.
        # original_created_at (timestamptz) is the post time, created_at (naive) 2-29 min later.
        lag = one(cf, "SELECT array[min(created_at AT TIME ZONE 'UTC' - original_created_at),"
                      "             max(created_at AT TIME ZONE 'UTC' - original_created_at)]"
                      "  FROM insta_post")
        assert timedelta(minutes=2) <= lag[0] <= lag[1] < timedelta(minutes=30)
        # Posts are published 05:30-22:30 WIB on START and the day after, 10 a day per client:
        # read with the contract's double form (a wrong offset would shift them by 7 hours).
        for conn in (v2, cf):
            created = instants(conn, "insta_post", "shortcode", "original_created_at"
                               if conn is cf else "created_at")
            local = [when.astimezone(JAKARTA) for when in created.values()]
            assert {w.date() for w in local} == {START, START + timedelta(days=1)}
            assert all(time(5, 30) <= w.time() < time(22, 59) for w in local)
            per_day = conn.execute(
                "SELECT ((created_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Jakarta')::date,"
                "       client_id, count(*) FROM insta_post GROUP BY 1, 2").fetchall()
            assert len(per_day) == 2 * (1 + len(POLRES))
            assert {n for _, _, n in per_day} == {10}


COUNTS = {
    "clients": "SELECT count(*) FROM clients",
    "users": 'SELECT count(*) FROM "user"',
    "active users": 'SELECT count(*) FROM "user" WHERE status',
    "user roles": "SELECT count(*) FROM user_roles",
    "roles": "SELECT string_agg(role_name, ',' ORDER BY role_name) FROM roles",
    "ig posts": "SELECT count(*) FROM insta_post",
    "like lists": "SELECT count(*) FROM insta_like",
    "likes": "SELECT sum(jsonb_array_length(likes)) FROM insta_like",
    "tiktok posts": "SELECT count(*) FROM tiktok_post",
    "comments": "SELECT sum(jsonb_array_length(comments)) FROM tiktok_comment",
    "users digest": """SELECT md5(string_agg(concat_ws('|', user_id, nama, insta, tiktok,
                           client_id, status, exception), ',' ORDER BY user_id)) FROM "user" """,
    "likes digest": "SELECT md5(string_agg(shortcode || likes::text, ',' ORDER BY shortcode))"
                    "  FROM insta_like",
    "posts digest": """SELECT md5(string_agg(concat_ws('|', shortcode, client_id, caption,
                           comment_count), ',' ORDER BY shortcode)) FROM insta_post""",
}


def test_same_rows_in_v2_and_cf(empty_db_url: str, more_empty_dbs: Callable[[], str]) -> None:
    cf_url = more_empty_dbs()
    stats = {"v2": load_and_generate(empty_db_url, "v2"), "cf": load_and_generate(cf_url, "cf")}
    assert stats["v2"].as_dict() | {"seconds": 0} == stats["cf"].as_dict() | {"seconds": 0}
    found: dict[str, dict[str, Any]] = {}
    for variant, url in (("v2", empty_db_url), ("cf", cf_url)):
        with psycopg.connect(url) as conn:
            found[variant] = {name: one(conn, query) for name, query in COUNTS.items()}
    assert found["v2"] == found["cf"]
    st = stats["v2"]
    assert found["v2"]["users"] == st.users > 6000
    assert found["v2"]["user roles"] == 2 * st.users  # operator + the directorate's role
    assert found["v2"]["roles"] == "ditbinmas,operator"
    assert found["v2"]["ig posts"] == found["v2"]["like lists"] == st.ig_posts == 800
    assert found["v2"]["likes"] == st.like_entries
    assert found["v2"]["tiktok posts"] == st.tiktok_posts == 400
    assert found["v2"]["comments"] == st.comment_entries
    with psycopg.connect(cf_url) as cf:  # the columns only CF has are filled
        assert one(cf, "SELECT count(*) FROM insta_post WHERE like_count IS NULL"
                       " OR original_created_at IS NULL") == 0
        assert one(cf, "SELECT count(*) FROM insta_post WHERE source_type = 'manual_input'") > 0
        assert one(cf, "SELECT count(*) FROM tiktok_post WHERE original_created_at IS NULL") == 0
        assert one(cf, "SELECT count(*) FROM insta_post_clients") == 0  # not written


@pytest.mark.parametrize("variant", VARIANTS)
def test_stored_instants_do_not_depend_on_the_session_timezone(
        variant: str, empty_db_url: str, more_empty_dbs: Callable[[], str]) -> None:
    urls = {"America/Los_Angeles": empty_db_url, "Asia/Jakarta": more_empty_dbs()}
    for timezone, url in urls.items():
        load_and_generate(url, variant, timezone)
    stored: dict[str, dict[tuple[str, str], dict[str, datetime]]] = {}
    raw: dict[str, list[tuple[Any, ...]]] = {}
    for timezone, url in urls.items():
        with psycopg.connect(url) as conn:
            conn.execute("SET TimeZone = 'UTC'")  # one reading session for both
            stored[timezone] = {(t, c): instants(conn, t, k, c) for t, k, c in STAMPS
                                if column_type(conn, t, c) is not None}
            raw[timezone] = conn.execute(
                "SELECT shortcode, created_at::text FROM insta_post ORDER BY 1").fetchall()
    la, wib = stored["America/Los_Angeles"], stored["Asia/Jakarta"]
    assert la.keys() == wib.keys()
    assert len(la) == (4 if variant == "v2" else 6)
    for key in la:
        assert la[key] == wib[key], key
    # The naive column holds the UTC wall clock in both: 05:30 WIB on START is 22:30 UTC.
    assert raw["America/Los_Angeles"] == raw["Asia/Jakarta"]
    assert min(text for _, text in raw["Asia/Jakarta"]) >= "2026-11-15 22:30:00"
    assert max(text for _, text in raw["Asia/Jakarta"]) < "2026-11-17 16:00:00"


def test_generate_without_role_tables(empty_db_url: str) -> None:
    """Where roles / user_roles do not exist, the rest is written and ANALYZE skips them."""
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "v2")
        conn.execute("DROP TABLE user_roles; DROP TABLE roles CASCADE")
        stats = generate(conn, provinces=1, start=START, days=1)
        assert one(conn, 'SELECT count(*) FROM "user"') == stats.users > 6000
        assert one(conn, "SELECT count(*) FROM insta_post") == stats.ig_posts == 400
        assert one(conn, "SELECT to_regclass('roles') IS NULL")


def test_generate_needs_a_cicero_schema(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, "skeleton")
        with pytest.raises(RuntimeError, match=r"missing table\(s\) clients, user, insta_post"):
            generate(conn, provinces=1, start=START, days=1)
        assert one(conn, "SELECT to_regclass('clients') IS NULL")
