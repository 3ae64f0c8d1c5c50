"""Issue 14, pacing off: one statement starts a chunk of sends (settles the sends before it,
marks the chunk in flight, checks the fence), so the drain is fast; the guarantee it keeps
(docs/concepts/delivery.md): a crash repeats at most the current chunk (``WA_CLAIM_BATCH`` rows,
of them only those sent in its last 50 ms) and the previous full batch whose settle the settle
thread is committing, a poison row still fails alone, and a process that lost the session lock
stops sending within one chunk."""

from __future__ import annotations

import collections
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import db as gwdb
from gateway.loop import CHUNK_SECONDS
from outbox import engine
from outbox.exitcodes import ExitCode
from tests.gateway_helpers import gateway_env, read_jsonl, start_gateway, wait_for

Conn = psycopg.Connection[Any]
CHUNK = 10  # WA_CLAIM_BATCH in these tests: the bound on the rows in flight


def insert_many(conn: Conn, n: int, prefix: str = "c") -> list[int]:
    rows = conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type) "
        "SELECT '62812' || lpad(g::text, 8, '0'), %s || g, 'text' FROM generate_series(1, %s) g "
        "RETURNING id", (prefix, n)).fetchall()
    return [int(r[0]) for r in rows]


def sends(*paths: Path) -> collections.Counter[int]:
    return collections.Counter(int(s["outbox_id"]) for p in paths for s in read_jsonl(p))


def test_one_statement_starts_a_chunk_and_settles_the_sends_before_it(db_url: str,
                                                                      conn: Conn) -> None:
    engine.register_session(conn, "main")
    insert_many(conn, 6)
    first = engine.claim(conn, session="main", worker="w", limit=3, lease=timedelta(minutes=1))
    second = engine.claim(conn, session="main", worker="w", limit=3, lease=timedelta(minutes=1))
    holder = psycopg.connect(db_url, autocommit=True)
    try:
        assert gwdb.try_session_lock(holder, "main")
        owner = int(holder.info.backend_pid)
        lease = timedelta(minutes=5)
        assert gwdb.start_sends(conn, first, lease=lease, lock_pid=owner) == {m.id for m in first}
        # the next chunk (another claim) settles the first one, each under its own token
        done = [engine.Sent(m.id, m.claim_token, f"W{m.id}") for m in first]
        assert gwdb.start_sends(conn, second, lease=lease, lock_pid=owner,
                                settle=done) == {m.id for m in second}
        # one row is written per chunk: its first (it stands for the chunk)
        rows = dict(conn.execute("SELECT id, status || ':' || (send_started_at IS NOT NULL) "
                                 "FROM wa_outbox").fetchall())
        assert rows == {first[0].id: "sent:true", first[1].id: "sent:false",
                        first[2].id: "sent:false", second[0].id: "sending:true",
                        second[1].id: "sending:false", second[2].id: "sending:false"}
        # fenced: a pid that does not hold the lock starts nothing, whatever the chunk
        assert gwdb.start_sends(conn, second, lease=lease, lock_pid=owner + 1) == set()
        # a row whose lease was lost is left out, the others of the chunk start
        conn.execute("UPDATE wa_outbox SET claim_token = gen_random_uuid() WHERE id = %s",
                     (second[1].id,))
        assert gwdb.start_sends(conn, second, lease=lease,
                                lock_pid=owner) == {second[0].id, second[2].id}
        # the first row's lease lost: nothing starts (its next row starts a chunk of its own)
        assert gwdb.start_sends(conn, second[1:], lease=lease, lock_pid=owner) == set()
        assert gwdb.start_sends(conn, second[2:], lease=lease,
                                lock_pid=owner) == {second[2].id}
    finally:
        holder.close()
    # a crash now: every first-attempt row of the claim with a marked row was in flight
    # (counted), under 'resend'; under 'hold' only the marked rows are
    orphans = gwdb.release_orphans(conn, "main", policy="resend", why="test")
    assert (orphans.back, orphans.resent, orphans.failed) == (1, 2, 0)  # the lost one back


def test_after_a_crash_the_chunk_counts_its_attempt_the_rest_of_the_batch_not(
        db_url: str, conn: Conn) -> None:
    engine.register_session(conn, "main")
    insert_many(conn, 7)
    lease = timedelta(minutes=1)
    unstarted = engine.claim(conn, session="main", worker="w", limit=2, lease=lease)
    chunk = engine.claim(conn, session="main", worker="w", limit=3, lease=lease)
    alone = engine.claim(conn, session="main", worker="w", limit=2, lease=lease)
    holder = psycopg.connect(db_url, autocommit=True)
    try:
        assert gwdb.try_session_lock(holder, "main")
        owner = int(holder.info.backend_pid)
        assert gwdb.start_sends(conn, chunk, lease=lease, lock_pid=owner) == {m.id for m in chunk}
        # a row on its second attempt is its own chunk: its claim's other rows are not counted
        conn.execute("UPDATE wa_outbox SET attempts = 2 WHERE id = ANY(%s)",
                     ([m.id for m in alone],))
        assert gwdb.start_sends(conn, alone[:1], lease=lease, lock_pid=owner) == {alone[0].id}
    finally:
        holder.close()
    for policy in ("hold", "resend"):
        if policy == "resend":
            conn.execute("ROLLBACK")
        else:
            conn.execute("BEGIN")
        gwdb.release_orphans(conn, "main", policy=policy, why="killed")
        rows = dict(conn.execute("SELECT id, status || '/' || attempts FROM wa_outbox").fetchall())
        expected = {unstarted[0].id: "pending/0", unstarted[1].id: "pending/0",
                    alone[0].id: ("failed/2" if policy == "hold" else "pending/2"),
                    alone[1].id: "pending/1"}
        if policy == "hold":  # only the marked row of the chunk is delivery unknown
            expected |= {chunk[0].id: "failed/1", chunk[1].id: "pending/0",
                         chunk[2].id: "pending/0"}
        else:
            expected |= {m.id: "pending/1" for m in chunk}
        assert rows == expected, policy


@pytest.mark.slow
def test_kill_9_mid_drain_repeats_at_most_two_chunks(db_url: str, conn: Conn,
                                                     tmp_path: Path) -> None:
    """Three kill -9 during a pacing-off drain: at each kill the rows sent or in flight but not
    settled are at most two chunks (the current one, the previous batch being settled);
    afterwards nothing is lost and the duplicates are at most that per kill."""
    ids = insert_many(conn, 3000)
    paths: list[Path] = []
    unsettled_at_kill: list[int] = []
    in_flight_at_kill: list[int] = []
    for run in range(4):
        path = tmp_path / f"sends-{run}.jsonl"
        paths.append(path)
        proc = start_gateway(gateway_env(db_url, path, WA_CLAIM_BATCH=str(CHUNK),
                                         WA_TRANSPORT_DELAY_SECONDS="0.001"),
                             log_dir=tmp_path)
        try:
            if run == 3:
                assert wait_for(lambda: conn.execute(
                    "SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone()
                    == (len(ids),), 120)
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(15) == ExitCode.OK
                break
            target = sum(sends(*paths).values()) + 200
            # polled every millisecond: the kill lands in the middle of a chunk, not in the
            # gap between two batches
            assert wait_for(lambda: sum(sends(*paths).values()) > target, 60,  # noqa: B023
                            step=0.001)
            proc.kill()
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # before the next process gives them back: what the dead one left
        sent_ids = set(sends(path))
        leftover = conn.execute(  # in flight: what release_orphans will count as such
            "SELECT o.id, o.send_started_at IS NOT NULL OR (o.attempts <= 1 AND o.claim_token IN"
            " (SELECT m.claim_token FROM wa_outbox AS m WHERE m.status = 'sending'"
            "  AND m.send_started_at IS NOT NULL)) FROM wa_outbox AS o "
            "WHERE o.status = 'sending'").fetchall()
        unsettled_at_kill.append(sum(1 for i, _ in leftover if i in sent_ids))
        in_flight_at_kill.append(sum(1 for _, started in leftover if started))
    counts = sends(*paths)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    print(f"\nkill -9 x3, chunk {CHUNK}: unsettled sends at each kill {unsettled_at_kill}, "
          f"rows in flight {in_flight_at_kill}, duplicates {duplicates}")
    assert set(counts) == set(ids)  # nothing lost
    assert all(n <= 2 * CHUNK for n in in_flight_at_kill)
    assert all(n <= 2 * CHUNK for n in unsettled_at_kill)
    assert duplicates <= sum(unsettled_at_kill) <= 3 * 2 * CHUNK
    # only rows of a chunk in flight counted an extra attempt
    recounted = conn.execute("SELECT count(*) FROM wa_outbox WHERE attempts > 1").fetchone()
    assert recounted is not None and recounted[0] <= sum(in_flight_at_kill)


@pytest.mark.slow
def test_a_poison_row_in_a_chunk_still_fails_alone(db_url: str, conn: Conn,
                                                   tmp_path: Path) -> None:
    """The row kills the process in its send (exit 1) every time: its first death takes its
    chunk with it (resent), later it is sent alone (a second attempt is never chunked), so it
    fails after its attempts and every other row is sent, none with more than 2 attempts."""
    ids = insert_many(conn, 30)
    bad = insert_many(conn, 1, "POISON")[0]
    ids += insert_many(conn, 30, "after")
    path = tmp_path / "sends.jsonl"
    env = gateway_env(db_url, path, WA_CLAIM_BATCH=str(CHUNK),
                      WA_TRANSPORT_FAIL="exit:POISON")
    deaths = 0
    for _ in range(12):
        proc = start_gateway(env, log_dir=tmp_path)
        done = wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status IN ('sent', 'failed')"
        ).fetchone() == (len(ids) + 1,), 20, step=0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        deaths += code == 1
        if done:
            break
    rows = dict(conn.execute("SELECT id, status || '/' || attempts FROM wa_outbox").fetchall())
    assert rows.pop(bad) == "failed/5"
    assert set(rows) == set(ids) and all(v.startswith("sent/") for v in rows.values()), rows
    assert max(int(v.split("/")[1]) for v in rows.values()) <= 2
    counts = sends(path)
    duplicates = sum(c - 1 for i, c in counts.items() if i != bad and c > 1)
    print(f"\npoison row in a chunk of {CHUNK}: {deaths} deaths, {duplicates} duplicates")
    assert deaths == 5
    assert duplicates <= 2 * CHUNK - 1  # the first death only: later the row goes alone


@pytest.mark.slow
def test_a_process_that_lost_the_lock_stops_within_a_chunk(db_url: str, conn: Conn,
                                                            tmp_path: Path) -> None:
    """The session lock is taken from a draining gateway (its lock connection terminated,
    the lock taken by another): it sends at most one chunk more, then stops."""
    ids = insert_many(conn, 2000)
    path = tmp_path / "sends.jsonl"
    proc = start_gateway(gateway_env(db_url, path, WA_CLAIM_BATCH=str(CHUNK),
                                     WA_TRANSPORT_DELAY_SECONDS="0.002"), log_dir=tmp_path)
    thief = psycopg.connect(db_url, autocommit=True)
    try:
        assert wait_for(lambda: len(read_jsonl(path)) > 100, 30)
        holder = gwdb.session_lock_pid(conn, "main")
        assert holder is not None
        conn.execute("SELECT pg_terminate_backend(%s)", (holder,))
        assert wait_for(lambda: gwdb.try_session_lock(thief, "main"), 5, step=0.001)
        at_theft = len(read_jsonl(path))
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        thief.close()
    after = len(read_jsonl(path)) - at_theft
    print(f"\nsends after the lock was taken: {after} (chunk {CHUNK}, {CHUNK_SECONDS * 1000:.0f} "
          f"ms); exit {code}")
    assert after <= CHUNK
    assert code != ExitCode.OK
    assert len(set(sends(path))) < len(ids)  # it did stop mid-drain
