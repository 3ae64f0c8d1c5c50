"""The budget reserve (issue 13): the last sends of the hourly and daily budgets are kept for
answers and alerts (priority 30 and above), so an answer to somebody who wrote in never waits
for a budget the recaps used up. Checked in the settings, in the simulator against
hand-computed schedules, in a real gateway run and in the projection read from wa_session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import pool
from gateway.pacing import Pacer
from outbox import capacity, engine
from outbox.capacity import Outcome, Pace, Row, Session, simulate
from outbox.errors import ConfigError
from tests.gateway_helpers import (
    gateway_env,
    gateway_thread,
    read_jsonl,
    run_once,
    settings_for,
    wait_for,
)

Conn = psycopg.Connection[Any]
T0 = datetime(2026, 6, 8, 0, 0, tzinfo=UTC)  # 07.00 WIB


def offsets(out: dict[int, Outcome], ids: list[int]) -> list[float | None]:
    return [None if out[i].at is None else (out[i].at - T0).total_seconds()  # type: ignore[operator]
            for i in ids]


# ---------------------------------------------------------------------------------- settings
def test_the_defaults_and_a_tenth_of_a_small_cap(db_url: str) -> None:
    p = settings_for(db_url, None, WA_PACING="on").pacing
    assert (p.max_per_hour, p.reserve_per_hour, p.max_per_day, p.reserve_per_day) == (
        60, 2, 400, 10)
    # a number warming up (20/h, 50/day) keeps 2 and 5; at 5 an hour it keeps none
    p = settings_for(db_url, None, WA_PACING="on", WA_MAX_PER_HOUR="20",
                     WA_MAX_PER_DAY="50").pacing
    assert (p.reserve_per_hour, p.reserve_per_day) == (2, 5)
    assert settings_for(db_url, None, WA_PACING="on", WA_MAX_PER_HOUR="5").pacing \
        .reserve_per_hour == 0
    p = settings_for(db_url, None, WA_PACING="on", WA_RESERVE_PER_HOUR="0",
                     WA_RESERVE_PER_DAY="40").pacing
    assert (p.reserve_per_hour, p.reserve_per_day) == (0, 40)


def test_a_reserve_that_leaves_no_budget_is_refused_with_the_other_problems(
        db_url: str) -> None:
    env = gateway_env(db_url, None, WA_PACING="on", WA_MAX_PER_HOUR="5",
                      WA_RESERVE_PER_HOUR="5", WA_RESERVE_PER_DAY="-1",
                      WA_SEND_GAP_MIN_SECONDS="9", WA_SEND_GAP_MAX_SECONDS="3")
    from gateway.config import load_gateway_settings

    with pytest.raises(ConfigError) as caught:
        load_gateway_settings(env)
    problems = caught.value.problems
    assert any(p.startswith("WA_RESERVE_PER_HOUR=5 must be at least 0 and below "
                            "WA_MAX_PER_HOUR=5") for p in problems), problems
    assert any(p.startswith("WA_RESERVE_PER_DAY=-1 must be at least 0") for p in problems)
    assert any("WA_SEND_GAP_MAX_SECONDS" in p for p in problems)


# --------------------------------------------------------------------------------- simulator
def test_the_reserve_keeps_the_last_sends_of_the_hour_for_an_answer() -> None:
    """5 an hour, 2 of them kept; gap 10 s. Six texts (priority 10) at 0, an answer (30) at
    100 s. The texts take 3 sends (0, 10, 20); the answer goes at once at 100 s. Every row may
    go again when fewer than 3 sends are left in the last hour (the answer's counts too): the
    third most recent send an hour old, at 10 s + 1 h, then 20 s + 1 h, then 100 s + 1 h."""
    rows = [Row(i, "text", 10, f"r{i}", T0) for i in range(1, 7)]
    rows.append(Row(7, "complaint_response", 30, "p", T0 + timedelta(seconds=100)))
    kept = Pace(max_per_hour=5, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=0, reserve_per_hour=2, reserve_per_day=0)
    out = simulate(rows, [Session("main", kept)], start=T0)
    assert offsets(out, [1, 2, 3, 7, 4, 5, 6]) == [0, 10, 20, 100, 3610, 3620, 3700]
    # without it, five texts take the hour and the answer waits for the first to age out
    none = Pace(max_per_hour=5, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=0, reserve_per_hour=0, reserve_per_day=0)
    out = simulate(rows, [Session("main", none)], start=T0)
    assert offsets(out, [1, 2, 3, 4, 5, 7, 6]) == [0, 10, 20, 30, 40, 3600, 3610]


def test_the_daily_reserve_and_an_answer_behind_its_recipients_recap() -> None:
    """400 a day, 10 kept: 390 sends in the last 24 h leave only the reserve. An alert goes at
    once; an answer whose recipient still has a recap queued waits behind it (the recipient's
    order comes first), so both wait for the budget."""
    history = [T0 - timedelta(hours=23) + timedelta(seconds=i) for i in range(390)]
    rows = [Row(1, "daily_report", 10, "a", T0), Row(2, "complaint_response", 30, "a", T0),
            Row(3, "admin_alert", 30, "admin", T0)]
    pace = Pace(max_per_hour=1000, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=0, reserve_per_hour=0, reserve_per_day=10)
    out = simulate(rows, [Session("main", pace, history)], start=T0)
    # every row may go again when fewer than 390 sends are left in the last 24 h; the alert's
    # send counts too, so the second oldest of the history (-23 h + 1 s) must age out: the
    # recap at +1 h 1 s, then the answer behind it (gap 10 s)
    assert offsets(out, [3, 1, 2]) == [0, 3601, 3611]


# ---------------------------------------------------------------------------- the gateway
def add_sends(conn: Conn, count: int, ago: str) -> None:
    conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                 "SELECT 'main', now() - %s::interval + make_interval(secs => i), 0 "
                 "FROM generate_series(1, %s) AS i", (ago, count))


def insert(conn: Conn, recipient: str, content: str, typ: str = "text") -> int:
    row = conn.execute("INSERT INTO wa_outbox (recipient, content, type) VALUES (%s, %s, %s) "
                       "RETURNING id", (recipient, content, typ)).fetchone()
    assert row is not None
    return int(row[0])


def test_the_gateway_sends_only_answers_and_alerts_from_the_reserve(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    add_sends(conn, 8, "10 minutes")  # 10 an hour, 2 kept: 8 used, only the reserve is left
    recap = insert(conn, "081211110001", "rekap harian", "daily_report")
    text = insert(conn, "081211110002", "teks")
    alert = insert(conn, "081211110003", "peringatan", "admin_alert")
    env = gateway_env(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                      WA_SEND_GAP_MAX_SECONDS="0", WA_MAX_PER_HOUR="10",
                      WA_RESERVE_PER_HOUR="2", WA_RECIPIENT_GAP_SECONDS="0")
    result = run_once(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line["outbox_id"] for line in read_jsonl(sends)] == [alert]
    assert "only the reserve for answers and alerts is left" in result.stdout + result.stderr
    state = dict(conn.execute("SELECT id, status FROM wa_outbox").fetchall())
    assert (state[recap], state[text], state[alert]) == ("pending", "pending", "sent")
    # what the gateway registered is what the projection reads
    assert conn.execute("SELECT max_per_hour, reserve_per_hour, reserve_per_day, "
                        "coalesce_texts FROM wa_session WHERE name = 'main'").fetchone() == (
        10, 2, 10, True)


def test_an_answer_held_by_its_recipients_gap_goes_when_the_gap_ends(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    """Only the reserve is left and the alert's recipient got a message a moment ago: the alert
    waits for the recipient gap (3 s), then goes, although every other row waits for the
    budget (50 min). The gateway looks again every 5 s in this state (not once a heartbeat,
    30 s)."""
    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    add_sends(conn, 7, "10 minutes")
    earlier = insert(conn, "081211110003", "sebelumnya", "admin_alert")
    conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now(), finished_at = now() "
                 "WHERE id = %s", (earlier,))  # the 8th send of the hour: 10 an hour, 2 kept
    recap = insert(conn, "081211110001", "rekap harian", "daily_report")
    alert = insert(conn, "081211110003", "peringatan", "admin_alert")
    settings = settings_for(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                            WA_SEND_GAP_MAX_SECONDS="0", WA_MAX_PER_HOUR="10",
                            WA_RESERVE_PER_HOUR="2", WA_RECIPIENT_GAP_SECONDS="3")
    with gateway_thread(settings):
        assert wait_for(lambda: [s["outbox_id"] for s in read_jsonl(sends)] == [alert], 12)
    row = conn.execute("SELECT (SELECT sent_at FROM wa_outbox WHERE id = %s) - "
                       "(SELECT sent_at FROM wa_outbox WHERE id = %s)", (alert, earlier)
                       ).fetchone()
    assert row is not None and row[0].total_seconds() >= 3  # not before the recipient gap
    assert conn.execute("SELECT status FROM wa_outbox WHERE id = %s", (recap,)).fetchone() == (
        "pending",)


def only(pacer: Pacer) -> int | None:
    """The lowest priority the next claim takes (None: any)."""
    return pacer.min_priority


def test_the_pacer_says_reserve_then_ok(db_url: str, conn: Conn) -> None:
    """The pacing check itself: at 8 of 10 only the reserve is left (for how long: until the
    oldest of the last 8 sends is an hour old); at 10 of 10 the hourly cap; at 7 all is open."""
    engine.register_session(conn, "main")
    pacing = settings_for(db_url, None, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                          WA_SEND_GAP_MAX_SECONDS="0", WA_MAX_PER_HOUR="10",
                          WA_RESERVE_PER_HOUR="2").pacing
    pacer = Pacer(pacing, "main")
    add_sends(conn, 7, "30 minutes")
    assert pacer.delay(conn) == (0.0, "ok") and only(pacer) is None
    add_sends(conn, 1, "20 minutes")
    seconds, reason = pacer.delay(conn)
    assert (seconds, reason, only(pacer)) == (0.0, "reserve", 30)
    # until the oldest of the 8 (30 min ago + 1 s) is an hour old
    assert pacer.reserve_wait is not None and 1795 < pacer.reserve_wait <= 1801
    add_sends(conn, 2, "5 minutes")
    seconds, reason = pacer.delay(conn)
    assert reason == "hourly cap" and 1795 < seconds <= 1801
    assert only(pacer) is None


# --------------------------------------------------------------------------- the projection
def test_the_projection_reads_the_reserve_from_wa_session(db_url: str, conn: Conn) -> None:
    engine.register_session(conn, "main")
    settings = settings_for(db_url, None, WA_PACING="on", WA_MAX_PER_HOUR="10",
                            WA_RESERVE_PER_HOUR="3", WA_RESERVE_PER_DAY="0",
                            WA_COALESCE_TEXTS="off", WA_SEND_GAP_MIN_SECONDS="10",
                            WA_SEND_GAP_MAX_SECONDS="10", WA_RECIPIENT_GAP_SECONDS="0")
    pool.register(conn, "main", settings)
    conn.execute("UPDATE wa_session SET state = 'connected' WHERE name = 'main'")
    add_sends(conn, 7, "30 minutes")  # 10 an hour, 3 kept: only the reserve is left
    recap = insert(conn, "081211110001", "rekap", "daily_report")
    answer = insert(conn, "081211110002", "jawaban", "admin_alert")
    report = capacity.capacity(conn)
    (main,) = report.sessions
    assert (main.pace.hour_reserve, main.pace.day_reserve, main.pace.coalesce) == (3, 0, False)
    # the answer now; the recap when fewer than 7 sends are left in the hour, the answer's
    # included: the second oldest of the 7 (30 min ago + 2 s) an hour old
    assert main.projected[answer] == report.now
    wait = (main.projected[recap] - report.now).total_seconds()
    assert 1795 < wait <= 1802


def test_the_budget_alert_counts_the_reserve(db_url: str, conn: Conn) -> None:
    """20 a day, 5 kept: 13 sends in the last 24 h leave 7, of which 2 for the recaps. Two
    recaps fit; a third does not, although 7 sends are left (the alert's reason `budget`)."""
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_session SET state = 'connected', pacing = true, max_per_hour = 60, "
                 "max_per_day = 20, reserve_per_hour = 0, reserve_per_day = 5, gap_min_s = 1, "
                 "gap_max_s = 1, recipient_gap_s = 0, coalesce_texts = false")
    add_sends(conn, 13, "20 hours")
    for i in range(2):
        insert(conn, f"08121111000{i}", "rekap", "daily_report")
    (main,) = capacity.capacity(conn).sessions
    assert (main.day_left, main.pace.day_reserve, main.sends_needed) == (7, 5, 2)
    assert not main.budget_short
    third = insert(conn, "081211110009", "rekap", "daily_report")
    (main,) = capacity.capacity(conn).sessions
    assert main.budget_short
    # answers may use the reserve: three of them beside the two recaps still fit
    conn.execute("DELETE FROM wa_outbox WHERE id = %s", (third,))
    for i in range(3):
        insert(conn, f"08122222000{i}", "jawaban", "admin_alert")
    (main,) = capacity.capacity(conn).sessions
    assert (main.sends_needed, main.urgent_sends, main.budget_short) == (5, 3, False)
