"""Issue 14: the gateway through database outages, crashes, hangs and a frozen owner.

Outages run on a PostgreSQL server of the test's own (tests/gateway_helpers.ThrowawayServer),
stopped and started inside the test; the other tests use the usual fresh database.
"""

from __future__ import annotations

import collections
import functools
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import db as gwdb
from outbox import engine
from outbox.exitcodes import ExitCode
from tests.gateway_helpers import (
    gateway_env,
    read_jsonl,
    start_gateway,
    throwaway_server,
    wait_for,
)

Conn = psycopg.Connection[Any]


def insert_many(conn: Conn, n: int, prefix: str = "m") -> list[int]:
    rows = conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type) "
        "SELECT '62812' || lpad(g::text, 8, '0'), %s || g, 'text' FROM generate_series(1, %s) g "
        "RETURNING id", (prefix, n)).fetchall()
    return [int(r[0]) for r in rows]


def sent_count(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as c:
            row = c.execute("SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone()
            return int(row[0]) if row else 0
    except psycopg.OperationalError:
        return -1


def audit(sends: Path, ids: list[int]) -> tuple[int, int]:
    """(lost, duplicates) of ``ids`` in the transport's own log."""
    counts = collections.Counter(int(s["outbox_id"]) for s in read_jsonl(sends))
    lost = sum(1 for i in ids if counts[i] == 0)
    return lost, sum(c - 1 for c in counts.values() if c > 1)


def log_text(log_dir: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("gateway-*.log")))


# ---------------------------------------------------------------------------------- outages
@pytest.mark.slow
def test_the_gateway_waits_for_a_late_database_and_rides_out_an_outage(tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    with throwaway_server() as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            ids = insert_many(conn, 30, "early")
        server.stop()
        env = gateway_env(server.url, sends, WA_TRANSPORT_DELAY_SECONDS="0.02",
                          WA_HEARTBEAT_SECONDS="1")
        proc = start_gateway(env, log_dir=tmp_path)
        try:
            # at boot the database is not there: it waits, it does not exit
            assert wait_for(lambda: "database unavailable" in log_text(tmp_path), 20)
            time.sleep(2)
            assert proc.poll() is None, log_text(tmp_path)
            t0 = time.monotonic()
            server.start()
            back = time.monotonic()
            print(f"\npg_ctl start took {back - t0:.1f} s")
            assert wait_for(lambda: sent_count(server.url) == 30, 15), log_text(tmp_path)
            first_recovery = time.monotonic() - back
            # while running: 300 more, the database stopped mid-drain for 4 s
            with psycopg.connect(server.url, autocommit=True) as conn:
                ids += insert_many(conn, 300, "drain")
            assert wait_for(lambda: len(read_jsonl(sends)) > 40, 10)
            server.stop()
            time.sleep(4)
            assert proc.poll() is None, log_text(tmp_path)
            before = len(read_jsonl(sends))
            server.start()
            back = time.monotonic()
            assert wait_for(lambda: len(read_jsonl(sends)) > before, 10), log_text(tmp_path)
            second_recovery = time.monotonic() - back  # sending again
            assert wait_for(lambda: sent_count(server.url) == 330, 30), log_text(tmp_path)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        lost, duplicates = audit(sends, ids)
        text = log_text(tmp_path)
        print(f"\nlate start: all sent {first_recovery:.1f} s after the database came up; "
              f"outage mid-drain: sending again {second_recovery:.1f} s after it came back; "
              f"lost {lost}, duplicates {duplicates}")
        assert lost == 0
        assert duplicates <= 1  # at most the row in flight when the server died
        assert first_recovery < 5 and second_recovery < 5
        # logged once per state change, not once per try
        assert text.count("database unavailable") == 2, text
        assert text.count("database available again") == 2, text


# ---------------------------------------------------------------------------------- crashes
def test_the_new_owner_gives_back_what_a_dead_one_left_sending(db_url: str, conn: Conn,
                                                               tmp_path: Path) -> None:
    from tests.gateway_helpers import gateway_thread, settings_for

    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    ids = insert_many(conn, 5)
    # the dead process had claimed twice: the first claim never started, the second one's
    # chunk was in flight (its first row marked, as start_send does)
    claimed = engine.claim(conn, session="main", worker="dead", limit=2,
                           lease=timedelta(minutes=10))
    claimed += engine.claim(conn, session="main", worker="dead", limit=3,
                            lease=timedelta(minutes=10))
    assert [m.id for m in claimed] == ids
    conn.execute("UPDATE wa_outbox SET send_started_at = now() WHERE id = %s", (claimed[2].id,))
    in_flight = {m.id for m in claimed[2:]}
    started = time.monotonic()
    with gateway_thread(settings_for(db_url, sends)):
        assert wait_for(lambda: len(read_jsonl(sends)) == 5, 5)
    elapsed = time.monotonic() - started
    rows = dict(conn.execute("SELECT id, attempts FROM wa_outbox WHERE status = 'sent'"
                             ).fetchall())
    assert set(rows) == set(ids)
    # only the chunk in flight counted an attempt for the dead process; the others one (the send)
    assert rows == {i: (2 if i in in_flight else 1) for i in ids}
    assert elapsed < 5  # not the 10-minute lease


def test_hold_policy_fails_the_row_in_flight_as_delivery_unknown(db_url: str, conn: Conn,
                                                                tmp_path: Path) -> None:
    from tests.gateway_helpers import gateway_thread, settings_for

    sends = tmp_path / "sends.jsonl"
    engine.register_session(conn, "main")
    ids = insert_many(conn, 3)
    claimed = engine.claim(conn, session="main", worker="dead", limit=3,
                           lease=timedelta(minutes=10))
    conn.execute("UPDATE wa_outbox SET send_started_at = now() WHERE id = %s", (claimed[0].id,))
    with gateway_thread(settings_for(db_url, sends, OUTBOX_EXPIRED_LEASE_POLICY="hold")):
        assert wait_for(lambda: len(read_jsonl(sends)) == 2, 5)
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, status, attempts, last_error FROM wa_outbox").fetchall()}
    assert rows[ids[0]][0] == "failed" and rows[ids[0]][2].startswith("delivery unknown")
    assert [rows[i][:2] for i in ids[1:]] == [("sent", 1), ("sent", 1)]


@pytest.mark.slow
def test_a_batch_longer_than_the_lease_is_sent_once(db_url: str, conn: Conn,
                                                   tmp_path: Path) -> None:
    """Leases of rows still being worked on are renewed: 40 sends of 0.2 s with a 5 s lease."""
    sends = tmp_path / "sends.jsonl"
    ids = insert_many(conn, 40)
    env = gateway_env(db_url, sends, WA_TRANSPORT_DELAY_SECONDS="0.2", OUTBOX_LEASE_SECONDS="5",
                      WA_CLAIM_BATCH="40")
    proc = start_gateway(env, log_dir=tmp_path)
    try:
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone() == (40,), 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert audit(sends, ids) == (0, 0)
    assert conn.execute("SELECT max(attempts) FROM wa_outbox").fetchone() == (1,)


# ---------------------------------------------------------------------------------- watchdog
@pytest.mark.slow
def test_a_hung_send_ends_the_process_and_the_next_one_goes_on(db_url: str, conn: Conn,
                                                               tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    ids = insert_many(conn, 3)
    hung = start_gateway(gateway_env(db_url, sends, WA_TRANSPORT_DELAY_SECONDS="60",
                                     WA_SEND_TIMEOUT_SECONDS="1.5"), log_dir=tmp_path)
    started = time.monotonic()
    try:
        assert hung.wait(15) == ExitCode.HUNG
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait()
    ended_after = time.monotonic() - started
    assert "watchdog: the send of row" in log_text(tmp_path)
    # pacing off: the three rows were started by one statement (one chunk, its first row
    # marked for all three), the first one hung in its send; none was sent
    in_flight = conn.execute("SELECT id FROM wa_outbox WHERE send_started_at IS NOT NULL"
                             ).fetchall()
    assert in_flight == [(ids[0],)]
    # the supervisor's restart: the rows come back at once, the one in flight resent (resend)
    proc = start_gateway(gateway_env(db_url, sends), log_dir=tmp_path)
    try:
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone() == (3,), 10)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert audit(sends, ids) == (0, 0)
    # the chunk in flight counts its attempt (delivery unknown: resent), then sent one at a time
    attempts = dict(conn.execute("SELECT id, attempts FROM wa_outbox").fetchall())
    assert attempts == dict.fromkeys(ids, 2)
    assert ended_after < 10


# ---------------------------------------------------------------------------------- takeover
@pytest.mark.slow
def test_a_frozen_owner_is_taken_over_and_fenced(db_url: str, conn: Conn, tmp_path: Path) -> None:
    a_sends, b_sends = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    env = {"WA_HEARTBEAT_SECONDS": "1", "WA_TAKEOVER_SECONDS": "2"}
    a = start_gateway(gateway_env(db_url, a_sends, WA_TRANSPORT_DELAY_SECONDS="0.05", **env),
                      log_dir=tmp_path / "a")
    b = None
    try:
        ids = insert_many(conn, 200)
        assert wait_for(lambda: len(read_jsonl(a_sends)) >= 10, 15)
        a.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        a_count = len(read_jsonl(a_sends))
        # a second gateway takes over once A's heartbeat is stale (beyond WA_TAKEOVER_SECONDS)
        assert wait_for(lambda: conn.execute(
            "SELECT now() - heartbeat_at > interval '2.5 seconds' FROM wa_session "
            "WHERE name = 'main'").fetchone() == (True,), 15)
        b = start_gateway(gateway_env(db_url, b_sends, **env), log_dir=tmp_path / "b")
        assert wait_for(lambda: len(read_jsonl(b_sends)) > 0, 15), log_text(tmp_path / "b")
        replaced_after = time.monotonic() - frozen_at
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone() == (200,), 20)
        a.send_signal(signal.SIGCONT)
        # A wakes up fenced: it sends nothing more and leaves (the session is served: exit 4)
        assert a.wait(15) == ExitCode.SESSION_TAKEN
        assert len(read_jsonl(a_sends)) <= a_count + 1  # at most the send it was frozen in
        assert conn.execute("SELECT state FROM wa_session WHERE name = 'main'"
                            ).fetchone() == ("connected",)
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except Exception:
                    proc.kill()
    both = collections.Counter(int(s["outbox_id"]) for s in read_jsonl(a_sends)
                               + read_jsonl(b_sends))
    assert set(both) == set(ids)  # nothing lost
    duplicates = sum(c - 1 for c in both.values())
    print(f"\nfrozen owner replaced after {replaced_after:.1f} s (heartbeat 1 s, takeover 2 s); "
          f"duplicates {duplicates}")
    assert duplicates <= 2  # the row A had just sent (unsettled) and the one it was sending
    assert replaced_after < 8


def test_a_process_without_the_lock_neither_sends_nor_writes_the_state(db_url: str,
                                                                       conn: Conn) -> None:
    engine.register_session(conn, "main")
    insert_many(conn, 1)
    [msg] = engine.claim(conn, session="main", worker="w", limit=1, lease=timedelta(minutes=1))
    other = psycopg.connect(db_url, autocommit=True)
    try:
        assert gwdb.try_session_lock(other, "main")
        owner = int(other.info.backend_pid)
        mine = int(conn.info.backend_pid)
        assert not gwdb.start_send(conn, msg, lease=timedelta(minutes=1), lock_pid=mine)
        assert not gwdb.set_state(conn, "main", "offline", "fenced", lock_pid=mine)
        assert not gwdb.heartbeat(conn, "main", lock_pid=mine)
        assert gwdb.start_send(conn, msg, lease=timedelta(minutes=1), lock_pid=owner)
        assert gwdb.set_state(conn, "main", "connected", "owner", lock_pid=owner)
    finally:
        other.close()
    assert conn.execute("SELECT state FROM wa_session").fetchone() == ("connected",)


def test_a_row_that_kills_the_gateway_every_time_fails_alone(conn: Conn) -> None:
    """Five crashes in a row, each while the same row of a 5-row batch was in flight: that row
    ends failed (attempts used up), the other four lost one attempt at most and are pending."""
    engine.register_session(conn, "main")
    ids = insert_many(conn, 5)
    poison = ids[2]
    for crash in range(1, 6):
        claimed = engine.claim(conn, session="main", worker=f"w{crash}", limit=5,
                               lease=timedelta(minutes=10))
        assert poison in [m.id for m in claimed]
        # pacing off: the first time the five rows are one chunk (its first row marked); from
        # then on they are on a later attempt and each is sent alone (marked itself)
        marked = claimed[0].id if crash == 1 else poison
        conn.execute("UPDATE wa_outbox SET send_started_at = now() WHERE id = %s", (marked,))
        # the process dies; the next one gives the rows back as soon as it holds the lock
        orphans = gwdb.release_orphans(conn, "main", policy="resend", why="killed")
        assert orphans.back == (0 if crash == 1 else 4)
    rows = dict(conn.execute("SELECT id, status || '/' || attempts FROM wa_outbox").fetchall())
    # the others were charged once, by the chunk of the first crash
    assert rows == {i: ("failed/5" if i == poison else "pending/1") for i in ids}
    error = conn.execute("SELECT last_error FROM wa_outbox WHERE id = %s", (poison,)).fetchone()
    assert error is not None and error[0].startswith("attempts exhausted (5/5)")


def test_the_event_sink_of_a_fenced_process_records_no_state(db_url: str, conn: Conn) -> None:
    from gateway.events import EventQueue, StateChange
    from gateway.sink import Sink
    from tests.gateway_helpers import settings_for

    engine.register_session(conn, "main")
    gwdb.set_state(conn, "main", "connected", "owner")
    owner = psycopg.connect(db_url, autocommit=True)
    try:
        assert gwdb.try_session_lock(owner, "main")
        owner_pid = int(owner.info.backend_pid)
        settings = settings_for(db_url, None)
        seen: list[str] = []
        fences: list[tuple[int | None, str]] = [
            (owner_pid + 100000, "connected"),  # this process lost the lock
            (None, "connected"),  # between two connections
            (owner_pid, "disconnected")]  # the owner
        def record(change: StateChange) -> None:
            seen.append(change.state)

        def same(pid: int | None) -> int | None:
            return pid

        for pid, expected in fences:
            sink = Sink(settings, EventQueue(), on_state=record,
                        fence=functools.partial(same, pid))
            sink._state(conn, StateChange("disconnected", "x"))
            row = conn.execute("SELECT state FROM wa_session WHERE name = 'main'").fetchone()
            assert row == (expected,)
        assert seen == ["disconnected"] * 3  # the process's own view follows either way
    finally:
        owner.close()
