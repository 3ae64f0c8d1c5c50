"""tests.dev.sample_data: deterministic, realistic, loadable by the report views."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from outbox import migrate
from tests.dev import REPO_ROOT
from tests.dev.sample_data import POLRES, generate

START = date(2026, 11, 16)

DIGEST = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT format('%s %s %s %s %s %s', client_id, nama, client_type, client_group,
                  client_operator, client_super) AS t FROM clients
    UNION ALL SELECT format('%s %s %s %s %s %s %s', user_id, nama, title, divisi, insta,
                            status, exception) FROM "user"
    UNION ALL SELECT format('%s %s %s', shortcode, client_id, created_at) FROM insta_post
    UNION ALL SELECT format('%s %s', shortcode, likes) FROM insta_like
    UNION ALL SELECT format('%s %s', video_id, comments) FROM tiktok_comment) s
"""


def one(conn: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = conn.execute(sql.encode() if not params else sql, params or None).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def loaded(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    stats = generate(conn, provinces=1, start=START, days=2, seed=7)
    assert stats.clients == 1 + len(POLRES) == 40
    assert stats.ig_posts == 40 * 10 * 2 and stats.tiktok_posts == 40 * 5 * 2
    return conn


def test_shape_of_one_province(loaded: psycopg.Connection[Any]) -> None:
    conn = loaded
    assert one(conn, "SELECT count(*) FROM clients WHERE client_type = 'direktorat'") == 1
    assert one(conn, "SELECT count(*) FROM clients WHERE client_id = 'BOJONEGORO'") == 1
    per_satker = one(conn, 'SELECT avg(n) FROM (SELECT count(*) n FROM "user"'
                           " GROUP BY client_id) s")
    assert 120 <= per_satker <= 200  # about 160 personnel per satker
    posts = conn.execute(
        "SELECT (created_at AT TIME ZONE 'Asia/Jakarta')::date, client_id, count(*)"
        "  FROM insta_post GROUP BY 1, 2").fetchall()
    assert {n for _, _, n in posts} == {10}
    assert {d for d, _, _ in posts} == {START, START + timedelta(days=1)}
    # realistic variety
    assert one(conn, 'SELECT count(*) FROM "user" WHERE insta IS NULL') > 0
    assert one(conn, 'SELECT count(*) FROM "user" WHERE insta LIKE %s', "%@%") > 0
    assert one(conn, 'SELECT count(*) FROM "user" WHERE insta <> lower(insta)') > 0
    assert one(conn, 'SELECT count(*) FROM "user" WHERE exception') > 0
    assert one(conn, 'SELECT count(*) FROM "user" WHERE NOT status') > 0
    assert one(conn, "SELECT count(*) FROM clients WHERE client_operator LIKE %s", "%,%") > 0
    assert one(conn, "SELECT count(*) FROM clients WHERE client_group LIKE %s",
               "120363%@g.us%") > 30
    assert one(conn, "SELECT count(*) FROM report_recipient WHERE NOT recipient_valid") > 0
    assert one(conn, "SELECT count(*) FROM insta_like, jsonb_array_elements(likes) e"
                     " WHERE jsonb_typeof(e) = 'object'") > 0  # legacy {username} entries


def test_coverage_and_reports_on_generated_data(loaded: psycopg.Connection[Any]) -> None:
    conn = loaded
    coverage = one(conn, "SELECT sum(ig_done)::float / sum(ig_posts) FROM report_user_day"
                         " WHERE report_date = %s AND insta IS NOT NULL AND NOT exception"
                         " AND client_type = 'org'", START)
    assert 0.7 <= coverage <= 0.9  # ~80 % like coverage
    expected_keys = one(conn, "SELECT count(*) FROM clients WHERE client_status AND"
                              " client_type IN ('org', 'direktorat')") * 2 - one(
        conn, "SELECT count(*) FROM clients WHERE client_status AND NOT client_tiktok_status"
              " AND client_type IN ('org', 'direktorat')")
    keys = one(conn, "SELECT count(DISTINCT message_key) FROM daily_report_view"
                     " WHERE report_date = %s", START)
    assert keys == expected_keys
    assert one(conn, "SELECT count(*) FROM daily_report_view WHERE report_date = %s"
                     " AND summary LIKE 'Tidak ada konten%%'", START) == 0
    assert one(conn, "SELECT count(DISTINCT client_id) FROM weekly_report_view"
                     " WHERE week_start = %s AND summary LIKE %s", START, "%Tertinggi%") > 30


def test_same_seed_same_data_other_seed_other_data(loaded: psycopg.Connection[Any],
                                                   empty_db_url: str) -> None:
    first = one(loaded, DIGEST)
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as again:
        generate(again, provinces=1, start=START, days=2, seed=7)
        assert one(again, DIGEST) == first
        again.execute("TRUNCATE clients, \"user\", roles, user_roles, insta_post, insta_like,"
                      " tiktok_post, tiktok_comment CASCADE")
        generate(again, provinces=1, start=START, days=2, seed=8)
        assert one(again, DIGEST) != first


def test_two_provinces_have_distinct_ids(conn: psycopg.Connection[Any]) -> None:
    stats = generate(conn, provinces=2, start=START, days=0, seed=0)
    assert stats.clients == 80
    assert one(conn, "SELECT count(*) FROM clients WHERE client_id LIKE %s", "%\\_02") == 40
    assert one(conn, "SELECT count(DISTINCT lower(role_name)) FROM roles") == 3  # 2 dirs + operator
    assert stats.ig_posts == 0


@pytest.mark.slow
def test_cli(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    env = {**os.environ, "DATABASE_URL": empty_db_url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.dev.sample_data", "--provinces", "1", "--date",
         "2026-11-20", "--days", "1", "--seed", "3"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["ig_posts"] == 400 and stats["tiktok_posts"] == 200
    with psycopg.connect(empty_db_url) as conn:
        assert one(conn, "SELECT count(*) FROM insta_post") == 400
        assert one(conn, "SELECT min((created_at AT TIME ZONE 'Asia/Jakarta')::date)"
                         " FROM insta_post") == date(2026, 11, 20)
