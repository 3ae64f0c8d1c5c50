"""The demo's pieces on a small data set: one simulated day, the gateway subprocess, the files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from openpyxl import load_workbook

from tests.dev import demo
from tests.test_producers_reports import seed


def test_one_simulated_day_then_the_gateway(db_url: str, conn: psycopg.Connection[Any],
                                            tmp_path: Path) -> None:
    seed(conn)
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

    ok, detail = demo.run_gateway(db_url, tmp_path, {})
    assert ok, detail
    sends = [json.loads(line) for line in Path(detail).read_text().splitlines()]
    queued = conn.execute("SELECT count(*) FROM wa_outbox").fetchone()
    assert queued is not None and len(sends) == queued[0] > 0
    assert {s["kind"] for s in sends} == {"text", "document"}
    states = conn.execute("SELECT delivery_state FROM complaint_delivery ORDER BY complaint_id"
                          ).fetchall()
    assert states[:2] == [("answered",), ("not_answerable",)]

    files = demo.write_attachments(db_url, tmp_path)
    names = sorted(p.name for p in files)
    assert "Rekap_Harian_BATU_22_November_2026.xlsx" in names
    assert "Rekap_Mingguan_BATU_16_November_2026_sd_22_November_2026.xlsx" in names
    assert load_workbook(files[0]).sheetnames


def test_a_gateway_that_cannot_run_is_reported(tmp_path: Path) -> None:
    ok, detail = demo.run_gateway("postgresql://nobody@127.0.0.1:1/none", tmp_path, {})
    assert not ok
    assert "python -m gateway --once exited with" in detail
