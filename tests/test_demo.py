"""The demo's pieces on a small data set: one simulated day, the gateway subprocess, the files."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from openpyxl import load_workbook

from tests.dev import demo
from tests.test_producers_reports import GROUP_BATU, seed


def test_one_simulated_day_then_the_gateway(db_url: str, conn: psycopg.Connection[Any],
                                            tmp_path: Path) -> None:
    seed(conn)
    # DEWI (BATU) has a registered number: her complaint in BATU's group at 16.05 is answered
    # privately, about the 15.20 same-day recap
    conn.execute("""INSERT INTO "user" (user_id, nama, title, divisi, insta, client_id, whatsapp)
                    VALUES ('75020277', 'DEWI', 'BRIPDA', 'SAT BINMAS', 'dewi', 'BATU',
                            '081234500077')""")
    demo.add_complaints(db_url, date(2026, 11, 23))
    outcomes = demo.simulate_day(db_url, date(2026, 11, 23), {})
    done = {o.job for o in outcomes if o.status == "done"}
    assert {"daily_report", "weekly_report", "task_delivery_recap", "complaint_response"} <= done
    assert not [o for o in outcomes if o.status == "failed"]
    slots = {(o.job, o.slot.strftime("%H:%M")) for o in outcomes}
    assert ("daily_report", "07:00") in slots and ("weekly_report", "07:00") in slots
    assert len([o for o in outcomes if o.job == "task_delivery_recap"]) == 48
    # a second pass over the same day enqueues nothing: every slot is already recorded
    assert demo.simulate_day(db_url, date(2026, 11, 23), {}) == []

    files = demo.write_attachments(db_url, tmp_path)  # the gateway drops a sent document's bytes
    ok, detail = demo.run_gateway(db_url, tmp_path, {})
    assert ok, detail
    sends = [json.loads(line) for line in Path(detail).read_text().splitlines()]
    # the day is queued before the gateway runs: of the rows sharing a collapse key and a
    # recipient (the task lists of a client and day, the same-day recaps of a client) only
    # the newest is sent, the older ones are superseded by it; every other row is sent
    queued = conn.execute(
        "SELECT count(*) FILTER (WHERE collapse_key IS NULL),"
        "       count(DISTINCT (collapse_key, recipient, session_name))"
        "           FILTER (WHERE collapse_key IS NOT NULL),"
        "       count(*) FILTER (WHERE collapse_key IS NOT NULL) FROM wa_outbox").fetchone()
    assert queued is not None
    plain, collapsed, keyed = queued
    assert len(sends) == plain + collapsed > 0
    assert keyed > collapsed  # the simulated day had lists and recaps to replace
    statuses = dict(conn.execute("SELECT status, count(*) FROM wa_outbox GROUP BY status"
                                 ).fetchall())
    assert statuses == {"sent": len(sends), "superseded": keyed - collapsed}
    assert conn.execute(
        "SELECT count(*) FROM wa_outbox o JOIN wa_outbox n ON n.id = o.superseded_by "
        "WHERE o.status = 'superseded' AND n.id > o.id AND n.recipient = o.recipient "
        "AND n.collapse_key = o.collapse_key").fetchone() == (keyed - collapsed,)
    assert {s["kind"] for s in sends} == {"text", "document"}
    states = conn.execute("SELECT delivery_state FROM complaint_delivery ORDER BY complaint_id"
                          ).fetchall()
    assert states == [("answered",), ("not_answerable",), ("answered",)]
    private = conn.execute(
        "SELECT o.recipient, o.content FROM complaint_queue q JOIN wa_outbox o "
        "ON o.id = q.outbox_id WHERE q.inbox_id IS NOT NULL").fetchone()
    assert private is not None and private[0] == "6281234500077@s.whatsapp.net"
    assert "rekap tanggal Senin, 23 November 2026 s.d. 15.20 WIB" in private[1]
    ack = conn.execute("SELECT recipient FROM wa_outbox WHERE dedupe_key LIKE 'complaint:%:ack'"
                       ).fetchall()
    assert ack == [(GROUP_BATU,)]

    names = sorted(p.name for p in files)
    # workbooks go only where routed (directorate groups, super admins; BATU's super is invalid)
    assert names == ["Rekap_Harian_DITBINMAS_22_November_2026.xlsx",
                     "Rekap_Mingguan_DITBINMAS_16_November_2026_sd_22_November_2026.xlsx"]
    assert load_workbook(files[0]).sheetnames


def test_a_gateway_that_cannot_run_is_reported(tmp_path: Path) -> None:
    ok, detail = demo.run_gateway("postgresql://nobody@127.0.0.1:1/none", tmp_path, {})
    assert not ok
    assert "python -m gateway --once exited with" in detail


def test_the_day_s_posts_are_fetched_from_the_standin(db_url: str,
                                                     conn: psycopg.Connection[Any]) -> None:
    """make demo's fetch: the stand-in serves the simulated day's posts, the ingestion job
    stores them, and the task list of the afternoon lists them."""
    seed(conn)  # BATU (org: ANDI, BUDI, CICI; accounts polresbatu) and DITBINMAS
    day = date(2026, 11, 24)
    data = demo.standin_data(db_url, day, seed=3)
    assert len(data.ig["polresbatu"]) == 3 and len(data.tt["polresbatu"]) == 2
    likers = {h for post in data.ig["polresbatu"] for h in post.likes}  # type: ignore[union-attr]
    assert likers <= {"andi", "budi"}  # BATU's personnel with an Instagram handle
    outcomes = demo.fetch_and_simulate_day(db_url, day, {}, seed=3)
    fetched = [o for o in outcomes if o.job == "ingestion"]
    assert [o.status for o in fetched] == ["done"] * 3
    codes = {p.code for p in data.ig["polresbatu"]}
    stored = {r[0] for r in conn.execute(
        "SELECT shortcode FROM cicero_insta_posts() WHERE report_date = %s", (day,))}
    assert codes <= stored
    task_list = conn.execute(
        "SELECT content FROM wa_outbox WHERE type = 'task_delivery_recap' AND recipient = %s "
        "AND dedupe_key LIKE %s ORDER BY id DESC LIMIT 1", (GROUP_BATU, f"%{day}%")).fetchone()
    assert task_list is not None and all(code in task_list[0] for code in codes)


def test_the_demo_log_keeps_the_terminal_to_one_line_per_kind_of_warning(tmp_path: Path) -> None:
    from outbox.logs import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("warning", "text")
        demo_log = demo.DemoLog(tmp_path / "demo.log")
        demo_log.install()
        recipients = logging.getLogger("producers.recipients")
        for n in range(21):
            recipients.warning("%s: recipient %s skipped", "daily_report", f"62812345678{n:02}")
        logging.getLogger("producers.jobs.reports").warning("client %s has no group", "BATU")
        logging.getLogger("producers.jobs.reports").info("not a warning")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        demo_log.close()
    lines = demo_log.summary()
    assert [line.split(" x ")[0].strip() for line in lines] == ["21", "1"]
    assert "producers.recipients: e.g. daily_report: recipient" in lines[0]
    written = (tmp_path / "demo.log").read_text(encoding="utf-8").splitlines()
    assert len(written) == 22 and "+07:00" in written[0]
    assert not any("6281234567800" in line for line in [*written, *lines])  # masked
