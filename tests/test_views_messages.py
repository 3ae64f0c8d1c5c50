"""The message views (daily, weekly, monthly, task delivery recap) and the formatting helpers,
against hand-built data: wording of docs/concepts/reports.md, recipients split from the Cicero
columns,
Indonesian dates and numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.view_fixtures import Cicero, jkt, worked_example

DAY = date(2026, 11, 16)  # Monday
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]


def long_date(d: date) -> str:
    return f"{DAYS_ID[d.weekday()]}, {d.day} {MONTHS_ID[d.month - 1]} {d.year}"


@pytest.fixture
def db(conn: psycopg.Connection[Any]) -> Cicero:
    return Cicero(conn)


def scalar(db: Cicero, sql: str, *params: Any) -> Any:
    row = db.conn.execute(sql.encode() if not params else sql, params or None).fetchone()
    assert row is not None
    return row[0]


# ---------------------------------------------------------------- formatting helpers
@pytest.mark.parametrize(("n", "text"), [(0, "0"), (7, "7"), (999, "999"), (1000, "1.000"),
                                         (1234567, "1.234.567"), (-45000, "-45.000")])
def test_id_number(db: Cicero, n: int, text: str) -> None:
    assert scalar(db, "SELECT id_number(%s)", n) == text == (
        f"{n:,}".replace(",", "."))


def test_indonesian_dates_and_times(db: Cicero) -> None:
    for offset in range(7):
        d = DAY + timedelta(days=offset)
        assert scalar(db, "SELECT id_date_long(%s)", d) == long_date(d)
    assert scalar(db, "SELECT id_date_dmy(%s)", date(2026, 2, 7)) == "07/02/2026"
    # The reference instant of docs/concepts/reports.md.
    instant = datetime.fromisoformat("2026-02-17T01:30:00+00:00")
    assert scalar(db, "SELECT id_datetime_long(%s)", instant) == (
        "Selasa, 17 Februari 2026 pukul 08.30")
    assert scalar(db, "SELECT id_datetime_short(%s)", instant) == "Selasa, 17 Feb 2026, 08.30"
    assert scalar(db, "SELECT id_time(%s)", instant) == "08.30"
    assert scalar(db, "SELECT id_percent(1, 3)") == "33,3%"
    assert [r[0] for r in db.conn.execute(
        "SELECT id_month_name(m) FROM generate_series(1, 12) m")] == MONTHS_ID


def test_split_list_and_recipients(db: Cicero) -> None:
    assert [r[0] for r in db.conn.execute(
        "SELECT item FROM cicero_split_list(%s) ORDER BY ord", (" a, b;c\n\n d ;",))] == [
        "a", "b", "c", "d"]
    db.client("R1", group="120363000000000011@g.us, 120363000000000012;\nhttps://chat.whatsapp.com/AbC",
              operator="081234567890;12345", super_="6281234567890\n6281299999999")
    rows = db.rows("SELECT recipient_role, recipient_raw, recipient, recipient_valid"
                   " FROM report_recipient WHERE client_id = 'R1' ORDER BY recipient_rank")
    assert [(r["recipient_role"], r["recipient"], r["recipient_valid"]) for r in rows] == [
        ("group", "120363000000000011@g.us", True),
        ("group", "120363000000000012@g.us", True),  # bare id: '@g.us' appended
        ("group", "abc", False),  # an invite link is no group id: left for the outbox to refuse
        ("operator", "6281234567890@s.whatsapp.net", True),
        ("operator", "12345", False),
        ("super", "6281299999999@s.whatsapp.net", True),  # the first super = the operator: once
    ]


# ---------------------------------------------------------------- daily report
def daily(db: Cicero, day: date) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in db.rows("SELECT * FROM daily_report_view WHERE report_date = %s"
                       " ORDER BY message_key, recipient", (day,)):
        out.setdefault(row["message_key"], []).append(row)
    return out


def test_daily_org_message_for_the_worked_example(db: Cicero) -> None:
    ex = worked_example(db, DAY)
    messages = daily(db, DAY)
    key = f"daily:{ex.client}:ig"
    assert set(messages) == {key, f"daily:{ex.client}:tiktok"}
    rows = messages[key]
    assert len({r["summary"] for r in rows}) == 1
    assert {r["recipient_role"] for r in rows} == {"group", "operator", "super"}
    assert not any(r["admin_copy"] for r in rows)
    text = rows[0]["summary"]
    lines = text.split("\n")
    assert lines[:6] == ["Mohon ijin Komandan,", "", "📋 *Rekap Akumulasi Likes Instagram*",
                         f"*Polres*: *POLRES {ex.client}*", long_date(DAY),
                         "Periode data: 00.00–23.59 WIB"]
    assert f"*Jumlah Konten:* {len(ex.posts)}" in lines
    links = [f"https://www.instagram.com/p/{p}" for p in ex.posts]  # in upload order
    start = lines.index("*Daftar Link Konten:*") + 1
    assert lines[start:start + len(links)] == links
    assert f"*Jumlah user:* {len(ex.users)} user" in lines
    assert "✅ *Melaksanakan lengkap:* 2 user" in lines
    assert "⚠️ *Melaksanakan kurang lengkap:* 1 user" in lines
    assert "❌ *Belum melaksanakan:* 2 user (1 belum input username Instagram)" in lines
    assert f"*SAT BINMAS* ({len(ex.users)} user):" in lines
    n = len(ex.posts)
    for line in (f"- BRIPKA BUDI : @budi ({n}/{n} konten)", f"- BRIPKA SARI : @sari (1/{n} konten)",
                 f"- BRIPKA JOKO : @joko_1 (0/{n} konten)",
                 "- BRIPKA RINA : belum mengisi data instagram",
                 f"- BRIPKA EXC SATU : @exc1 ({n}/{n} konten)"):
        assert line in lines
    assert lines.index("⚠️ Kurang (1 user):") < lines.index(f"- BRIPKA SARI : @sari (1/{n} konten)")
    assert lines[-1] == "Terimakasih."
    # no TikTok post that day: the one-line notice
    (tiktok,) = {r["summary"] for r in messages[f"daily:{ex.client}:tiktok"]}
    assert tiktok == (f"Tidak ada konten pada akun Official TikTok *POLRES {ex.client}* pada "
                      f"{long_date(DAY)}.")


def test_daily_no_posts_inactive_client_and_disabled_platform(db: Cicero) -> None:
    db.client("N1", group="120363000000000021@g.us")
    db.client("N2", group="120363000000000022@g.us", status=False)
    db.client("N3", group="120363000000000023@g.us", insta_status=False)
    db.client("DIRN", "DIREKTORAT N", client_type="direktorat", group="120363000000000024@g.us")
    messages = daily(db, DAY)
    assert set(messages) == {"daily:N1:ig", "daily:N1:tiktok", "daily:N3:tiktok",
                             "daily:DIRN:dir_ig", "daily:DIRN:dir_tiktok"}
    assert messages["daily:N1:ig"][0]["summary"] == (
        f"Tidak ada konten pada akun Official Instagram *POLRES N1* pada {long_date(DAY)}.")
    assert all(r["admin_copy"] for r in messages["daily:DIRN:dir_ig"])


def test_daily_directorate_recap_with_top_and_bottom(db: Cicero) -> None:
    db.client("DITZ", "DIREKTORAT Z", client_type="direktorat", group="120363000000000031@g.us",
              super_="081200000031")
    likes_per_satker = {"POLRES_1": 5, "POLRES_2": 3, "POLRES_3": 0, "POLRES_4": 4,
                        "POLRES_5": 1, "POLRES_6": 2, "POLRES_7": 6}
    handles: list[str] = []
    for satker, liked in likes_per_satker.items():
        db.client(satker, f"POLRES {satker[-1]}")
        for i in range(6):  # six personnel per satker, the first `liked` like both posts
            handle = f"{satker.lower()}_{i}"
            db.user(f"{satker[-1]}{i:03d}", satker, f"ANGGOTA {i}", insta=handle, roles=["ditz"])
            if i < liked:
                handles.append(handle)
    db.user("9000", "DITZ", "STAF DIT", insta="staf_dit", roles=["ditz"])
    db.ig_post("Z1", "DITZ", jkt(DAY, 9), handles)
    db.ig_post("Z2", "DITZ", jkt(DAY, 10), [*handles, "staf_dit"])
    rows = daily(db, DAY)["daily:DITZ:dir_ig"]
    assert {r["recipient_role"] for r in rows} == {"group", "super"}
    assert all(r["admin_copy"] for r in rows)
    text = rows[0]["summary"]
    lines = text.split("\n")
    total_users = 6 * len(likes_per_satker) + 1
    sudah = sum(likes_per_satker.values()) + 1
    assert f"*Jumlah Total Personil:* {total_users} pers" in lines
    assert f"✅ *Sudah melaksanakan:* {sudah} pers" in lines
    assert f"❌ *Belum melaksanakan:* {total_users - sudah} pers" in lines
    ranked = sorted(likes_per_satker.items(), key=lambda kv: (-kv[1], f"POLRES {kv[0][-1]}"))
    top = [f"{i}. POLRES {s[-1]} – {2 * n} likes" for i, (s, n) in enumerate(ranked[:5], 1)]
    bottom = [f"{i}. POLRES {s[-1]} – {2 * n} likes"
              for i, (s, n) in enumerate(list(reversed(ranked))[:5], 1)]
    start = lines.index("🔥 *Top 5 Likes:*") + 1
    assert lines[start:start + 5] == top
    start = lines.index("❄️ *Bottom 5 Likes:*") + 1
    assert lines[start:start + 5] == bottom
    blocks = lines[lines.index("*Rekap per Satker:*") + 1:]
    second = blocks.index(f"2. *POLRES {ranked[0][0][-1]}*")  # then by sudah
    first = blocks[:second]
    assert first[0] == "1. *DIREKTORAT Z*"  # the directorate itself first
    # lengkap = all posts (the default rule): the staff liked 1 of 2, named under Kurang
    assert first[-2:] == ["⚠️ Kurang:", "- BRIPKA STAF DIT (1/2 konten)"]
    assert "- Melaksanakan lengkap (semua konten): " + str(sudah - 1) + " pers" in lines
    # POLRES 3 (nobody liked): its six personnel under Belum, by name
    three = blocks.index("*POLRES 3*") if "*POLRES 3*" in blocks else next(
        i for i, line in enumerate(blocks) if line.endswith(". *POLRES 3*"))
    belum = blocks.index("❌ Belum:", three)
    assert blocks[belum + 1:belum + 7] == [f"- BRIPKA ANGGOTA {i} (0/2 konten)"
                                           for i in range(6)]


# ---------------------------------------------------------------- weekly / monthly
def test_weekly_and_monthly_totals_and_ranking(db: Cicero) -> None:
    ex = worked_example(db, DAY)
    # a second day in the same week: only Sari likes the one post
    db.ig_post("D", ex.client, jkt(DAY + timedelta(days=6), 20), ["sari"])
    (row,) = {r["summary"]: r for r in db.rows(
        "SELECT * FROM weekly_report_view WHERE week_start = %s", (DAY,))}.values()
    assert row["period_end"] == DAY + timedelta(days=6)
    assert row["attachment_name"] == f"Rekap_Mingguan_{ex.client}_{DAY}_{DAY + timedelta(6)}.xlsx"
    assert row["message_key"] == f"weekly:{ex.client}"
    text = row["summary"]
    lines = text.split("\n")
    assert lines[2] == "Periode: Senin, 16/11/2026 s.d. Minggu, 22/11/2026"
    likes = {**ex.likes, "D": ("sari",)}
    posts = len(likes)
    done = {kw["nama"]: posts if kw.get("exception") else sum(
        1 for handles in likes.values()
        if kw.get("insta") and kw["insta"].lstrip("@").lower() in handles)
        for kw in ex.users.values()}
    assert f"📸 *Instagram:* {posts} konten" in lines
    total_done = sum(done.values())
    target = posts * len(ex.users)
    pct = f"{round(100 * total_done / target, 1)}".replace(".", ",")
    assert f"Likes personil: {total_done} dari {target} ({pct}%)" in lines
    ranked = sorted((n, name) for name, n in done.items() if name != "EXC SATU")
    best = sorted(ranked, key=lambda t: (-t[0], t[1]))
    top = lines[lines.index("🔥 *5 Pelaksana Tertinggi*") + 1:][:4]
    assert top == [f"{i}. BRIPKA {name} (SAT BINMAS • POLRES {ex.client}) — {n} likes, 0 komentar"
                   for i, (n, name) in enumerate(best, 1)]
    bottom = lines[lines.index("❄️ *5 Pelaksana Terendah*") + 1:][:4]
    assert [b.split(". ", 1)[1] for b in bottom] == [t.split(". ", 1)[1] for t in reversed(top)]
    assert lines[-2:] == ["📎 Rekap Excel terlampir.", "Terimakasih."]
    # the next week has no post
    (empty,) = {r["summary"] for r in db.rows(
        "SELECT summary FROM weekly_report_view WHERE week_start = %s", (DAY + timedelta(7),))}
    assert "Tidak ada konten tugas pada periode ini." in empty
    (month,) = {r["summary"]: r for r in db.rows(
        "SELECT * FROM monthly_report_view WHERE month_start = '2026-11-01'")}.values()
    assert month["period_end"] == date(2026, 11, 30)
    assert "Periode: Bulan November 2026 (01/11/2026 s.d. 30/11/2026)" in month["summary"]
    assert f"Likes personil: {total_done} dari {target} ({pct}%)" in month["summary"]


# ---------------------------------------------------------------- task delivery recap
def task(db: Cicero, as_of: datetime) -> list[dict[str, Any]]:
    return db.rows("SELECT * FROM task_delivery_recap_at(%s) ORDER BY client_id, recipient",
                   (as_of,))


def test_task_delivery_recap(db: Cicero) -> None:
    db.client("T1", group="120363000000000041@g.us, 120363000000000042", operator="08123456789",
              tiktok="@polres_t1")
    db.client("T2", group="120363000000000043@g.us")  # no post today: no message
    db.ig_post("SC1", "T1", jkt(DAY, 7, 15), ["a", "b", "c"], caption="Patroli " * 20,
               comment_count=4)
    db.tiktok_post("VID1", "T1", jkt(DAY, 7, 45), ["@a"], like_count=1234)
    db.ig_post("YESTERDAY", "T1", jkt(DAY - timedelta(days=1), 23, 59), ["a"])
    at_0830 = jkt(DAY, 8, 30)
    rows = task(db, at_0830)
    assert [r["recipient"] for r in rows] == ["120363000000000041@g.us", "120363000000000042@g.us"]
    assert {r["recipient_role"] for r in rows} == {"group"}  # the operator gets no task list
    row = rows[0]
    assert (row["task_date"], row["delivered_at"], row["ig_count"], row["tiktok_count"]) == (
        DAY, at_0830, 1, 1)
    lines = row["summary"].split("\n")
    assert lines[:2] == ["📋 *Daftar Tugas - POLRES T1*",
                         f"🕒 Pengambilan data: {long_date(DAY)} pukul 08.30 WIB"]
    assert "📸 Instagram: *1* konten" in lines and "🎵 TikTok: *1* konten" in lines
    assert "1. https://www.instagram.com/p/SC1/" in lines
    assert "   _" + ("Patroli " * 20)[:60].rstrip() + "…_" in lines
    assert "   Upload: Senin, 16 Nov 2026, 07.15 WIB" in lines
    assert "   Likes: 3 | Komentar: 4" in lines
    assert "1. https://www.tiktok.com/@polres_t1/video/VID1" in lines
    assert "   Likes: 1.234 | Komentar: 1" in lines
    assert lines[-1] == "_Pastikan semua tugas telah dikerjakan dengan baik._"
    # later in the same day without changes: same hashes, only the stamp differs
    later = task(db, jkt(DAY, 9, 0))[0]
    assert later["summary"] != row["summary"]
    assert (later["content_hash"], later["task_list_hash"]) == (
        row["content_hash"], row["task_list_hash"])
    # more likes: new content, same task list
    db.conn.execute("""UPDATE insta_like SET likes = likes || '["d"]' WHERE shortcode = 'SC1'""")
    more = task(db, jkt(DAY, 9, 30))[0]
    assert more["task_list_hash"] == row["task_list_hash"]
    assert more["content_hash"] != row["content_hash"]
    # a new post: the task list changes; posts after as_of are not listed yet
    db.ig_post("SC2", "T1", jkt(DAY, 10, 0), [])
    assert task(db, jkt(DAY, 9, 59))[0]["task_list_hash"] == row["task_list_hash"]
    after = task(db, jkt(DAY, 10, 0))[0]
    assert after["ig_count"] == 2 and after["task_list_hash"] != row["task_list_hash"]
    # the view is the function at now()
    assert db.rows("SELECT * FROM task_delivery_recap_view") == []  # no post on the real today


def test_recipient_valid_agrees_with_the_outbox_check(db: Cicero) -> None:
    """Invalid values reach the producer as rows the outbox refuses (skipped, never fatal)."""
    from outbox.engine import NewMessage, check_messages

    db.client("V1", group="120363000000000051, 99", operator="0812-3456-7890, 12345",
              super_="belum ada")
    rows = db.rows("SELECT recipient, recipient_valid, summary FROM daily_report_view"
                   " WHERE report_date = %s ORDER BY message_key, recipient", (DAY,))
    assert {r["recipient_valid"] for r in rows} == {True, False}
    problems = check_messages(db.conn, [
        NewMessage(recipient=r["recipient"], content=r["summary"], type="daily_report")
        for r in rows])
    assert [p is None for p in problems] == [r["recipient_valid"] for r in rows]
