"""Issue 13 in the database: priorities by type, superseded and expired messages, and the pool
of numbers (routing at INSERT, sticky recipients, group members, hand-over). Every case runs on
a real PostgreSQL, from plain SQL and from the engine, and the races with a real second
connection."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from outbox import engine
from outbox.engine import NewMessage
from outbox.errors import InvalidMessage
from tests.gateway_helpers import gateway_thread, read_jsonl, settings_for, wait_for

Conn = psycopg.Connection[Any]
LEASE = timedelta(minutes=2)
GROUP = "120363025246125486@g.us"


def insert(conn: Conn, recipient: str, content: str, type_: str = "text", **columns: Any) -> int:
    names = ["recipient", "content", "type", *columns]
    sql = (f"INSERT INTO wa_outbox ({', '.join(names)}) "
           f"VALUES ({', '.join(['%s'] * len(names))}) RETURNING id")
    row = conn.execute(sql, (recipient, content, type_, *columns.values())).fetchone()
    assert row is not None
    return int(row[0])


def status(conn: Conn, msg_id: int | None) -> tuple[Any, ...]:
    row = conn.execute("SELECT status, superseded_by, last_error, session_name FROM wa_outbox "
                       "WHERE id = %s", (msg_id,)).fetchone()
    assert row is not None
    return tuple(row)


def claim(conn: Conn, session: str = "main", limit: int = 10) -> list[int]:
    return [m.id for m in engine.claim(conn, session=session, worker="w", limit=limit,
                                       lease=LEASE)]


# ------------------------------------------------------------------------------ priorities
def test_a_plain_insert_takes_its_types_priority_and_claims_follow_the_levels(
        conn: Conn) -> None:
    task = insert(conn, "081200000001", "daftar tugas", "task_delivery_recap")
    daily = insert(conn, "081200000002", "rekap harian", "daily_report")
    progress = insert(conn, "081200000003", "rekap hari ini", "progress_report")
    answer = insert(conn, "081200000004", "jawaban", "complaint_response")
    alert = insert(conn, "081200000005", "peringatan", "admin_alert")
    chosen = insert(conn, "081200000006", "pilihan", "task_delivery_recap", priority=25)
    levels = dict(conn.execute("SELECT id, priority FROM wa_outbox").fetchall())
    assert [levels[i] for i in (task, daily, progress, answer, alert, chosen)] == [
        0, 10, 20, 30, 30, 25]
    # answers and alerts, then the explicit 25, same-day recaps, 07:00 recaps, task lists
    assert claim(conn, limit=6) == [answer, alert, chosen, progress, daily, task]


def test_within_a_recipient_the_order_stays_fifo_whatever_the_priority(conn: Conn) -> None:
    task = insert(conn, "081200000001", "daftar tugas", "task_delivery_recap")
    answer = insert(conn, "081200000001", "jawaban", "complaint_response")
    claimed = engine.claim(conn, session="main", worker="w", limit=10, lease=LEASE)
    assert [m.id for m in claimed] == [task]  # the answer waits for its recipient's older row
    engine.mark_sent(conn, claimed[0], None)
    assert claim(conn) == [answer]


# ------------------------------------------------------------------------------ supersede
def test_a_newer_row_with_the_same_key_supersedes_the_pending_one_from_plain_sql(
        conn: Conn) -> None:
    old = insert(conn, "081200000001", "daftar tugas 08.00", "task_delivery_recap",
                 collapse_key="tugas:c1:2026-12-02")
    other_client = insert(conn, "081200000001", "daftar tugas klien 2", "task_delivery_recap",
                          collapse_key="tugas:c2:2026-12-02")
    other_recipient = insert(conn, "081200000009", "daftar tugas 08.00",
                             "task_delivery_recap", collapse_key="tugas:c1:2026-12-02")
    new = insert(conn, "0812-0000-0001", "daftar tugas 09.00", "task_delivery_recap",
                 collapse_key="tugas:c1:2026-12-02")
    assert status(conn, old)[:3] == ("superseded", new, f"superseded by #{new}")
    assert status(conn, other_client)[0] == "pending"
    assert status(conn, other_recipient)[0] == "pending"
    assert status(conn, new)[:2] == ("pending", None)
    finished = conn.execute("SELECT finished_at IS NOT NULL, is_open FROM wa_outbox "
                            "WHERE id = %s", (old,)).fetchone()
    assert finished == (True, False)


def test_supersede_from_the_engine_never_touches_a_row_already_sending(conn: Conn) -> None:
    key = "progress:c1:2026-12-02"
    first = engine.enqueue(conn, NewMessage("081200000001", "10.00", "progress_report",
                                            collapse_key=key)).id
    assert claim(conn) == [first]
    second = engine.enqueue(conn, NewMessage("081200000001", "11.00", "progress_report",
                                             collapse_key=key)).id
    third = engine.enqueue(conn, NewMessage("081200000001", "12.00", "progress_report",
                                            collapse_key=key)).id
    assert status(conn, first)[0] == "sending"
    assert status(conn, second)[:2] == ("superseded", third)
    assert status(conn, third)[0] == "pending"


def test_a_claim_and_a_supersede_racing_never_both_win(conn: Conn, other_conn: Conn) -> None:
    """A claim holding the row: the superseding INSERT waits for it, then leaves the row
    (now 'sending') alone. A superseding INSERT not yet committed: the claim skips the locked
    row, and after the commit only the newer row is claimable."""
    key = "tugas:c1:2026-12-02"
    first = insert(conn, "081200000001", "08.00", "task_delivery_recap", collapse_key=key)
    with conn.transaction():
        assert claim(conn) == [first]
        done = threading.Event()
        result: dict[str, int] = {}

        def supersede() -> None:
            result["id"] = insert(other_conn, "081200000001", "09.00", "task_delivery_recap",
                                  collapse_key=key)
            done.set()

        writer = threading.Thread(target=supersede)
        writer.start()
        time.sleep(0.3)
        assert not done.is_set()  # waits for the claim's row lock
    writer.join(10)
    assert status(conn, first)[0] == "sending"
    assert status(conn, result["id"])[0] == "pending"

    third_key = "tugas:c3:2026-12-02"
    older = insert(conn, "081200000003", "08.00", "task_delivery_recap", collapse_key=third_key)
    with other_conn.transaction():
        newer = insert(other_conn, "081200000003", "09.00", "task_delivery_recap",
                       collapse_key=third_key)
        assert older not in claim(conn)  # locked by the superseding UPDATE: skipped
    assert status(conn, older)[:2] == ("superseded", newer)
    assert claim(conn) == [newer]


def test_a_complaint_answer_refuses_a_collapse_key(conn: Conn) -> None:
    for type_ in ("complaint_response", "complaint_forward"):
        with pytest.raises(psycopg.errors.CheckViolation,
                           match=f"a {type_} message is never superseded"):
            insert(conn, "081200000001", "jawaban", type_, collapse_key="k")
    with pytest.raises(InvalidMessage, match="never superseded"):
        engine.enqueue(conn, NewMessage("081200000001", "jawaban", "complaint_response",
                                        collapse_key="k"))
    # a blank key is no key
    assert status(conn, insert(conn, "081200000001", "jawaban", "complaint_response",
                               collapse_key="  "))[0] == "pending"


# ------------------------------------------------------------------------------ expiry
def test_an_expires_at_that_cannot_be_met_is_refused(conn: Conn) -> None:
    past = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    with pytest.raises(psycopg.errors.CheckViolation,
                       match=r"expires_at 02-12-2026 08\.00 WIB is not in the future"):
        insert(conn, "081200000001", "rekap", "progress_report", expires_at=past)
    soon = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(InvalidMessage, match="after available_at"):
        engine.enqueue(conn, NewMessage("081200000001", "rekap", "progress_report",
                                        expires_at=soon,
                                        available_at=soon + timedelta(minutes=1)))


def test_a_row_past_its_deadline_is_expired_never_claimed_and_sending_is_left_alone(
        conn: Conn) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    in_flight = engine.enqueue(conn, NewMessage("081200000002", "rekap", "progress_report",
                                                expires_at=later)).id
    assert claim(conn, limit=1) == [in_flight]
    late = engine.enqueue(conn, NewMessage("081200000001", "rekap", "progress_report",
                                           expires_at=later)).id
    on_time = engine.enqueue(conn, NewMessage("081200000003", "rekap", "progress_report",
                                              expires_at=later)).id
    # the deadline passes (8 a.m. WIB today), for two of them
    deadline = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    conn.execute("UPDATE wa_outbox SET expires_at = %s WHERE id IN (%s, %s)",
                 (deadline, late, in_flight))
    assert claim(conn) == [on_time]
    assert engine.expire_due(conn, session="main") == [late]
    assert status(conn, late)[:3] == ("expired", None, "expired: not sent by 02-12-2026 "
                                                       "08.00 WIB")
    assert status(conn, in_flight)[0] == "sending"
    assert engine.expire_due(conn) == []


# ------------------------------------------------------------------------------ the pool
def pool(conn: Conn, *sessions: str, name: str = "polda") -> None:
    for s in sessions:
        conn.execute("INSERT INTO wa_session (name, is_default, pool, state) "
                     "VALUES (%s, %s, %s, 'connected')", (s, s == sessions[0], name))


def test_a_session_without_a_pool_routes_nothing(conn: Conn) -> None:
    conn.execute("INSERT INTO wa_session (name, is_default) VALUES ('main', true), ('b', false)")
    ids = [insert(conn, "081200000001", "a"), insert(conn, "081200000001", "b",
                                                     session_name="b")]
    assert [status(conn, i)[3] for i in ids] == ["main", "b"]
    assert conn.execute("SELECT count(*) FROM wa_recipient_session").fetchone() == (0,)


def test_personal_chats_spread_by_budget_and_stick(conn: Conn) -> None:
    pool(conn, "a", "b")
    # a has used most of its day: new recipients go to b until b has as little left
    conn.execute("UPDATE wa_session SET max_per_day = 10 WHERE name = 'a'")
    first = [status(conn, insert(conn, f"08120000000{i}", "halo"))[3] for i in range(4)]
    assert first == ["b", "b", "b", "b"]  # b: 400 left, a: 10 left
    conn.execute("UPDATE wa_session SET max_per_day = 400 WHERE name = 'a'")
    fifth = status(conn, insert(conn, "081200000099", "halo"))[3]
    assert fifth == "a"  # a: 400 left, b: 400 - 4 open rows
    # sticky: the first recipient stays on b whatever the budgets say now
    again = status(conn, insert(conn, "081200000000", "lagi"))[3]
    assert again == "b"
    assert conn.execute("SELECT session_name FROM wa_recipient_session "
                        "WHERE recipient = '6281200000000@s.whatsapp.net'").fetchone() == ("b",)


def test_a_new_recipient_goes_to_a_running_session_rather_than_a_stopped_one(
        conn: Conn) -> None:
    pool(conn, "a", "b")
    conn.execute("UPDATE wa_session SET heartbeat_at = now()")
    conn.execute("UPDATE wa_session SET state = 'offline' WHERE name = 'b'")
    conn.execute("UPDATE wa_session SET max_per_day = 10 WHERE name = 'a'")
    # b has more budget left, but no gateway runs it
    assert status(conn, insert(conn, "081200000001", "halo"))[3] == "a"
    conn.execute("UPDATE wa_session SET state = 'connected' WHERE name = 'b'")
    assert status(conn, insert(conn, "081200000002", "halo"))[3] == "b"


def test_groups_go_only_to_a_member_or_fail_with_the_reason(conn: Conn) -> None:
    pool(conn, "a", "b")
    conn.execute("UPDATE wa_session SET groups_seen_at = now()")
    conn.execute("INSERT INTO wa_group_member (session_name, group_jid) VALUES ('b', %s)",
                 (GROUP,))
    assert status(conn, insert(conn, GROUP, "rekap", "daily_report"))[3] == "b"
    orphan = insert(conn, "120363000000000001@g.us", "rekap", "daily_report")
    assert status(conn, orphan)[0] == "failed"
    assert status(conn, orphan)[2] == ("no session in pool polda is a member of group "
                                       "120363000000000001@g.us")
    # b leaves the group and a joins it: the next message follows the membership
    conn.execute("DELETE FROM wa_group_member")
    conn.execute("INSERT INTO wa_group_member (session_name, group_jid) VALUES ('a', %s)",
                 (GROUP,))
    assert status(conn, insert(conn, GROUP, "rekap 2", "daily_report"))[3] == "a"


def test_racing_writers_agree_on_a_new_recipients_session(db_url: str, conn: Conn) -> None:
    pool(conn, "a", "b")
    barrier = threading.Barrier(6)
    ids: list[int] = []

    def write(n: int) -> None:
        with psycopg.connect(db_url, autocommit=True) as c:
            barrier.wait()
            for k in range(5):
                ids.append(insert(c, "081277777777", f"pesan {n}.{k}"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    sessions = {status(conn, i)[3] for i in ids}
    assert len(ids) == 30 and len(sessions) == 1


def test_a_logged_out_session_hands_its_pending_rows_to_the_pool(conn: Conn) -> None:
    pool(conn, "a", "b")
    conn.execute("UPDATE wa_session SET max_per_day = 1000 WHERE name = 'a'")
    conn.execute("UPDATE wa_session SET groups_seen_at = now()")
    conn.execute("INSERT INTO wa_group_member (session_name, group_jid) VALUES ('a', %s)",
                 (GROUP,))
    people = [insert(conn, f"08120000001{i}", "halo") for i in range(3)]
    group_row = insert(conn, GROUP, "rekap", "daily_report")
    assert {status(conn, i)[3] for i in [*people, group_row]} == {"a"}
    in_flight = claim(conn, session="a", limit=1)
    assert in_flight == [people[0]]
    behind = insert(conn, "081200000010", "lagi")  # waits behind the row in flight
    conn.execute("UPDATE wa_session SET state = 'logged_out' WHERE name = 'a'")
    moved = conn.execute("SELECT * FROM wa_pool_hand_over('a', 'a logged out')").fetchone()
    assert moved == (2, 1)
    assert [status(conn, i)[3] for i in people[1:]] == ["b", "b"]
    assert status(conn, group_row)[:1] == ("failed",)
    assert status(conn, group_row)[2] == ("no session in pool polda is a member of group "
                                          f"{GROUP} (a logged out)")
    assert status(conn, people[0])[0] == "sending"  # never touched
    assert status(conn, behind)[3] == "a"  # its recipient has a row in flight on a
    # new messages for the moved recipients go to b directly
    assert status(conn, insert(conn, "081200000011", "baru"))[3] == "b"


# ------------------------------------------------------------------------------ the gateway
def test_the_gateway_expires_what_it_could_not_send_in_time_and_sends_the_rest(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    """A paused session sends nothing; its gateway turns the row past its deadline into
    'expired' within about a second, and the row without a deadline waits, then is sent."""
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_session SET paused_until = now() + interval '3 seconds', "
                 "pause_reason = 'test' WHERE name = 'main'")
    soon = insert(conn, "081200000001", "rekap hari ini", "progress_report",
                  expires_at=datetime.now(UTC) + timedelta(seconds=1))
    later = insert(conn, "081200000002", "rekap harian", "daily_report")
    jsonl = tmp_path / "sends.jsonl"
    with gateway_thread(settings_for(db_url, jsonl)):
        assert wait_for(lambda: status(conn, soon)[0] == "expired", 10)
        assert wait_for(lambda: status(conn, later)[0] == "sent", 15)
    assert status(conn, soon)[2].startswith("expired: not sent by ")
    assert [r["outbox_id"] for r in read_jsonl(jsonl)] == [later]


# ------------------------------------------------------------------------------ coalescing
def test_claim_followers_carries_due_first_attempt_texts_in_order(conn: Conn) -> None:
    head_id, second, third = (insert(conn, "081200000001", f"teks {i}") for i in range(3))
    doc = engine.enqueue(conn, NewMessage("081200000001", "dok", "weekly_report",
                                          attachment=engine.Attachment(b"x", "r.xlsx"))).id
    after_doc = insert(conn, "081200000001", "sesudah")
    (head,) = engine.claim(conn, session="main", worker="w", limit=1, lease=LEASE)
    coalesced = engine.claim_followers(conn, head, worker="w", lease=LEASE, max_chars=60_000)
    assert [m.id for m in coalesced.rows] == [head_id, second, third]
    assert coalesced.content == "teks 0\n\nteks 1\n\nteks 2"
    assert [status(conn, i)[0] for i in (doc, after_doc)] == ["pending", "pending"]
    carried = dict(conn.execute("SELECT id, carried_by FROM wa_outbox").fetchall())
    assert [carried[i] for i in (head_id, second, third)] == [None, head_id, head_id]
    # the character bound: only what fits with the head
    engine.release(conn, coalesced)
    for rider in coalesced.riders:
        engine.release(conn, rider)
    conn.execute("UPDATE wa_outbox SET attempts = 0")
    (head,) = engine.claim(conn, session="main", worker="w", limit=1, lease=LEASE)
    assert [m.id for m in engine.claim_followers(conn, head, worker="w", lease=LEASE,
                                                 max_chars=14).rows] == [head_id, second]


def test_a_retry_goes_alone_and_a_retried_row_ends_the_run(conn: Conn) -> None:
    """A row that may have killed the gateway (on its second attempt) is never coalesced,
    neither as the head nor as a follower: a poison row fails alone."""
    first, _ = (insert(conn, "081200000001", f"teks {i}") for i in range(2))
    conn.execute("UPDATE wa_outbox SET attempts = 1 WHERE id = %s", (first,))
    (head,) = engine.claim(conn, session="main", worker="w", limit=1, lease=LEASE)
    assert head.id == first and head.attempts == 2
    assert engine.claim_followers(conn, head, worker="w", lease=LEASE,
                                  max_chars=60_000).riders == ()
    engine.release(conn, head)
    conn.execute("UPDATE wa_outbox SET attempts = CASE WHEN id = %s THEN 0 ELSE 1 END",
                 (first,))
    (head,) = engine.claim(conn, session="main", worker="w", limit=1, lease=LEASE)
    assert engine.claim_followers(conn, head, worker="w", lease=LEASE,
                                  max_chars=60_000).riders == ()  # the follower was tried
