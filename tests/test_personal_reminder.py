"""personal_reminder (17:05, 17:35): opted-in personnel who have not done today's tasks.

Hand-built data: tests.test_producers_reports.seed (BATU's posts of DAY: P61 liked by andi and
budi, P62 by andi, V6 commented by @andi; DITBINMAS's P63 liked by andi and budi), plus DEDI
(opted in, handles dedi, nothing done yet); CICI (no handles) and BUDI (no number) opted in.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from producers.jobs import personal_reminder
from producers.runner import run_slot
from producers.scheduler import connect_producer
from tests.test_producers_reports import DAY, seed
from views import adapter

Conn = psycopg.Connection[Any]
CICI = "6281234500033@s.whatsapp.net"
DEDI = "6281234500044@s.whatsapp.net"

CICI_1705 = """Selamat sore, Bapak/Ibu BRIPTU CICI

👋 *Pengingat engagement harian - POLRES BATU*
Tugas berikut belum tercatat dilaksanakan hari ini:

📸 Instagram, like dan komentar (2 konten):
1. https://www.instagram.com/p/P61/
2. https://www.instagram.com/p/P62/

🎵 TikTok, komentar (1 konten):
1. https://www.tiktok.com/@polresbatu/video/V6

Tips:
1. Gunakan akun yang terdaftar di Cicero (Instagram belum diisi, TikTok belum diisi).
2. Data diperbarui berkala: tunggu sekitar 1 jam setelah melaksanakan tugas.

Balas *notifwa#off* untuk berhenti menerima pengingat ini."""


def data(conn: Conn) -> None:
    seed(conn)
    conn.execute("""
        INSERT INTO "user" (user_id, nama, title, divisi, insta, tiktok, client_id, whatsapp)
        VALUES ('1005', 'DEDI', 'BRIGADIR', 'SAT BINMAS', 'dedi', '@dedi', 'BATU',
                '0812-3450-0044');
        INSERT INTO user_roles (user_id, role_id)
            SELECT '1005', role_id FROM roles WHERE role_name = 'operator';
        UPDATE "user" SET wa_notification_opt_in = true WHERE user_id IN ('1001', '1002', '1003',
                                                                          '1005');
        UPDATE "user" SET whatsapp = '081234500011' WHERE user_id = '1001';
        UPDATE "user" SET whatsapp = '081234500033' WHERE user_id = '1003';
    """)


def run(url: str, hour: int, minute: int) -> Any:
    slot = DAY + timedelta(hours=hour, minutes=minute)
    with connect_producer(url) as conn:
        outcome = run_slot(conn, personal_reminder.JOB, slot, now=slot)
    assert outcome.status == "done", outcome.error
    return outcome


def sent(conn: Conn) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT recipient, content, dedupe_key FROM wa_outbox"
                        " WHERE type = 'personal_reminder' ORDER BY id").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_reminders_then_a_follow_up_and_they_stop_once_done(
        db_url: str, conn: Conn, caplog: pytest.LogCaptureFixture) -> None:
    data(conn)
    with caplog.at_level(logging.WARNING):
        run(db_url, 17, 5)
    first = sent(conn)
    # ANDI did everything (BATU and DITBINMAS): nothing; BUDI has no number: logged once
    assert [(r[0], r[2]) for r in first] == [
        (CICI, f"personal_reminder:2026-11-22:{CICI}:BATU:initial"),
        (DEDI, f"personal_reminder:2026-11-22:{DEDI}:BATU:initial")]
    assert first[0][1] == CICI_1705
    warned = [r.getMessage() for r in caplog.records if r.name.endswith("personal_reminder")]
    assert warned == ["personal_reminder: 1 opted-in personnel without a usable WhatsApp "
                      "number left out (e.g. user 1002)"]
    # DEDI does his tasks before 17.35
    conn.execute("""UPDATE insta_like SET likes = likes || '["dedi"]'::jsonb
                    WHERE shortcode IN ('P61', 'P62');
                    UPDATE tiktok_comment SET comments = comments || '["@dedi"]'::jsonb
                    WHERE video_id = 'V6'""")
    run(db_url, 17, 35)
    second = sent(conn)[2:]
    assert [(r[0], r[2].rsplit(":", 1)[1]) for r in second] == [(CICI, "followup1"),
                                                                (DEDI, "completed")]
    assert "Pengingat engagement harian (ulang) - POLRES BATU" in second[0][1]
    assert second[1][1] == ("Selamat sore, Bapak/Ibu BRIGADIR DEDI\n\nTerimakasih, Tugas Likes "
                            "dan komentar hari ini (POLRES BATU) sudah dilaksanakan semua.")
    # a third slot (a changed cron) sends nothing more: CICI got both stages, DEDI is done
    run(db_url, 18, 5)
    assert len(sent(conn)) == 4
    state = conn.execute("SELECT chat_id, client_id, user_id, last_stage, is_complete"
                         " FROM personal_reminder_state ORDER BY chat_id").fetchall()
    assert state == [(CICI, "BATU", "1003", "followup1", False),
                     (DEDI, "BATU", "1005", "completed", True)]


def test_a_stage_is_sent_once(db_url: str, conn: Conn) -> None:
    data(conn)
    run(db_url, 17, 5)
    before = sent(conn)
    with connect_producer(db_url) as c:  # the same slot again: already taken
        slot = DAY + timedelta(hours=17, minutes=5)
        assert run_slot(c, personal_reminder.JOB, slot, now=slot).status == "taken"
    # a lost state (the second guard is the dedupe key): the initial stage is not sent again
    conn.execute("DELETE FROM personal_reminder_state")
    slot = datetime(2026, 11, 22, 17, 6, tzinfo=DAY.tzinfo)
    with connect_producer(db_url) as c:
        outcome = run_slot(c, personal_reminder.JOB, slot, now=slot)
    assert outcome.status == "done" and outcome.result is not None
    assert (outcome.result.enqueued, outcome.result.duplicates) == (0, 2)
    assert sent(conn) == before


def test_a_database_without_the_opt_in_column_sends_none(db_url: str, conn: Conn) -> None:
    """An older Cicero schema without "user".wa_notification_opt_in: nobody opted in."""
    data(conn)
    conn.execute('ALTER TABLE "user" DROP COLUMN wa_notification_opt_in')
    adapter.refresh(conn)  # what migrate does on such a database
    outcome = run(db_url, 17, 5)
    assert outcome.result is not None and outcome.result.enqueued == 0
    assert sent(conn) == []
