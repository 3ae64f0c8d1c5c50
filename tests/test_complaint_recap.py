"""Complaint answers about the recap the person saw, with the real report jobs.

A hand-built Cicero data set (LAMONGAN, an org client, and DITLANTAS, a directorate), the real
``daily_report`` (07.00, yesterday) and ``progress_report`` (15.20, today up to 15.20) runs,
then complaints as the gateway stores them (``wa_inbox``), taken in by ``complaint_intake`` and
answered by ``complaint_response`` as the scheduler runs them. The expected posts are computed
from the data below, never written as literals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from outbox.sql import QueryFile
from producers.complaints.answer import RecapPeriod, recap_period
from producers.complaints.intake import JOB as INTAKE
from producers.indonesian import date_with_day, datetime_long
from producers.jobs import reports
from producers.jobs.complaint_response import JOB as RESPONSE
from producers.jobs.complaint_response import ack_key, reply_key
from producers.runner import run_slot, run_unslotted
from producers.schedule import JAKARTA

TODAY = datetime(2026, 11, 23, 0, 0, tzinfo=JAKARTA)  # a Monday
YESTERDAY = TODAY - timedelta(days=1)
DAILY_AT = TODAY.replace(hour=7)
PROGRESS_AT = TODAY.replace(hour=15, minute=20)
GROUP = "120363000000000555@g.us"
GROUP_DIT = "120363000000000556@g.us"
BUDI_WA = "6281234567001@s.whatsapp.net"
EKO_WA = "6281234567003@s.whatsapp.net"
COMPLAINT_SQL = QueryFile("producers", "complaints.sql")
COMPLAINT_LINES = ("Sudah melaksanakan Instagram belum terdata",
                   "Sudah komen TikTok tapi belum terdata")


@dataclass(frozen=True)
class Person:
    nrp: str
    nama: str
    client_id: str
    insta: str
    tiktok: str
    whatsapp: str | None


BUDI = Person("75020201", "BUDI", "LAMONGAN", "Budi", "@budi_tt", "081234567001")
SARI = Person("75020202", "SARI", "LAMONGAN", "sari", "sari_tt", None)
EKO = Person("75020203", "EKO", "DITLANTAS", "eko", "eko_tt", "6281234567003")
PEOPLE = (BUDI, SARI, EKO)


@dataclass(frozen=True)
class Post:
    code: str
    client_id: str
    uploaded: datetime  # original_created_at: what the same-day recaps count by
    stored: datetime  # created_at (the fetch time)
    engaged: Sequence[str]  # handles as Cicero stores them

    @property
    def link(self) -> str:
        if self.code.startswith("V"):
            return f"https://www.tiktok.com/@{ACCOUNTS[self.client_id]}/video/{self.code}"
        return f"https://www.instagram.com/p/{self.code}/"


ACCOUNTS = {"LAMONGAN": "polreslamongan", "DITLANTAS": "ditlantas"}


def _p(code: str, client_id: str, day: datetime, hour: int, minute: int, engaged: Sequence[str],
       stored_after: timedelta = timedelta(0)) -> Post:
    at = day.replace(hour=hour, minute=minute)
    return Post(code, client_id, at, at + stored_after, engaged)


POSTS = (
    _p("Y1", "LAMONGAN", YESTERDAY, 7, 0, ["budi", "sari"]),
    _p("Y2", "LAMONGAN", YESTERDAY, 10, 0, ["sari"]),
    _p("Y3", "LAMONGAN", YESTERDAY, 20, 0, ["budi"]),
    _p("T1", "LAMONGAN", TODAY, 8, 0, ["budi"]),
    _p("T2", "LAMONGAN", TODAY, 12, 0, []),
    # uploaded 15.00, fetched 15.30: counted by the 15.20 recap (upload time)
    _p("T3", "LAMONGAN", TODAY, 15, 0, [], stored_after=timedelta(minutes=30)),
    _p("T4", "LAMONGAN", TODAY, 15, 40, []),  # after the 15.20 cut-off
    _p("D1", "DITLANTAS", YESTERDAY, 9, 0, []),
    _p("DT1", "DITLANTAS", TODAY, 10, 0, []),
)
VIDEOS = (
    _p("VY1", "LAMONGAN", YESTERDAY, 9, 0, ["@budi_tt"]),
    _p("VT1", "LAMONGAN", TODAY, 14, 0, []),
    _p("VT2", "LAMONGAN", TODAY, 16, 30, []),
)


def seed(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        INSERT INTO clients (client_id, nama, client_type, client_group, client_operator,
                             client_super, client_insta, client_tiktok)
        VALUES ('LAMONGAN', 'POLRES LAMONGAN', 'org', '120363000000000555', '081234500009',
                NULL, 'polreslamongan', 'polreslamongan'),
               ('DITLANTAS', 'DIREKTORAT LALU LINTAS', 'direktorat', '120363000000000556',
                NULL, NULL, 'ditlantas', 'ditlantas');
        INSERT INTO roles (role_name) VALUES ('ditlantas'), ('operator');
    """)
    for p in PEOPLE:
        conn.execute('INSERT INTO "user" (user_id, nama, title, client_id, insta, tiktok, '
                     "whatsapp) VALUES (%s, %s, 'BRIPKA', %s, %s, %s, %s)",
                     (p.nrp, p.nama, p.client_id, p.insta, p.tiktok, p.whatsapp))
        role = "ditlantas" if p.client_id == "DITLANTAS" else "operator"
        conn.execute("INSERT INTO user_roles (user_id, role_id) SELECT %s, role_id FROM roles "
                     "WHERE role_name = %s", (p.nrp, role))
    for post in POSTS:
        conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at, "
                     "original_created_at) VALUES (%s, %s, 'Kegiatan ' || %s, %s, %s)",
                     (post.code, post.client_id, post.code, post.stored, post.uploaded))
        conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, %s)",
                     (post.code, Jsonb(list(post.engaged))))
    for video in VIDEOS:
        conn.execute("INSERT INTO tiktok_post (video_id, client_id, caption, created_at, "
                     "original_created_at) VALUES (%s, %s, 'Video', %s, %s)",
                     (video.code, video.client_id, video.stored, video.uploaded))
        conn.execute("INSERT INTO tiktok_comment (video_id, comments) VALUES (%s, %s)",
                     (video.code, Jsonb(list(video.engaged))))


def run_recaps(conn: psycopg.Connection[Any]) -> None:
    """The day's recaps as the scheduler runs them: 07.00 daily, 15.20 same-day."""
    for spec, slot in ((reports.DAILY, DAILY_AT), (reports.PROGRESS, PROGRESS_AT)):
        outcome = run_slot(conn, spec, slot, now=slot + timedelta(seconds=5))
        assert outcome.status == "done", outcome.error
        assert outcome.result is not None and outcome.result.enqueued > 0


@pytest.fixture
def day(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    seed(conn)
    run_recaps(conn)
    return conn


# ---------------------------------------------------------------------------- oracles
def handle(value: str) -> str:
    return value.strip().lstrip("@").lower()


def expected_missing(person: Person, posts: Sequence[Post], period: RecapPeriod,
                     mine: str) -> list[Post]:
    """The person's client's posts of the period (uploaded up to its cut-off) without his
    handle."""
    return [p for p in posts
            if p.client_id == person.client_id
            and p.stored.astimezone(JAKARTA).date() == period.day
            and (period.upto is None or p.uploaded <= period.upto)
            and handle(mine) not in {handle(h) for h in p.engaged}]


def complain(conn: psycopg.Connection[Any], person: Person, chat: str, sender: str,
             at: datetime, message_id: str) -> dict[str, Any]:
    """The complaint as the gateway stores it, taken in and answered five minutes later."""
    text = "\n".join(["Pesan Komplain", f"NRP : {person.nrp}", f"Nama : {person.nama}",
                      "Kendala", *(f"- {line}" for line in COMPLAINT_LINES)])
    conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text, received_at) "
                 "VALUES (%s, %s, %s, %s, %s)", (chat, sender, message_id, text, at))
    assert run_unslotted(conn, INTAKE, now=at).status == "done"
    answered_at = at + timedelta(minutes=5)
    outcome = run_slot(conn, RESPONSE, answered_at, now=answered_at)
    assert outcome.status == "done", outcome.error
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM complaint_queue WHERE inbox_id = "
                    "(SELECT id FROM wa_inbox WHERE wa_message_id = %s)", (message_id,))
        row = cur.fetchone()
    assert row is not None and row["status"] == "responded", row
    return row


def message(conn: psycopg.Connection[Any], key: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM wa_outbox WHERE dedupe_key = %s", (key,))
        return cur.fetchone()


# ---------------------------------------------------------------------------- the cases
DAILY_PERIOD = RecapPeriod(YESTERDAY.date(), None, "daily_report", DAILY_AT)
PROGRESS_PERIOD = RecapPeriod(TODAY.date(), PROGRESS_AT, "progress_report", PROGRESS_AT)


@pytest.mark.parametrize(("arrival", "period", "label"), [
    (TODAY.replace(hour=8, minute=5), DAILY_PERIOD,
     f"rekap tanggal {date_with_day(YESTERDAY)} (00.00–23.59 WIB)"),
    (TODAY.replace(hour=16), PROGRESS_PERIOD,
     f"rekap tanggal {date_with_day(TODAY)} s.d. 15.20 WIB"),
], ids=["08.05-yesterday", "16.00-today-to-15.20"])
def test_the_answer_checks_the_recap_the_person_saw(
        day: psycopg.Connection[Any], arrival: datetime, period: RecapPeriod,
        label: str) -> None:
    row = complain(day, BUDI, GROUP, BUDI_WA, arrival, f"m-{arrival:%H%M}")
    reply = message(day, reply_key(row["id"]))
    assert reply is not None and row["outbox_id"] == reply["id"]
    # privately, on his registered number
    assert reply["recipient"] == BUDI_WA
    text = reply["content"]
    assert (f"*Rekap yang dicek*: {label}, rekap terakhir yang dikirim ke satker Anda sebelum "
            f"komplain ini ({datetime_long(period.slot or arrival)}).") in text
    complete = 0
    for platform, posts, mine in (("instagram", POSTS, BUDI.insta),
                                  ("tiktok", VIDEOS, BUDI.tiktok)):
        missing = expected_missing(BUDI, posts, period, mine)
        assert any(p.client_id == BUDI.client_id for p in posts)
        for post in posts:
            assert (post.link in text) == (post in missing), (platform, post.code)
        if not missing:  # his handle is on every post of that recap
            complete += 1
            assert (f"gangguan pencatatan: akun *@{handle(mine)}* tercatat memberikan"
                    in text)
    # "no recording fault" once per platform whose posts all carry his handle, never otherwise
    assert text.count("tidak menemukan gangguan pencatatan") == complete
    assert complete == (1 if period.upto is None else 0)  # the data set has both cases
    # the group it was posted in gets one line
    ack = message(day, ack_key(row["id"]))
    assert ack is not None and ack["recipient"] == GROUP
    assert len(ack["content"].splitlines()) == 1
    assert "dikirim secara pribadi" in ack["content"] and BUDI.nrp in ack["content"]
    assert day.execute("SELECT count(*) FROM wa_outbox WHERE type = 'complaint_response'"
                       ).fetchone() == (2,)


def test_a_private_complaint_from_the_registered_number_gets_no_acknowledgement(
        day: psycopg.Connection[Any]) -> None:
    row = complain(day, BUDI, BUDI_WA, BUDI_WA, TODAY.replace(hour=16), "private")
    reply = message(day, reply_key(row["id"]))
    assert reply is not None and reply["recipient"] == BUDI_WA
    assert message(day, ack_key(row["id"])) is None


def test_a_complaint_from_another_number_is_answered_on_the_registered_one(
        day: psycopg.Connection[Any]) -> None:
    other = "6281299990002@s.whatsapp.net"
    row = complain(day, BUDI, other, other, TODAY.replace(hour=16), "other-number")
    reply = message(day, reply_key(row["id"]))
    assert reply is not None and reply["recipient"] == BUDI_WA
    ack = message(day, ack_key(row["id"]))
    assert ack is not None and ack["recipient"] == other


def test_no_registered_number_answers_in_the_chat_and_says_so_in_the_log(
        day: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    assert SARI.whatsapp is None
    with caplog.at_level(logging.WARNING, logger="producers.jobs.complaint_response"):
        row = complain(day, SARI, GROUP, "6281299990001@s.whatsapp.net",
                       TODAY.replace(hour=16), "sari")
    reply = message(day, reply_key(row["id"]))
    assert reply is not None and reply["recipient"] == GROUP
    assert "nomor WhatsApp personel belum terdaftar" in reply["content"]
    assert message(day, ack_key(row["id"])) is None
    logged = [r.getMessage() for r in caplog.records if "not privately" in r.getMessage()]
    assert logged == [f"complaint {row['id']}: answered in the chat, not privately: "
                      "no registered number"]


def test_a_client_left_out_of_the_same_day_recap_is_checked_against_yesterday(
        day: psycopg.Connection[Any]) -> None:
    """DITLANTAS (a directorate) gets the 07.00 recap but no 15.20 one (report_routing): at
    16.00 its personnel's last recap is still yesterday's."""
    sent = day.execute("SELECT count(*) FROM wa_outbox WHERE type = 'progress_report' "
                       "AND recipient = %s", (GROUP_DIT,)).fetchone()
    assert sent == (0,)
    row = complain(day, EKO, GROUP_DIT, EKO_WA, TODAY.replace(hour=16), "eko")
    reply = message(day, reply_key(row["id"]))
    assert reply is not None and reply["recipient"] == EKO_WA
    assert f"rekap tanggal {date_with_day(YESTERDAY)} (00.00–23.59 WIB)" in reply["content"]
    missing = expected_missing(EKO, POSTS, DAILY_PERIOD, EKO.insta)
    assert missing
    for post in POSTS:
        assert (post.link in reply["content"]) == (post in missing), post.code


@pytest.mark.parametrize(("arrival", "expected"), [
    (TODAY.replace(hour=6, minute=59), RecapPeriod(YESTERDAY.date(), None)),
    (DAILY_AT, DAILY_PERIOD),
    (TODAY.replace(hour=15, minute=19), DAILY_PERIOD),
    (PROGRESS_AT, PROGRESS_PERIOD),
    (TODAY.replace(hour=23, minute=59), PROGRESS_PERIOD),
], ids=["before-any-recap", "07.00", "15.19", "15.20", "23.59"])
def test_recap_period_boundaries(day: psycopg.Connection[Any], arrival: datetime,
                                 expected: RecapPeriod) -> None:
    assert recap_period(day, "LAMONGAN", arrival) == expected
    day.execute("SET TIME ZONE 'Pacific/Kiritimati'")  # the session zone plays no part
    assert recap_period(day, "LAMONGAN", arrival.astimezone(JAKARTA)) == expected


def test_operator_lists_split_like_the_reports(conn: psycopg.Connection[Any]) -> None:
    """valid_recipients (complaint forwards) and cicero_split_list (the recaps) agree, CRLF
    included: a JID followed by CR LF is one recipient, not refused."""
    raw = ("6281234500001@s.whatsapp.net\r\n0812-3450-0002;\r\n\r\n"
           "628123450003@c.us , 0812-3450-0002\rbukan-nomor")
    reports_side = [r[0] for r in conn.execute(
        "SELECT p.jid FROM cicero_split_list(%s) s CROSS JOIN LATERAL wa_parse_recipient(s.item) p"
        " WHERE p.problem IS NULL ORDER BY s.ord", (raw,))]
    expected = ["6281234500001@s.whatsapp.net", "6281234500002@s.whatsapp.net",
                "628123450003@s.whatsapp.net"]
    assert list(dict.fromkeys(reports_side)) == expected
    found = [r[0] for r in conn.execute(COMPLAINT_SQL("valid_recipients"), {"raw": raw})]
    assert found == expected
    # the old split on [,;\n] kept the CR on the first JID, which the outbox refuses
    old = conn.execute(
        "SELECT (wa_parse_recipient(e)).problem FROM regexp_split_to_table(%s, '[,;\\n]+') e "
        "LIMIT 1", (raw,)).fetchone()
    assert old is not None and old[0] is not None
