"""Issue 14: inputs refused at INSERT, retention, and the pacing history apart from purges."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import db as gwdb
from gateway.pacing import claim_max_bytes, pacing_window
from outbox import engine
from tests.gateway_helpers import gateway_thread, read_jsonl, settings_for, wait_for

Conn = psycopg.Connection[Any]


@pytest.mark.parametrize("content", [
    "\u00a0", "\u200b", "\u00a0\u200b\u200c\u200d\u2060\ufeff", " \u3000\u2003 ", "\u200e\u200f",
    "\u3164", "\u00ad"])
def test_invisible_only_content_is_refused_like_empty_content(conn: Conn, content: str) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="content is empty"):
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                     "VALUES ('08123456789', %s, 'text')", (content,))
    # the pre-check gives the same verdict
    row = conn.execute("SELECT problem FROM wa_check_message('08123456789', %s, 'text')",
                       (content,)).fetchone()
    assert row is not None and row[0].startswith("content is empty")


def test_visible_text_around_invisible_characters_is_accepted(conn: Conn) -> None:
    for content in ("\u00a0halo", "\u200bok\u200b", "\u00a0\u0661", "\u00a0.", "\U0001F44D"):
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                     "VALUES ('08123456789', %s, 'text')", (content,))
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (5,)


def test_an_attachment_over_the_limit_is_refused_and_the_limit_is_configurable(
        conn: Conn) -> None:
    insert = ("INSERT INTO wa_outbox (recipient, content, type, attachment, attachment_name) "
              "VALUES ('08123456789', 'rekap', 'weekly_report', %s, 'rekap.xlsx') "
              "RETURNING attachment_bytes")
    assert conn.execute("SELECT attachment_max_bytes FROM wa_outbox_limits").fetchone() == (
        16 * 1024 * 1024,)
    assert conn.execute(insert, (b"x" * 1000,)).fetchone() == (1000,)
    with pytest.raises(psycopg.errors.CheckViolation,
                       match="the attachment is 16777217 bytes; the limit is 16777216"):
        conn.execute(insert, (b"x" * (16 * 1024 * 1024 + 1),))
    conn.execute("UPDATE wa_outbox_limits SET attachment_max_bytes = 500")
    with pytest.raises(psycopg.errors.CheckViolation, match="the limit is 500"):
        conn.execute(insert, (b"x" * 501,))
    with pytest.raises(psycopg.errors.CheckViolation):  # never above what WhatsApp takes
        conn.execute("UPDATE wa_outbox_limits SET attachment_max_bytes = 200000000")


def test_a_sent_document_keeps_its_name_and_size_but_not_its_bytes(db_url: str, conn: Conn,
                                                                  tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, attachment, attachment_name) "
                 "VALUES ('120363025246125888@g.us', 'rekap', 'weekly_report', %s, 'rekap.xlsx')",
                 (b"PK\x03\x04" + b"x" * 996,))
    with gateway_thread(settings_for(db_url, sends)):
        assert wait_for(lambda: len(read_jsonl(sends)) == 1, 5)
        assert wait_for(lambda: conn.execute("SELECT status FROM wa_outbox").fetchone()
                        == ("sent",), 5)
    assert read_jsonl(sends)[0]["attachment_size"] == 1000  # it was sent whole
    row = conn.execute("SELECT attachment IS NULL, attachment_name, attachment_bytes, "
                       "attachment_mime FROM wa_outbox").fetchone()
    assert row == (True, "rekap.xlsx", 1000,
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _sent_rows(conn: Conn, n: int, ago: str) -> None:
    """``n`` rows settled as sent ``ago`` (through the settle, as the gateway does)."""
    engine.register_session(conn, "main")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                 "SELECT '62812' || lpad(g::text, 8, '0'), 'm' || g, 'text' "
                 "FROM generate_series(1, %s) g", (n,))
    claimed = engine.claim(conn, session="main", worker="w", limit=n, lease=timedelta(minutes=1))
    engine.mark_sent_many(conn, [engine.Sent(m.id, m.claim_token, f"W{m.id}") for m in claimed])
    conn.execute(f"UPDATE wa_outbox SET sent_at = now() - interval '{ago}', "
                 f"finished_at = now() - interval '{ago}'")
    conn.execute(f"UPDATE wa_send_log SET sent_at = now() - interval '{ago}'")


def test_no_purge_can_raise_the_send_rate(conn: Conn) -> None:
    _sent_rows(conn, 5, "10 minutes")
    before = pacing_window(conn, "main", per_hour=5, per_day=400)
    assert before.hour_free_at is not None  # the hourly cap of 5 is used up
    # the operator's purge and the scheduled one, both as short as they go
    engine.purge(conn, timedelta(minutes=1))
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (0,)
    after = pacing_window(conn, "main", per_hour=5, per_day=400)
    assert (after.hour_free_at, after.last_sent_at) == (before.hour_free_at, before.last_sent_at)


def test_the_scheduled_purge_keeps_failed_rows_longer_and_the_recent_history(conn: Conn) -> None:
    _sent_rows(conn, 3, "40 days")
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, status, finished_at, "
                 "last_error) VALUES ('08123456789', 'x', 'text', 'failed', "
                 "now() - interval '40 days', 'e'), ('08123456780', 'y', 'text', 'failed', "
                 "now() - interval '100 days', 'e')")
    # superseded rows age like sent ones, expired like failed ones
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, status, finished_at) "
                 "VALUES ('08123456781', 'a', 'text', 'superseded', now() - interval '40 days'), "
                 "('08123456782', 'b', 'text', 'expired', now() - interval '40 days'), "
                 "('08123456783', 'c', 'text', 'expired', now() - interval '100 days')")
    conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                 "VALUES ('main', now() - interval '2 hours', 0)")
    deleted = gwdb.purge_retention(conn, sent=timedelta(days=30), failed=timedelta(days=90))
    assert deleted == 6  # 3 sent, 1 superseded, the 100-day-old failed and expired ones
    assert conn.execute("SELECT status, count(*) FROM wa_outbox GROUP BY status ORDER BY 1"
                        ).fetchall() == [("expired", 1), ("failed", 1)]
    assert conn.execute("SELECT count(*) FROM wa_send_log").fetchone() == (1,)  # the 2 h one


def test_the_gateway_runs_the_scheduled_purge(db_url: str, conn: Conn, tmp_path: Path) -> None:
    _sent_rows(conn, 4, "31 days")
    with gateway_thread(settings_for(db_url, tmp_path / "s.jsonl")):
        assert wait_for(lambda: conn.execute("SELECT count(*) FROM wa_outbox").fetchone()
                        == (0,), 5)


def test_a_claim_is_bounded_by_bytes(conn: Conn) -> None:
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_outbox_limits SET claim_max_bytes = 2500")
    max_bytes = claim_max_bytes(conn)  # what the gateway's claims pass
    assert max_bytes == 2500
    for i in range(5):
        conn.execute("INSERT INTO wa_outbox (recipient, content, type, attachment, "
                     "attachment_name) VALUES (%s, 'rekap', 'weekly_report', %s, 'r.xlsx')",
                     (f"0812345678{i}", b"x" * 1000))
    conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                 "VALUES ('08129999999', 'teks', 'text')")
    sizes = []
    while claimed := engine.claim(conn, session="main", worker="w", limit=50,
                                  lease=timedelta(minutes=1), max_bytes=max_bytes):
        sizes.append(sum(len(m.attachment.data) if m.attachment else 0 for m in claimed))
        assert sizes[-1] <= 2500
    assert sizes == [2000, 2000, 1000]  # 5 documents and the text, three claims
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, attachment, attachment_name) "
                 "VALUES ('08123450000', 'besar', 'weekly_report', %s, 'b.xlsx')", (b"y" * 50,))
    [big] = engine.claim(conn, session="main", worker="w", limit=50, lease=timedelta(minutes=1),
                         max_bytes=10)
    assert big.attachment is not None  # a single row over the bound still goes, alone


def test_rows_waiting_on_a_session_nobody_serves_alert_once(db_url: str, conn: Conn,
                                                            tmp_path: Path) -> None:
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, session_name, available_at) "
                 "SELECT '0812345678' || g, 'm', 'text', 'nomor2', now() - interval '1 hour' "
                 "FROM generate_series(1, 3) g")
    settings = settings_for(db_url, tmp_path / "s.jsonl", WA_UNSERVED_ALERT_SECONDS="600",
                            GATEWAY_WHATSAPP_ADMIN="08129990000")
    for _ in range(2):  # a restart does not alert again
        with gateway_thread(settings):
            assert wait_for(lambda: conn.execute(
                "SELECT count(*) FROM wa_outbox WHERE type = 'admin_alert' AND status = 'sent'"
            ).fetchone() == (1,), 5)
            time.sleep(1)  # its first housekeeping (the check) has run
    [(content,)] = conn.execute("SELECT content FROM wa_outbox WHERE type = 'admin_alert'"
                                ).fetchall()
    assert "3 message(s) for session nomor2 wait" in content and " WIB" in content
    # served: no alert
    assert gwdb.unserved_sessions(conn, "main", timedelta(minutes=10))[0].waiting == 3
    holder = psycopg.connect(db_url, autocommit=True)
    try:
        assert gwdb.try_session_lock(holder, "nomor2")
        assert gwdb.unserved_sessions(conn, "main", timedelta(minutes=10)) == []
    finally:
        holder.close()
