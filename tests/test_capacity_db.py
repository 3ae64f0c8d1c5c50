"""``python -m outbox capacity`` and the ``capacity_check`` job on a real PostgreSQL: the
projection reads the session's pacing from wa_session, the budgets from wa_send_log, and
prints the hand-computed send times; the admins get one alert per session, day and reason."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from outbox import capacity, cli, engine
from outbox.exitcodes import ExitCode
from outbox.logs import JAKARTA
from producers.job import JobContext
from producers.jobs import capacity_check

Conn = psycopg.Connection[Any]
ADMINS = ("0813-1111-2222", "0813-3333-4444")


def setup_queue(conn: Conn, per_day: int = 400) -> datetime:
    """Session main paced 60/h, gap 10 s, no reserve; 60 sends in the hour before (the oldest 30 min
    before the minute ``t`` returned): the hourly budget is used up until ``t`` + 30 min.
    Queued: a progress_report that expires at ``t`` + 20 min, two daily_reports."""
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_session SET state = 'connected', max_per_hour = 60, "
                 "max_per_day = %s, gap_min_s = 10, gap_max_s = 10, recipient_gap_s = 60, "
                 "pacing = true, reserve_per_hour = 0, reserve_per_day = 0 "
                 "WHERE name = 'main'", (per_day,))
    row = conn.execute("SELECT date_trunc('minute', now())").fetchone()
    assert row is not None
    t: datetime = row[0]
    conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                 "SELECT 'main', %s::timestamptz + make_interval(secs => i), 0 "
                 "FROM generate_series(0, 59) AS i", (t - timedelta(minutes=30),))
    engine.enqueue(conn, engine.NewMessage("081234567801", "sore", type="progress_report",
                                           expires_at=t + timedelta(minutes=20)))
    engine.enqueue(conn, engine.NewMessage("081234567802", "pagi 1", type="daily_report"))
    engine.enqueue(conn, engine.NewMessage("081234567803", "pagi 2", type="daily_report"))
    return t


def wib(at: datetime) -> str:
    return at.astimezone(JAKARTA).strftime("%H.%M")


def test_the_projection_follows_the_budget_and_the_deadline(conn: Conn) -> None:
    t = setup_queue(conn)
    report = capacity.capacity(conn)
    (main,) = report.sessions
    assert main.pace_from == "wa_session" and main.pace.gap_min_s == 10
    assert (main.sent_last_hour, main.hour_left, main.day_left) == (60, 0, 340)
    # the hour frees at t+30 min (the oldest of the 60 is an hour old): the two daily reports
    # at t+30:00 and t+30:10; the progress report expired at t+20 min
    kinds = {k.type: k for k in main.kinds}
    assert kinds["daily_report"].last_at == t + timedelta(minutes=30, seconds=10)
    assert kinds["daily_report"].priority == 10 and kinds["progress_report"].priority == 20
    assert kinds["progress_report"].expired == 1 and kinds["progress_report"].last_at is None
    (miss,) = main.misses
    assert miss.expires_at == t + timedelta(minutes=20)
    assert miss.projected_at == t + timedelta(minutes=30)  # without its deadline: first
    assert main.drained_at == t + timedelta(minutes=30, seconds=10)
    assert not main.budget_short


def test_the_cli_prints_the_projected_times(db_url: str, conn: Conn,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    t = setup_queue(conn)
    today = conn.execute("SELECT count(*) FROM wa_send_log WHERE (sent_at AT TIME ZONE "
                         "'Asia/Jakarta')::date = (now() AT TIME ZONE 'Asia/Jakarta')::date"
                         ).fetchone()
    assert today is not None
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli.main(["capacity"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "session main (connected): pacing 60/h, 400/24 h, gap 10-10 s, recipient gap 60 s " \
           "[wa_session]" in out
    conn.execute("UPDATE wa_session SET pool = 'jatim'")
    assert cli.main(["capacity"]) == ExitCode.OK
    assert "session main (connected, pool jatim): pacing 60/h" in capsys.readouterr().out
    conn.execute("UPDATE wa_session SET state = 'logged_out'")
    assert cli.main(["capacity"]) == ExitCode.OK
    assert "not sending (logged_out): projected as if it sent from now" in \
        capsys.readouterr().out
    assert f"sent today (WIB day): {today[0]}; last hour 60, left 0; last 24 h 60, left 340" \
        in out
    drained = wib(t + timedelta(minutes=30))
    assert f"queue: 3 open, projected to drain at {drained} WIB" in out
    assert re.search(rf"^\s+10\s+daily_report\s+2\s+{re.escape(drained)}\s+0\s+0$", out, re.M)
    assert re.search(r"^\s+20\s+progress_report\s+1\s+-\s+1\s+0$", out, re.M)
    assert (f"progress_report: 1 row(s) (#1), deadline {wib(t + timedelta(minutes=20))} WIB, "
            f"would be sent {drained}-{drained} WIB") in out
    assert out.startswith("Capacity projection at ")


def test_defaults_without_the_gateway_pacing_and_an_empty_queue(
        db_url: str, conn: Conn, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert cli.main(["capacity"]) == ExitCode.OK
    assert "no sessions and nothing queued" in capsys.readouterr().out
    engine.enqueue(conn, engine.NewMessage("081234567801", "halo", type="text"))
    assert cli.main(["capacity"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "session main (not registered): pacing 60/h, 400/24 h (2/h and 10/24 h kept for " \
           "answers and alerts), gap 8-25 s, recipient gap 60 s [defaults]" in out
    assert "queue: 1 open" in out


def run_check(conn: Conn, now: datetime) -> tuple[int, int, str | None]:
    with conn.transaction():
        result = capacity_check.run(JobContext(conn, capacity_check.NAME, now, now, ADMINS))
    return result.enqueued, result.duplicates, result.detail


def test_the_check_alerts_the_admins_once_per_session_day_and_reason(conn: Conn) -> None:
    setup_queue(conn, per_day=61)  # one send left in 24 h for two rows to send: budget short
    now_row = conn.execute("SELECT now()").fetchone()
    assert now_row is not None
    enqueued, duplicates, detail = run_check(conn, now_row[0])
    assert (enqueued, duplicates) == (4, 0)  # (deadline, budget) x 2 admins
    assert detail is not None and "main deadline, main budget" in detail
    rows = conn.execute("SELECT recipient, type, content, dedupe_key FROM wa_outbox "
                        "WHERE type = 'admin_alert' ORDER BY id").fetchall()
    day = now_row[0].astimezone(JAKARTA).date().isoformat()
    assert {r[3] for r in rows} == {
        f"admin_alert:capacity:main:{day}:{reason}:{admin}"
        for reason in ("deadline", "budget")
        for admin in ("6281311112222@s.whatsapp.net", "6281333334444@s.whatsapp.net")}
    deadline = next(r[2] for r in rows if ":deadline:" in r[3])
    assert "1 pesan diproyeksikan lewat tenggat" in deadline and "progress_report 1" in deadline
    budget = next(r[2] for r in rows if ":budget:" in r[3])
    assert "sisa kuota 24 jam 1 dari 61" in budget
    # 15 minutes later the same problems: nothing new
    assert run_check(conn, now_row[0] + timedelta(minutes=15))[:2] == (0, 4)


def test_no_alert_for_an_unregistered_session_or_a_healthy_queue(conn: Conn) -> None:
    engine.enqueue(conn, engine.NewMessage("081234567801", "halo", type="text",
                                           expires_at=datetime.now(JAKARTA)
                                           + timedelta(hours=1)))
    now_row = conn.execute("SELECT now()").fetchone()
    assert now_row is not None
    enqueued, _, detail = run_check(conn, now_row[0])
    assert enqueued == 0 and detail is not None and "no session registered" in detail
    # only the named sessions' rows are read
    assert capacity.capacity(conn, only=["other"]).sessions == []
    assert [s.open_rows for s in capacity.capacity(conn, only=["main"]).sessions] == [1]
    engine.register_session(conn, "main")
    enqueued, _, detail = run_check(conn, now_row[0])
    assert enqueued == 0 and detail == "1 session(s), 1 open row(s); problems: none"
