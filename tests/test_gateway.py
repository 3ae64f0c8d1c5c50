"""The gateway against a real PostgreSQL, with the jsonl transport (subprocess where it matters)."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import db as gwdb
from gateway.pacing import Pacer
from outbox import engine
from outbox.engine import Attachment, NewMessage
from outbox.exitcodes import ExitCode
from tests.gateway_helpers import (
    gateway_env,
    gateway_thread,
    read_jsonl,
    run_once,
    settings_for,
    start_gateway,
    wait_for,
)

Conn = psycopg.Connection[Any]


def insert(conn: Conn, recipient: str, content: str, **cols: Any) -> int:
    values = {"recipient": recipient, "content": content, "type": "text", **cols}
    placeholders = ", ".join(["%s"] * len(values))
    row = conn.execute(
        f"INSERT INTO wa_outbox ({', '.join(values)}) VALUES ({placeholders}) RETURNING id",
        list(values.values())).fetchone()
    assert row is not None
    return int(row[0])


def statuses(conn: Conn) -> dict[int, str]:
    return dict(conn.execute("SELECT id, status FROM wa_outbox ORDER BY id").fetchall())


# ---------------------------------------------------------------------------------- subprocess
@pytest.mark.slow
def test_plain_sql_insert_reaches_the_transport(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    proc = start_gateway(gateway_env(db_url, sends), log_dir=tmp_path)
    try:
        assert wait_for(lambda: conn.execute(
            "SELECT state FROM wa_session WHERE name = 'main'").fetchone() == ("connected",), 15)
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                     "VALUES ('0812-3456-7890', 'halo', 'text')")
        conn.execute(
            "INSERT INTO wa_outbox (recipient, content, type, attachment, attachment_name) "
            "VALUES ('120363025246125888@g.us', 'rekap mingguan', 'weekly_report', "
            "'\\x504b0304'::bytea, 'rekap.xlsx')")
        assert wait_for(lambda: len(read_jsonl(sends)) == 2, 5)
        text, doc = read_jsonl(sends)
        assert (text["recipient"], text["content"], text["kind"]) == (
            "6281234567890@s.whatsapp.net", "halo", "text")
        assert doc["recipient"] == "120363025246125888@g.us"
        assert (doc["kind"], doc["attachment_name"], doc["attachment_size"]) == (
            "document", "rekap.xlsx", 4)
        assert doc["attachment_mime"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status = 'sent' AND wa_message_id IS NOT NULL"
        ).fetchone() == (2,), 5)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


@pytest.mark.slow
def test_kill_9_during_a_drain_loses_nothing(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type) "
        "SELECT '62812' || lpad(g::text, 8, '0'), 'pesan ' || g, 'text' "
        "FROM generate_series(1, 60) AS g")
    env = gateway_env(db_url, sends, WA_TRANSPORT_DELAY_SECONDS="0.02", WA_CLAIM_BATCH="10",
                      OUTBOX_LEASE_SECONDS="5")
    proc = start_gateway(env, log_dir=tmp_path)
    assert wait_for(lambda: len(read_jsonl(sends)) >= 15, 15)
    proc.kill()
    proc.wait(5)
    in_flight = conn.execute("SELECT count(*) FROM wa_outbox WHERE status = 'sending'").fetchone()
    assert in_flight is not None and in_flight[0] > 0  # the crash left leased rows behind
    time.sleep(5.2)  # the lease runs out
    result = run_once(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(statuses(conn).values()) == {"sent"}
    sent_ids = [line["outbox_id"] for line in read_jsonl(sends)]
    assert set(sent_ids) == set(statuses(conn))
    duplicates = len(sent_ids) - len(set(sent_ids))
    # only rows in flight at the kill: the batch being sent and the one whose settle was being
    # committed (pacing off settles a batch while the next one is claimed)
    assert duplicates <= 20


@pytest.mark.slow
def test_sigterm_releases_the_batch_and_exits_0(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type) "
        "SELECT '62812' || lpad(g::text, 8, '0'), 'pesan ' || g, 'text' "
        "FROM generate_series(1, 40) AS g")
    env = gateway_env(db_url, sends, WA_TRANSPORT_DELAY_SECONDS="0.1", WA_CLAIM_BATCH="20")
    proc = start_gateway(env, log_dir=tmp_path)
    assert wait_for(lambda: len(read_jsonl(sends)) >= 3, 15)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0
    assert time.monotonic() - started < 4
    rows = conn.execute("SELECT status, attempts, count(*) FROM wa_outbox "
                        "GROUP BY status, attempts ORDER BY status").fetchall()
    by_status = {(s, a): n for s, a, n in rows}
    sent = by_status.get(("sent", 1), 0)
    assert sent == len(read_jsonl(sends))
    assert by_status.get(("pending", 0), 0) == 40 - sent  # released: the attempt does not count
    state = conn.execute("SELECT state FROM wa_session WHERE name = 'main'").fetchone()
    assert state == ("offline",)


@pytest.mark.slow
def test_a_second_gateway_on_the_same_session_refuses(db_url: str, tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path / "a.jsonl")
    with gateway_thread(settings):
        env = gateway_env(db_url, tmp_path / "b.jsonl")
        second = run_once(env)
        assert second.returncode == ExitCode.SESSION_TAKEN
        assert "session 'main' is already served by another gateway" in second.stderr
        assert "wa-gateway:main:test-worker" in second.stderr
    # once the first one stopped, the session is free again
    assert run_once(gateway_env(db_url, tmp_path / "b.jsonl")).returncode == 0


@pytest.mark.slow
def test_losing_the_lock_connection_reconnects_and_takes_the_lock_again(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_session SET paused_until = now() + interval '1 hour'")
    proc = start_gateway(gateway_env(db_url, tmp_path / "sends.jsonl"), log_dir=tmp_path)

    def holder() -> int | None:
        row = conn.execute("SELECT l.pid FROM pg_locks AS l WHERE l.locktype = 'advisory' "
                           "AND l.granted").fetchone()
        return None if row is None else int(row[0])

    try:
        assert wait_for(lambda: holder() is not None, 15)
        first = holder()
        conn.execute("SELECT pg_terminate_backend(%s)", (first,))
        # it never runs without its lock: it reconnects and holds it again, on a new backend
        assert wait_for(lambda: holder() not in (None, first), 10)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_check_config_prints_the_settings(db_url: str) -> None:
    import subprocess
    import sys

    from tests.dev import REPO_ROOT

    env = gateway_env(db_url, None, WA_SESSION_NAME="Polda", WA_MAX_PER_HOUR="20",
                      WA_PACING="on")
    result = subprocess.run([sys.executable, "-m", "gateway", "--check-config"], env=env,
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "session polda, transport log" in result.stdout
    assert "20/h" in result.stdout


def test_bad_configuration_lists_every_problem(db_url: str) -> None:
    env = gateway_env(db_url, None, WA_SESSION_NAME="Bad Name!", WA_TRANSPORT="carrier-pigeon",
                      WA_GATEWAY_POLL_CRON="every now and then", WA_SEND_GAP_MIN_SECONDS="9",
                      WA_SEND_GAP_MAX_SECONDS="3", WA_TRANSPORT_FAIL="explode:x")
    result = run_once(env)
    assert result.returncode == 2
    for needle in ("WA_SESSION_NAME", "WA_TRANSPORT=", "WA_GATEWAY_POLL_CRON",
                   "WA_SEND_GAP_MAX_SECONDS", "WA_TRANSPORT_FAIL"):
        assert needle in result.stderr
    assert "5 problem(s)" in result.stderr


# ---------------------------------------------------------------------------------- --once
def test_two_sessions_never_send_each_others_rows(db_url: str, conn: Conn,
                                                  tmp_path: Path) -> None:
    engine.register_session(conn, "alpha")
    engine.register_session(conn, "beta")
    for i in range(5):
        insert(conn, f"62812000000{i:02d}", f"alpha {i}", session_name="alpha")
        insert(conn, f"62812000000{i:02d}", f"beta {i}", session_name="beta")
    insert(conn, "6281200000099", "default goes to alpha")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run_once(gateway_env(db_url, a, WA_SESSION_NAME="alpha")).returncode == 0
    assert {line["session"] for line in read_jsonl(a)} == {"alpha"}
    assert len(read_jsonl(a)) == 6
    assert read_jsonl(b) == []
    assert run_once(gateway_env(db_url, b, WA_SESSION_NAME="beta")).returncode == 0
    assert [line["content"] for line in read_jsonl(b)] == [f"beta {i}" for i in range(5)]
    assert set(statuses(conn).values()) == {"sent"}


def test_permanent_failure_does_not_block_the_queue(db_url: str, conn: Conn,
                                                    tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    bad = insert(conn, "6281211110000", "BADNUMBER first")
    after_bad = insert(conn, "6281211110000", "second to the same recipient")
    others = [insert(conn, f"628122222000{i}", f"other {i}") for i in range(3)]
    settings = settings_for(db_url, sends, WA_TRANSPORT_FAIL="permanent:BADNUMBER")
    with gateway_thread(settings) as gateway:
        assert wait_for(lambda: len(read_jsonl(sends)) == 4, 5)
        assert gateway.failed == 1
    row = conn.execute("SELECT status, attempts, last_error FROM wa_outbox WHERE id = %s",
                       (bad,)).fetchone()
    assert row is not None
    assert row[:2] == ("failed", 1)
    assert "no LID found" in row[2]
    assert {line["outbox_id"] for line in read_jsonl(sends)} == {after_bad, *others}


def test_a_poison_row_ends_failed_and_the_rest_is_sent(db_url: str, conn: Conn,
                                                       tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    poison = insert(conn, "6281233330000", "POISON")
    behind = insert(conn, "6281233330000", "same recipient, behind the poison row")
    good = [insert(conn, f"628124444000{i}", f"good {i}") for i in range(3)]
    env = gateway_env(db_url, sends, WA_TRANSPORT_FAIL="crash:POISON",
                      OUTBOX_RETRY_BASE_SECONDS="0", OUTBOX_RETRY_MAX_SECONDS="0")
    result = run_once(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "InjectedCrash" in result.stdout
    row = conn.execute("SELECT status, attempts, last_error FROM wa_outbox WHERE id = %s",
                       (poison,)).fetchone()
    assert row is not None
    assert row[:2] == ("failed", 2)  # retried once, then failed as poison (max_attempts is 5)
    assert row[2].startswith("poison row: the sender crashed on attempt 2: InjectedCrash")
    assert sorted(line["outbox_id"] for line in read_jsonl(sends)) == [behind, *good]


def test_transient_failure_is_retried_with_backoff(db_url: str, conn: Conn,
                                                   tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    row_id = insert(conn, "6281255550000", "FLAKY once")
    settings = settings_for(db_url, sends, WA_TRANSPORT_FAIL="transient:FLAKY:1",
                            OUTBOX_RETRY_BASE_SECONDS="0.3", OUTBOX_RETRY_MAX_SECONDS="0.3")
    with gateway_thread(settings) as gateway:
        assert wait_for(lambda: len(read_jsonl(sends)) == 1, 5)
        assert gateway.retried == 1
    row = conn.execute("SELECT status, attempts, last_error, sent_at - created_at "
                       "FROM wa_outbox WHERE id = %s", (row_id,)).fetchone()
    assert row is not None
    assert row[:3] == ("sent", 2, None)
    assert row[3] >= timedelta(seconds=0.2)  # the backoff timer woke the loop, not a NOTIFY


def test_rate_limit_pauses_the_session_and_alerts_admins(db_url: str, conn: Conn,
                                                         tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    first = insert(conn, "6281266660000", "THROTTLED")
    second = insert(conn, "6281266660001", "next one")
    env = gateway_env(db_url, sends, WA_TRANSPORT_FAIL="pause:THROTTLED",
                      GATEWAY_WHATSAPP_ADMIN="081299990000", ADMIN_WHATSAPP="081299990001",
                      WA_RATE_LIMIT_PAUSE_SECONDS="600")
    result = run_once(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_jsonl(sends) == []
    rows = dict(conn.execute("SELECT id, (status, attempts)::text FROM wa_outbox "
                             "WHERE id IN (%s, %s)", (first, second)).fetchall())
    assert rows == {first: "(pending,0)", second: "(pending,0)"}
    paused = gwdb.pause_state(conn, "main")
    assert paused is not None and paused.paused_until is not None
    assert timedelta(seconds=590) < paused.paused_until - paused.now <= timedelta(seconds=600)
    assert "rate-overlimit" in (paused.reason or "")
    alerts = conn.execute("SELECT recipient, status, priority FROM wa_outbox "
                          "WHERE type = 'admin_alert' ORDER BY recipient").fetchall()
    assert alerts == [("6281299990000@s.whatsapp.net", "pending", 100),
                      ("6281299990001@s.whatsapp.net", "pending", 100)]
    # a second throttle within the alert window does not alert again
    conn.execute("UPDATE wa_session SET paused_until = NULL")
    assert run_once(env).returncode == 0
    count = conn.execute("SELECT count(*) FROM wa_outbox WHERE type = 'admin_alert'").fetchone()
    assert count == (2,)


# ---------------------------------------------------------------------------------- pacing
def test_pacing_gap_and_hourly_cap_come_from_the_database(db_url: str, conn: Conn,
                                                          tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    # two sends in the last hour by an earlier process: they count against the hourly cap
    for i in range(2):
        insert(conn, f"628127777000{i}", f"earlier {i}")
    conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now() - interval '10 minutes'"
                 ", finished_at = now()")
    ids = [insert(conn, f"628128888000{i}", f"now {i}") for i in range(4)]
    env = gateway_env(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0.3",
                      WA_SEND_GAP_MAX_SECONDS="0.4", WA_MAX_PER_HOUR="4",
                      WA_RECIPIENT_GAP_SECONDS="0")
    result = run_once(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hourly cap reached" in result.stdout
    assert [line["outbox_id"] for line in read_jsonl(sends)] == ids[:2]
    sent_at = [r[0] for r in conn.execute(
        "SELECT sent_at FROM wa_outbox WHERE id = ANY(%s) AND status = 'sent' ORDER BY sent_at",
        (ids,)).fetchall()]
    assert len(sent_at) == 2
    assert sent_at[1] - sent_at[0] >= timedelta(seconds=0.3)
    assert statuses(conn)[ids[2]] == "pending"


def test_pacing_gap_holds_across_a_restart(db_url: str, conn: Conn) -> None:
    engine.register_session(conn, "main")
    insert(conn, "6281290000000", "just sent")
    conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now() - interval '2 seconds'")
    pacing = settings_for(db_url, None, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="8",
                          WA_SEND_GAP_MAX_SECONDS="8").pacing
    seconds, reason = Pacer(pacing, "main").delay(conn)
    assert reason == "gap"
    assert 4.0 < seconds <= 6.0  # 8 s gap, 2 s of it already gone
    daily = settings_for(db_url, None, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                         WA_SEND_GAP_MAX_SECONDS="0", WA_MAX_PER_DAY="1").pacing
    seconds, reason = Pacer(daily, "main").delay(conn)
    assert reason == "daily cap"
    assert timedelta(seconds=seconds) > timedelta(hours=23, minutes=59)


def test_per_recipient_gap(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    first = insert(conn, "6281291110000", "part 1")
    second = insert(conn, "6281291110000", "part 2")
    other = insert(conn, "6281291110001", "someone else")
    # each part alone (coalesced, the two parts would be one send: the next test)
    settings = settings_for(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                            WA_SEND_GAP_MAX_SECONDS="0", WA_RECIPIENT_GAP_SECONDS="0.8",
                            WA_COALESCE_TEXTS="off")
    with gateway_thread(settings):
        assert wait_for(lambda: len(read_jsonl(sends)) == 3, 5)
    assert [line["outbox_id"] for line in read_jsonl(sends)] == [first, other, second]
    rows = dict(conn.execute("SELECT id, sent_at FROM wa_outbox").fetchall())
    assert rows[second] - rows[first] >= timedelta(seconds=0.8)
    assert rows[first] < rows[other] < rows[second]  # the gap holds only the same recipient


def test_a_recipients_due_texts_go_as_one_message(db_url: str, conn: Conn,
                                                  tmp_path: Path) -> None:
    """Coalescing (pacing on): a recipient's consecutive due texts are one WhatsApp message;
    a document ends the run (it follows in order), and each row is settled sent with the one
    message id; the pacing history counts the sends, not the rows."""
    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    texts = [insert(conn, "6281293330000", f"rekap klien {i}") for i in range(3)]
    document = engine.enqueue(conn, NewMessage(
        "6281293330000", "📎 Rekap", "weekly_report",
        attachment=Attachment(b"PK\x03\x04", "rekap.xlsx"))).id
    after = insert(conn, "6281293330000", "sesudah dokumen")
    other = insert(conn, "6281293330001", "penerima lain")
    settings = settings_for(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0",
                            WA_SEND_GAP_MAX_SECONDS="0", WA_RECIPIENT_GAP_SECONDS="0")
    with gateway_thread(settings):
        assert wait_for(lambda: len(read_jsonl(sends)) == 4, 10)
    lines = read_jsonl(sends)
    assert [line["outbox_id"] for line in lines] == [texts[0], document, after, other]
    assert lines[0]["content"] == "rekap klien 0\n\nrekap klien 1\n\nrekap klien 2"
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, status, wa_message_id, carried_by FROM wa_outbox").fetchall()}
    assert {rows[i][0] for i in rows} == {"sent"}
    assert [rows[i][1] for i in texts] == [lines[0]["wa_message_id"]] * 3
    assert [rows[i][2] for i in texts] == [None, texts[0], texts[0]]
    logged = conn.execute("SELECT outbox_id FROM wa_send_log ORDER BY outbox_id").fetchall()
    assert [r[0] for r in logged] == [texts[0], document, after, other]  # ids in that order


def test_scheduled_row_is_sent_when_due(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    settings = settings_for(db_url, sends)
    with gateway_thread(settings):
        due = conn.execute("SELECT now() + interval '0.5 seconds'").fetchone()
        assert due is not None
        row_id = insert(conn, "6281292220000", "later", available_at=due[0])
        assert wait_for(lambda: len(read_jsonl(sends)) == 1, 5)
    row = conn.execute("SELECT sent_at >= available_at FROM wa_outbox WHERE id = %s",
                       (row_id,)).fetchone()
    assert row == (True,)


def test_hold_policy_marks_the_send_started(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    row_id = insert(conn, "6281293330000", "AMBIG")
    env = gateway_env(db_url, sends, OUTBOX_EXPIRED_LEASE_POLICY="hold",
                      WA_TRANSPORT_FAIL="ambiguous:AMBIG")
    assert run_once(env).returncode == 0
    row = conn.execute("SELECT status, send_started_at IS NOT NULL, last_error FROM wa_outbox "
                       "WHERE id = %s", (row_id,)).fetchone()
    assert row is not None
    assert row[:2] == ("failed", True)
    assert row[2].startswith("delivery unknown: ")


def test_sending_rows_of_a_dead_gateway_come_back_when_their_lease_expires(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    row_id = insert(conn, "6281294440000", "orphan")
    claimed = engine.claim(conn, session="main", worker="dead", limit=1,
                           lease=timedelta(seconds=5))
    assert [m.id for m in claimed] == [row_id]
    conn.execute("UPDATE wa_outbox SET lease_expires_at = now() + interval '0.4 seconds'")
    with gateway_thread(settings_for(db_url, sends)):
        assert wait_for(lambda: len(read_jsonl(sends)) == 1, 5)
    assert statuses(conn) == {row_id: "sent"}
    assert os.path.getsize(sends) > 0
