"""task_recap_state: the Daftar Tugas's own memory of the last list sent, and revision 0002.

The job reads the state instead of parsing dedupe keys; revision 0002 creates the table and
seeds it once from the keys the job wrote before, so a deploy sends nothing again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from outbox import migrate
from producers.config import TaskWindow
from producers.jobs import task_delivery_recap
from producers.jobs.task_delivery_recap import KEEP_DAYS, dedupe_key
from producers.runner import RunOutcome, run_slot
from producers.schedule import JAKARTA
from producers.scheduler import connect_producer
from tests.test_producers_reports import DAY, GROUP_BATU, GROUP_DIT, seed

Conn = psycopg.Connection[Any]
SPEC = task_delivery_recap.make_job(window=TaskWindow())
BASELINE = "0001_baseline"


def run(url: str, slot: datetime) -> RunOutcome:
    with connect_producer(url) as conn:
        outcome = run_slot(conn, SPEC, slot, now=slot + timedelta(seconds=5))
    assert outcome.status == "done", outcome.error
    return outcome


def state(conn: Conn) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT task_date, client_id, recipient, task_list_hash, content_hash"
        "  FROM task_recap_state ORDER BY task_date, client_id, recipient").fetchall()


def sent(conn: Conn) -> list[tuple[str, str]]:
    """(recipient, dedupe key) of the Daftar Tugas messages, in enqueue order."""
    rows = conn.execute("SELECT recipient, dedupe_key FROM wa_outbox"
                        " WHERE type = 'task_delivery_recap' ORDER BY id").fetchall()
    return [(r[0], r[1]) for r in rows]


def last_keys(conn: Conn) -> list[tuple[Any, ...]]:
    """The state as the job computed it before revision 0002: from the newest key per group."""
    found: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for _recipient, key in reversed(sent(conn)):
        _, day, client_id, recipient, list_hash, content_hash = key.split(":")
        found.setdefault((day, client_id, recipient),
                         (date.fromisoformat(day), client_id, recipient, list_hash,
                          content_hash))
    return sorted(found.values())


def test_the_state_is_the_last_list_enqueued_per_day_client_and_group(
        db_url: str, conn: Conn) -> None:
    seed(conn)
    run(db_url, DAY + timedelta(hours=9, minutes=30))  # both lists: new
    first = state(conn)
    assert [(r[1], r[2]) for r in first] == [("BATU", GROUP_BATU), ("DITBINMAS", GROUP_DIT)]
    assert state(conn) == last_keys(conn)
    outcome = run(db_url, DAY + timedelta(hours=10))  # hourly: BATU changed, DITBINMAS the same
    assert outcome.result is not None and outcome.result.duplicates == 1
    after = state(conn)
    assert after[1] == first[1]  # a duplicate text leaves the state as it was
    assert after[0][3] != first[0][3]  # BATU's new list (the 10:00 TikTok post)
    assert after == last_keys(conn)


def test_a_lost_state_is_caught_by_the_dedupe_key(db_url: str, conn: Conn) -> None:
    seed(conn)
    run(db_url, DAY + timedelta(hours=9, minutes=30))
    before = sent(conn)
    conn.execute("DELETE FROM task_recap_state")
    outcome = run(db_url, DAY + timedelta(hours=9, minutes=45))  # not a cron slot; any time
    assert outcome.result is not None
    assert (outcome.result.enqueued, outcome.result.duplicates) == (0, 2)
    assert sent(conn) == before


def test_days_long_past_are_forgotten(db_url: str, conn: Conn) -> None:
    seed(conn)
    old, kept = DAY.date() - timedelta(days=KEEP_DAYS + 1), DAY.date() - timedelta(days=KEEP_DAYS)
    conn.execute("INSERT INTO task_recap_state (task_date, client_id, recipient, task_list_hash,"
                 " content_hash) VALUES (%s, 'X', 'x', 'l', 'c'), (%s, 'X', 'x', 'l', 'c')",
                 (old, kept))
    run(db_url, DAY + timedelta(hours=9, minutes=30))
    days = [r[0] for r in state(conn)]
    assert old not in days and kept in days


def old_job(conn: Conn, slot: datetime) -> None:
    """What the job enqueued before revision 0002 at a slot where every list is new."""
    rows = conn.execute(
        "SELECT task_date, client_id, recipient, task_list_hash, content_hash, summary"
        "  FROM task_delivery_recap_at(%s) ORDER BY client_id, message_order, recipient",
        (slot,)).fetchall()
    assert rows
    for task_date, client_id, recipient, list_hash, content_hash, summary in rows:
        conn.execute(
            "INSERT INTO wa_outbox (recipient, content, type, dedupe_key)"
            " VALUES (%s, %s, 'task_delivery_recap', %s)",
            (recipient, summary,
             dedupe_key(str(task_date), client_id, recipient, list_hash, content_hash)))


def test_the_upgrade_seeds_the_state_so_a_deploy_sends_no_list_again(
        empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, BASELINE)  # the code before: lists known by their keys
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        seed(conn)
        old_job(conn, DAY + timedelta(hours=9, minutes=30))
        # new likes on DITBINMAS's post: the same list with another text
        conn.execute("""UPDATE insta_like SET likes = '["andi", "budi", "cici"]'
                        WHERE shortcode = 'P63'""")
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        assert len(state(conn)) == 2
        assert state(conn) == last_keys(conn)
        before = sent(conn)
        # not hourly: only BATU's list changed (its TikTok post at 10:00); without the seed
        # DITBINMAS's group would get its unchanged list again (the text differs). BATU's
        # group gets the change (the new video), not the whole list again: the list sent
        # before the deploy is found by its hash and taken as announced.
        run(empty_db_url, DAY + timedelta(hours=10, minutes=30))
        assert sent(conn) == before
        changes = conn.execute("SELECT recipient, content FROM wa_outbox"
                               " WHERE type = 'task_change' ORDER BY id").fetchall()
        assert [r[0] for r in changes] == [GROUP_BATU]
        assert changes[0][1].startswith("🎵 *Tugas TikTok Baru - POLRES BATU*")
        assert "https://www.tiktok.com/@polresbatu/video/V6" in changes[0][1]
        assert state(conn) == last_keys(conn)


def test_the_seed_reads_the_keys_as_the_job_did(empty_db_url: str) -> None:
    """Newest row per (day, client, group); keys of another shape or type are passed over."""
    migrate.upgrade(empty_db_url, BASELINE)
    group, other = "120363000000000001@g.us", "120363000000000009@g.us"
    rows = [  # (type, dedupe key), in id order
        ("task_delivery_recap", f"task_delivery_recap:2026-11-22:BATU:{group}:l1:c1"),
        ("task_delivery_recap", f"task_delivery_recap:2026-11-22:BATU:{group}:l2:c2"),
        ("task_delivery_recap", f"task_delivery_recap:2026-11-22:BATU:{other}:l1:c1"),
        ("task_delivery_recap", f"task_delivery_recap:2026-11-21:BATU:{group}:l0:c0"),
        ("task_delivery_recap", f"task_delivery_recap:2026-02-31:BATU:{group}:lx:cx"),
        ("task_delivery_recap", f"task_delivery_recap:0000-01-01:BATU:{group}:lx:cx"),
        ("task_delivery_recap", f"task_delivery_recap:yesterday:BATU:{group}:lx:cx"),
        ("task_delivery_recap", f"task_delivery_recap:2026-11-22:BATU:{group}:lx"),
        ("task_delivery_recap", None),
        ("task_delivery_recap", f"skeleton:task_delivery_recap:2026-11-22:BATU:{group}:a:b"),
        ("text", f"task_delivery_recap:2026-11-22:BATU:{group}:lx:cx"),
    ]
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        for type_, key in rows:
            conn.execute("INSERT INTO wa_outbox (recipient, content, type, dedupe_key)"
                         " VALUES (%s, 'Daftar Tugas', %s, %s)", (group, type_, key))
    migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert state(conn) == [
            (date(2026, 11, 21), "BATU", group, "l0", "c0"),
            (date(2026, 11, 22), "BATU", group, "l2", "c2"),
            (date(2026, 11, 22), "BATU", other, "l1", "c1"),
        ]
        enqueued = conn.execute(
            "SELECT s.enqueued_at = o.created_at FROM task_recap_state s JOIN wa_outbox o"
            "  ON o.dedupe_key = 'task_delivery_recap:' || to_char(s.task_date, 'YYYY-MM-DD')"
            "     || ':' || s.client_id"
            "     || ':' || s.recipient || ':' || s.task_list_hash || ':' || s.content_hash"
            ).fetchall()
        assert enqueued == [(True,)] * 3
    migrate.downgrade(empty_db_url, BASELINE)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('task_recap_state')").fetchone() == (None,)


def test_the_jakarta_day_of_the_slot_is_the_state_day(db_url: str, conn: Conn) -> None:
    seed(conn)
    run(db_url, datetime(2026, 11, 22, 23, 30, tzinfo=JAKARTA))  # 16:30 UTC: the 22nd in Jakarta
    assert {r[0] for r in state(conn)} == {date(2026, 11, 22)}
