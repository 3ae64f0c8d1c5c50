"""Task list changes (producers/jobs/task_changes.py inside the Daftar Tugas job).

Hand-built data (tests.test_producers_reports.seed: BATU with IG posts P61, P62 at 09:00 and
TikTok V6 at 10:00 on DAY, DITBINMAS with P63), the job run through the runner at chosen
slots; each change is announced once, by its own message, with the state in
task_change_state committed together with the messages.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from producers.config import TaskWindow
from producers.job import JobContext, JobResult, JobSpec
from producers.jobs import task_delivery_recap
from producers.runner import RunOutcome, run_slot
from producers.scheduler import connect_producer
from tests.test_producers_reports import DAY, GROUP_BATU, GROUP_DIT, seed

Conn = psycopg.Connection[Any]
SPEC = task_delivery_recap.make_job(window=TaskWindow())


def at(hours: int, minutes: int = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes)


def run(url: str, slot: datetime, spec: JobSpec = SPEC) -> RunOutcome:
    with connect_producer(url) as conn:  # a new connection each time: a restarted process
        return run_slot(conn, spec, slot, now=slot + timedelta(seconds=5))


def messages(conn: Conn, since: int = 0) -> list[tuple[int, str, str, str]]:
    """(id, type, recipient, content) of the Daftar Tugas and change messages after ``since``."""
    rows = conn.execute(
        "SELECT id, type, recipient, content FROM wa_outbox WHERE id > %s"
        " AND type IN ('task_delivery_recap', 'task_change') ORDER BY id", (since,)).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def last_id(conn: Conn) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM wa_outbox").fetchone()
    assert row is not None
    return int(row[0])


def add_ig_post(conn: Conn, code: str, when: datetime, client: str = "BATU",
                caption: str = "tugas baru") -> None:
    conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at) "
                 "VALUES (%s, %s, %s, %s)", (code, client, caption, when))
    conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, '[]'::jsonb)", (code,))


def test_new_posts_are_announced_once_and_tallied_in_the_hourly_list(
        db_url: str, conn: Conn) -> None:
    seed(conn)
    assert run(db_url, at(9, 30)).status == "done"
    first = messages(conn)
    # the first run of the day: the lists (nothing was sent that day), no change message
    assert [(t, r) for _, t, r, _ in first] == [("task_delivery_recap", GROUP_BATU),
                                                 ("task_delivery_recap", GROUP_DIT)]
    assert "Perubahan Hari Ini" not in first[0][3]
    mark = last_id(conn)
    assert run(db_url, at(10, 30)).status == "done"  # not hourly: V6 (10:00) is new
    new = messages(conn, mark)
    assert [(t, r) for _, t, r, _ in new] == [("task_change", GROUP_BATU)]
    assert new[0][3] == (
        "🎵 *Tugas TikTok Baru - POLRES BATU*\n"
        "Terdapat *1* konten TikTok baru yang perlu dikerjakan:\n"
        "\n"
        "1. *Video V6*\n"
        "   Caption: _video_\n"
        "   Link: https://www.tiktok.com/@polresbatu/video/V6\n"
        "\n"
        "_Silakan beri komentar pada video di atas._")
    mark = last_id(conn)
    assert run(db_url, at(10, 45)).status == "done"  # nothing changed since
    assert messages(conn, mark) == []
    add_ig_post(conn, "P64", at(10, 50), caption="Apel   pagi\nbersama " + "x" * 90)
    outcome = run(db_url, at(11))  # hourly: the lists, with the day's changes
    hourly = messages(conn, mark)
    # DITBINMAS's list is the text its group already has that day: not sent again
    assert outcome.result is not None and outcome.result.duplicates == 1
    assert [(t, r) for _, t, r, _ in hourly] == [("task_delivery_recap", GROUP_BATU)]
    batu = hourly[0][3]
    assert ("🎵 TikTok: *1* konten\n\n📊 *Perubahan Hari Ini:*\n"
            "✅ +1 konten Instagram baru\n✅ +1 konten TikTok baru\n\n📝 *Detail Tugas:*") in batu
    # the new post is in the list, so no separate message for it
    assert "/p/P64/" in batu and "Tugas Instagram Baru" not in batu
    mark = last_id(conn)
    add_ig_post(conn, "P65", at(11, 10), caption="")
    assert run(db_url, at(11, 30)).status == "done"
    new = messages(conn, mark)
    assert [(t, r) for _, t, r, _ in new] == [("task_change", GROUP_BATU)]
    assert new[0][3] == (
        "📸 *Tugas Instagram Baru - POLRES BATU*\n"
        "Terdapat *1* konten Instagram baru yang perlu dikerjakan:\n"
        "\n"
        "1. *Post P65*\n"
        "   Caption: _(tanpa caption)_\n"
        "   Link: https://www.instagram.com/p/P65/\n"
        "\n"
        "_Silakan like dan beri komentar pada konten di atas._")
    state = conn.execute(
        "SELECT ig_posts, tiktok_posts, ig_added, tiktok_added FROM task_change_state"
        " WHERE task_date = %s AND client_id = 'BATU'", (DAY.date(),)).fetchone()
    assert state == (["P61", "P62", "P64", "P65"], ["V6"], 2, 1)


def test_a_deleted_post_is_announced_then_a_fresh_list(db_url: str, conn: Conn) -> None:
    seed(conn)
    assert run(db_url, at(9, 30)).status == "done"
    conn.execute("DELETE FROM insta_like WHERE shortcode = 'P62'")
    conn.execute("DELETE FROM insta_post WHERE shortcode = 'P62'")
    mark = last_id(conn)
    assert run(db_url, at(10, 30)).status == "done"
    new = messages(conn, mark)
    assert [(t, r) for _, t, r, _ in new] == [("task_change", GROUP_BATU),
                                              ("task_delivery_recap", GROUP_BATU)]
    # one of two posts gone: at least half of the list, so a possible sync anomaly
    assert new[0][3] == (
        "🗑️ *Perubahan Tugas - POLRES BATU*\n"
        "*1* konten tidak lagi ada di daftar tugas hari ini (source: sync_anomaly):\n"
        "- Instagram P62\n"
        "\n"
        "_Banyak konten hilang sekaligus: kemungkinan gangguan sinkronisasi data, mohon cek "
        "akun resmi sebelum menindaklanjuti. Daftar tugas terbaru menyusul._")
    fresh = new[1][3]
    assert "P62" not in fresh and "/p/P61/" in fresh
    assert ("📊 *Perubahan Hari Ini:*\n✅ +1 konten TikTok baru\n"
            "❌ -1 konten Instagram dihapus\n\n") in fresh


def test_link_changes_are_announced_per_change(db_url: str, conn: Conn) -> None:
    seed(conn)
    conn.execute("INSERT INTO link_report (shortcode, user_id, instagram_link) VALUES "
                 "('P61', '1001', 'https://instagram.com/p/A1')")
    assert run(db_url, at(9, 30)).status == "done"  # the baseline: no change message
    assert [t for _, t, _, _ in messages(conn)] == ["task_delivery_recap"] * 2
    conn.execute("UPDATE link_report SET facebook_link = 'https://fb.com/x1' "
                 "WHERE shortcode = 'P61' AND user_id = '1001'")
    conn.execute("INSERT INTO link_report (shortcode, user_id, tiktok_link) VALUES "
                 "('P62', '1002', ' https://tiktok.com/@budi/video/9 ')")
    mark = last_id(conn)
    assert run(db_url, at(9, 45)).status == "done"
    new = messages(conn, mark)
    assert [(t, r) for _, t, r, _ in new] == [("task_change", GROUP_BATU)]
    assert new[0][3] == (
        "🔗 *Perubahan Link Tugas - POLRES BATU*\n"
        "\n"
        "*BRIPKA ANDI*\n"
        "Post: P61\n"
        "Link: IG: https://instagram.com/p/A1, FB: https://fb.com/x1, X: -, TT: -, YT: -\n"
        "\n"
        "*AIPDA BUDI*\n"
        "Post: P62\n"
        "Link: IG: -, FB: -, X: -, TT: https://tiktok.com/@budi/video/9, YT: -\n"
        "\n"
        "_Link amplifikasi telah diperbarui._")
    mark = last_id(conn)
    assert run(db_url, at(9, 50)).status == "done"
    assert messages(conn, mark) == []  # unchanged links: nothing again


def test_a_restart_between_two_runs_repeats_and_drops_no_change(
        db_url: str, conn: Conn) -> None:
    seed(conn)
    assert run(db_url, at(9, 30)).status == "done"
    add_ig_post(conn, "P64", at(9, 40))

    def crashing(ctx: JobContext) -> JobResult:
        task_delivery_recap.run_recap(ctx, TaskWindow())  # enqueues and writes the state ...
        raise RuntimeError("the process died before the commit")  # ... then rolls back

    failed = run(db_url, at(9, 45), JobSpec("task_delivery_recap", "*/30 * * * *",
                                            "TASK_DELIVERY_RECAP_CRON", crashing))
    assert failed.status == "failed"
    mark = 0
    assert [t for _, t, _, _ in messages(conn)] == ["task_delivery_recap"] * 2  # nothing kept
    mark = last_id(conn)
    assert run(db_url, at(9, 50)).status == "done"  # the next process announces P64 once
    new = messages(conn, mark)
    assert [(t, r) for _, t, r, _ in new] == [("task_change", GROUP_BATU)]
    assert "*Post P64*" in new[0][3]
    mark = last_id(conn)
    assert run(db_url, at(9, 55)).status == "done"  # and never again
    assert run(db_url, at(9, 50)).status == "taken"
    assert messages(conn, mark) == []


def test_a_client_without_a_group_is_logged_once_and_the_others_go_on(
        db_url: str, conn: Conn, caplog: pytest.LogCaptureFixture) -> None:
    seed(conn)
    assert run(db_url, at(9, 30)).status == "done"
    conn.execute("UPDATE clients SET client_group = 'bukan grup' WHERE client_id = 'DITBINMAS'")
    add_ig_post(conn, "P70", at(9, 40), client="DITBINMAS")
    add_ig_post(conn, "P71", at(9, 41), client="DITBINMAS")
    add_ig_post(conn, "P64", at(9, 42))
    mark = last_id(conn)
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, at(9, 45))
    assert outcome.status == "done"
    assert [(t, r) for _, t, r, _ in messages(conn, mark)] == [("task_change", GROUP_BATU)]
    warned = [r.getMessage() for r in caplog.records if "DITBINMAS" in r.getMessage()]
    assert warned == ["task_delivery_recap: client DITBINMAS has task list changes but no "
                      "usable group (client_group)"]


def test_a_client_switched_off_is_not_told_its_posts_are_gone(db_url: str, conn: Conn) -> None:
    seed(conn)
    assert run(db_url, at(9, 30)).status == "done"
    conn.execute("UPDATE clients SET client_status = false WHERE client_id = 'DITBINMAS'")
    mark = last_id(conn)
    assert run(db_url, at(9, 45)).status == "done"
    assert messages(conn, mark) == []
