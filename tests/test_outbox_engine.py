"""The outbox engine against a real PostgreSQL: claim, settle, rescue, retry, dedupe, order."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from outbox import engine
from outbox.engine import Backoff, ExpiredLeasePolicy, NewMessage, Status
from outbox.errors import InvalidMessage

Conn = psycopg.Connection[Any]
LEASE = timedelta(seconds=60)


def claim(conn: Conn, limit: int = 10, worker: str = "w1", session: str = "main",
          **kw: Any) -> list[engine.ClaimedMessage]:
    return engine.claim(conn, session=session, worker=worker, limit=limit, lease=LEASE, **kw)


def row(conn: Conn, msg_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT * FROM wa_outbox WHERE id = %s", (msg_id,))
        found = cur.fetchone()
    assert found is not None
    return found


def put(conn: Conn, message: NewMessage) -> int:
    result = engine.enqueue(conn, message)
    assert result.id is not None
    return result.id


def expire_leases(conn: Conn) -> None:
    conn.execute("UPDATE wa_outbox SET lease_expires_at = now() - interval '1 second' "
                 "WHERE status = 'sending'")


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"0812{i:08d}" for i in range(start, start + n)]


# ------------------------------------------------------------------------------ enqueue
def test_a_duplicate_dedupe_key_is_a_reported_no_op(conn: Conn) -> None:
    first = engine.enqueue(conn, NewMessage("081234567890", "Rekap", "daily_report",
                                            dedupe_key="daily:2026-11-22:X"))
    again = engine.enqueue_many(conn, [
        NewMessage("081234567890", "Rekap lagi", "daily_report", dedupe_key="daily:2026-11-22:X"),
        NewMessage("081234567891", "Lain", "daily_report", dedupe_key="daily:2026-11-22:Y"),
        NewMessage("081234567892", "Lain lagi", "daily_report", dedupe_key="daily:2026-11-22:Y"),
        NewMessage("081234567893", "Tanpa kunci"),
    ])
    assert first.inserted and not first.duplicate
    assert [(r.inserted, r.duplicate) for r in again] == [
        (False, True), (True, False), (False, True), (True, False)]
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (3,)
    assert row(conn, first.id or 0)["content"] == "Rekap"


def test_batch_enqueue_returns_ids_in_message_order(conn: Conn) -> None:
    msgs = [NewMessage(n, f"pesan {i}") for i, n in enumerate(numbers(25))]
    results = engine.enqueue_many(conn, msgs)
    for msg, result in zip(msgs, results, strict=True):
        assert result.id is not None
        assert row(conn, result.id)["content"] == msg.content


def test_an_invalid_row_fails_the_batch_with_a_clear_error(conn: Conn) -> None:
    with pytest.raises(InvalidMessage, match="recipient 'bukan nomor'"):
        engine.enqueue_many(conn, [NewMessage("081234567890", "ok"),
                                   NewMessage("bukan nomor", "x")])
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)


def test_skip_invalid_keeps_the_good_rows_and_reports_the_bad_ones(conn: Conn) -> None:
    results = engine.enqueue_many(conn, [
        NewMessage("081234567890", "ok"),
        NewMessage("bukan nomor", "x"),
        NewMessage("081234567891", " "),
        NewMessage("081234567892", "ok", type="nope"),
        NewMessage("120363025246125888@g.us", "ok grup"),
    ], skip_invalid=True)
    assert [r.inserted for r in results] == [True, False, False, False, True]
    assert results[1].problem is not None and "'bukan nomor'" in results[1].problem
    assert results[2].problem is not None and "content is empty" in results[2].problem
    assert results[3].problem is not None and "unknown message type 'nope'" in results[3].problem


def test_enqueue_joins_the_callers_transaction(db_url: str, other_conn: Conn) -> None:
    with psycopg.connect(db_url) as tx_conn:
        engine.enqueue(tx_conn, NewMessage("081234567890", "dalam transaksi"))
        assert other_conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)
        tx_conn.rollback()
    assert other_conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)


# ------------------------------------------------------------------------------ claim
def test_claim_leases_rows_and_counts_the_attempt(conn: Conn) -> None:
    engine.enqueue_many(conn, [NewMessage(n, "x") for n in numbers(3)])
    got = claim(conn, limit=2)
    assert len(got) == 2
    assert got[0].claim_token == got[1].claim_token  # the token names the claim
    for msg in got:
        stored = row(conn, msg.id)
        assert stored["status"] == "sending"
        assert stored["attempts"] == 1 and msg.attempts == 1
        assert stored["claim_token"] == msg.claim_token
        assert stored["claimed_by"] == "w1"
        assert stored["lease_expires_at"] > datetime.now(UTC) + timedelta(seconds=50)
    assert len(claim(conn, limit=10)) == 1
    assert claim(conn, limit=10) == []


def test_two_workers_claiming_concurrently_never_get_the_same_row(
    db_url: str, conn: Conn
) -> None:
    total = 600
    engine.enqueue_many(conn, [NewMessage(n, "x") for n in numbers(total)])
    claimed: list[list[int]] = [[], [], [], []]
    barrier = threading.Barrier(len(claimed))

    def worker(index: int) -> None:
        with psycopg.connect(db_url, autocommit=True) as wconn:
            barrier.wait()
            while True:
                batch = claim(wconn, limit=7, worker=f"w{index}")
                if not batch:
                    return
                claimed[index].extend(m.id for m in batch)
                for m in batch:
                    assert engine.mark_sent(wconn, m, f"3EB0{m.id}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(claimed))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in claimed for i in ids]
    assert len(every) == total
    assert len(set(every)) == total
    assert conn.execute("SELECT count(*) FROM wa_outbox WHERE status = 'sent' "
                        "AND attempts = 1").fetchone() == (total,)


def test_messages_to_one_recipient_go_out_one_at_a_time_in_order(conn: Conn) -> None:
    ids = [put(conn, NewMessage("081234567890", f"bagian {i}")) for i in range(3)]
    other = put(conn, NewMessage("081299999999", "lain"))
    first = claim(conn)
    assert sorted(m.id for m in first) == sorted([ids[0], other])
    assert claim(conn) == []  # ids[1] waits while ids[0] is in flight
    engine.mark_sent(conn, next(m for m in first if m.id == ids[0]), None)
    assert [m.id for m in claim(conn)] == [ids[1]]


def test_a_backed_off_row_holds_back_its_recipient_but_a_scheduled_one_does_not(
    conn: Conn,
) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    scheduled = put(conn, NewMessage("081211111111", "besok", available_at=later))
    behind_scheduled = put(conn, NewMessage("081211111111", "sekarang"))
    failing = put(conn, NewMessage("081222222222", "gagal dulu"))
    behind_failing = put(conn, NewMessage("081222222222", "sesudahnya"))
    got = {m.id: m for m in claim(conn)}
    assert set(got) == {behind_scheduled, failing}
    engine.retry_later(conn, got[failing], "websocket not connected")
    engine.mark_sent(conn, got[behind_scheduled], None)
    assert claim(conn) == []  # behind_failing waits for the retry of `failing`
    assert row(conn, scheduled)["status"] == "pending"
    assert row(conn, behind_failing)["status"] == "pending"


def test_priority_orders_across_recipients(conn: Conn) -> None:
    low = put(conn, NewMessage("081211111111", "biasa"))  # a 'text': its type's priority, 10
    high = put(conn, NewMessage("081222222222", "penting", priority=11))
    assert [m.id for m in claim(conn, limit=1)] == [high]
    assert [m.id for m in claim(conn, limit=1)] == [low]


def test_a_claim_needs_a_positive_batch_size(conn: Conn) -> None:
    engine.enqueue_many(conn, [NewMessage(n, "halo") for n in numbers(2)])
    with pytest.raises(ValueError, match="at least 1, not 0"):
        engine.claim(conn, session="main", worker="w", limit=0, lease=LEASE)
    first = conn.execute("SELECT recipient FROM wa_outbox ORDER BY id LIMIT 1").fetchone()
    claimed = engine.claim(conn, session="main", worker="w", limit=1, lease=LEASE)
    assert first is not None and [m.recipient for m in claimed] == [first[0]]


def test_rows_not_yet_due_are_not_claimed(conn: Conn) -> None:
    engine.enqueue(conn, NewMessage("081234567890", "nanti",
                                    available_at=datetime.now(UTC) + timedelta(minutes=5)))
    assert claim(conn) == []
    now, due = engine.next_wake(conn, "main")
    assert due is not None
    assert timedelta(minutes=4) < due - now <= timedelta(minutes=5)


def test_two_sessions_never_claim_each_others_rows(conn: Conn) -> None:
    a = put(conn, NewMessage("081234567890", "a", session_name="sesi-a"))
    b = put(conn, NewMessage("081234567890", "b", session_name="sesi-b"))
    assert [m.id for m in claim(conn, session="sesi-a")] == [a]
    assert [m.id for m in claim(conn, session="sesi-b")] == [b]
    assert claim(conn, session="main") == []


def test_the_recipient_gap_holds_a_recipient_recently_sent_to(conn: Conn) -> None:
    first = put(conn, NewMessage("081234567890", "satu"))
    second = put(conn, NewMessage("081234567890", "dua"))
    [m] = claim(conn)
    assert m.id == first
    engine.mark_sent(conn, m, None)
    assert claim(conn, recipient_gap=timedelta(minutes=1)) == []
    conn.execute("UPDATE wa_outbox SET sent_at = now() - interval '2 minutes' WHERE id = %s",
                 (first,))
    assert [m.id for m in claim(conn, recipient_gap=timedelta(minutes=1))] == [second]


# ------------------------------------------------------------------------------ settle
def test_an_expired_lease_is_reclaimed_and_the_late_settle_is_refused(
    conn: Conn, other_conn: Conn
) -> None:
    msg_id = put(conn, NewMessage("081234567890", "x"))
    [lost] = claim(conn, worker="crashed")
    expire_leases(conn)
    released = engine.release_expired(conn)
    assert released.to_pending == [msg_id]
    assert "lease expired" in row(conn, msg_id)["last_error"]
    [again] = claim(other_conn, worker="healthy")
    assert again.attempts == 2 and again.claim_token != lost.claim_token
    assert engine.mark_sent(conn, lost, "3EB0LATE") is False
    assert engine.retry_later(conn, lost, "late").applied is False
    assert engine.mark_failed(conn, lost, "late") is False
    assert row(conn, msg_id)["status"] == "sending"
    assert engine.mark_sent(other_conn, again, "3EB0OK") is True
    stored = row(conn, msg_id)
    assert (stored["status"], stored["wa_message_id"]) == ("sent", "3EB0OK")
    assert stored["sent_at"] is not None and stored["finished_at"] is not None


def test_a_settle_after_the_lease_ran_out_but_before_any_rescue_still_counts(
    conn: Conn,
) -> None:
    engine.enqueue(conn, NewMessage("081234567890", "x"))
    [msg] = claim(conn)
    expire_leases(conn)
    assert engine.mark_sent(conn, msg, "3EB0") is True  # nobody else took it: the truth wins
    assert engine.release_expired(conn).to_pending == []


def test_the_hold_policy_fails_rows_whose_send_had_started_as_delivery_unknown(
    conn: Conn,
) -> None:
    started = put(conn, NewMessage("081211111111", "x"))
    untouched = put(conn, NewMessage("081222222222", "y"))
    msgs = {m.id: m for m in claim(conn)}
    assert engine.mark_started(conn, msgs[started])
    expire_leases(conn)
    released = engine.release_expired(conn, policy=ExpiredLeasePolicy.HOLD)
    assert released.to_failed == [started] and released.to_pending == [untouched]
    assert row(conn, started)["last_error"].startswith("delivery unknown")


def test_backoff_grows_then_the_row_fails_when_attempts_are_exhausted(conn: Conn) -> None:
    msg_id = put(conn, NewMessage("081234567890", "x", max_attempts=3))
    backoff = Backoff(base=timedelta(seconds=10), cap=timedelta(seconds=25))
    delays = []
    for attempt in (1, 2):
        [msg] = claim(conn)
        assert msg.attempts == attempt
        outcome = engine.retry_later(conn, msg, f"timeout {attempt}", backoff=backoff)
        assert outcome.applied and outcome.status == Status.PENDING
        assert outcome.available_at is not None
        delays.append((outcome.available_at - datetime.now(UTC)).total_seconds())
        conn.execute("UPDATE wa_outbox SET available_at = now() WHERE id = %s", (msg_id,))
    assert 7.5 <= delays[0] <= 12.5  # 10 s +-20 % jitter
    assert 15.5 <= delays[1] <= 24.5  # 20 s +-20 %
    [msg] = claim(conn)
    outcome = engine.retry_later(conn, msg, "timeout 3", backoff=backoff)
    assert outcome.status == Status.FAILED
    stored = row(conn, msg_id)
    assert stored["status"] == "failed"
    assert stored["last_error"] == "attempts exhausted (3/3): timeout 3"
    assert stored["finished_at"] is not None


def test_the_backoff_is_capped(conn: Conn) -> None:
    engine.enqueue(conn, NewMessage("081234567890", "x", max_attempts=20))
    conn.execute("UPDATE wa_outbox SET attempts = 12")
    [msg] = claim(conn)
    outcome = engine.retry_later(conn, msg, "x", backoff=Backoff(timedelta(seconds=30),
                                                                  timedelta(seconds=60)))
    assert outcome.available_at is not None
    assert (outcome.available_at - datetime.now(UTC)).total_seconds() <= 72.5


def test_an_explicit_delay_overrides_the_backoff(conn: Conn) -> None:
    engine.enqueue(conn, NewMessage("081234567890", "x"))
    [msg] = claim(conn)
    outcome = engine.retry_later(conn, msg, "rate-overlimit", delay=timedelta(minutes=30))
    assert outcome.available_at is not None
    remaining = (outcome.available_at - datetime.now(UTC)).total_seconds()
    assert 1790 <= remaining <= 1800


def test_a_permanent_failure_fails_at_once_and_does_not_block_the_rows_behind(
    conn: Conn,
) -> None:
    bad = put(conn, NewMessage("081234567890", "ke nomor mati"))
    behind = put(conn, NewMessage("081234567890", "berikutnya"))
    [msg] = claim(conn)
    assert engine.mark_failed(conn, msg, "no LID found for 6281234567890@s.whatsapp.net")
    assert row(conn, bad)["status"] == "failed"
    assert [m.id for m in claim(conn)] == [behind]


def test_a_row_that_kills_every_worker_ends_failed(conn: Conn) -> None:
    poison = put(conn, NewMessage("081234567890", "racun", max_attempts=3))
    for _ in range(3):  # each time the worker dies mid-send; the rescuer finds the lease
        assert [m.id for m in claim(conn)] == [poison]
        expire_leases(conn)
        engine.release_expired(conn)
    stored = row(conn, poison)
    assert stored["status"] == "failed"
    assert stored["last_error"].startswith("attempts exhausted (3/3)")


def test_release_gives_a_row_back_without_counting_the_attempt(conn: Conn) -> None:
    msg_id = put(conn, NewMessage("081234567890", "x"))
    [msg] = claim(conn)
    assert engine.release(conn, msg, reason="shutting down")
    stored = row(conn, msg_id)
    assert (stored["status"], stored["attempts"]) == ("pending", 0)
    assert engine.release(conn, msg) is False


def test_mark_sent_many_settles_a_batch_and_names_the_refused_ones(conn: Conn) -> None:
    engine.enqueue_many(conn, [NewMessage(n, "x") for n in numbers(4)])
    batch = claim(conn)
    expire_leases(conn)
    engine.release_expired(conn)
    fresh = claim(conn, limit=2)
    applied = engine.mark_sent_many(conn, [engine.Sent(m.id, m.claim_token, f"id{m.id}")
                                           for m in batch + fresh])
    assert applied == {m.id for m in fresh}


# ------------------------------------------------------------------------------ operations
def test_cancel_requeue_and_counts(conn: Conn) -> None:
    a, b, c = (r.id for r in engine.enqueue_many(conn, [NewMessage(n, "x")
                                                        for n in numbers(3)]))
    assert a is not None and b is not None and c is not None
    assert engine.cancel(conn, a)
    assert engine.cancel(conn, a) is False  # already cancelled
    msgs = {m.id: m for m in claim(conn)}
    assert engine.cancel(conn, b) is False  # in flight
    engine.mark_failed(conn, msgs[b], "invalid JID")
    engine.mark_failed(conn, msgs[c], "invalid JID")
    assert engine.requeue_failed(conn, b) == [b]
    assert row(conn, b)["attempts"] == 0
    assert engine.requeue_failed(conn) == [c]
    counts = {(s.session_name, s.status): s.messages for s in engine.counts(conn)}
    assert counts == {("main", "cancelled"): 1, ("main", "pending"): 2}


def test_purge_deletes_only_old_finished_rows(conn: Conn) -> None:
    ids = [r.id for r in engine.enqueue_many(conn, [NewMessage(n, "x") for n in numbers(5)])]
    for msg in claim(conn, limit=3):
        engine.mark_sent(conn, msg, None)
    conn.execute("UPDATE wa_outbox SET finished_at = now() - interval '40 days' "
                 "WHERE id = ANY(%s) AND status = 'sent'", (ids[:2],))
    assert engine.purge(conn, timedelta(days=30), batch=1) == 2
    remaining = [r[0] for r in conn.execute("SELECT id FROM wa_outbox ORDER BY id")]
    assert remaining == ids[2:]


def _plan_nodes(plan: Any) -> list[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    if isinstance(plan, list):
        return [n for item in plan for n in _plan_nodes(item)]
    if not isinstance(plan, dict):
        return []
    nodes = [plan] if "Node Type" in plan else []
    for key in ("Plan", "Plans"):
        if key in plan:
            nodes += _plan_nodes(plan[key])
    return nodes


def test_the_claim_uses_the_partial_index_with_many_finished_rows(conn: Conn) -> None:
    conn.execute("""
        INSERT INTO wa_outbox (recipient, content, type, status, sent_at, finished_at,
                               session_name)
        SELECT '62812' || lpad(g::text, 8, '0'), 'lama', 'text', 'sent',
               now() - interval '10 days', now() - interval '10 days', 'main'
          FROM generate_series(1, 30000) g""")  # history: sent days ago, as in production
    engine.enqueue_many(conn, [NewMessage(n, "baru") for n in numbers(20)])
    conn.execute("ANALYZE wa_outbox")
    # The claim as the server keeps it: a prepared statement. After a few executions the server
    # switches to the generic plan (parameter values unknown), the plan every later claim
    # runs; both it and the custom plan must read the partial index. EXPLAIN EXECUTE plans
    # without running: nothing is claimed.
    names = {"session": "$1", "worker": "$2", "lease": "$3", "token": "$4"}
    for paced in (False, True):
        text = engine._claim_statement(10, timedelta(minutes=paced)).as_string(conn)
        for name, number in names.items():
            text = text.replace(f"%({name})s", number)
        conn.execute(f"PREPARE claim_{paced} (text, text, interval, uuid) AS {text}")
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            plan_row = conn.execute(
                f"EXPLAIN (FORMAT JSON) EXECUTE claim_{paced} "
                "('main', 'w', '2 minutes', gen_random_uuid())").fetchone()
            assert plan_row is not None
            plan = json.dumps(plan_row[0])
            assert "wa_outbox_claim_idx" in plan, (paced, mode)
            assert '"Node Type": "Seq Scan"' not in plan, (paced, mode)
            # The FIFO probe seeks the recipient in its index (the collations match).
            probes = [node for node in _plan_nodes(plan_row[0])
                      if node.get("Index Name") == "wa_outbox_recipient_open_idx"]
            assert probes and all("recipient" in p.get("Index Cond", "") for p in probes), (
                paced, mode)
    conn.execute("RESET plan_cache_mode")
    # The queries every gateway loop turn runs beside the claim must not scan the history.
    from outbox.sql import query

    for sql, args in (
        (engine._next_wake_statement().as_string(conn),
         {"session": "main", "recipient_gap": timedelta(minutes=1)}),
        (query("gateway", "gateway.sql", "pacing_window"),
         {"session": "main", "per_hour": 60, "per_day": 400, "general_hour": 58,
          "general_day": 390}),
    ):
        row = conn.execute("EXPLAIN (FORMAT JSON) " + sql, args).fetchone()
        assert row is not None
        assert '"Node Type": "Seq Scan"' not in json.dumps(row[0]), sql[:60]
        if "older" in sql:  # next_wake: the claim's FIFO probe, seeking the recipient too
            [probe] = [node for node in _plan_nodes(row[0]) if node.get("Alias") == "older"]
            assert probe.get("Index Name") == "wa_outbox_recipient_open_idx"
            assert "recipient" in probe.get("Index Cond", "")


def test_claim_and_next_wake_share_one_fifo_predicate(conn: Conn) -> None:
    fifo = engine._q("recipient_fifo")
    assert "older.id < o.id" in fifo
    for statement in (engine._claim_statement(10, timedelta(0)),
                      engine._claim_statement(1, timedelta(minutes=1)),
                      engine._next_wake_statement()):
        text = statement.as_string(conn)
        assert text.count(fifo) == 1
        assert text.count("older.id < o.id") == 1  # written once, nowhere else


def test_next_wake_follows_the_claims_rules(conn: Conn) -> None:
    now, wake = engine.next_wake(conn, "main")
    assert wake is None  # nothing waiting
    first = put(conn, NewMessage("081234567890", "satu"))
    put(conn, NewMessage("081234567890", "dua"))
    [msg] = claim(conn)
    assert msg.id == first
    now, wake = engine.next_wake(conn, "main")
    assert wake == row(conn, first)["lease_expires_at"]  # "dua" waits behind the lease
    engine.mark_sent(conn, msg, None)
    now, wake = engine.next_wake(conn, "main", recipient_gap=timedelta(minutes=1))
    assert wake is not None
    assert wake == row(conn, first)["sent_at"] + timedelta(minutes=1)
    now, wake = engine.next_wake(conn, "main")
    assert wake is not None and wake <= now  # no gap: due now
