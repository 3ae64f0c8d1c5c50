"""username_recap (06:45): personnel without an Instagram / TikTok username, to org groups.

Hand-built data: tests.test_producers_reports.seed (BATU: ANDI with both handles, BUDI with
Instagram only, CICI with neither; DITBINMAS, a directorate, routed nowhere by default).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from producers.jobs import username_recap
from producers.runner import run_slot
from producers.scheduler import connect_producer
from tests.test_producers_reports import DAY, GROUP_BATU, seed

Conn = psycopg.Connection[Any]
SLOT = DAY + timedelta(hours=6, minutes=45)

EXPECTED = """Selamat pagi,

Mohon ijin Komandan, rekap kelengkapan username personel *POLRES BATU*
Minggu, 22 November 2026 pukul 06.45 WIB

Jumlah Total Personil: *3*
✅ Sudah mengisi Instagram: *2*
✅ Sudah mengisi TikTok: *1*
❌ Belum mengisi Instagram: *1*
❌ Belum mengisi TikTok: *2*

*Belum mengisi username (2 pers):*
*SAT BINMAS* (1 pers):
- BRIPTU CICI (Instagram, TikTok)
*SAT LANTAS* (1 pers):
- AIPDA BUDI (TikTok)

Mohon personel tersebut segera melengkapi data melalui
https://papiqo.com/claim, menu *Update Data Personil*.

Terimakasih."""


def run(url: str) -> Any:
    with connect_producer(url) as conn:
        outcome = run_slot(conn, username_recap.JOB, SLOT, now=SLOT)
    assert outcome.status == "done", outcome.error
    return outcome


def sent(conn: Conn) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT recipient, content, dedupe_key FROM wa_outbox"
                        " WHERE type = 'username_recap' ORDER BY id").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_the_recap_goes_to_the_org_group(db_url: str, conn: Conn) -> None:
    seed(conn)
    run(db_url)
    assert sent(conn) == [(GROUP_BATU, EXPECTED,
                           f"username_recap:2026-11-22:BATU:{GROUP_BATU}")]


def test_everyone_complete_and_a_client_without_group(
        db_url: str, conn: Conn, caplog: pytest.LogCaptureFixture) -> None:
    seed(conn)
    conn.execute("""UPDATE "user" SET insta = 'x' || user_id, tiktok = 't' || user_id""")
    conn.execute("""INSERT INTO clients (client_id, nama, client_type, client_group)
                    VALUES ('MALANG', 'POLRES MALANG', 'org', NULL)""")
    conn.execute("""INSERT INTO "user" (user_id, nama, client_id)
                    VALUES ('3001', 'FAJAR', 'MALANG');
                    INSERT INTO user_roles (user_id, role_id)
                    SELECT '3001', role_id FROM roles WHERE role_name = 'operator'""")
    with caplog.at_level(logging.WARNING):
        run(db_url)
    rows = sent(conn)
    assert [r[0] for r in rows] == [GROUP_BATU]
    assert rows[0][1].endswith("❌ Belum mengisi TikTok: *0*\n\n✅ Semua personel sudah mengisi "
                               "username Instagram dan TikTok.\n\nTerimakasih.")
    warned = [r.getMessage() for r in caplog.records]
    assert warned == ["username_recap: client MALANG has no usable recipient for audience "
                      "group (client_group)"]
