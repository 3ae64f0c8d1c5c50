"""The operator CLI's inspection and maintenance commands on a real PostgreSQL: ``list``,
``show``, ``health``, ``purge`` (dry run, confirmation, complaints kept), ``send-test`` to an
unknown session, and the exit codes documented once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from outbox import cli, engine
from outbox.exitcodes import ExitCode
from producers import cli as producers_cli
from tests.dev import REPO_ROOT

Conn = psycopg.Connection[Any]
LEASE = timedelta(minutes=1)


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    # producers' main() would install its handler on this test's captured stdout for good
    monkeypatch.setattr(producers_cli, "configure_logging", lambda *a, **k: None)
    return db_url


def register(conn: Conn, name: str, state: str = "connected", heartbeat_ago: str = "0 s",
             changed_ago: str = "1 hour") -> None:
    engine.register_session(conn, name)
    conn.execute("UPDATE wa_session SET state = %s, state_changed_at = now() - %s::interval, "
                 "heartbeat_at = now() - %s::interval WHERE name = %s",
                 (state, changed_ago, heartbeat_ago, name))


def fail(conn: Conn, session: str, error: str) -> None:
    for msg in engine.claim(conn, session=session, worker="w", limit=10, lease=LEASE):
        engine.mark_failed(conn, msg, error)


def send_all(conn: Conn, session: str) -> None:
    for msg in engine.claim(conn, session=session, worker="w", limit=100, lease=LEASE):
        engine.mark_sent(conn, msg, f"WAID{msg.id}")


# --------------------------------------------------------------------------- list


def test_list_filters_and_masks(env: str, conn: Conn,
                                capsys: pytest.CaptureFixture[str]) -> None:
    register(conn, "main")
    engine.enqueue_many(conn, [engine.NewMessage("081211110000", "a"),
                               engine.NewMessage("081299998888", "b", type="admin_alert"),
                               engine.NewMessage("120363012345678901@g.us", "c")])
    fail(conn, "main", "invalid JID 6281234567890@s.whatsapp.net")
    engine.enqueue(conn, engine.NewMessage("0812-3456-7890", "d"))

    assert cli.main(["list"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["id", "created", "session", "type", "status",
                                           "tries", "recipient", "last", "error"]
    assert "4 message(s)" in out
    assert "6281234567890" not in out and "62812****890@s.whatsapp.net" in out
    assert "120363012345678901@g.us" in out  # a group names no person
    assert "WIB" in out

    assert cli.main(["list", "--status", "failed", "--type", "admin_alert"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "1 message(s)" in out and "admin_alert" in out and "failed" in out

    # any accepted form of the number finds the row; --full shows it unmasked
    assert cli.main(["list", "--recipient", "+62 812-3456-7890", "--full"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "1 message(s)" in out and "pending  0/5    6281234567890@s.whatsapp.net" in out
    assert cli.main(["list", "--recipient", "6281211110000@s.whatsapp.net", "--full"]) == 0
    out = capsys.readouterr().out
    assert "1 message(s)" in out and "invalid JID 6281234567890@s.whatsapp.net" in out

    assert cli.main(["list", "--since", "1h", "--status", "pending"]) == ExitCode.OK
    assert "1 message(s)" in capsys.readouterr().out
    conn.execute("UPDATE wa_outbox SET created_at = now() - interval '3 days'")
    assert cli.main(["list", "--since", "2d"]) == ExitCode.NOTHING
    assert "no messages match" in capsys.readouterr().out
    assert cli.main(["list", "--since", "2000-01-01 08.30", "--limit", "2"]) == ExitCode.OK
    assert "2 message(s) (more match" in capsys.readouterr().out


def test_list_refuses_a_bad_since(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["list", "--since", "yesterday"])
    assert caught.value.code == ExitCode.USAGE
    assert "neither an age" in capsys.readouterr().err


# --------------------------------------------------------------------------- show


def test_show_prints_every_column_the_error_history_and_the_complaint(
    env: str, conn: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    register(conn, "main")
    conn.execute("INSERT INTO complaint_queue (complainant, response_template, nrp, "
                 "reporter_name) VALUES ('081234567890', 'Terima kasih, sudah kami cek', "
                 "'75020201', 'BRIPKA ANDI')")
    assert producers_cli.main(["run", "complaint_response", "--at", "2026-11-23 09:05"],
                              env={"DATABASE_URL": env}) == ExitCode.OK
    row = conn.execute("SELECT outbox_id FROM complaint_queue").fetchone()
    assert row is not None and row[0] is not None
    msg_id = row[0]
    fail(conn, "main", "first: not on WhatsApp")
    assert engine.requeue_failed(conn, msg_id) == [msg_id]
    fail(conn, "main", "second: timeout")
    capsys.readouterr()

    assert cli.main(["show", str(msg_id)]) == ExitCode.OK
    out = capsys.readouterr().out
    columns = {line.split()[0] for line in out.splitlines() if line and not line[0].isspace()}
    table = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'wa_outbox'")}
    assert table - {"attachment", "content"} <= columns, table - columns
    assert "attachment_size" in columns and "attachment" not in columns
    history = out.split("error history (oldest first):")[1].split("\n\n")[0].splitlines()
    assert [line.split("WIB  ", 1)[1] for line in history if line] == [
        "attempt 1, became failed: first: not on WhatsApp",
        "attempt 1, became failed: second: timeout"]
    assert re.search(r"^last_error +second: timeout$", out, re.M)
    assert "answers complaint(s):" in out and "delivery reply_failed" in out
    assert "BRIPKA ANDI" in out
    assert "Terima kasih, sudah kami cek" in out.split("content:")[1]


def test_show_an_unknown_id_exits_1(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "424242"]) == ExitCode.NOTHING
    assert "no wa_outbox row with id 424242" in capsys.readouterr().err


# --------------------------------------------------------------------------- health


def test_health_exit_codes(env: str, conn: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["health"]) == ExitCode.UNHEALTHY  # nothing registered yet
    assert "no gateway session is registered" in capsys.readouterr().out

    register(conn, "main")
    engine.enqueue(conn, engine.NewMessage("081234567890", "a"))
    assert cli.main(["health"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "ok   main: 1 message(s) due" in out and out.rstrip().endswith("healthy")

    # due for 45 minutes and nothing sent: stuck
    conn.execute("UPDATE wa_outbox SET available_at = now() - interval '45 minutes'")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    assert "queue stuck: 1 message(s) due, the oldest waiting 45 min" in capsys.readouterr().out
    assert cli.main(["health", "--stuck-after", "1h"]) == ExitCode.OK
    capsys.readouterr()

    # a backlog that is moving is not stuck
    engine.enqueue(conn, engine.NewMessage("081299990000", "b"))
    send_all(conn, "main")
    engine.enqueue(conn, engine.NewMessage("081277770000", "c",
                                           available_at=None))
    conn.execute("UPDATE wa_outbox SET available_at = now() - interval '45 minutes' "
                 "WHERE status = 'pending'")
    assert cli.main(["health"]) == ExitCode.OK
    capsys.readouterr()

    register(conn, "main", heartbeat_ago="10 minutes")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    assert "no gateway heartbeat (last: 10 min ago)" in capsys.readouterr().out

    register(conn, "main", state="logged_out")
    register(conn, "second")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    out = capsys.readouterr().out
    assert "FAIL main: session logged_out" in out and "ok   second" in out

    # a short reconnect is not down; a long one is
    register(conn, "main", state="disconnected", changed_ago="1 minute")
    assert cli.main(["health"]) == ExitCode.OK
    capsys.readouterr()
    register(conn, "main", state="disconnected", changed_ago="20 minutes")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    assert "session disconnected for 20 min" in capsys.readouterr().out

    # rows waiting for a session no gateway serves
    register(conn, "main")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, session_name) "
                 "VALUES ('081211112222', 'x', 'text', 'ghost')")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    assert "FAIL ghost: no gateway has registered this session" in capsys.readouterr().out


def test_a_session_waiting_for_its_send_budget_is_not_stuck(
        env: str, conn: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    """The daily budget used up at noon: the rows due since then wait for it, by design. Health
    says until when (the budget the gateway registered, less its reserve), and only a queue
    that could send and does not is stuck."""
    register(conn, "main")
    conn.execute("UPDATE wa_session SET pacing = true, max_per_hour = 60, max_per_day = 20, "
                 "reserve_per_hour = 0, reserve_per_day = 2 WHERE name = 'main'")
    # 18 sends 5 h ago: the 20 a day less the 2 kept for answers are used up for 19 h more
    conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                 "SELECT 'main', now() - interval '5 hours' + make_interval(secs => i), 0 "
                 "FROM generate_series(1, 18) AS i")
    engine.enqueue(conn, engine.NewMessage("081234567890", "rekap"))
    conn.execute("UPDATE wa_outbox SET available_at = now() - interval '4 hours'")
    assert cli.main(["health"]) == ExitCode.OK
    out = capsys.readouterr().out
    # the oldest of the 18 is 24 h old in 19 h: the time in WIB, with the date on another day
    free = conn.execute(
        "SELECT to_char(t AT TIME ZONE 'Asia/Jakarta', CASE WHEN (t AT TIME ZONE "
        "'Asia/Jakarta')::date = (now() AT TIME ZONE 'Asia/Jakarta')::date THEN 'HH24.MI' "
        "ELSE 'DD-MM HH24.MI' END) FROM (SELECT min(sent_at) + interval '24 hours' AS t "
        "FROM wa_send_log) AS x").fetchone()
    assert free is not None
    assert f"ok   main: 1 message(s) due, waiting for the send budget until {free[0]} WIB" \
        in out
    # the 17th send would leave one more: the budget is open, so 4 h with nothing sent is stuck
    conn.execute("DELETE FROM wa_send_log WHERE outbox_id = 0 AND sent_at = "
                 "(SELECT max(sent_at) FROM wa_send_log)")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    assert "queue stuck: 1 message(s) due, the oldest waiting 4 h 00 min" \
        in capsys.readouterr().out
    # without pacing the caps do not apply: stuck as well
    conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                 "VALUES ('main', now() - interval '5 hours', 0)")
    conn.execute("UPDATE wa_session SET pacing = false")
    assert cli.main(["health"]) == ExitCode.UNHEALTHY
    capsys.readouterr()


def test_status_shows_the_sessions_state_and_last_send(
    env: str, conn: Conn, capsys: pytest.CaptureFixture[str]
) -> None:
    register(conn, "main")
    conn.execute("UPDATE wa_session SET jid = '6281200001111:7@s.whatsapp.net'")
    engine.enqueue(conn, engine.NewMessage("081234567890", "a"))
    send_all(conn, "main")
    assert cli.main(["status"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "main (default)" in out and "connected" in out
    assert "62812****111:7@s.whatsapp.net" in out
    sessions = out.split("\n\n")[0]
    assert sessions.count("WIB") >= 2  # state since, last send


# --------------------------------------------------------------------------- purge


def test_purge_keeps_the_replies_of_complaints(env: str, conn: Conn,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The bug: complaint_queue.outbox_id is ON DELETE SET NULL, so purging an answered
    complaint's reply nulled the link and complaint_delivery said 'reply_unknown'."""
    register(conn, "main")
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) VALUES "
                 "('081234567890', 'Jawaban satu'), ('081234567891', 'Jawaban dua')")
    assert producers_cli.main(["run", "complaint_response", "--at", "2026-11-23 09:05"],
                              env={"DATABASE_URL": env}) == ExitCode.OK
    engine.enqueue_many(conn, [engine.NewMessage("081200000001", "old 1"),
                               engine.NewMessage("081200000002", "old 2"),
                               engine.NewMessage("081200000003", "fresh")])
    send_all(conn, "main")
    conn.execute("UPDATE wa_outbox SET finished_at = now() - interval '40 days' "
                 "WHERE content <> 'fresh'")
    # a complaint not answered yet has no link (NULL): it must not stop the purge (NOT IN)
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) VALUES "
                 "('081234567892', 'Jawaban tiga')")
    states = "SELECT delivery_state FROM complaint_delivery ORDER BY complaint_id"
    before = conn.execute(states).fetchall()
    assert before == [("answered",), ("answered",), ("waiting",)]
    capsys.readouterr()

    assert cli.main(["purge", "--older-than", "30d", "--dry-run"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "2 finished message(s) older than 30d" in out
    assert "2 kept because a complaint points to them" in out and "nothing deleted" in out
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (5,)

    assert cli.main(["purge", "--older-than", "30d", "--yes"]) == ExitCode.OK
    assert "purged 2 finished message(s)" in capsys.readouterr().out
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (3,)
    assert conn.execute(states).fetchall() == before
    assert cli.main(["purge", "--older-than", "30d", "--yes"]) == ExitCode.NOTHING


def test_purge_asks_first(env: str, conn: Conn, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    register(conn, "main")
    engine.enqueue(conn, engine.NewMessage("081200000001", "old"))
    send_all(conn, "main")
    conn.execute("UPDATE wa_outbox SET finished_at = now() - interval '3 days'")
    args = cli.build_parser().parse_args(["purge", "--older-than", "2d"])
    url = {"DATABASE_URL": env}

    # not on a terminal and no --yes: refused, nothing deleted
    assert cli.run(args, url) == ExitCode.USAGE
    assert "pass --yes" in capsys.readouterr().err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    questions: list[str] = []

    def answer(reply: bool) -> Any:
        def confirm(prompt: str) -> bool:
            questions.append(prompt)
            return reply
        return confirm

    assert cli.run(args, url, confirm=answer(False)) == ExitCode.NOTHING
    assert "nothing deleted" in capsys.readouterr().out
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (1,)
    assert cli.run(args, url, confirm=answer(True)) == ExitCode.OK
    assert questions == ["delete 1 message(s)? [y/N] "] * 2
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)


@pytest.mark.parametrize("age", ["0", "0d", "0h", "0m"])
def test_purge_refuses_an_age_of_zero(age: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["purge", "--older-than", age, "--yes"])
    assert caught.value.code == ExitCode.USAGE
    assert "must be more than zero" in capsys.readouterr().err


def test_the_engine_refuses_a_purge_of_age_zero(conn: Conn) -> None:
    with pytest.raises(ValueError, match="above zero"):
        engine.purge(conn, timedelta(0))


# --------------------------------------------------------------------------- send-test


def test_send_test_refuses_an_unknown_session(env: str, conn: Conn,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["send-test", "081234567890", "x", "--session", "main"]) == ExitCode.USAGE
    assert "registered sessions: none" in capsys.readouterr().err
    register(conn, "main")
    assert cli.main(["send-test", "081234567890", "x", "--session", "mian"]) == ExitCode.USAGE
    assert "unknown session 'mian'; registered sessions: main" in capsys.readouterr().err
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)
    assert cli.main(["send-test", "081234567890", "x", "--session", "main"]) == ExitCode.OK
    assert conn.execute("SELECT session_name FROM wa_outbox").fetchone() == ("main",)


# --------------------------------------------------------------------------- exit codes


def test_every_exit_code_is_documented_once() -> None:
    page = (REPO_ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    section = page.split("## Exit codes", 1)[1]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert documented == {int(code) for code in ExitCode}
    for other in (REPO_ROOT / "docs").rglob("*.md"):
        if other.name != "cli.md":
            assert "## Exit codes" not in other.read_text(encoding="utf-8"), other


def test_health_as_a_script_for_monitoring(env: str, conn: Conn) -> None:
    register(conn, "main", state="banned")
    proc = subprocess.run([sys.executable, "-m", "outbox", "health"], cwd=REPO_ROOT,
                          env={**os.environ, "DATABASE_URL": env}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == ExitCode.UNHEALTHY
    assert "FAIL main: session banned" in proc.stdout


def test_every_failure_settle_writes_the_error_history(conn: Conn) -> None:
    ids = [r.id or 0 for r in engine.enqueue_many(conn, [
        engine.NewMessage("081211110001", "a"), engine.NewMessage("081211110002", "b")])]
    first, second = engine.claim(conn, session="main", worker="w", limit=5, lease=LEASE)
    assert engine.retry_later(conn, first, "timeout", delay=timedelta(0)).applied
    engine.mark_sent(conn, second, "WAID")  # a success writes no history
    (again,) = engine.claim(conn, session="main", worker="w", limit=5, lease=LEASE)
    conn.execute("UPDATE wa_outbox SET lease_expires_at = now() - interval '1 s' "
                 "WHERE id = %s", (again.id,))
    engine.release_expired(conn)
    (third,) = engine.claim(conn, session="main", worker="w", limit=5, lease=LEASE)
    assert engine.mark_failed(conn, third, "not on WhatsApp")
    history = [(e["attempt"], e["became"], e["error"]) for e in engine.message_errors(conn,
                                                                                      ids[0])]
    assert history == [(1, "pending", "timeout"),
                       (2, "pending", "lease expired (the worker died or hung); sent again"),
                       (3, "failed", "not on WhatsApp")]
    assert engine.message_errors(conn, ids[1]) == []
    conn.execute("UPDATE wa_outbox SET finished_at = now() - interval '2 days'")
    assert engine.purge(conn, timedelta(days=1)) == 2
    assert conn.execute("SELECT count(*) FROM wa_outbox_error").fetchone() == (0,)
