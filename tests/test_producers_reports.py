"""The report jobs on the real report views, with a small hand-made Cicero data set."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook

from producers.config import TaskWindow
from producers.job import JobSpec
from producers.jobs import reports, task_delivery_recap
from producers.runner import RunOutcome, run_slot
from producers.schedule import JAKARTA
from producers.scheduler import connect_producer

DAY = datetime(2026, 11, 22, 0, 0, tzinfo=JAKARTA)  # a Sunday
GROUP_BATU = "120363000000000001@g.us"
GROUP_DIT = "120363000000000002@g.us"
OPERATOR = "6281234567890@s.whatsapp.net"
ADMIN = "6281311112222@s.whatsapp.net"


def seed(conn: psycopg.Connection[Any]) -> None:
    """BATU (org, 3 operators) and DITBINMAS (directorate, one BATU user with its role)."""
    conn.execute("""
        INSERT INTO clients (client_id, nama, client_type, client_group, client_operator,
                             client_super, client_insta, client_tiktok)
        VALUES ('BATU', 'POLRES BATU', 'org', '120363000000000001', '081234567890',
                'bukan-nomor', 'polresbatu', 'polresbatu'),
               ('DITBINMAS', 'DIREKTORAT BINMAS', 'direktorat', '120363000000000002', NULL,
                NULL, 'ditbinmas', 'ditbinmas');
        INSERT INTO roles (role_name) VALUES ('ditbinmas'), ('operator');
        INSERT INTO "user" (user_id, nama, title, divisi, insta, tiktok, client_id) VALUES
            ('1001', 'ANDI', 'BRIPKA', 'SAT BINMAS', '@andi', '@andi', 'BATU'),
            ('1002', 'BUDI', 'AIPDA', 'SAT LANTAS', 'budi', NULL, 'BATU'),
            ('1003', 'CICI', 'BRIPTU', 'SAT BINMAS', NULL, NULL, 'BATU');
        INSERT INTO user_roles (user_id, role_id)
            SELECT '1001', role_id FROM roles WHERE role_name = 'ditbinmas';
        -- Cicero gave every user the role 'operator'; the org recap counts only operators.
        INSERT INTO user_roles (user_id, role_id)
            SELECT u, role_id FROM roles, unnest(ARRAY['1001', '1002', '1003']) AS u
             WHERE role_name = 'operator';
    """)
    for offset in (0, 2, 6):  # posts on Monday, Wednesday and Sunday of the week
        day = DAY - timedelta(days=6 - offset)
        for n, client in ((1, "BATU"), (2, "BATU"), (3, "DITBINMAS")):
            code = f"P{offset}{n}"
            conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at) "
                         "VALUES (%s, %s, 'tugas', %s)", (code, client, day + timedelta(hours=9)))
            conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, %s::jsonb)",
                         (code, '["andi"]' if n == 2 else '["andi", "budi"]'))
        conn.execute("INSERT INTO tiktok_post (video_id, client_id, caption, created_at) "
                     "VALUES (%s, 'BATU', 'video', %s)", (f"V{offset}", day + timedelta(hours=10)))
        conn.execute("INSERT INTO tiktok_comment (video_id, comments) VALUES (%s, %s::jsonb)",
                     (f"V{offset}", '["@andi"]'))


def run(db_url: str, spec: JobSpec, slot: datetime, **kw: Any) -> RunOutcome:
    with connect_producer(db_url) as conn:
        return run_slot(conn, spec, slot, now=slot + timedelta(seconds=5), **kw)


def outbox(conn: psycopg.Connection[Any], job: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT * FROM wa_outbox WHERE type = %s ORDER BY id", (job,))
        return cur.fetchall()


def test_daily_report(db_url: str, conn: psycopg.Connection[Any],
                      caplog: pytest.LogCaptureFixture) -> None:
    seed(conn)
    slot = DAY + timedelta(days=1, hours=7)
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, reports.DAILY, slot, admin_whatsapp=("0813-1111-2222", "x1"))
    assert outcome.status == "done", outcome.error
    rows = outbox(conn, "daily_report")
    keys = {r["dedupe_key"] for r in rows}
    assert all(k.startswith("daily_report:2026-11-22:") for k in keys)
    texts = {(r["recipient"], r["dedupe_key"].split(":", 2)[2]) for r in rows
             if r["attachment"] is None}
    assert {(GROUP_BATU, f"daily:BATU:ig:{GROUP_BATU}"), (OPERATOR, f"daily:BATU:ig:{OPERATOR}"),
            (GROUP_BATU, f"daily:BATU:tiktok:{GROUP_BATU}"),
            (GROUP_DIT, f"daily:DITBINMAS:dir_ig:{GROUP_DIT}")} <= texts
    # the default routing (the old audiences) sends no report to ADMIN_WHATSAPP
    assert not any(r["recipient"] == ADMIN for r in rows)
    # the invalid super-admin number and the invalid admin entry are logged, never fatal
    messages = [r.getMessage() for r in caplog.records]
    assert any("bukan-nomor" in m for m in messages)
    assert any("ADMIN_WHATSAPP" in m and "x1" in m for m in messages)
    assert "daily_report: client DITBINMAS has no usable recipient for audience super " \
        "(client_super)" in messages
    # the invalid super admin's messages: the IG text, and the workbook carrying the TikTok
    # text as its caption (3 users: far under the caption limit), so 2 refused, not 3
    period = reports.Period(DAY.date(), DAY.date())
    batu_caption = reports.caption(reports.DAILY_KIND, "POLRES BATU", period)
    batu_tiktok = next(r["content"] for r in rows if r["dedupe_key"]
                       == f"daily_report:2026-11-22:daily:BATU:tiktok:{GROUP_BATU}")
    assert reports.merged_caption(batu_tiktok, batu_caption) is not None
    assert outcome.result is not None and outcome.result.skipped == 2  # ig, document
    # the dedupe keys guard a second run of the same period
    conn.execute("DELETE FROM producer_run")
    again = run(db_url, reports.DAILY, slot, admin_whatsapp=("0813-1111-2222",))
    assert again.result is not None and again.result.enqueued == 0
    assert again.result.duplicates == len(rows)
    # the .xlsx only to the routed audiences (directorate group, super admins; BATU's super
    # admin is the invalid number), after that recipient's texts
    docs = [r for r in rows if r["attachment"] is not None]
    assert {(r["recipient"], r["attachment_name"]) for r in docs} == {
        (GROUP_DIT, "Rekap_Harian_DITBINMAS_22_November_2026.xlsx")}
    mine = [r for r in rows if r["recipient"] == GROUP_DIT]
    assert mine[-1]["attachment"] is not None
    doc = docs[0]
    assert doc["attachment_mime"].endswith("spreadsheetml.sheet")
    # the group's last text (no TikTok post: one line) is the workbook's caption, before the
    # workbook's own caption line; it is not sent on its own
    dit_caption = reports.caption(reports.DAILY_KIND, "DIREKTORAT BINMAS", period)
    assert doc["content"] == (
        "Tidak ada konten pada akun Official TikTok *DIREKTORAT BINMAS* pada Minggu, "
        f"22 November 2026.\n\n{dit_caption}")
    assert [r["dedupe_key"] for r in mine] == [
        f"daily_report:2026-11-22:daily:DITBINMAS:dir_ig:{GROUP_DIT}",
        f"daily_report:2026-11-22:xlsx:DITBINMAS:{GROUP_DIT}"]
    # BATU's workbook, as a routed super admin of BATU would get it
    conn.execute("UPDATE clients SET client_super = '0813-1111-2222' WHERE client_id = 'BATU'")
    conn.execute("DELETE FROM producer_run")
    third = run(db_url, reports.DAILY, slot)
    assert third.result is not None and third.result.enqueued == 2  # ig, tiktok + document
    doc = outbox(conn, "daily_report")[-1]
    assert (doc["recipient"], doc["attachment_name"]) == (
        ADMIN, "Rekap_Harian_BATU_22_November_2026.xlsx")
    assert doc["content"] == f"{batu_tiktok}\n\n{batu_caption}"
    book = load_workbook(io.BytesIO(bytes(doc["attachment"])))
    sheet = book["IG POLRES BATU"]
    assert sheet["E3"].value == "Minggu, 22/11/2026"
    assert [sheet.cell(r, 3).value for r in (5, 6, 7)] == ["ANDI", "CICI", "BUDI"]
    assert [sheet.cell(5, c).value for c in (5, 6, 7)] == [2, 2, 0]


def test_weekly_report_attaches_the_week(db_url: str, conn: psycopg.Connection[Any]) -> None:
    seed(conn)
    conn.execute("UPDATE clients SET client_super = '0813-1111-2222' WHERE client_id = 'BATU'")
    slot = DAY + timedelta(days=1, hours=7)  # Monday 23 November
    outcome = run(db_url, reports.WEEKLY, slot)
    assert outcome.status == "done", outcome.error
    rows = outbox(conn, "weekly_report")
    assert all(r["dedupe_key"].startswith("weekly_report:2026-11-16:") for r in rows)
    # the group gets the text, the super admin the text and the workbook (default routing):
    # the weekly text of 3 users fits in a caption, so one document carries both
    group = [r for r in rows if r["recipient"] == GROUP_BATU]
    assert [r["attachment"] is None for r in group] == [True]
    label = reports.caption(reports.WEEKLY_KIND, "POLRES BATU",
                            reports.previous_week(slot.date()))
    assert reports.merged_caption(group[0]["content"], label) is not None
    batu_group = [r for r in rows if r["recipient"] == ADMIN]
    assert [r["attachment"] is None for r in batu_group] == [False]
    assert batu_group[0]["attachment_name"] == (
        "Rekap_Mingguan_BATU_16_November_2026_sd_22_November_2026.xlsx")
    assert batu_group[0]["content"] == f"{group[0]['content']}\n\n{label}"
    assert "Senin, 16 November 2026 s.d. Minggu, 22 November 2026" in batu_group[0]["content"]
    sheet = load_workbook(io.BytesIO(bytes(batu_group[0]["attachment"])))["IG POLRES BATU"]
    assert sheet["A2"].value == "Rekap Likes Instagram Periode 16/11/2026 - 22/11/2026"
    assert sheet.cell(3, 5 + 3 * 2).value == "Rabu, 18/11/2026"
    andi = [sheet.cell(5, c).value for c in range(5, 5 + 21)]
    assert andi[0:3] == [2, 2, 0] and andi[3:6] == [0, 0, 0] and andi[18:21] == [2, 2, 0]
    dit = load_workbook(io.BytesIO(bytes(next(
        r["attachment"] for r in rows if r["recipient"] == GROUP_DIT and r["attachment"]))))
    assert dit.sheetnames == ["IG POLRES BATU", "TT POLRES BATU"]


def test_monthly_report_covers_the_previous_month(db_url: str,
                                                  conn: psycopg.Connection[Any]) -> None:
    seed(conn)
    conn.execute("UPDATE clients SET client_super = '0813-1111-2222' WHERE client_id = 'BATU'")
    slot = datetime(2026, 12, 1, 7, 0, tzinfo=JAKARTA)
    outcome = run(db_url, reports.MONTHLY, slot)
    assert outcome.status == "done", outcome.error
    rows = outbox(conn, "monthly_report")
    assert rows and all(r["dedupe_key"].startswith("monthly_report:2026-11-01:") for r in rows)
    doc = next(r for r in rows if r["recipient"] == ADMIN and r["attachment"])
    assert doc["attachment_name"] == "Rekap_Bulanan_BATU_November_2026.xlsx"
    sheet = load_workbook(io.BytesIO(bytes(doc["attachment"])))["IG POLRES BATU"]
    assert sheet.max_column == 4 + 3 * 30 + 3  # 30 days, then the person's totals


def test_task_recap_sends_changes_and_hourly_lists_never_the_same_content_twice(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    seed(conn)
    spec = task_delivery_recap.make_job(window=TaskWindow())
    sunday = DAY  # BATU has 2 IG posts at 09:00 and a TikTok post at 10:00 on the 22nd

    def sent() -> list[str]:
        return [r["recipient"] for r in outbox(conn, "task_delivery_recap")]

    run(db_url, spec, sunday + timedelta(hours=8, minutes=30))  # no posts yet
    assert sent() == []
    run(db_url, spec, sunday + timedelta(hours=9, minutes=30))  # new list: sent (a change)
    assert sent() == [GROUP_BATU, GROUP_DIT]
    # hourly slot: BATU's list changed (TikTok post at 10:00); DITBINMAS's text is identical
    outcome = run(db_url, spec, sunday + timedelta(hours=10))
    assert outcome.result is not None and outcome.result.duplicates == 1
    assert sent() == [GROUP_BATU, GROUP_DIT, GROUP_BATU]
    conn.execute("""UPDATE insta_like SET likes = '["andi", "budi", "cici"]'
                    WHERE shortcode LIKE 'P6%'""")  # new likes: same list, new content
    run(db_url, spec, sunday + timedelta(hours=16, minutes=30))  # not hourly: list unchanged
    assert len(sent()) == 3
    outcome = run(db_url, spec, sunday + timedelta(hours=18))  # outside the window
    assert outcome.result is not None and outcome.result.enqueued == 0
    run(db_url, spec, sunday + timedelta(hours=17))  # the mandatory 17:00 slot: new content
    assert sent() == [GROUP_BATU, GROUP_DIT, GROUP_BATU, GROUP_BATU, GROUP_DIT]
    keys = [r["dedupe_key"] for r in outbox(conn, "task_delivery_recap")]
    assert all(k.startswith("task_delivery_recap:2026-11-22:") for k in keys)
    assert len(keys) == len(set(keys))


def test_two_schedulers_with_the_real_jobs_race_over_a_week(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    """Every real job (intake off for speed) at every slot of a week, two schedulers racing."""
    import threading

    from producers import registry
    from producers.config import load_producer_settings
    from producers.scheduler import Scheduler

    seed(conn)
    conn.execute("INSERT INTO complaint_queue (complainant, response_template, created_at) "
                 "VALUES ('081234567890', 'Terima kasih', %s)", (DAY + timedelta(hours=3),))
    env = {"DATABASE_URL": db_url, "COMPLAINT_INTAKE_CRON": "off",
           "ADMIN_WHATSAPP": "081311112222"}
    specs = registry.base_specs()
    settings = load_producer_settings(specs, env)
    jobs = registry.scheduled(settings, registry.configured_specs(settings, specs))
    start = DAY - timedelta(days=6)  # Monday 16 November 00:00 .. Monday 23 November 00:00
    end = start + timedelta(days=8)
    moments = sorted({s for job in jobs for s in job.cron.slots(start, end)})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def drive() -> None:
        scheduler = Scheduler(lambda: connect_producer(db_url), jobs,
                              admin_whatsapp=settings.admin_whatsapp)
        try:
            scheduler.start(start)
            for moment in moments:
                barrier.wait(timeout=60)
                scheduler.tick(moment)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            scheduler.close()

    threads = [threading.Thread(target=drive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    per_job = dict(conn.execute(
        "SELECT job, count(*) FROM producer_run WHERE status = 'done' GROUP BY job").fetchall())
    tick = timedelta(microseconds=1)

    def runs(job: Any) -> int:
        """The job's slots in the week, plus the slot before the start when it is inside the
        job's grace (the scheduler's start runs it: the 22:00 summary at 00:00, 2 h grace)."""
        slots = list(job.cron.slots(start - tick, end))
        before = list(job.cron.slots(start - job.grace - tick, start - tick))
        return len(slots) + (1 if before and not (slots and slots[0] == start) else 0)

    # jobs with no slot this week (monthly: no 1st / last day of the month) never run
    expected = {job.name: runs(job) for job in jobs if runs(job)}
    expected["task_delivery_recap"] = 8 * 48 + 1  # includes the start slot (00:00, in grace)
    expected["complaint_response"] = 8 * 288 + 1
    assert per_job == expected
    assert conn.execute("SELECT count(*) FROM producer_run WHERE status <> 'done'"
                        ).fetchone() == (0,)
    # each message was enqueued by exactly one run, and no report or complaint run met a
    # message of another run (the Daftar Tugas meets its own identical hourly texts by design)
    totals = conn.execute("SELECT sum(enqueued) FROM producer_run").fetchone()
    queued = conn.execute("SELECT count(*) FROM wa_outbox").fetchone()
    assert totals is not None and queued is not None and totals[0] == queued[0] > 0
    assert conn.execute("SELECT sum(duplicates) FROM producer_run "
                        "WHERE job <> 'task_delivery_recap'").fetchone() == (0,)
    types = dict(conn.execute("SELECT type, count(*) FROM wa_outbox GROUP BY type").fetchall())
    # same-day recaps: BATU's (org) and the DITBINMAS group's; no BIDHUMAS client here
    # and the other scheduled messages the seed has data for (link recaps, the username recap,
    # the admins' daily summary; no opted-in user, no post change, no failed run)
    assert set(types) == {"daily_report", "weekly_report", "task_delivery_recap",
                          "complaint_response", "progress_report", "ditbinmas_progress_report",
                          "link_report", "amplify_daily_report", "username_recap",
                          "admin_daily_summary"}
