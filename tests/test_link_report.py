"""The amplification link recaps: link_report, amplify_daily_report, amplify_monthly_report.

Hand-built data on top of tests.test_producers_reports.seed (BATU: ANDI, BUDI, CICI, all
operators; DITBINMAS with ANDI through its role; IG posts P61, P62 of BATU and P63 of
DITBINMAS at 09:00 on DAY), plus an exception user and link_report rows.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook

from producers.jobs import link_report, reports
from producers.runner import RunOutcome, run_slot
from producers.schedule import JAKARTA
from producers.scheduler import connect_producer
from tests.test_producers_reports import ADMIN, DAY, GROUP_BATU, GROUP_DIT, OPERATOR, seed

Conn = psycopg.Connection[Any]


def run(url: str, spec: Any, slot: datetime) -> RunOutcome:
    with connect_producer(url) as conn:
        outcome = run_slot(conn, spec, slot, now=slot + timedelta(seconds=5),
                           admin_whatsapp=("0813-1111-2222",))
    assert outcome.status == "done", outcome.error
    return outcome


def rows(conn: Conn, type_: str) -> list[tuple[str, str, str]]:
    found = conn.execute("SELECT recipient, content, dedupe_key FROM wa_outbox WHERE type = %s"
                         " ORDER BY id", (type_,)).fetchall()
    return [(r[0], r[1], r[2]) for r in found]


def links(conn: Conn) -> None:
    seed(conn)
    conn.execute("""
        INSERT INTO "user" (user_id, nama, title, divisi, insta, client_id, exception)
        VALUES ('1004', 'DEDI', 'BRIGADIR', 'BAG OPS', 'dedi', 'BATU', true);
        INSERT INTO user_roles (user_id, role_id)
            SELECT '1004', role_id FROM roles WHERE role_name = 'operator';
        -- a directorate's recap lists its own people (ANDI of BATU, with the role, is not)
        INSERT INTO "user" (user_id, nama, title, divisi, insta, client_id)
        VALUES ('2001', 'EKO', 'AKP', 'SUBDIT BHABIN', 'eko', 'DITBINMAS');
        INSERT INTO user_roles (user_id, role_id)
            SELECT '2001', role_id FROM roles WHERE role_name = 'ditbinmas';
        INSERT INTO link_report (shortcode, user_id, instagram_link, facebook_link) VALUES
            ('P61', '1001', 'https://instagram.com/p/a1', 'https://facebook.com/a1'),
            ('P62', '1001', 'https://instagram.com/p/a2', '  ');
        INSERT INTO link_report (shortcode, user_id, tiktok_link) VALUES
            ('P61', '1002', 'https://tiktok.com/@budi/video/1'),
            ('P62', '1003', NULL);
    """)


BATU_1505 = """Selamat sore,

Mohon ijin melaporkan Pelaksanaan Tugas Amplifikasi *POLRES BATU* pada hari:
Hari: Minggu
Tanggal: 22 November 2026
Pukul: 15.05 WIB

Jumlah konten resmi hari ini: *2*
1. https://www.instagram.com/p/P61/
2. https://www.instagram.com/p/P62/

Jumlah personel pelaksana: *4*
Jumlah link amplifikasi (5 platform): *4*

✅ *Sudah (2 pers):*
- BAG OPS – BRIGADIR DEDI (Sudah: 0 Tugas / Belum: 2 Tugas / Total Link: 0 Link)
- SAT BINMAS – BRIPKA ANDI (Sudah: 2 Tugas / Belum: 0 Tugas / Total Link: 3 Link)

⚠️ *Belum Lengkap (1 pers):*
- SAT LANTAS – AIPDA BUDI (Sudah: 1 Tugas / Belum: 1 Tugas / Total Link: 1 Link)

❌ *Belum (1 pers):*
- SAT BINMAS – BRIPTU CICI (Sudah: 0 Tugas / Belum: 2 Tugas / Total Link: 0 Link)

Terima kasih."""


def test_the_recap_to_the_old_audience(db_url: str, conn: Conn,
                                       caplog: pytest.LogCaptureFixture) -> None:
    links(conn)
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, link_report.LINK_REPORT, DAY + timedelta(hours=15, minutes=5))
    sent = rows(conn, "link_report")
    batu = [r for r in sent if ":BATU:" in r[2]]
    # group, operator, admins (the super admin 'bukan-nomor' is refused and logged)
    assert [r[0] for r in batu] == [GROUP_BATU, OPERATOR, ADMIN]
    assert batu[0][1] == BATU_1505
    assert batu[0][2] == f"link_report:2026-11-22T1505:BATU:{GROUP_BATU}"
    dit = [r for r in sent if ":DITBINMAS:" in r[2]]
    assert [r[0] for r in dit] == [GROUP_DIT, ADMIN]
    assert "❌ *Belum (1 pers):*\n- SUBDIT BHABIN – AKP EKO (Sudah: 0 Tugas / Belum: 1 Tugas" \
        in dit[0][1]
    assert "ANDI" not in dit[0][1]
    messages = [r.getMessage() for r in caplog.records]
    assert any("bukan-nomor" in m for m in messages)
    assert outcome.result is not None and outcome.result.skipped == 1
    # the next slot: posts up to 18:05, another key, a later greeting
    conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at) "
                 "VALUES ('P69', 'BATU', 'sore', %s)", (DAY + timedelta(hours=16),))
    run(db_url, link_report.LINK_REPORT, DAY + timedelta(hours=18, minutes=5))
    later = [r for r in rows(conn, "link_report") if r[2].startswith(
        "link_report:2026-11-22T1805:BATU:")]
    assert len(later) == 3
    assert later[0][1].startswith("Selamat malam,")
    assert "Jumlah konten resmi hari ini: *3*" in later[0][1]
    assert "- SAT BINMAS – BRIPKA ANDI (Sudah: 2 Tugas / Belum: 1 Tugas / Total Link: 3 Link)" \
        in later[0][1]


def test_the_daily_report_goes_to_the_operator(db_url: str, conn: Conn) -> None:
    links(conn)
    run(db_url, link_report.AMPLIFY_DAILY, DAY + timedelta(hours=21, minutes=7))
    sent = rows(conn, "amplify_daily_report")
    assert [(r[0], r[2]) for r in sent] == [
        (OPERATOR, f"amplify_daily_report:2026-11-22:BATU:{OPERATOR}")]
    assert sent[0][1].startswith("Selamat malam,\n\nMohon ijin melaporkan Laporan Harian Tugas "
                                 "Amplifikasi *POLRES BATU* pada hari:")


def test_a_link_row_of_a_deleted_post_is_logged_once_and_the_rest_goes_on(
        db_url: str, conn: Conn, caplog: pytest.LogCaptureFixture) -> None:
    links(conn)
    # a database where link_report has no foreign key (the old services' tables vary)
    conn.execute("ALTER TABLE link_report DROP CONSTRAINT link_report_shortcode_fkey")
    conn.execute("INSERT INTO link_report (shortcode, user_id, instagram_link) VALUES "
                 "('GONE1', '1002', 'x'), ('GONE2', '1003', 'y')")
    with caplog.at_level(logging.WARNING):
        run(db_url, link_report.LINK_REPORT, DAY + timedelta(hours=15, minutes=5))
    warned = [r.getMessage() for r in caplog.records if "no longer exists" in r.getMessage()]
    assert warned == ["link_report: 2 link_report row(s) point at a post that no longer exists "
                      "(e.g. shortcode GONE1); left out"]
    batu = [r for r in rows(conn, "link_report") if r[0] == GROUP_BATU]
    assert batu[0][1] == BATU_1505


def test_the_monthly_workbook_only_on_the_last_day(db_url: str, conn: Conn) -> None:
    links(conn)
    outcome = run(db_url, link_report.AMPLIFY_MONTHLY,
                  datetime(2026, 11, 29, 23, 0, tzinfo=JAKARTA))
    assert outcome.result is not None
    assert outcome.result.detail == "2026-11-29 is not the last day of the month"
    run(db_url, link_report.AMPLIFY_MONTHLY, datetime(2026, 11, 30, 23, 0, tzinfo=JAKARTA))
    sent = conn.execute(
        "SELECT recipient, content, attachment_name, attachment, dedupe_key FROM wa_outbox"
        " WHERE type = 'amplify_monthly_report' ORDER BY id").fetchall()
    assert [(r[0], r[2], r[4]) for r in sent] == [
        (OPERATOR, "BATU_November.xlsx",
         f"amplify_monthly_report:2026-11:xlsx:BATU:{OPERATOR}")]
    assert sent[0][1] == "📎 Rekap Link Amplifikasi *POLRES BATU*\nBulan November 2026: " \
        "4 laporan link"
    sheet = load_workbook(io.BytesIO(bytes(sent[0][3])))["Sheet1"]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Date", "Pangkat Nama", "NRP", "Satfung", "Link Instagram",
                         "Link Facebook", "Link Twitter", "Link Tiktok", "Link Youtube"]
    assert values[1:] == [
        ["22/11/2026", "BRIPKA ANDI", "1001", "SAT BINMAS", "https://instagram.com/p/a1",
         "https://facebook.com/a1", None, None, None],
        ["22/11/2026", "BRIPKA ANDI", "1001", "SAT BINMAS", "https://instagram.com/p/a2",
         None, None, None, None],
        ["22/11/2026", "BRIPTU CICI", "1003", "SAT BINMAS", None, None, None, None, None],
        ["22/11/2026", "AIPDA BUDI", "1002", "SAT LANTAS", None, None, None,
         "https://tiktok.com/@budi/video/1", None],
    ]


def test_a_long_recap_is_cut_at_line_ends() -> None:
    text = "\n".join(f"- baris {n:05d}" + "x" * 50 for n in range(3000))
    parts = reports.text_parts(text, limit=10_000)
    assert len(parts) > 1 and all(len(p) <= 10_000 for p in parts)
    assert "\n".join(parts) == text
