"""complaint_intake: wa_inbox rows -> complaint_queue rows / NRP requests, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from outbox import engine
from producers import cli
from producers.complaints import intake
from producers.complaints.intake import JOB, NRP_REQUEST, process_inbox
from producers.complaints.parser import parse_complaint
from producers.job import JobContext, JobResult
from producers.schedule import JAKARTA
from tests.complaint_corpus import CASES

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
GATEWAY = "0812-0000-1111"
GATEWAY_JID = "6281200001111@s.whatsapp.net"
PERSON = "6281255556666@s.whatsapp.net"
GROUP = "120363012345678901@g.us"

COMPLAINT = next(c for c in CASES if c.name == "canonical")
MISSING_NRP = next(c for c in CASES if c.name == "missing_nrp")
CHATTER = next(c for c in CASES if c.name == "chatter_greeting")


def inbound(conn: psycopg.Connection[Any], text: str, *, chat: str = PERSON,
            sender: str | None = None, message_id: str | None = None,
            from_me: bool | None = None) -> int:
    """A plain SQL INSERT of an inbound message, as the gateway or another system would do."""
    message_id = message_id or f"WAMID-{abs(hash((text, chat, sender))) % 10**12}"
    columns = ["chat", "sender", "wa_message_id", "text"]
    values: list[Any] = [chat, sender or chat, message_id, text]
    if from_me is not None:
        columns.append("from_me")
        values.append(from_me)
    placeholders = ", ".join(["%s"] * len(values))
    row = conn.execute(
        f"INSERT INTO wa_inbox ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
        values).fetchone()
    assert row is not None
    return int(row[0])


def paired(conn: psycopg.Connection[Any], jid: str | None = GATEWAY_JID,
           session: str = "main") -> None:
    """What the gateway records when its session connects: the paired account's JID."""
    engine.register_session(conn, session)
    conn.execute("UPDATE wa_session SET jid = %s WHERE name = %s", (jid, session))


def run_job(conn: psycopg.Connection[Any]) -> JobResult:
    """Run the job the way the scheduler does: inside one transaction, committed after."""
    with conn.transaction():
        return JOB.run(JobContext(conn=conn, job=JOB.name, slot=NOW, now=NOW))


def inbox(conn: psycopg.Connection[Any], inbox_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM wa_inbox WHERE id = %s", (inbox_id,))
        row = cur.fetchone()
    assert row is not None
    return row


def complaints(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM complaint_queue ORDER BY id")
        return cur.fetchall()


def outbox(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM wa_outbox ORDER BY id")
        return cur.fetchall()


def test_job_spec() -> None:
    assert (JOB.name, JOB.default_cron, JOB.cron_env, JOB.wake_channel) == (
        "complaint_intake", "* * * * *", "COMPLAINT_INTAKE_CRON", "wa_inbox")


def test_complaint_becomes_a_queue_row_with_parsed_fields(conn: psycopg.Connection[Any]) -> None:
    inbox_id = inbound(conn, COMPLAINT.text)
    result = run_job(conn)
    parsed = parse_complaint(COMPLAINT.text)
    [row] = complaints(conn)
    assert row["inbox_id"] == inbox_id
    assert row["complainant"] == PERSON
    assert row["status"] == "pending" and row["response_template"] is None
    assert (row["nrp"], row["reporter_name"], row["polres"], row["instagram"], row["tiktok"]) == (
        parsed.nrp, parsed.reporter_name, parsed.polres, parsed.instagram, parsed.tiktok)
    assert row["issues"] == list(parsed.issues)
    assert row["raw_text"] == COMPLAINT.text
    assert row["session_name"] == inbox(conn, inbox_id)["session_name"]
    stored = inbox(conn, inbox_id)
    assert stored["processed_at"] is not None
    assert stored["process_result"] == f"complaint {row['id']}"
    assert result.enqueued == 0 and result.skipped == 0
    assert result.detail is not None and "complaints=1" in result.detail
    assert outbox(conn) == []  # the answer is the complaint_response job's business


def test_missing_nrp_gets_a_reply_asking_for_it(conn: psycopg.Connection[Any]) -> None:
    inbox_id = inbound(conn, MISSING_NRP.text)
    result = run_job(conn)
    assert complaints(conn) == []
    [reply] = outbox(conn)
    assert (reply["recipient"], reply["type"], reply["content"]) == (
        PERSON, "complaint_response", NRP_REQUEST)
    assert inbox(conn, inbox_id)["process_result"] == f"nrp_requested outbox {reply['id']}"
    assert result.enqueued == 1


def test_non_complaints_and_own_messages_are_left_alone(conn: psycopg.Connection[Any]) -> None:
    paired(conn)
    ids = {
        "chatter": inbound(conn, CHATTER.text),
        "own number": inbound(conn, COMPLAINT.text, chat=PERSON, sender=GATEWAY_JID,
                              message_id="own"),
        "from_me": inbound(conn, COMPLAINT.text, message_id="mine", from_me=True),
        "relay": inbound(conn, "wagateway " + COMPLAINT.text, message_id="relay"),
        "status": inbound(conn, COMPLAINT.text, chat="status@broadcast", sender=PERSON,
                          message_id="status"),
    }
    result = run_job(conn)
    assert complaints(conn) == [] and outbox(conn) == []
    results = {name: inbox(conn, i)["process_result"] for name, i in ids.items()}
    assert results == {
        "chatter": "ignored: not a complaint",
        "own number": "ignored: own number",
        "from_me": "ignored: from_me",
        "relay": "ignored: gateway relay",
        "status": "ignored: status broadcast",
    }
    assert all(inbox(conn, i)["processed_at"] is not None for i in ids.values())
    assert result.detail is not None and f"ignored={len(ids)}" in result.detail


def test_without_a_paired_session_the_same_message_is_a_complaint(
        conn: psycopg.Connection[Any]) -> None:
    paired(conn, None)  # registered, never connected: no account recorded
    inbound(conn, COMPLAINT.text, chat=PERSON, sender=GATEWAY_JID, message_id="own")
    run_job(conn)
    assert len(complaints(conn)) == 1


def test_group_complaint_is_answered_in_the_group(conn: psycopg.Connection[Any]) -> None:
    inbound(conn, COMPLAINT.text, chat=GROUP, sender=PERSON)
    run_job(conn)
    [row] = complaints(conn)
    assert row["complainant"] == GROUP


def test_unusable_chat_falls_back_to_the_sender(conn: psycopg.Connection[Any]) -> None:
    inbound(conn, COMPLAINT.text, chat="123456789012345@lid", sender=PERSON)
    run_job(conn)
    [row] = complaints(conn)
    assert row["complainant"] == PERSON


def test_redelivered_message_is_stored_and_queued_once(conn: psycopg.Connection[Any]) -> None:
    first = inbound(conn, COMPLAINT.text, message_id="WAMID-1")
    redelivery = conn.execute(
        "INSERT INTO wa_inbox (chat, sender, wa_message_id, text) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (session_name, wa_message_id) DO NOTHING RETURNING id",
        (PERSON, PERSON, "WAMID-1", COMPLAINT.text)).fetchall()
    assert redelivery == []
    with pytest.raises(psycopg.errors.UniqueViolation):
        inbound(conn, COMPLAINT.text, message_id="WAMID-1")
    run_job(conn)
    inbound(conn, COMPLAINT.text, message_id="WAMID-2")  # a new message with the same text
    run_job(conn)
    run_job(conn)
    count = conn.execute("SELECT count(*) FROM wa_inbox WHERE wa_message_id = 'WAMID-1'")
    assert count.fetchone() == (1,)
    rows = complaints(conn)
    assert rows[0]["inbox_id"] == first
    assert len(rows) == 2  # one per stored message, never two for one


def test_a_row_whose_parser_raises_is_marked_and_does_not_block(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    real = parse_complaint

    def fragile(text: str | None) -> Any:
        if text and "BOOM" in text:
            raise ValueError("parser exploded")
        return real(text)

    monkeypatch.setattr(intake, "parse_complaint", fragile)
    bad = inbound(conn, "BOOM " + COMPLAINT.text, message_id="bad")
    good = inbound(conn, COMPLAINT.text, message_id="good")
    result = run_job(conn)
    assert inbox(conn, bad)["process_result"] == "error: ValueError: parser exploded"
    assert inbox(conn, bad)["processed_at"] is not None
    assert [r["inbox_id"] for r in complaints(conn)] == [good]
    assert result.skipped == 1
    run_job(conn)  # the failed row is not retried: it stays, marked
    assert len(complaints(conn)) == 1


def test_a_refused_reply_rolls_back_only_its_row(conn: psycopg.Connection[Any]) -> None:
    bad = inbound(conn, MISSING_NRP.text, chat="nobody@lid", sender="nobody@lid",
                  message_id="nowhere")
    good = inbound(conn, MISSING_NRP.text, message_id="somewhere")
    run_job(conn)
    assert inbox(conn, bad)["process_result"].startswith("error: NRP request refused:")
    assert [r["recipient"] for r in outbox(conn)] == [PERSON]
    assert inbox(conn, good)["process_result"].startswith("nrp_requested outbox ")


def test_batches_until_the_inbox_is_drained(conn: psycopg.Connection[Any]) -> None:
    ids = [inbound(conn, COMPLAINT.text, message_id=f"m{i}") for i in range(7)]
    with conn.transaction():
        tally = process_inbox(conn, batch=3)
    assert tally.complaints == len(ids)
    assert [r["inbox_id"] for r in complaints(conn)] == ids


def test_concurrent_intakes_never_take_the_same_row(
        conn: psycopg.Connection[Any], other_conn: psycopg.Connection[Any]) -> None:
    ids = [inbound(conn, COMPLAINT.text, message_id=f"c{i}") for i in range(5)]
    with conn.transaction():
        first = process_inbox(conn)
        # The other intake runs while the first one still holds its rows (uncommitted).
        with other_conn.transaction():
            second = process_inbox(other_conn)
    assert (first.complaints, second.complaints) == (len(ids), 0)
    with other_conn.transaction():
        again = process_inbox(other_conn)
    assert again.complaints == 0
    assert [r["inbox_id"] for r in complaints(conn)] == ids


def test_rolled_back_run_leaves_messages_unprocessed(conn: psycopg.Connection[Any]) -> None:
    inbox_id = inbound(conn, COMPLAINT.text)

    class Abort(Exception):
        pass

    def run_and_fail() -> None:
        with conn.transaction():
            process_inbox(conn)
            raise Abort

    with pytest.raises(Abort):
        run_and_fail()
    assert inbox(conn, inbox_id)["processed_at"] is None and complaints(conn) == []
    run_job(conn)
    assert len(complaints(conn)) == 1


@pytest.mark.parametrize("recorded", [
    "6281200001111@s.whatsapp.net",
    "6281200001111:12@s.whatsapp.net",  # with the device part of the linked device
    "6281200001111.0:3@s.whatsapp.net",
])
def test_a_message_from_the_paired_number_is_ignored(
    conn: psycopg.Connection[Any], recorded: str
) -> None:
    paired(conn, recorded)
    paired(conn, "6281299998888@s.whatsapp.net", session="polda")  # another gateway session
    own = inbound(conn, COMPLAINT.text, chat=GROUP, sender=GATEWAY_JID, message_id="own")
    device = inbound(conn, COMPLAINT.text, chat=GROUP, sender="6281200001111:7@s.whatsapp.net",
                     message_id="own-device")
    other = inbound(conn, COMPLAINT.text, chat=GROUP, sender="6281299998888@s.whatsapp.net",
                    message_id="other-session")
    person = inbound(conn, COMPLAINT.text, chat=GROUP, sender=PERSON, message_id="person")
    run_job(conn)
    for inbox_id in (own, device, other):
        assert inbox(conn, inbox_id)["process_result"] == "ignored: own number"
    assert inbox(conn, person)["process_result"].startswith("complaint ")
    assert intake.own_numbers(conn) == {GATEWAY_JID, "6281299998888@s.whatsapp.net"}


def test_gateway_whatsapp_admin_no_longer_affects_the_intake(
        conn: psycopg.Connection[Any], db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "configure_logging", lambda *a, **k: None)  # keep pytest's
    # GATEWAY_WHATSAPP_ADMIN names admins who get the gateway's alerts; an old deployment may
    # still hold the gateway's own number in it. The intake no longer reads it: with no paired
    # session recorded, a complaint from that number is a complaint.
    paired(conn, None)
    inbox_id = inbound(conn, COMPLAINT.text, chat=PERSON, sender=GATEWAY_JID, message_id="own")
    settings, _ = cli.load({"DATABASE_URL": db_url, "GATEWAY_WHATSAPP_ADMIN": GATEWAY})
    assert not hasattr(settings, "gateway_whatsapp")
    slot = datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
    code = cli.main(["run", JOB.name, "--at", slot.strftime("%Y-%m-%d %H:%M")],
                    env={"DATABASE_URL": db_url, "GATEWAY_WHATSAPP_ADMIN": GATEWAY},
                    clock=lambda: slot)
    assert code == 0
    assert inbox(conn, inbox_id)["process_result"].startswith("complaint ")
