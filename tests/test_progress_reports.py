"""Same-day progress recaps (docs/concepts/reports.md): today up to the slot, at the old
times, routed by report_routing (including its at_time), once per slot."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from producers.jobs import reports
from tests.test_producers_reports import outbox, run
from tests.view_fixtures import Cicero, jkt, worked_example

DAY = date(2026, 11, 16)  # a Monday
GROUP = "120363000000000001@g.us"
OPERATOR = "6281234567890@s.whatsapp.net"
SUPER = "6281298765432@s.whatsapp.net"


@pytest.fixture
def db(conn: psycopg.Connection[Any]) -> Cicero:
    return Cicero(conn)


def test_the_worked_example_at_15_20_counts_only_the_posts_up_to_15_20(
        db_url: str, db: Cicero, conn: psycopg.Connection[Any]) -> None:
    ex = worked_example(db, DAY)  # posts A, B, C at 08.00, 09.00, 10.00
    db.ig_post("D", ex.client, jkt(DAY, 16), ())  # after the slot: nobody liked it yet
    outcome = run(db_url, reports.PROGRESS, jkt(DAY, 15, 20))
    assert outcome.status == "done", outcome.error
    rows = outbox(conn, "progress_report")
    ig = [r for r in rows if ":daily:X:ig:" in r["dedupe_key"]]
    assert {r["recipient"] for r in ig} == {GROUP, OPERATOR, SUPER}  # org: group, operator, super
    assert all(r["attachment"] is None for r in rows)  # text only
    assert {r["dedupe_key"] for r in ig} == {
        f"progress_report:2026-11-16T1520:daily:X:ig:{r}" for r in (GROUP, OPERATOR, SUPER)}
    text = ig[0]["content"]
    # the worked example (domain §2.7): 3 posts; 5 users, lengkap 2, kurang 1, belum 2 (1 no
    # username) - post D, uploaded at 16.00, is not in it
    assert "Periode data: hari ini, data s.d. 15.20 WIB" in text
    assert "*Jumlah Konten:* 3\n" in text
    assert "instagram.com/p/D" not in text
    assert "*Jumlah user:* 5 user" in text
    assert "✅ *Melaksanakan lengkap:* 2 user" in text
    assert "⚠️ *Melaksanakan kurang lengkap:* 1 user" in text
    assert "❌ *Belum melaksanakan:* 2 user (1 belum input username Instagram)" in text

    # the slot runs once, also from a second process
    again = run(db_url, reports.PROGRESS, jkt(DAY, 15, 20))
    assert again.status == "taken"
    # the 18.20 slot counts D too: Budi 3/4 is no longer lengkap
    later = run(db_url, reports.PROGRESS, jkt(DAY, 18, 20))
    assert later.status == "done", later.error
    text = next(r["content"] for r in outbox(conn, "progress_report")
                if r["dedupe_key"] == f"progress_report:2026-11-16T1820:daily:X:ig:{GROUP}")
    assert "data s.d. 18.20 WIB" in text and "*Jumlah Konten:* 4\n" in text
    assert "✅ *Melaksanakan lengkap:* 1 user" in text  # exc1 only
    # nothing was sent in between: each 15.20 text is replaced by the 18.20 text of the same
    # message and recipient (collapse key same_day_recap:<day>:<message_key>), none other
    rows = outbox(conn, "progress_report")
    early = [r for r in rows if ":2026-11-16T1520:" in r["dedupe_key"]]
    late = {(r["collapse_key"], r["recipient"]): r["id"] for r in rows
            if ":2026-11-16T1820:" in r["dedupe_key"]}
    assert early and len(late) == len(early)
    for row in early:  # progress_report:<day>T1520:<message_key>:<recipient>
        message_key = row["dedupe_key"].split(":", 2)[2].removesuffix(f":{row['recipient']}")
        assert row["collapse_key"] == f"same_day_recap:2026-11-16:{message_key}"
        assert row["status"] == "superseded"
        assert row["superseded_by"] == late[(row["collapse_key"], row["recipient"])]
    assert {r["collapse_key"] for r in early} == {
        f"same_day_recap:2026-11-16:daily:X:{p}" for p in ("ig", "tiktok")}
    # they are worth sending until the end of their Jakarta day only
    assert all(r["expires_at"] is not None for r in rows)

    # the next morning's final recap is the whole day, unchanged
    final = run(db_url, reports.DAILY, jkt(DAY + timedelta(days=1), 7))
    assert final.status == "done", final.error
    text = next(r["content"] for r in outbox(conn, "daily_report")
                if r["dedupe_key"] == f"daily_report:2026-11-16:daily:X:ig:{GROUP}")
    assert "Periode data: 00.00–23.59 WIB" in text and "*Jumlah Konten:* 4\n" in text


def test_directorate_same_day_recaps_go_to_the_old_audience_at_the_old_time(
        db_url: str, db: Cicero, conn: psycopg.Connection[Any]) -> None:
    db.client("DITBINMAS", "DIREKTORAT BINMAS", client_type="direktorat",
              group="120363000000000002", operator="081200000001", super_="081200000002")
    db.client("BIDHUMAS", "BID HUMAS", client_type="direktorat",
              group="120363000000000003", operator="081200000003", super_="081200000004")
    db.user("1", "DITBINMAS", "ANDI", insta="andi", roles=("ditbinmas",))
    db.user("2", "BIDHUMAS", "BUDI", insta="budi", roles=("bidhumas",))
    db.ig_post("P1", "DITBINMAS", jkt(DAY, 9), ("andi",))
    db.ig_post("P2", "BIDHUMAS", jkt(DAY, 9), ("budi",))
    dit_group, dit_super = "120363000000000002@g.us", "6281200000002@s.whatsapp.net"
    hum_group, hum_super = "120363000000000003@g.us", "6281200000004@s.whatsapp.net"
    expected = {  # (job, slot) -> who gets a text (domain §7.4, §3.7)
        (reports.PROGRESS, (15, 20)): {dit_group},
        (reports.PROGRESS, (18, 20)): {dit_super},
        (reports.PROGRESS, (20, 20)): set(),
        (reports.DITBINMAS_PROGRESS, (18, 10)): {dit_group},
        (reports.BIDHUMAS_PROGRESS, (15, 15)): set(),
        (reports.BIDHUMAS_PROGRESS, (15, 45)): {hum_group, hum_super},
        (reports.BIDHUMAS_PROGRESS, (20, 15)): {hum_group, hum_super},
        (reports.BIDHUMAS_PROGRESS, (22, 45)): set(),
    }
    for (spec, (hour, minute)), who in expected.items():
        before = {r["id"] for r in outbox(conn, spec.name)}
        outcome = run(db_url, spec, jkt(DAY, hour, minute))
        assert outcome.status == "done", outcome.error
        new = [r for r in outbox(conn, spec.name) if r["id"] not in before]
        assert {r["recipient"] for r in new} == who, (spec.name, hour, minute)
        assert all(f"data s.d. {hour:02d}.{minute:02d} WIB" in r["content"]
                   for r in new if "Mohon ijin" in r["content"])
    # the Ditbinmas group's 18.10 recap (its own job) is the same information as its 15.20 one
    # (the daily texts of today up to the slot): the 15.20 texts still pending are replaced
    early = [r for r in outbox(conn, "progress_report")
             if r["recipient"] == dit_group and ":2026-11-16T1520:" in r["dedupe_key"]]
    later = {r["collapse_key"]: r["id"] for r in outbox(conn, "ditbinmas_progress_report")}
    assert early and {r["collapse_key"] for r in early} == set(later)
    assert all((r["status"], r["superseded_by"]) == ("superseded", later[r["collapse_key"]])
               for r in early)
    # BIDHUMAS's 20.15 recap replaced its 15.45 one, for the group and the super admins alike
    bidhumas = outbox(conn, "bidhumas_progress_report")
    assert {(r["recipient"], r["status"]) for r in bidhumas
            if ":2026-11-16T1545:" in r["dedupe_key"]} == {
        (hum_group, "superseded"), (hum_super, "superseded")}
    assert {r["status"] for r in bidhumas if ":2026-11-16T2015:" in r["dedupe_key"]} == {
        "pending"}
