"""The admin digest: failed producer runs to ADMIN_WHATSAPP once per job, error kind and hour;
the daily summary. Failures are real failed runs through the runner, at chosen slots."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from producers.job import JobContext, JobResult, JobSpec
from producers.jobs import admin_digest
from producers.runner import RunOutcome, run_slot
from producers.scheduler import connect_producer
from tests.test_producers_reports import ADMIN, DAY

Conn = psycopg.Connection[Any]
ADMINS = ("0813-1111-2222", "0813-3333-4444")
ADMIN2 = "6281333334444@s.whatsapp.net"


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def run(url: str, spec: JobSpec, slot: datetime, admins: tuple[str, ...] = ADMINS) -> RunOutcome:
    with connect_producer(url) as conn:
        return run_slot(conn, spec, slot, now=slot + timedelta(seconds=30),
                        admin_whatsapp=admins)


def failing(error: Exception) -> JobSpec:
    def boom(ctx: JobContext) -> JobResult:
        raise error

    return JobSpec("daily_report", "0 7 * * *", "DAILY_REPORT_CRON", boom)


def alerts(conn: Conn) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT recipient, content, dedupe_key FROM wa_outbox"
                        " WHERE type = 'admin_alert' ORDER BY id").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_failures_go_once_per_job_error_kind_and_hour(db_url: str, conn: Conn) -> None:
    for minute in (5, 10):
        assert run(db_url, failing(RuntimeError("koneksi putus")), at(8, minute)).status \
            == "failed"
    assert run(db_url, admin_digest.ALERT_JOB, at(8, 15)).status == "done"
    first = alerts(conn)
    assert [(r[0], r[2]) for r in first] == [
        (ADMIN, f"admin_alert:producer:daily_report:RuntimeError:20261122T08:{ADMIN}"),
        (ADMIN2, f"admin_alert:producer:daily_report:RuntimeError:20261122T08:{ADMIN2}")]
    assert first[0][1] == (
        "⚠️ *Job producer gagal: daily_report*\n"
        "Jenis kesalahan: RuntimeError\n"
        "Jam: 08.00-08.59 WIB (Minggu, 22 November 2026)\n"
        "Jumlah kegagalan: 2 (terakhir slot 08.10 WIB)\n"
        "Pesan: RuntimeError: koneksi putus\n"
        "\n"
        "_Kegagalan berikutnya dari job dan jenis yang sama dalam jam ini tidak dikirim lagi._")
    run(db_url, failing(ValueError("data aneh")), at(8, 20))
    run(db_url, failing(RuntimeError("koneksi putus")), at(8, 40))
    for slot in (at(8, 25), at(8, 45), at(8, 50)):
        assert run(db_url, admin_digest.ALERT_JOB, slot).status == "done"
    # the ValueError is a new kind: one more per admin; the third RuntimeError is not
    assert [r[2].split(":")[3] for r in alerts(conn)] == ["RuntimeError"] * 2 + ["ValueError"] * 2
    run(db_url, failing(RuntimeError("koneksi putus")), at(9, 5))
    run(db_url, admin_digest.ALERT_JOB, at(9, 10))
    keys = [r[2] for r in alerts(conn) if r[0] == ADMIN]
    assert [k.split(":")[3:5] for k in keys] == [["RuntimeError", "20261122T08"],
                                                ["ValueError", "20261122T08"],
                                                ["RuntimeError", "20261122T09"]]


def test_without_admins_nothing_is_sent(db_url: str, conn: Conn) -> None:
    run(db_url, failing(RuntimeError("x")), at(8, 5))
    outcome = run(db_url, admin_digest.ALERT_JOB, at(8, 10), admins=("bukan",))
    assert outcome.status == "done" and outcome.result is not None
    assert outcome.result.detail == "no usable ADMIN_WHATSAPP: nothing to send"
    assert alerts(conn) == []


def test_the_daily_summary(db_url: str, conn: Conn) -> None:
    setup = """
        INSERT INTO producer_run (job, slot, status, finished_at, detail) VALUES
            ('daily_report', %(d)s + interval '7 hours', 'done', now(), NULL),
            ('task_delivery_recap', %(d)s + interval '8 hours', 'failed', now(), 'x: y'),
            ('task_delivery_recap', %(d)s + interval '8 hours 30 minutes', 'skipped', now(), 'z'),
            ('daily_report', %(d)s - interval '17 hours', 'done', now(), NULL);
        INSERT INTO wa_outbox (recipient, content, type, status, created_at, sent_at,
                               available_at, finished_at, last_error) VALUES
            ('081234567890', 'a', 'daily_report', 'sent', %(d)s + interval '7 hours',
             %(d)s + interval '7 hours', %(d)s + interval '7 hours', %(d)s + interval '7 hours',
             NULL),
            ('081234567891', 'b', 'daily_report', 'failed', %(d)s + interval '7 hours', NULL,
             %(d)s + interval '7 hours', %(d)s + interval '7 hours',
             'delivery unknown: the lease expired while the message was being sent'),
            ('081234567892', 'c', 'daily_report', 'failed', %(d)s + interval '7 hours', NULL,
             %(d)s + interval '7 hours', %(d)s + interval '7 hours', 'not on WhatsApp'),
            ('081234567893', 'd', 'task_delivery_recap', 'pending', %(d)s + interval '8 hours',
             NULL, %(d)s + interval '8 hours 12 minutes', NULL, NULL),
            ('081234567894', 'e', 'task_delivery_recap', 'cancelled', %(d)s + interval '8 hours',
             NULL, %(d)s + interval '8 hours', %(d)s + interval '8 hours', NULL),
            ('081234567895', 'f', 'daily_report', 'sent', %(d)s - interval '1 hour',
             %(d)s, %(d)s, %(d)s, NULL),
            ('081234567896', 'g', 'daily_report', 'expired', %(d)s + interval '7 hours', NULL,
             %(d)s + interval '7 hours', %(d)s + interval '24 hours',
             'expired: not sent by 23-11-2026 00.00 WIB'),
            ('081234567897', 'h', 'task_delivery_recap', 'superseded',
             %(d)s + interval '9 hours', NULL, %(d)s + interval '9 hours',
             %(d)s + interval '10 hours', 'superseded by #1'),
            ('081234567898', 'i', 'task_delivery_recap', 'superseded',
             %(d)s + interval '10 hours', NULL, %(d)s + interval '10 hours',
             %(d)s + interval '11 hours', 'superseded by #2');
        DELETE FROM wa_session;
        INSERT INTO wa_session (name, is_default, state, state_changed_at)
        VALUES ('default', true, 'connected', %(d)s + interval '6 hours 2 minutes');
    """
    for statement in setup.split(";")[:-1]:
        conn.execute(statement, {"d": DAY})
    assert run(db_url, admin_digest.SUMMARY_JOB, at(22), admins=(ADMINS[0],)).status == "done"
    rows = conn.execute("SELECT recipient, content, dedupe_key FROM wa_outbox"
                        " WHERE type = 'admin_daily_summary'").fetchall()
    assert [(r[0], r[2]) for r in rows] == [(ADMIN, f"admin_daily_summary:2026-11-22:{ADMIN}")]
    assert rows[0][1] == (
        "📊 *Ringkasan Harian Outbox* - Minggu, 22 November 2026 (s.d. 22.00 WIB)\n"
        "\n"
        "*Job producer:*\n"
        "- admin_daily_summary: 1 selesai\n"
        "- daily_report: 1 selesai\n"
        "- task_delivery_recap: 1 gagal, 1 terlewat\n"
        "\n"
        "*Pesan hari ini per jenis* (terkirim / gagal (lease kedaluwarsa) / dibatalkan / "
        "digantikan / lewat tenggat / belum terkirim):\n"
        "- daily_report: 1 / 2 (1) / 0 / 0 / 1 / 0\n"
        "- task_delivery_recap: 0 / 0 (0) / 1 / 2 / 0 / 1\n"
        "Digantikan versi yang lebih baru: 2 pesan; lewat tenggat (tidak dikirim): 1 pesan\n"
        "\n"
        "*Sesi WhatsApp:*\n"
        "- default: connected (sejak 06.02 WIB)\n"
        "\n"
        "*Tertahan:*\n"
        "- 1 pesan menunggu lebih dari 1 jam (tertua 08.12 WIB)")
    # it stays worth sending until the end of the next Jakarta day (00.00 WIB); this slot is
    # days in the past of the database's clock, so the deadline counts from the run itself
    lead = conn.execute(
        "SELECT expires_at - now(), to_char(expires_at AT TIME ZONE 'Asia/Jakarta', 'HH24:MI')"
        "  FROM wa_outbox WHERE type = 'admin_daily_summary'").fetchone()
    assert lead is not None and lead[1] == "00:00"
    assert timedelta(hours=24) < lead[0] <= timedelta(hours=48)
    # once a day
    assert run(db_url, admin_digest.SUMMARY_JOB, at(22), admins=(ADMINS[0],)).status == "taken"
