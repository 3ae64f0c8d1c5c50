"""report_routing: who gets what is data (docs/concepts/reports.md#who-gets-what)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from producers.jobs import reports
from producers.schedule import JAKARTA
from tests.test_producers_reports import run

DAY = datetime(2026, 11, 22, 0, 0, tzinfo=JAKARTA)
SLOTS = {"daily_report": (reports.DAILY, DAY + timedelta(days=1, hours=7)),
         "weekly_report": (reports.WEEKLY, DAY + timedelta(days=1, hours=7)),
         "monthly_report": (reports.MONTHLY, datetime(2026, 12, 1, 7, 0, tzinfo=JAKARTA))}

ORG_GROUP = "120363000000000011@g.us"
ORG_OPERATOR = "6281200000011@s.whatsapp.net"
ORG_SUPER = "6281200000012@s.whatsapp.net"
DIR_GROUP = "120363000000000021@g.us"
DIR_OPERATOR = "6281200000021@s.whatsapp.net"
DIR_SUPER = "6281200000022@s.whatsapp.net"
ADMIN = "6281300000001@s.whatsapp.net"
SHARED = "6281200000099@s.whatsapp.net"  # operator of one client and super admin of both


def seed(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        INSERT INTO clients (client_id, nama, client_type, client_group, client_operator,
                             client_super, client_insta, client_tiktok)
        VALUES ('ORG', 'POLRES ORG', 'org', '120363000000000011', '081200000011',
                '081200000012', 'org', 'org'),
               ('DIR', 'DIREKTORAT DIR', 'direktorat', '120363000000000021', '081200000021',
                '081200000022', 'dir', 'dir');
        INSERT INTO "user" (user_id, nama, title, divisi, insta, tiktok, client_id)
        VALUES ('1', 'ANDI', 'BRIPKA', 'SAT BINMAS', 'andi', 'andi', 'ORG');
    """)


def received(conn: psycopg.Connection[Any], job: str) -> dict[tuple[str, str], set[str]]:
    """(client, recipient) -> {'text', 'xlsx'} of what the job enqueued. A workbook whose
    caption carries the client's last text (the text, a blank line, then the workbook's own
    ``📎 Rekap ...`` line: reports.merged_caption) counts as the text and the workbook."""
    got: dict[tuple[str, str], set[str]] = {}
    for key, recipient, attachment, content in conn.execute(
            "SELECT dedupe_key, recipient, attachment IS NOT NULL, content FROM wa_outbox "
            "WHERE type = %s", (job,)).fetchall():
        client = key.split(":")[3]  # <type>:<period>:<daily|weekly|monthly|xlsx>:<CLIENT>...
        mine = got.setdefault((client, recipient), set())
        mine.add("xlsx" if attachment else "text")
        if attachment and not content.startswith("📎 Rekap"):
            mine.add("text")
    return got


# The old audiences (domain §3.7): org recap -> group, operator, super; directorate recaps ->
# the group and the super admins, never the operator nor ADMIN_WHATSAPP; the workbook only to
# directorate groups and super admins.
DEFAULTS = {("ORG", ORG_GROUP): {"text"}, ("ORG", ORG_OPERATOR): {"text"},
            ("ORG", ORG_SUPER): {"text", "xlsx"},
            ("DIR", DIR_GROUP): {"text", "xlsx"}, ("DIR", DIR_SUPER): {"text", "xlsx"}}


@pytest.mark.parametrize("job", sorted(SLOTS))
def test_the_default_routing_is_the_old_audiences(job: str, db_url: str,
                                                  conn: psycopg.Connection[Any]) -> None:
    seed(conn)
    spec, slot = SLOTS[job]
    outcome = run(db_url, spec, slot, admin_whatsapp=("081300000001",))
    assert outcome.status == "done", outcome.error
    assert received(conn, job) == DEFAULTS


def test_an_edited_row_changes_the_next_run_and_nobody_gets_a_report_twice(
        db_url: str, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    seed(conn)
    conn.execute("UPDATE clients SET client_operator = '081200000099', "
                 "client_super = '081200000099; 0812-0000-0099' WHERE client_id = 'DIR'")
    conn.execute("UPDATE clients SET client_super = NULL WHERE client_id = 'ORG'")
    # DIR (one client) now: operator without, super with the workbook, admins and a fixed group
    conn.execute("""
        INSERT INTO report_routing (report_kind, client_id, audience, recipient, attachment)
        VALUES ('daily_report', 'dir', 'operator', NULL, false),
               ('daily_report', 'dir', 'super', NULL, true),
               ('daily_report', 'dir', 'admins', NULL, false),
               ('daily_report', 'dir', 'fixed', '120363000000000031@g.us', false)""")
    spec, slot = SLOTS["daily_report"]
    with caplog.at_level(logging.WARNING):
        outcome = run(db_url, spec, slot, admin_whatsapp=("081300000001",))
    assert outcome.status == "done", outcome.error
    got = received(conn, "daily_report")
    assert got == {("ORG", ORG_GROUP): {"text"}, ("ORG", ORG_OPERATOR): {"text"},
                   ("DIR", SHARED): {"text", "xlsx"}, ("DIR", ADMIN): {"text"},
                   ("DIR", "120363000000000031@g.us"): {"text"}}
    # DIR sends two texts (IG, TikTok) and one workbook: SHARED (operator and twice super)
    # gets each once, the TikTok text (no post: one line) as the workbook's caption: 2 sends
    shared = conn.execute("SELECT content, attachment IS NOT NULL FROM wa_outbox "
                          "WHERE recipient = %s ORDER BY id", (SHARED,)).fetchall()
    assert [(c.split(" ")[0:5], a) for c, a in shared] == [
        (["Tidak", "ada", "konten", "pada", "akun"], False),
        (["Tidak", "ada", "konten", "pada", "akun"], True)]
    assert "Official Instagram" in shared[0][0] and "Official TikTok" in shared[1][0]
    assert shared[1][0].endswith("📎 Rekap Harian Engagement *DIREKTORAT DIR*\n"
                                 "Minggu, 22 November 2026")
    # ORG's routed super admins have no value: logged once, the others still get theirs
    warnings = [r.getMessage() for r in caplog.records
                if "no usable recipient" in r.getMessage()]
    assert warnings == ["daily_report: client ORG has no usable recipient for audience super "
                        "(client_super)"]


@pytest.mark.parametrize(("column", "value", "named"), [
    ("audience", "grup", "Key (audience)=(grup) is not present"),
    ("report_kind", "hourly_report", "Key (report_kind)=(hourly_report) is not present"),
])
def test_an_unknown_audience_or_report_kind_is_refused_by_name(
        conn: psycopg.Connection[Any], column: str, value: str, named: str) -> None:
    row = {"report_kind": "daily_report", "audience": "group"} | {column: value}
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as refused:
        conn.execute("INSERT INTO report_routing (report_kind, audience) "
                     "VALUES (%(report_kind)s, %(audience)s)", row)
    assert named in str(refused.value)
    assert f"report_routing_unknown_{column}" in str(refused.value)


def test_a_fixed_route_needs_its_recipient(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="report_routing_fixed_recipient"):
        conn.execute("INSERT INTO report_routing (report_kind, audience) "
                     "VALUES ('daily_report', 'fixed')")
