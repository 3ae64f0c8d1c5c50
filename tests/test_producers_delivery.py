"""The producers' side of issue 13: deadlines per message type (producers.deadlines), collapse
keys (a newer task list replaces the same client's older one still pending, never another
client's, never one already sending) and a report's text carried as its workbook's caption
(producers.jobs.reports.merged_caption, at the limit boundary)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from outbox import engine
from producers import deadlines
from producers.config import TaskWindow
from producers.jobs import reports, task_delivery_recap
from producers.schedule import JAKARTA
from tests.test_producers_reports import (
    ADMIN,
    DAY,
    GROUP_BATU,
    GROUP_DIT,
    outbox,
    run,
    seed,
)

Conn = psycopg.Connection[Any]


def wib(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=JAKARTA)


# ------------------------------------------------------------------------------ deadlines
@pytest.mark.parametrize(("message_type", "slot", "expected"), [
    # the task list of the 23.00 slot: 00.00 WIB, one hour later
    ("task_delivery_recap", wib(2026, 11, 22, 23), wib(2026, 11, 23)),
    ("task_delivery_recap", wib(2026, 11, 22, 6), wib(2026, 11, 23)),
    ("task_change", wib(2026, 11, 22, 9, 30), wib(2026, 11, 23)),
    # same-day recaps: the end of their day (BIDHUMAS 22.15: 1 h 45 min to go)
    ("progress_report", wib(2026, 11, 22, 15, 20), wib(2026, 11, 23)),
    ("bidhumas_progress_report", wib(2026, 11, 22, 22, 15), wib(2026, 11, 23)),
    ("ditbinmas_progress_report", wib(2026, 11, 22, 18, 10), wib(2026, 11, 23)),
    ("link_report", wib(2026, 11, 22, 21, 5), wib(2026, 11, 23)),
    ("personal_reminder", wib(2026, 11, 22, 17, 35), wib(2026, 11, 23)),
    # the 07.00 recaps: 17 hours; the last day of a month, 31 December: the new year
    ("daily_report", wib(2026, 11, 23, 7), wib(2026, 11, 24)),
    ("weekly_report", wib(2026, 11, 23, 7), wib(2026, 11, 24)),
    ("monthly_report", wib(2026, 12, 1, 7), wib(2026, 12, 2)),
    ("amplify_daily_report", wib(2026, 12, 31, 21, 7), wib(2027, 1, 1)),
    ("username_recap", wib(2026, 11, 22, 6, 45), wib(2026, 11, 23)),
    # late-evening jobs: the end of the next day (23.00 on 30 November: 2 December 00.00)
    ("amplify_monthly_report", wib(2026, 11, 30, 23), wib(2026, 12, 2)),
    ("admin_daily_summary", wib(2026, 11, 22, 22), wib(2026, 11, 24)),
    # answers and alerts: none; a type the table does not know: none
    ("complaint_response", wib(2026, 11, 22, 9, 5), None),
    ("complaint_forward", wib(2026, 11, 22, 9, 5), None),
    ("admin_alert", wib(2026, 11, 22, 9, 15), None),
    ("text", wib(2026, 11, 22, 9, 15), None),
])
def test_the_deadline_of_each_type_at_hand_computed_instants(
        message_type: str, slot: datetime, expected: datetime | None) -> None:
    got = deadlines.expires_at(message_type, slot, slot + timedelta(seconds=5))
    assert got == expected
    if got is not None:
        assert got.tzinfo is JAKARTA and (got.hour, got.minute, got.second) == (0, 0, 0)


def test_the_deadline_is_jakarta_s_midnight_whatever_the_zone_of_the_slot() -> None:
    # 16.30 UTC is 23.30 WIB on the 22nd: the list's day ends 30 minutes later, at 17.00 UTC
    # (a UTC-day reading would say the 23rd, 00.00 UTC = 07.00 WIB)
    slot = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    got = deadlines.expires_at("task_delivery_recap", slot, slot)
    assert got == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    assert got == wib(2026, 11, 23)


def test_a_late_run_measures_the_deadline_from_its_own_time() -> None:
    # a manual backfill of Sunday's 07.00 daily report on Wednesday 10.00: Wednesday's end
    assert deadlines.expires_at("daily_report", wib(2026, 11, 22, 7), wib(2026, 11, 25, 10)) \
        == wib(2026, 11, 26)
    # a catch-up within the grace, 40 minutes late, keeps the slot's deadline
    assert deadlines.expires_at("progress_report", wib(2026, 11, 22, 22, 15),
                                wib(2026, 11, 22, 22, 55)) == wib(2026, 11, 23)
    # less than MIN_LEAD (10 min) before midnight: the next day's end, not a 5-minute window
    assert timedelta(minutes=10) == deadlines.MIN_LEAD
    assert deadlines.expires_at("task_delivery_recap", wib(2026, 11, 22, 23, 30),
                                wib(2026, 11, 22, 23, 55)) == wib(2026, 11, 24)
    # exactly MIN_LEAD before: kept
    assert deadlines.expires_at("task_delivery_recap", wib(2026, 11, 22, 23, 30),
                                wib(2026, 11, 22, 23, 50)) == wib(2026, 11, 23)


def test_a_run_s_rows_carry_the_deadline_of_their_slot(db_url: str, conn: Conn) -> None:
    """A slot in the future of the database's clock: the task list of tomorrow's 23.00 slot
    expires at 00.00 WIB the day after, one hour after the slot (not shifted)."""
    seed(conn)
    today = datetime.now(JAKARTA).date()
    tomorrow = datetime(today.year, today.month, today.day, tzinfo=JAKARTA) + timedelta(days=1)
    conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at) "
                 "VALUES ('TMRW', 'BATU', 'tugas', %s)", (tomorrow + timedelta(hours=9),))
    spec = task_delivery_recap.make_job(window=TaskWindow())
    slot = tomorrow + timedelta(hours=23)
    assert run(db_url, spec, slot).status == "done"
    rows = outbox(conn, "task_delivery_recap")
    assert [(r["recipient"], r["collapse_key"]) for r in rows] == [
        (GROUP_BATU, f"task_delivery_recap:BATU:{tomorrow.date().isoformat()}")]
    assert rows[0]["expires_at"] == slot + timedelta(hours=1)


# ------------------------------------------------------------------------------ collapse keys
def test_a_newer_task_list_replaces_only_its_own_client_s_pending_list(
        db_url: str, conn: Conn) -> None:
    seed(conn)
    # DITBINMAS's list goes to BATU's group too: two clients, one group
    conn.execute("UPDATE clients SET client_group = '120363000000000001' "
                 "WHERE client_id = 'DITBINMAS'")
    spec = task_delivery_recap.make_job(window=TaskWindow())
    assert run(db_url, spec, DAY + timedelta(hours=9, minutes=30)).status == "done"
    first = {r["dedupe_key"].split(":")[2]: r for r in outbox(conn, "task_delivery_recap")}
    assert set(first) == {"BATU", "DITBINMAS"}
    assert {r["recipient"] for r in first.values()} == {GROUP_BATU}
    assert first["BATU"]["collapse_key"] == "task_delivery_recap:BATU:2026-11-22"
    assert first["DITBINMAS"]["collapse_key"] == "task_delivery_recap:DITBINMAS:2026-11-22"
    # 10.00: BATU's list changed (its TikTok post at 10.00), DITBINMAS's did not (duplicate)
    assert run(db_url, spec, DAY + timedelta(hours=10)).status == "done"
    rows = {r["id"]: r for r in outbox(conn, "task_delivery_recap")}
    newer = [r for r in rows.values() if r["id"] not in {f["id"] for f in first.values()}]
    assert [r["dedupe_key"].split(":")[2] for r in newer] == ["BATU"]
    batu_930, dit_930 = rows[first["BATU"]["id"]], rows[first["DITBINMAS"]["id"]]
    assert (batu_930["status"], batu_930["superseded_by"]) == ("superseded", newer[0]["id"])
    assert batu_930["last_error"] == f"superseded by #{newer[0]['id']}"
    assert batu_930["finished_at"] is not None and not batu_930["is_open"]
    assert (dit_930["status"], dit_930["superseded_by"]) == ("pending", None)
    # a gateway takes the group's oldest row (DITBINMAS's 09.30 list: per recipient FIFO)
    claimed = engine.claim(conn, session=dit_930["session_name"], worker="w", limit=10,
                           lease=timedelta(minutes=5))
    assert [m.id for m in claimed] == [dit_930["id"]]
    # 11.00: new likes, both lists change; the one being sent is left alone, BATU's 10.00
    # list (pending) is replaced by BATU's 11.00 one
    conn.execute("""UPDATE insta_like SET likes = '["andi", "budi", "cici"]'
                    WHERE shortcode LIKE 'P6%'""")
    assert run(db_url, spec, DAY + timedelta(hours=11)).status == "done"
    rows = {r["id"]: r for r in outbox(conn, "task_delivery_recap")}
    latest = [r for r in rows.values() if r["id"] > newer[0]["id"]]
    assert sorted(r["dedupe_key"].split(":")[2] for r in latest) == ["BATU", "DITBINMAS"]
    batu_1100 = next(r for r in latest if ":BATU:" in r["dedupe_key"])
    assert (rows[dit_930["id"]]["status"], rows[dit_930["id"]]["superseded_by"]) == \
        ("sending", None)
    assert (rows[newer[0]["id"]]["status"], rows[newer[0]["id"]]["superseded_by"]) == \
        ("superseded", batu_1100["id"])
    assert all(r["status"] == "pending" for r in latest)


def test_part_suffixes_keep_a_split_text_whole() -> None:
    assert reports.part_suffix(1, 1) == ""
    assert [reports.part_suffix(n, 3) for n in (1, 2, 3)] == ["#1/3", "#2/3", "#3/3"]
    # a newer text in 2 parts shares no key with an older one in 3: nothing of either is lost
    assert {reports.part_suffix(n, 2) for n in (1, 2)}.isdisjoint(
        {reports.part_suffix(n, 3) for n in (1, 2, 3)})


# ------------------------------------------------------------------------------ captions
LABEL = "📎 Rekap Harian Engagement *X*"  # 📎 counts 2 UTF-16 units: 30 in all


def test_the_caption_length_counts_utf16_units() -> None:
    assert reports.MAX_CAPTION == 1024
    assert reports.caption_length("abc") == 3
    assert reports.caption_length("📎") == 2 and len("📎") == 1
    assert reports.caption_length("✅") == 1  # in the Basic Multilingual Plane
    assert reports.caption_length(LABEL) == 30


@pytest.mark.parametrize(("over", "merged"), [(-1, True), (0, True), (1, False)])
def test_the_text_and_the_label_share_the_caption_up_to_the_limit(over: int,
                                                                   merged: bool) -> None:
    # text + "\n\n" + label: 1024 units when the text has 1024 - 2 - 30 = 992 of them
    text = "x" * (992 + over)
    assert reports.caption_length(f"{text}\n\n{LABEL}") == 1024 + over
    # one over: the label no longer fits, the text (993 units) alone still does
    assert reports.merged_caption(text, LABEL) == (f"{text}\n\n{LABEL}" if merged else text)
    # an emoji in the text counts 2: one character fewer fits
    emoji = "📊" + "x" * (990 + over)
    assert len(emoji) == 991 + over
    assert reports.merged_caption(emoji, LABEL) == (
        f"{emoji}\n\n{LABEL}" if merged else emoji)


@pytest.mark.parametrize(("over", "merged"), [(-1, True), (0, True), (1, False)])
def test_a_text_alone_is_the_caption_up_to_the_limit(over: int, merged: bool) -> None:
    text = "x" * (1024 + over)
    assert reports.merged_caption(text, LABEL) == (text if merged else None)
    emoji = "❄️" * 2 + "📊" + "x" * (1024 - 4 - 2 + over)  # ❄️ is 2 units: ❄ and a selector
    assert reports.caption_length(emoji) == 1024 + over
    assert reports.merged_caption(emoji, LABEL) == (emoji if merged else None)


@pytest.mark.parametrize("limit", ["combined", "combined-1", "text", "text-1"])
def test_the_daily_report_merges_at_the_caption_limit(
        limit: str, db_url: str, conn: Conn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real job, with the limit set around the real caption's lengths: up to the text
    with the workbook's label one document carries both; one unit less, the text alone (the
    file's name says what it is), down to the text's own length; one unit less than that, the
    text goes first and the workbook keeps its short caption, as before (two sends)."""
    seed(conn)
    conn.execute("UPDATE clients SET client_super = '0813-1111-2222' WHERE client_id = 'BATU'")
    slot = DAY + timedelta(days=1, hours=7)
    assert run(db_url, reports.DAILY, slot).status == "done"
    rows = outbox(conn, "daily_report")
    tiktok = next(r["content"] for r in rows if r["dedupe_key"]
                  == f"daily_report:2026-11-22:daily:BATU:tiktok:{GROUP_BATU}")
    label = reports.caption(reports.DAILY_KIND, "POLRES BATU", reports.previous_day(
        slot.date()))
    combined = reports.caption_length(f"{tiktok}\n\n{label}")
    alone = reports.caption_length(tiktok)
    assert combined <= reports.MAX_CAPTION  # the seed's recap fits the real limit
    sizes = {"combined": combined, "combined-1": combined - 1, "text": alone,
             "text-1": alone - 1}
    conn.execute("DELETE FROM wa_outbox; DELETE FROM producer_run")
    monkeypatch.setattr(reports, "MAX_CAPTION", sizes[limit])
    outcome = run(db_url, reports.DAILY, slot)
    assert outcome.status == "done" and outcome.result is not None
    mine = [r for r in outbox(conn, "daily_report") if r["recipient"] == ADMIN]
    ig, doc = mine[0], mine[-1]
    assert ":daily:BATU:ig:" in ig["dedupe_key"] and ig["attachment"] is None
    assert doc["attachment_name"] == "Rekap_Harian_BATU_22_November_2026.xlsx"
    expected = {"combined": f"{tiktok}\n\n{label}", "combined-1": tiktok, "text": tiktok,
                "text-1": None}[limit]
    if expected is not None:  # ig text, then the workbook carrying the TikTok text
        assert len(mine) == 2 and doc["content"] == expected
        assert "(2 with the text as caption)" in str(outcome.result.detail)
    else:  # ig text, TikTok text, the workbook with its own caption
        assert len(mine) == 3 and mine[1]["content"] == tiktok and doc["content"] == label
        assert "(1 with the text as caption)" in str(outcome.result.detail)  # DITBINMAS's
    # the directorate group's workbook carries its own (one-line) text in every case
    dit = [r for r in outbox(conn, "daily_report") if r["recipient"] == GROUP_DIT]
    assert dit[-1]["attachment"] is not None
    assert dit[-1]["content"].startswith("Tidak ada konten pada akun Official TikTok")
