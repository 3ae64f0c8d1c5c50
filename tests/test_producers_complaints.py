"""complaint_response: pending complaints -> outbox rows, linked in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from producers.jobs.complaint_response import make_job
from producers.runner import run_slot
from producers.schedule import JAKARTA
from producers.scheduler import connect_producer

SLOT = datetime(2026, 11, 23, 9, 5, tzinfo=JAKARTA)


@dataclass(frozen=True)
class FakeAnswer:
    text: str
    forwards: list[tuple[str, str]] = field(default_factory=list)


def add_complaint(conn: psycopg.Connection[Any], complainant: str, template: str | None,
                  nrp: str | None = None, created: datetime | None = None) -> int:
    row = conn.execute(
        "INSERT INTO complaint_queue (complainant, response_template, nrp, created_at) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        (complainant, template, nrp, created or SLOT - timedelta(minutes=3))).fetchone()
    assert row is not None
    return int(row[0])


def delivery(conn: psycopg.Connection[Any], complaint_id: int) -> tuple[str, str, int | None]:
    row = conn.execute("SELECT complaint_status, delivery_state, outbox_id FROM "
                       "complaint_delivery WHERE complaint_id = %s", (complaint_id,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def run(db_url: str, slot: datetime = SLOT, **kw: Any) -> Any:
    spec = make_job(**kw)
    with connect_producer(db_url) as conn:
        return run_slot(conn, spec, slot, now=slot + timedelta(seconds=2))


def test_templates_are_sent_as_given_and_linked(db_url: str,
                                                conn: psycopg.Connection[Any]) -> None:
    first = add_complaint(conn, "0812 3456 7890", "Terima kasih, laporan diterima.")
    second = add_complaint(conn, "6281311112222@c.us", "Balasan kedua")
    outcome = run(db_url, composer=lambda: None)
    assert outcome.status == "done" and outcome.result.enqueued == 2
    status, state, outbox_id = delivery(conn, first)
    assert (status, state) == ("responded", "reply_queued")
    row = conn.execute("SELECT recipient, content, type, dedupe_key FROM wa_outbox WHERE id = %s",
                       (outbox_id,)).fetchone()
    assert row == ("6281234567890@s.whatsapp.net", "Terima kasih, laporan diterima.",
                   "complaint_response", f"complaint:{first}")
    responded_at = conn.execute("SELECT responded_at FROM complaint_queue WHERE id = %s",
                                (first,)).fetchone()
    assert responded_at == (SLOT + timedelta(seconds=2),)
    # the delivery state follows the linked outbox row: a failed reply is not "answered"
    conn.execute("UPDATE wa_outbox SET status = 'failed', last_error = 'not on WhatsApp' "
                 "WHERE id = %s", (outbox_id,))
    assert delivery(conn, first)[1] == "reply_failed"
    _, _, second_id = delivery(conn, second)
    conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now() WHERE id = %s",
                 (second_id,))
    assert delivery(conn, second)[1] == "answered"
    # nothing left: the next slot enqueues nothing
    later = run(db_url, SLOT + timedelta(minutes=5), composer=lambda: None)
    assert later.status == "done" and later.result.enqueued == 0


def test_an_invalid_complainant_marks_the_row_invalid(db_url: str,
                                                      conn: psycopg.Connection[Any],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    bad = add_complaint(conn, "12345", "x")
    good = add_complaint(conn, "081234567890", "ok")
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, composer=lambda: None)
    assert outcome.result.enqueued == 1 and outcome.result.skipped == 1
    assert delivery(conn, bad)[:2] == ("invalid", "not_answerable")
    error = conn.execute("SELECT last_error FROM complaint_queue WHERE id = %s",
                         (bad,)).fetchone()
    assert error is not None and "12345" in error[0]
    assert delivery(conn, good)[0] == "responded"
    assert any("marked invalid" in r.getMessage() for r in caplog.records)


def test_parsed_complaints_wait_for_the_composer(db_url: str, conn: psycopg.Connection[Any],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    parsed = add_complaint(conn, "081234567890", None, nrp="75020201")
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, composer=lambda: None)
    assert outcome.status == "done" and outcome.result.enqueued == 0
    assert delivery(conn, parsed)[:2] == ("pending", "waiting")
    assert any("compose_answer" in r.getMessage() for r in caplog.records)


def test_parsed_complaints_are_answered_with_forwards(db_url: str,
                                                      conn: psycopg.Connection[Any]) -> None:
    parsed = add_complaint(conn, "081234567890", None, nrp="75020201")
    seen: list[dict[str, Any]] = []

    def compose(c: psycopg.Connection[Any], complaint: dict[str, Any], *,
                now: datetime | None = None) -> FakeAnswer:
        seen.append({**complaint, "now": now})
        return FakeAnswer("Jawaban standar", [("081311112222", "Mohon ditindaklanjuti"),
                                              ("bad", "x")])

    outcome = run(db_url, composer=lambda: compose)
    assert outcome.result.enqueued == 2
    assert seen[0]["nrp"] == "75020201" and seen[0]["now"] == SLOT + timedelta(seconds=2)
    rows = conn.execute("SELECT type, dedupe_key, content FROM wa_outbox ORDER BY id").fetchall()
    assert rows == [("complaint_response", f"complaint:{parsed}", "Jawaban standar"),
                    ("complaint_forward", f"complaint:{parsed}:forward:1",
                     "Mohon ditindaklanjuti")]
    assert delivery(conn, parsed)[:2] == ("responded", "reply_queued")


def test_one_bad_complaint_does_not_block_the_batch(db_url: str,
                                                   conn: psycopg.Connection[Any]) -> None:
    broken = add_complaint(conn, "081234567890", None, nrp="1")
    fine = add_complaint(conn, "081234567891", "ok")

    def compose(c: psycopg.Connection[Any], complaint: dict[str, Any], **_: Any) -> FakeAnswer:
        c.execute("SELECT * FROM no_such_table")  # a database error inside the savepoint
        raise AssertionError("unreachable")

    outcome = run(db_url, composer=lambda: compose)
    assert outcome.status == "done" and outcome.result.enqueued == 1
    assert delivery(conn, broken)[0] == "pending"
    error = conn.execute("SELECT last_error FROM complaint_queue WHERE id = %s",
                         (broken,)).fetchone()
    assert error is not None and "no_such_table" in error[0]
    assert delivery(conn, fine)[0] == "responded"


def test_batches_take_the_oldest_first(db_url: str, conn: psycopg.Connection[Any]) -> None:
    ids = [add_complaint(conn, "081234567890", f"reply {i}",
                         created=SLOT - timedelta(minutes=10 - i)) for i in range(3)]
    outcome = run(db_url, batch=2, composer=lambda: None)
    assert outcome.result.enqueued == 2
    assert [delivery(conn, i)[0] for i in ids] == ["responded", "responded", "pending"]
