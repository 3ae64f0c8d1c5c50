"""The wa_outbox table as other systems see it: plain SQL INSERTs, validation, NOTIFY."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from outbox import engine

Conn = psycopg.Connection[Any]


def insert(conn: Conn, recipient: str | None, content: str | None = "halo",
           type_: str | None = "text") -> dict[str, Any]:
    cur = conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type) VALUES (%s, %s, %s) "
        "RETURNING id, recipient, status, session_name, attempts, max_attempts, priority, "
        "created_at, available_at, sent_at",
        (recipient, content, type_),
    )
    row = cur.fetchone()
    assert row is not None and cur.description is not None
    return dict(zip([c.name for c in cur.description], row, strict=True))


def test_plain_insert_with_only_the_three_seed_columns_gets_every_default(conn: Conn) -> None:
    row = insert(conn, "081234567890", "Selamat pagi", "daily_report")
    assert row["recipient"] == "6281234567890@s.whatsapp.net"
    assert row["status"] == "pending"
    assert row["session_name"] == "main"
    # the priority is the type's: a daily_report is a 07:00 recap (10)
    assert (row["attempts"], row["max_attempts"], row["priority"]) == (0, 5, 10)
    assert row["created_at"] is not None and row["created_at"].tzinfo is not None
    assert row["available_at"] <= row["created_at"] or row["available_at"] == row["created_at"]
    assert row["sent_at"] is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("081234567890", "6281234567890@s.whatsapp.net"),
        ("0812-3456-7890", "6281234567890@s.whatsapp.net"),
        ("0812 3456 7890", "6281234567890@s.whatsapp.net"),
        ("+62 812-3456-7890", "6281234567890@s.whatsapp.net"),
        ("+62 (812) 3456.7890", "6281234567890@s.whatsapp.net"),
        ("+62 0812 3456 7890", "6281234567890@s.whatsapp.net"),
        ("6281234567890", "6281234567890@s.whatsapp.net"),
        ("81234567890", "6281234567890@s.whatsapp.net"),
        ("  6281234567890  ", "6281234567890@s.whatsapp.net"),
        ("6281234567890@c.us", "6281234567890@s.whatsapp.net"),
        ("6281234567890@C.US", "6281234567890@s.whatsapp.net"),
        ("6281234567890@s.whatsapp.net", "6281234567890@s.whatsapp.net"),
        ("081234567890@c.us", "6281234567890@s.whatsapp.net"),
        ("+33612345678", "33612345678@s.whatsapp.net"),
        ("0033612345678", "33612345678@s.whatsapp.net"),
        ("120363025246125888@g.us", "120363025246125888@g.us"),
        ("6281234567890-1596021234@g.us", "6281234567890-1596021234@g.us"),
    ],
)
def test_every_accepted_recipient_form_is_stored_in_one_canonical_form(
    conn: Conn, given: str, stored: str
) -> None:
    assert insert(conn, given)["recipient"] == stored


@pytest.mark.parametrize(
    ("given", "message_part"),
    [
        ("", "recipient is empty"),
        ("   ", "recipient is empty"),
        ("budi", "'budi' is not a phone number or group id"),
        ("0812", "'0812': an Indonesian number needs 8 to 13 digits after 62"),
        ("62812345678901234", "'62812345678901234': an Indonesian number needs 8 to 13 digits"),
        ("12345678", "'12345678': an Indonesian number starts with 0, 8 or 62"),
        ("+1234", "'+1234' is not a valid international number"),
        ("0812-3456-abcd", "'0812-3456-abcd' is not a phone number or group id"),
        ("6281234567890@lid", "unknown WhatsApp server 'lid'"),
        ("status@broadcast", "unknown WhatsApp server 'broadcast'"),
        ("6281234567890:12@s.whatsapp.net", "names a device"),
        ("12345@g.us", "'12345@g.us' is not a WhatsApp group id"),
        ("abc@g.us", "'abc@g.us' is not a WhatsApp group id"),
        ("https://chat.whatsapp.com/AbCdEf", "is not a phone number or group id"),
    ],
)
def test_a_bad_recipient_is_refused_by_the_insert_naming_the_bad_value(
    conn: Conn, given: str, message_part: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        insert(conn, given)
    assert caught.value.diag.constraint_name == engine.MESSAGE_CONSTRAINT
    assert message_part in (caught.value.diag.message_primary or "")
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)


def test_a_null_recipient_is_refused_with_a_message(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="recipient is empty"):
        insert(conn, None)


@pytest.mark.parametrize("content", ["", "   ", "\n\t", "\u2003\u3000", None])
def test_empty_content_is_refused_with_a_message(conn: Conn, content: str | None) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="content is empty"):
        insert(conn, "081234567890", content)


@pytest.mark.parametrize("content", ["halo", "  halo", "\nhalo", "\u00a0halo", "😀", "é", "-"])
def test_content_with_any_visible_character_is_accepted(conn: Conn, content: str) -> None:
    """The trigger's quick test (a printable ASCII first character) and its full test (any
    non-space character) must agree on what is text."""
    insert(conn, "081234567890", content)
    assert conn.execute("SELECT content FROM wa_outbox").fetchone() == (content,)


def test_content_longer_than_whatsapp_accepts_is_refused(conn: Conn) -> None:
    insert(conn, "081234567890", "é" * 65536)  # 65,536 characters, 131,072 bytes: fine
    with pytest.raises(psycopg.errors.CheckViolation, match="65537 characters long"):
        insert(conn, "081234567890", "a" * 65537)


def test_an_unknown_type_is_refused_naming_the_value_and_the_type_table(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as caught:
        insert(conn, "081234567890", "halo", "birthday")
    assert caught.value.diag.constraint_name == "wa_outbox_type_fkey"
    assert caught.value.diag.message_detail == (
        'Key (type)=(birthday) is not present in table "wa_message_type".')


def test_the_engine_reports_an_unknown_type_as_an_invalid_message(conn: Conn) -> None:
    from outbox.errors import InvalidMessage

    with pytest.raises(InvalidMessage, match=r"Key \(type\)=\(birthday\) is not present"):
        engine.enqueue(conn, engine.NewMessage("081234567890", "halo", "birthday"))


def test_an_operator_adds_a_message_type_with_sql(conn: Conn) -> None:
    conn.execute("INSERT INTO wa_message_type (type, description) VALUES ('birthday', 'ucapan')")
    assert insert(conn, "081234567890", "Selamat ulang tahun", "birthday")["status"] == "pending"


def test_a_queued_message_cannot_be_edited_but_its_state_can_change(conn: Conn) -> None:
    row = insert(conn, "081234567890")
    for column, value in (("recipient", "+62 811 111 1111"), ("content", "lain"),
                          ("attachment_name", "x.pdf")):
        with pytest.raises(psycopg.errors.CheckViolation, match="cannot be edited") as caught:
            conn.execute(f"UPDATE wa_outbox SET {column} = %s WHERE id = %s",
                         (value, row["id"]))
        assert caught.value.diag.constraint_name == "wa_outbox_message_immutable"
        assert "cancel" in (caught.value.diag.message_hint or "")
    conn.execute("UPDATE wa_outbox SET status = 'cancelled', finished_at = now(), "
                 "priority = 5 WHERE id = %s", (row["id"],))
    assert conn.execute("SELECT recipient, content, status FROM wa_outbox").fetchone() == (
        "6281234567890@s.whatsapp.net", "halo", "cancelled")


def test_renaming_a_message_type_cascades_to_queued_rows(conn: Conn) -> None:
    insert(conn, "081234567890", type_="text")
    conn.execute("UPDATE wa_message_type SET type = 'teks' WHERE type = 'text'")
    assert conn.execute("SELECT type FROM wa_outbox").fetchone() == ("teks",)


def test_a_foreign_number_is_accepted_in_its_own_canonical_form(conn: Conn) -> None:
    """A JID carries its country code: 33612345678@s.whatsapp.net is what +33 6 12 34 56 78
    becomes, so writing it back (or as @c.us) must give the same row."""
    for given in ("+33 6 12 34 56 78", "33612345678@s.whatsapp.net", "33612345678@c.us",
                  "60123456789@s.whatsapp.net"):
        assert insert(conn, given)["recipient"].endswith("@s.whatsapp.net"), given
    assert [r[0] for r in conn.execute("SELECT recipient FROM wa_outbox ORDER BY id")] == [
        "33612345678@s.whatsapp.net", "33612345678@s.whatsapp.net",
        "33612345678@s.whatsapp.net", "60123456789@s.whatsapp.net"]
    with pytest.raises(psycopg.errors.CheckViolation, match="not a valid international"):
        insert(conn, "1234567@s.whatsapp.net")


def test_a_document_row_needs_a_file_name_and_gets_its_mime_type(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="attachment_name"):
        conn.execute("INSERT INTO wa_outbox (recipient, content, type, attachment) "
                      "VALUES ('081234567890', 'Rekap', 'weekly_report', '\\x504b'::bytea)")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, attachment, attachment_name) "
                 "VALUES ('081234567890', 'Rekap', 'weekly_report', '\\x504b'::bytea, "
                 "'Rekap Mingguan.xlsx')")
    assert conn.execute("SELECT attachment_mime FROM wa_outbox").fetchone() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)


def test_one_notify_per_statement_not_per_row(conn: Conn, other_conn: Conn) -> None:
    other_conn.execute("LISTEN wa_outbox")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                 "SELECT '0812345678' || g, 'pesan ' || g, 'text' FROM generate_series(10, 59) g")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                 "VALUES ('081234567890', 'satu', 'text')")
    received = list(other_conn.notifies(timeout=1.0, stop_after=10))
    assert [n.channel for n in received] == ["wa_outbox", "wa_outbox"]
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (51,)


def test_rows_without_a_session_go_to_the_default_session(conn: Conn) -> None:
    insert(conn, "081111111111")  # before any gateway registered: fallback 'main'
    assert engine.register_session(conn, "wa-gateway-jatim") is True
    assert engine.register_session(conn, "wa-second") is False
    row = insert(conn, "082222222222")
    assert row["session_name"] == "wa-gateway-jatim"
    sessions = conn.execute("SELECT DISTINCT session_name FROM wa_outbox").fetchall()
    assert sessions == [("wa-gateway-jatim",)]  # the early row was adopted
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, session_name) "
                 "VALUES ('083333333333', 'x', 'text', ' WA-Second ')")
    assert conn.execute("SELECT session_name FROM wa_outbox WHERE recipient LIKE '62833%'"
                        ).fetchone() == ("wa-second",)


def test_seed_shaped_complaint_and_inbox_inserts_keep_working(conn: Conn) -> None:
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) "
                 "VALUES ('081234567890', 'Terima kasih, laporan diterima.')")
    assert conn.execute("SELECT status, created_at IS NOT NULL FROM complaint_queue"
                        ).fetchone() == ("pending", True)
    for _ in range(2):  # a redelivered message is stored once
        conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text) "
                     "VALUES ('6281234567890@s.whatsapp.net', '6281234567890@s.whatsapp.net', "
                     "'3EB0ABC', 'Pesan Komplain') ON CONFLICT DO NOTHING")
    assert conn.execute("SELECT count(*), min(session_name) FROM wa_inbox").fetchone() == (
        1, "main")


def test_complaint_delivery_follows_the_outbox_row(conn: Conn) -> None:
    out = insert(conn, "081234567890", "Jawaban", "complaint_response")
    conn.execute("INSERT INTO complaint_queue (complainant, response_template, status, "
                 "outbox_id, responded_at) VALUES ('081234567890', 'Jawaban', 'responded', %s, "
                 "now())", (out["id"],))

    def state() -> str:
        row = conn.execute("SELECT delivery_state FROM complaint_delivery").fetchone()
        assert row is not None
        return str(row[0])

    assert state() == "reply_queued"
    conn.execute("UPDATE wa_outbox SET status = 'failed', finished_at = now()")
    assert state() == "reply_failed"
    conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now()")
    assert state() == "answered"


def test_acceptance_and_its_explanation_never_disagree(conn: Conn) -> None:
    """wa_jid decides, wa_recipient_problem explains: over many generated inputs, a value is
    either accepted (and then has no problem) or refused with a problem text."""
    import random

    rng = random.Random(7)
    prefixes = ["", "0", "8", "62", "+62", "+62 0", "0062", "+", "00", "+33", "620", "1", "9"]
    suffixes = ["", "@c.us", "@s.whatsapp.net", "@g.us", "@lid", ":3@s.whatsapp.net"]
    samples = []
    for _ in range(600):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 24)))
        if rng.random() < 0.3:
            cut = rng.randint(0, len(digits))
            digits = digits[:cut] + rng.choice(" -.()x") + digits[cut:]
        if rng.random() < 0.1:
            digits += "-" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
        samples.append(rng.choice(prefixes) + digits + rng.choice(suffixes))
    rows = conn.execute(
        "SELECT s, wa_jid(s), wa_recipient_problem(s) FROM unnest(%s::text[]) AS s",
        (samples,)).fetchall()
    accepted = 0
    for value, jid, problem in rows:
        assert (jid is None) == (problem is not None), value
        accepted += jid is not None
    assert 50 < accepted < 550  # the generator exercises both sides


def test_the_insert_trigger_stores_exactly_what_wa_jid_decides(conn: Conn) -> None:
    """The INSERT trigger decides canonical JIDs and 08xx digits itself, without calling
    wa_jid. Over those spellings and their near misses (wrong length, a second trunk zero,
    other characters, case, spaces), every row is stored as wa_jid says or refused when
    wa_jid refuses."""
    import random

    rng = random.Random(11)
    samples: list[str] = []
    for _ in range(500):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 16)))
        head = rng.choice(["62", "620", "08", "080", "8", "0", "62 ", "+62", "0062", "6"])
        tail = rng.choice(["@s.whatsapp.net", "@S.WHATSAPP.NET", "@c.us", "", "", " ", "x"])
        samples.append(head + digits + tail)
    expected = dict(conn.execute("SELECT s, wa_jid(s) FROM unnest(%s::text[]) AS s",
                                 (samples,)).fetchall())
    stored = 0
    for value in samples:
        with conn.transaction(force_rollback=True):
            try:
                got = insert(conn, value)["recipient"]
            except psycopg.errors.CheckViolation:
                got = None
        assert got == expected[value], value
        stored += got is not None
    assert 100 < stored < 450  # both sides of both fast paths are exercised
