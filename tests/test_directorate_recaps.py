"""Directorate recaps as the old scheduled ones: lengkap = all posts unless report_rule says
>= 50 %, and per-satker Kurang / Belum name lists in the old order (jabatan keyword anywhere
in the jabatan, the rank list with civil-servant grades, then name)."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from tests.view_fixtures import Cicero, jkt

DAY = date(2026, 11, 16)


@pytest.fixture
def db(conn: psycopg.Connection[Any]) -> Cicero:
    return Cicero(conn)


def recap(db: Cicero) -> list[str]:
    rows = db.rows("SELECT DISTINCT summary FROM daily_report_view WHERE report_date = %s "
                   "AND message_key = 'daily:DITQ:dir_ig'", (DAY,))
    assert len(rows) == 1
    return str(rows[0]["summary"]).split("\n")


def seed(db: Cicero) -> None:
    db.client("DITQ", "DIREKTORAT Q", client_type="direktorat", group="120363000000000041")
    db.client("POLRES_Q", "POLRES Q")
    people = [  # (id, nama, pangkat, jabatan, liked posts)
        ("1", "ZAINAL", "PENATA", "BA SAT BINMAS", 0),
        ("2", "ADI", "BRIPDA", "BA SAT BINMAS", 0),
        ("3", "BUDI", "AKP", "PS. KASAT BINMAS", 0),  # KASAT, not as the first word
        ("4", "CANDRA", "PPPK", "STAF", 0),
        ("5", "DEDI", "AKP", "KANIT BINMAS", 0),
        ("6", "EKO", "IPDA", "BA", 1),
        ("7", "FAJAR", "BRIPKA", "BA", 2),
    ]
    for user_id, nama, title, jabatan, _ in people:
        db.user(user_id, "POLRES_Q", nama, insta=nama.lower(), title=title, jabatan=jabatan,
                roles=("ditq",))
    db.user("8", "POLRES_Q", "GITA", insta=None, title="BRIPTU", roles=("ditq",))
    db.ig_post("Q1", "DITQ", jkt(DAY, 9), [p[1].lower() for p in people if p[4] >= 1])
    db.ig_post("Q2", "DITQ", jkt(DAY, 10), [p[1].lower() for p in people if p[4] >= 2])


def test_all_posts_by_default_and_the_old_name_order(db: Cicero) -> None:
    seed(db)
    lines = recap(db)
    assert "- Melaksanakan lengkap (semua konten): 1 pers" in lines  # FAJAR 2/2 only
    assert "- Melaksanakan kurang (sebagian konten): 1 pers" in lines  # EKO 1/2
    block = lines[lines.index("1. *POLRES Q*"):]
    kurang = block.index("⚠️ Kurang:")
    assert block[kurang + 1] == "- IPDA EKO (1/2 konten)"
    belum = block.index("❌ Belum:")
    # KASAT (anywhere in the jabatan), KANIT, then by pangkat: BRIPTU, BRIPDA, PENATA, PPPK
    names = [line for line in block[belum + 1:] if line.startswith("- ")]
    assert names == block[belum + 1:belum + 1 + len(names)]
    assert names == [
        "- AKP BUDI (0/2 konten)", "- AKP DEDI (0/2 konten)",
        "- BRIPTU GITA (belum input username)", "- BRIPDA ADI (0/2 konten)",
        "- PENATA ZAINAL (0/2 konten)", "- PPPK CANDRA (0/2 konten)"]
    assert "FAJAR" not in "\n".join(block)  # lengkap: not listed


def test_the_half_rule_per_client(db: Cicero) -> None:
    seed(db)
    db.conn.execute("INSERT INTO report_rule (client_id, lengkap_rule) VALUES ('DITQ', 'half')")
    lines = recap(db)
    assert "- Melaksanakan lengkap (≥ 50% konten): 2 pers" in lines  # FAJAR, EKO
    assert "- Melaksanakan kurang (< 50% konten): 0 pers" in lines
    assert "⚠️ Kurang:" not in lines


def test_a_rule_row_is_checked(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="report_rule_lengkap_rule_valid"):
        conn.execute("INSERT INTO report_rule (client_id, lengkap_rule) VALUES ('DITQ', 'most')")


def test_a_text_over_whatsapp_s_limit_is_cut_at_line_ends() -> None:
    from producers.jobs.reports import text_parts

    lines = [f"- BRIPKA ANGGOTA {i} (0/2 konten)" for i in range(10)]  # 31 or 30 chars each
    text = "\n".join(lines)
    assert text_parts(text, len(text)) == [text]
    parts = text_parts(text, 70)
    assert parts == ["\n".join(lines[i:i + 2]) for i in range(0, 10, 2)]
    assert "\n".join(parts) == text and all(len(p) <= 70 for p in parts)
