"""Naive Cicero post times and the Jakarta day (docs/operations/cicero-database.md).

On the Cicero_V2 schema ``insta_post.created_at`` and ``tiktok_post.created_at`` are naive
``timestamp`` columns holding the UTC wall clock (the contract); on the fetch cronjob's schema
(CF) ``tiktok_post.created_at`` is ``timestamptz``. Every report reads them through the adapter
(views/adapter.py), which must put each post on its Jakarta day whatever the session's TimeZone,
and read the naive columns as the wall clock of ``CICERO_NAIVE_TIME_ZONE`` (default UTC) for the
servers that wrote Jakarta wall time. These tests load the faithful V2 / CF DDL
(tests/cicero_variants), write the naive values explicitly (never an aware value PostgreSQL would
convert with the writing session's TimeZone), migrate, and read the answers under the sessions
``UTC``, ``Asia/Jakarta`` and ``America/Los_Angeles``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from outbox import migrate
from outbox.sql import query
from tests.cicero_variants import VARIANTS, load
from tests.dev import devdb
from tests.view_fixtures import Cicero
from views import adapter

JAKARTA = ZoneInfo("Asia/Jakarta")
SESSION_ZONES = ("UTC", "Asia/Jakarta", "America/Los_Angeles")
NAIVE = "timestamp without time zone"
AWARE = "timestamp with time zone"
CLIENT = "BATU"
CLIENT_NAME = "POLRES BATU"
CLIENT_TIKTOK = "polresbatu"
GROUP = "120363000000000001"
GROUP_JID = GROUP + "@g.us"
BUDI = "1001"  # the one operator: handle 'budi' on both platforms
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]
MONTHS_SHORT = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                "Des"]
PLATFORMS = ("ig", "tiktok")
LABEL = {"ig": "Instagram", "tiktok": "TikTok"}
HEAD = {"ig": "📸", "tiktok": "🎵"}


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """An instant given as its UTC wall clock."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def wib(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """An instant given as its Jakarta wall clock."""
    return datetime(year, month, day, hour, minute, second, tzinfo=JAKARTA)


def long_date(d: date) -> str:  # id_date_long
    return f"{DAYS_ID[d.weekday()]}, {d.day} {MONTHS_ID[d.month - 1]} {d.year}"


def short_stamp(instant: datetime) -> str:  # id_datetime_short, Jakarta wall clock
    w = instant.astimezone(JAKARTA)
    return (f"{DAYS_ID[w.weekday()]}, {w.day:02d} {MONTHS_SHORT[w.month - 1]} {w.year}, "
            f"{w.hour:02d}.{w.minute:02d}")


def long_stamp(instant: datetime) -> str:  # id_datetime_long, Jakarta wall clock
    w = instant.astimezone(JAKARTA)
    return f"{long_date(w.date())} pukul {w.hour:02d}.{w.minute:02d}"


# ------------------------------------------------------------------------------ the data
@dataclass(frozen=True)
class Post:
    platform: str  # 'ig' | 'tiktok'
    post_id: str  # shortcode / video_id
    instant: datetime  # aware: when it was posted
    done: bool  # budi liked (ig) / commented (tiktok)

    @property
    def day(self) -> date:
        """The Jakarta day the post belongs to: derived from the instant, nothing else."""
        return self.instant.astimezone(JAKARTA).date()

    @property
    def daily_link(self) -> str:
        if self.platform == "ig":
            return f"https://www.instagram.com/p/{self.post_id}"
        return f"https://www.tiktok.com/@{CLIENT_TIKTOK}/video/{self.post_id}"

    @property
    def task_link(self) -> str:
        return self.daily_link + ("/" if self.platform == "ig" else "")


# Test 1: stored naive (UTC wall clock) 16:59, 17:00, 17:30, 23:30 of 21 Nov, plus both ends of
# 22 Nov. Ids sort the other way round from the times (the lists are in time order).
BOUNDARY_UTC = [utc(2026, 11, 21, 16, 59), utc(2026, 11, 21, 17, 0), utc(2026, 11, 21, 17, 30),
                utc(2026, 11, 21, 23, 30), utc(2026, 11, 22, 16, 59), utc(2026, 11, 22, 17, 0)]
BOUNDARY: dict[str, list[Post]] = {
    "ig": [Post("ig", f"IG{9 - i}", at, i % 2 == 0) for i, at in enumerate(BOUNDARY_UTC)],
    "tiktok": [Post("tiktok", f"TT{9 - i}", at, i % 2 == 1) for i, at in enumerate(BOUNDARY_UTC)],
}
BOUNDARY_DAYS = [date(2026, 11, 20) + timedelta(days=n) for n in range(5)]  # 20..24 Nov
# Test 2 (the bug report): 22 Nov 06:30 WIB, liked/commented; 23 Nov 00:30 WIB, not.
BUG: dict[str, list[Post]] = {
    "ig": [Post("ig", "CApel", wib(2026, 11, 22, 6, 30), True),
           Post("ig", "CMalam", wib(2026, 11, 23, 0, 30), False)],
    "tiktok": [Post("tiktok", "7301", wib(2026, 11, 22, 6, 30), True),
               Post("tiktok", "7302", wib(2026, 11, 23, 0, 30), False)],
}
# Test 3: a post of 22 Nov 18:00 WIB: read as UTC it moves to 23 Nov 01:00 WIB.
EVENING: dict[str, list[Post]] = {
    "ig": [Post("ig", "CSore", wib(2026, 11, 22, 18, 0), True)],
    "tiktok": [Post("tiktok", "7303", wib(2026, 11, 22, 18, 0), True)],
}


def test_the_expected_days_are_the_jakarta_days() -> None:
    """The derivation the expectations rely on, against docs/operations/cicero-database.md."""
    days = [p.day for p in BOUNDARY["ig"]]
    assert days == [date(2026, 11, 21)] + [date(2026, 11, 22)] * 4 + [date(2026, 11, 23)]
    assert [p.instant.astimezone(JAKARTA).strftime("%H:%M") for p in BOUNDARY["ig"]] == [
        "23:59", "00:00", "00:30", "06:30", "23:59", "00:00"]
    # The bug report's posts are stored (naive UTC) 21 Nov 23:30 and 22 Nov 17:30.
    assert [p.instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for p in BUG["ig"]] == [
        "2026-11-21 23:30", "2026-11-22 17:30"]


def column_type(conn: psycopg.Connection[Any], table: str) -> str:
    row = conn.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = %s AND column_name = 'created_at'", (table,)).fetchone()
    assert row is not None
    return str(row[0])


def stored_value(instant: datetime, kind: str, wall_zone: ZoneInfo | None) -> datetime:
    """What a writer puts in created_at: an aware instant for timestamptz; for a naive column
    the wall clock of ``wall_zone`` (UTC: the contract), as a naive value stored verbatim."""
    if kind == AWARE:
        return instant
    assert kind == NAIVE
    return instant.astimezone(wall_zone or UTC).replace(tzinfo=None)


def insert_posts(conn: psycopg.Connection[Any], posts: Sequence[Post], *,
                 wall_zone: ZoneInfo | None = None) -> None:
    """The posts with budi in the like / comment list of those he did (and a stranger in all),
    written in reverse time order; each naive value is checked to be stored verbatim."""
    for post in reversed(posts):
        table = "insta_post" if post.platform == "ig" else "tiktok_post"
        kind = column_type(conn, table)
        value = stored_value(post.instant, kind, wall_zone)
        handles = (["budi"] if post.platform == "ig" else ["@budi"]) if post.done else []
        handles.append("orang_lain")
        if post.platform == "ig":
            conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, created_at)"
                         " VALUES (%s, %s, %s, %s)", (post.post_id, CLIENT, "Kegiatan", value))
            conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, %s)",
                         (post.post_id, json.dumps(handles)))
        else:
            conn.execute("INSERT INTO tiktok_post (video_id, client_id, caption, created_at)"
                         " VALUES (%s, %s, %s, %s)", (post.post_id, CLIENT, "Video", value))
            conn.execute("INSERT INTO tiktok_comment (video_id, comments) VALUES (%s, %s)",
                         (post.post_id, json.dumps(handles)))
        key = "shortcode" if post.platform == "ig" else "video_id"
        row = conn.execute(sql.SQL("SELECT created_at FROM {} WHERE {} = %s").format(
            sql.Identifier(table), sql.Identifier(key)), (post.post_id,)).fetchone()
        assert row is not None and row[0] == value, (post, row)


def seed_client(conn: psycopg.Connection[Any]) -> None:
    db = Cicero(conn)
    db.client(CLIENT, CLIENT_NAME, group=GROUP, tiktok=CLIENT_TIKTOK)
    db.user(BUDI, CLIENT, "BUDI", insta="budi", tiktok="@budi")  # role 'operator'


# budi reported an amplification link (link_report) on this boundary post only.
REPORTED = BOUNDARY["ig"][1].post_id


def build(url: str, variant: str, posts: dict[str, list[Post]], *,
          wall_zone: ZoneInfo | None = None, naive_time_zone: str | None = None) -> str:
    """Load the variant, write the data from a session in a third time zone (the values do not
    depend on it), then migrate (the adapter is rendered for this database)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'America/Los_Angeles'")
        load(conn, variant)
        seed_client(conn)
        insert_posts(conn, posts["ig"] + posts["tiktok"], wall_zone=wall_zone)
        if posts is BOUNDARY:
            conn.execute("INSERT INTO link_report (shortcode, user_id, instagram_link)"
                         " VALUES (%s, %s, 'https://www.instagram.com/p/x/')",
                         (REPORTED, BUDI))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(adapter.NAIVE_TIME_ZONE_VARIABLE, raising=False)
        migrate.upgrade(url, naive_time_zone=naive_time_zone)
    return url


class Databases:
    """Fresh databases on the test server, dropped at teardown; built ones can be shared."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.names: list[str] = []
        self.built: dict[str, str] = {}

    def new(self) -> str:
        self.names.append(f"t_{uuid.uuid4().hex[:16]}")
        return devdb.create_database(self.server, self.names[-1])

    def shared(self, key: str, make: Callable[[str], str]) -> str:
        if key not in self.built:
            self.built[key] = make(self.new())
        return self.built[key]

    def drop(self) -> None:
        for name in self.names:
            devdb.drop_database(self.server, name)


@pytest.fixture(scope="module")
def dbs(pg_server: str) -> Iterator[Databases]:
    found = Databases(pg_server)
    yield found
    found.drop()


def boundary_db(dbs: Databases, variant: str) -> str:
    return dbs.shared(f"boundary:{variant}", lambda url: build(url, variant, BOUNDARY))


def bug_db(dbs: Databases) -> str:
    return dbs.shared("bug", lambda url: build(url, "v2", BUG))


@contextmanager
def session(url: str, zone: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (zone,))
        row = conn.execute("SHOW TimeZone").fetchone()
        assert row == (zone,)
        yield conn


def rows(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.encode() if params is None else sql, params)
        return list(cur.fetchall())


# ------------------------------------------------------------------------------ readers
def daily_messages(conn: psycopg.Connection[Any], day: date) -> dict[str, str]:
    """message_key -> the text of the client's daily recap of ``day`` (one text per key)."""
    found: dict[str, set[str]] = {}
    for row in rows(conn, "SELECT message_key, recipient, summary FROM daily_report_view"
                          " WHERE report_date = %s AND client_id = %s", (day, CLIENT)):
        assert row["recipient"] == GROUP_JID
        found.setdefault(row["message_key"], set()).add(row["summary"])
    assert all(len(texts) == 1 for texts in found.values()), found
    return {key: next(iter(texts)) for key, texts in found.items()}


def recap_links(text: str) -> list[str]:
    """The links of a daily recap (checked against its '*Jumlah Konten:*'); [] for the
    no-content notice."""
    if text.startswith("Tidak ada konten"):
        return []
    lines = text.split("\n")
    (count,) = [int(line.split()[-1]) for line in lines if line.startswith("*Jumlah Konten:* ")]
    start = lines.index("*Daftar Link Konten:*") + 1
    assert lines[start + count] == ""
    return lines[start:start + count]


def bucket_of(text: str, line: str) -> str:
    """The org recap bucket ('Lengkap' / 'Kurang' / 'Belum') whose list holds ``line``."""
    lines = text.split("\n")
    assert lines.count(line) == 1, (line, text)
    for previous in reversed(lines[:lines.index(line)]):
        for bucket in ("Lengkap", "Kurang", "Belum"):
            if previous.startswith(("✅ ", "⚠️ ", "❌ ")) and f" {bucket} (" in previous:
                return bucket
    raise AssertionError(f"{line!r} is in no bucket")


def expected_status(done: int, posts: int) -> str:
    return "Lengkap" if done == posts else "Kurang" if done else "Belum"


def assert_daily_recaps(conn: psycopg.Connection[Any], posts: dict[str, list[Post]],
                        days: Sequence[date]) -> None:
    """daily_report_view and report_user_day of ``days`` against the posts: each recap lists
    exactly the posts of its Jakarta day (time order) and budi's x/N of that day."""
    for day in days:
        messages = daily_messages(conn, day)
        assert set(messages) == {f"daily:{CLIENT}:ig", f"daily:{CLIENT}:tiktok"}
        expected_user: dict[str, tuple[int, int, str]] = {}
        for platform in PLATFORMS:
            text = messages[f"daily:{CLIENT}:{platform}"]
            mine = sorted((p for p in posts[platform] if p.day == day),
                          key=lambda p: (p.instant, p.post_id))
            assert recap_links(text) == [p.daily_link for p in mine], (day, platform)
            done = sum(p.done for p in mine)
            expected_user[platform] = (len(mine), done, expected_status(done, len(mine)).lower())
            if not mine:
                assert text == (f"Tidak ada konten pada akun Official {LABEL[platform]} "
                                f"*{CLIENT_NAME}* pada {long_date(day)}.")
                continue
            lines = text.split("\n")
            assert long_date(day) in lines
            assert f"*Jumlah Konten:* {len(mine)}" in lines
            assert "*Jumlah user:* 1 user" in lines
            status = expected_status(done, len(mine))
            assert (f"✅ *Melaksanakan lengkap:* {int(status == 'Lengkap')} user") in lines
            assert (f"⚠️ *Melaksanakan kurang lengkap:* {int(status == 'Kurang')} user") in lines
            person = f"- BRIPKA BUDI : @budi ({done}/{len(mine)} konten)"
            assert bucket_of(text, person) == status, (day, platform, text)
        user = rows(conn, "SELECT ig_posts, ig_done, ig_status, tiktok_posts, tiktok_done,"
                          " tiktok_status FROM report_user_day"
                          " WHERE report_date = %s AND client_id = %s AND user_id = %s",
                    (day, CLIENT, BUDI))
        if not any(n for n, _, _ in expected_user.values()):
            assert user == []
            continue
        ig, tt = expected_user["ig"], expected_user["tiktok"]
        assert user == [{
            "ig_posts": ig[0], "ig_done": ig[1],
            "ig_status": ig[2] if ig[0] else "tidak_ada_konten",
            "tiktok_posts": tt[0], "tiktok_done": tt[1],
            "tiktok_status": tt[2] if tt[0] else "tidak_ada_konten"}], day


def task_list(conn: psycopg.Connection[Any], as_of: datetime) -> list[dict[str, Any]]:
    return rows(conn, "SELECT task_date, delivered_at, recipient, ig_count, tiktok_count,"
                      " summary FROM task_delivery_recap_at(%s) WHERE client_id = %s",
                (as_of, CLIENT))


def task_items(text: str, platform: str) -> list[tuple[str, str]]:
    """(link, upload line) of each post listed in a task list's section for ``platform``."""
    lines = text.split("\n")
    heading = [i for i, line in enumerate(lines)
               if line.startswith(f"{HEAD[platform]} *Tugas {LABEL[platform]} (")]
    assert len(heading) == 1
    items: list[tuple[str, str]] = []
    i = heading[0] + 1
    while i < len(lines) and lines[i] != "":
        if lines[i] == "-":
            break
        number, link = lines[i].split(". ", 1)
        assert number == str(len(items) + 1)
        items.append((link, lines[i + 2]))
        i += 4
    return items


def assert_task_list(conn: psycopg.Connection[Any], posts: dict[str, list[Post]],
                     as_of: datetime) -> None:
    """The task list at ``as_of``: the posts of as_of's Jakarta day created up to as_of."""
    day = as_of.astimezone(JAKARTA).date()
    listed = {platform: sorted((p for p in posts[platform]
                                if p.day == day and p.instant <= as_of),
                               key=lambda p: (p.instant, p.post_id))
              for platform in PLATFORMS}
    found = task_list(conn, as_of)
    if not any(listed.values()):
        assert found == [], as_of
        return
    assert len(found) == 1, found
    (row,) = found
    assert row["task_date"] == day
    assert row["delivered_at"] == as_of
    assert row["recipient"] == GROUP_JID
    assert (row["ig_count"], row["tiktok_count"]) == (len(listed["ig"]), len(listed["tiktok"]))
    text = row["summary"]
    assert f"🕒 Pengambilan data: {long_stamp(as_of)} WIB" in text.split("\n")
    for platform in PLATFORMS:
        assert task_items(text, platform) == [
            (p.task_link, f"   Upload: {short_stamp(p.instant)} WIB") for p in listed[platform]
        ], (as_of, platform)


# Around each edge: just before a post, at it, after it, and the days' first and last second.
AS_OF = [utc(2026, 11, 21, 16, 58, 59), utc(2026, 11, 21, 16, 59), utc(2026, 11, 21, 16, 59, 59),
         utc(2026, 11, 21, 17, 0), utc(2026, 11, 21, 17, 29, 59), utc(2026, 11, 21, 17, 30),
         utc(2026, 11, 21, 23, 29), utc(2026, 11, 21, 23, 30), utc(2026, 11, 22, 16, 59, 59),
         utc(2026, 11, 22, 17, 0), utc(2026, 11, 23, 16, 59, 59)]


def test_the_as_of_instants_cover_each_case() -> None:
    counts = [sum(p.day == a.astimezone(JAKARTA).date() and p.instant <= a
                  for p in BOUNDARY["ig"]) for a in AS_OF]
    assert counts == [0, 1, 1, 1, 1, 2, 2, 3, 4, 1, 1]


# ------------------------------------------------------------------------------ 1. boundary
@pytest.mark.parametrize("zone", SESSION_ZONES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_daily_recap_puts_each_post_on_its_jakarta_day(dbs: Databases, variant: str,
                                                       zone: str) -> None:
    url = boundary_db(dbs, variant)
    with session(url, zone) as conn:
        # The variant is the one meant: naive IG everywhere, TikTok naive on V2 only.
        assert column_type(conn, "insta_post") == NAIVE
        assert column_type(conn, "tiktok_post") == (NAIVE if variant == "v2" else AWARE)
        assert_daily_recaps(conn, BOUNDARY, BOUNDARY_DAYS)
        # Concretely: 21 Nov holds the 16:59 UTC post only, 22 Nov the next four.
        assert recap_links(daily_messages(conn, date(2026, 11, 21))[f"daily:{CLIENT}:ig"]) == [
            "https://www.instagram.com/p/IG9"]
        assert recap_links(daily_messages(conn, date(2026, 11, 22))[f"daily:{CLIENT}:ig"]) == [
            f"https://www.instagram.com/p/IG{n}" for n in (8, 7, 6, 5)]


@pytest.mark.parametrize("zone", SESSION_ZONES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_task_list_holds_the_posts_of_the_jakarta_day_up_to_as_of(dbs: Databases, variant: str,
                                                                  zone: str) -> None:
    url = boundary_db(dbs, variant)
    with session(url, zone) as conn:
        for as_of in AS_OF:
            assert_task_list(conn, BOUNDARY, as_of)
        # Concretely: at 00:00 WIB of 22 Nov only the post of that very second.
        (row,) = task_list(conn, utc(2026, 11, 21, 17, 0))
        assert row["task_date"] == date(2026, 11, 22)
        assert task_items(row["summary"], "ig") == [
            ("https://www.instagram.com/p/IG8/", "   Upload: Minggu, 22 Nov 2026, 00.00 WIB")]


def snapshot(conn: psycopg.Connection[Any]) -> list[Any]:
    """Every answer of the tests above, as the database gives it."""
    out: list[Any] = []
    for day in BOUNDARY_DAYS:
        out.append(rows(conn, "SELECT * FROM daily_report_view WHERE report_date = %s"
                              " ORDER BY message_key, recipient", (day,)))
        out.append(rows(conn, "SELECT * FROM report_user_day WHERE report_date = %s"
                              " ORDER BY client_id, user_id", (day,)))
    out.append(rows(conn, "SELECT * FROM report_ig_post ORDER BY shortcode"))
    out.append(rows(conn, "SELECT * FROM report_tiktok_post ORDER BY video_id"))
    for as_of in AS_OF:
        out.append(rows(conn, "SELECT * FROM task_delivery_recap_at(%s)"
                              " ORDER BY client_id, recipient", (as_of,)))
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_answers_do_not_depend_on_the_session_timezone(dbs: Databases, variant: str) -> None:
    url = boundary_db(dbs, variant)
    found = {}
    for zone in SESSION_ZONES:
        with session(url, zone) as conn:
            found[zone] = snapshot(conn)
    assert sum(len(part) for part in found["UTC"]) > 30
    assert found["Asia/Jakarta"] == found["UTC"]
    assert found["America/Los_Angeles"] == found["UTC"]
    # timestamptz values compare as instants: check the report_date text too.
    with session(url, "UTC") as conn:
        assert [r["d"] for r in rows(conn, "SELECT report_date::text AS d FROM report_ig_post"
                                           " ORDER BY created_at")] == [
            p.day.isoformat() for p in BOUNDARY["ig"]]


# ------------------------------------------------------------------------------ 2. bug report
def assert_bug_report_answer(conn: psycopg.Connection[Any]) -> None:
    """The bug report: the 22 Nov recap counts the 06:30 WIB post only and marks budi
    Lengkap (1/1); the 23 Nov recap holds the 00:30 WIB post."""
    assert_daily_recaps(conn, BUG, [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23),
                                    date(2026, 11, 24)])
    day22 = daily_messages(conn, date(2026, 11, 22))
    for platform in PLATFORMS:
        text = day22[f"daily:{CLIENT}:{platform}"]
        lines = text.split("\n")
        assert recap_links(text) == [BUG[platform][0].daily_link]
        assert "*Jumlah Konten:* 1" in lines
        assert "✅ *Melaksanakan lengkap:* 1 user" in lines
        assert "⚠️ *Melaksanakan kurang lengkap:* 0 user" in lines
        line = "- BRIPKA BUDI : @budi (1/1 konten)"
        assert bucket_of(text, line) == "Lengkap"
        assert "⚠️ Kurang (0 user):" in lines
        assert "(1/2 konten)" not in text
    day23 = daily_messages(conn, date(2026, 11, 23))
    for platform in PLATFORMS:
        text = day23[f"daily:{CLIENT}:{platform}"]
        assert recap_links(text) == [BUG[platform][1].daily_link]
        assert bucket_of(text, "- BRIPKA BUDI : @budi (0/1 konten)") == "Belum"
    user = rows(conn, "SELECT report_date, ig_posts, ig_done, ig_status FROM report_user_day"
                      " WHERE user_id = %s ORDER BY report_date", (BUDI,))
    assert user == [
        {"report_date": date(2026, 11, 22), "ig_posts": 1, "ig_done": 1, "ig_status": "lengkap"},
        {"report_date": date(2026, 11, 23), "ig_posts": 1, "ig_done": 0, "ig_status": "belum"}]
    # The task list of the morning of 22 Nov shows the 06:30 post, uploaded 06.30 WIB.
    (row,) = task_list(conn, wib(2026, 11, 22, 7, 0))
    assert task_items(row["summary"], "ig") == [
        ("https://www.instagram.com/p/CApel/", "   Upload: Minggu, 22 Nov 2026, 06.30 WIB")]


@pytest.mark.parametrize("zone", SESSION_ZONES)
def test_the_bug_report_scenario(dbs: Databases, zone: str) -> None:
    url = bug_db(dbs)
    with session(url, zone) as conn:
        stored = conn.execute("SELECT shortcode, created_at::text FROM insta_post"
                              " ORDER BY shortcode").fetchall()
        assert stored == [("CApel", "2026-11-21 23:30:00"), ("CMalam", "2026-11-22 17:30:00")]
        assert_bug_report_answer(conn)


# ------------------------------------------------------------------------------ 3. setting
def naive_zone_of(url: str) -> tuple[str, str]:
    """(the zone recorded in cicero_adapter, the conversion in cicero_insta_posts' body)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT naive_time_zone FROM cicero_adapter").fetchone()
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'cicero_insta_posts'"
                            ).fetchone()
    assert row is not None and body is not None
    return str(row[0]), str(body[0])


def add_posts(url: str, posts: dict[str, list[Post]], wall_zone: ZoneInfo) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        insert_posts(conn, posts["ig"] + posts["tiktok"], wall_zone=wall_zone)


def test_jakarta_wall_time_setting_decides_the_day(dbs: Databases,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(adapter.NAIVE_TIME_ZONE_VARIABLE, raising=False)
    jkt = build(dbs.new(), "v2", BUG, wall_zone=JAKARTA, naive_time_zone="Asia/Jakarta")
    default = build(dbs.new(), "v2", BUG, wall_zone=JAKARTA)
    for url in (jkt, default):  # the server wrote Jakarta wall time
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT shortcode, created_at::text FROM insta_post"
                                " ORDER BY shortcode").fetchall() == [
                ("CApel", "2026-11-22 06:30:00"), ("CMalam", "2026-11-23 00:30:00")]
    assert naive_zone_of(jkt)[0] == "Asia/Jakarta"
    assert "AT TIME ZONE 'Asia/Jakarta')" in naive_zone_of(jkt)[1].split("AS created_at")[0]
    assert naive_zone_of(default)[0] == "UTC"

    # Read as Jakarta wall time: exactly the answers of the contract's database (test 2).
    for zone in SESSION_ZONES:
        with session(jkt, zone) as conn:
            assert_bug_report_answer(conn)

    # Read as UTC (the default, wrong for this server): every post 7 hours later. 06:30 WIB
    # becomes 13:30 WIB: absent from the 07:00 task list, uploaded "13.30".
    shifted = {platform: [Post(p.platform, p.post_id, p.instant + timedelta(hours=7), p.done)
                          for p in posts] for platform, posts in BUG.items()}
    for zone in SESSION_ZONES:
        with session(default, zone) as conn:
            assert task_list(conn, wib(2026, 11, 22, 7, 0)) == []
            (row,) = task_list(conn, wib(2026, 11, 22, 14, 0))
            assert task_items(row["summary"], "ig") == [
                ("https://www.instagram.com/p/CApel/",
                 "   Upload: Minggu, 22 Nov 2026, 13.30 WIB")]
            assert task_list(conn, wib(2026, 11, 23, 7, 29)) == []
            assert_task_list(conn, shifted, wib(2026, 11, 23, 7, 30))

    # A post of 22 Nov 18:00 WIB: on the 22 Nov recap with the setting, on 23 Nov without.
    add_posts(jkt, EVENING, JAKARTA)
    add_posts(default, EVENING, JAKARTA)
    both = {platform: BUG[platform] + EVENING[platform] for platform in PLATFORMS}
    both_shifted = {platform: shifted[platform]
                    + [Post(p.platform, p.post_id, p.instant + timedelta(hours=7), p.done)
                       for p in EVENING[platform]] for platform in PLATFORMS}
    days = [date(2026, 11, 22), date(2026, 11, 23)]
    for zone in SESSION_ZONES:
        with session(jkt, zone) as conn:
            assert_daily_recaps(conn, both, days)
            text = daily_messages(conn, days[0])[f"daily:{CLIENT}:ig"]
            assert recap_links(text) == ["https://www.instagram.com/p/CApel",
                                         "https://www.instagram.com/p/CSore"]
            assert bucket_of(text, "- BRIPKA BUDI : @budi (2/2 konten)") == "Lengkap"
        with session(default, zone) as conn:
            assert_daily_recaps(conn, both_shifted, days)
            text = daily_messages(conn, days[1])[f"daily:{CLIENT}:ig"]
            assert recap_links(text) == ["https://www.instagram.com/p/CSore",  # 01:00 WIB
                                         "https://www.instagram.com/p/CMalam"]  # 07:30 WIB
            assert bucket_of(text, "- BRIPKA BUDI : @budi (1/2 konten)") == "Kurang"

    # Migrating again without the setting keeps the zone recorded in cicero_adapter.
    migrate.upgrade(jkt)
    assert naive_zone_of(jkt)[0] == "Asia/Jakarta"
    with session(jkt, "America/Los_Angeles") as conn:
        assert_daily_recaps(conn, both, days)
    # ... and the setting alone decides: the same database re-rendered for UTC answers as the
    # default one, then back for Asia/Jakarta through the environment variable.
    migrate.upgrade(jkt, naive_time_zone="UTC")
    assert naive_zone_of(jkt)[0] == "UTC"
    with session(jkt, "Asia/Jakarta") as conn:
        assert_daily_recaps(conn, both_shifted, days)
    monkeypatch.setenv(adapter.NAIVE_TIME_ZONE_VARIABLE, "Asia/Jakarta")
    migrate.upgrade(jkt)
    assert naive_zone_of(jkt)[0] == "Asia/Jakarta"
    with session(jkt, "UTC") as conn:
        assert_daily_recaps(conn, both, days)


# ------------------------------------------------------------------------------ 4. plans
POST_TABLES = ("insta_post", "tiktok_post")
KEYS = {"insta_post": "shortcode", "tiktok_post": "video_id"}


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def explain(conn: psycopg.Connection[Any], sql: str) -> list[dict[str, Any]]:
    row = conn.execute(("EXPLAIN (FORMAT JSON) " + sql).encode()).fetchone()
    assert row is not None
    return list(plan_nodes(row[0][0]["Plan"]))


def with_history(url: str, variant: str) -> str:
    """The boundary data plus a year of other posts (3000 a table), analyzed: the planner then
    chooses as on a real database."""
    build(url, variant, BOUNDARY)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO insta_post (shortcode, client_id, created_at)"
                     " SELECT 'H' || g, %s, timestamp '2025-01-01' + g * interval '3 hours'"
                     "   FROM generate_series(1, 3000) g", (CLIENT,))
        if variant == "v2":  # naive: the UTC wall clock of the same instants
            conn.execute("INSERT INTO tiktok_post (video_id, client_id, created_at)"
                         " SELECT 'H' || g, %s, timestamp '2025-01-01' + g * interval '3 hours'"
                         "   FROM generate_series(1, 3000) g", (CLIENT,))
        else:
            conn.execute("INSERT INTO tiktok_post (video_id, client_id, created_at)"
                         " SELECT 'H' || g, %s,"
                         "        timestamptz '2025-01-01 00:00+00' + g * interval '3 hours'"
                         "   FROM generate_series(1, 3000) g", (CLIENT,))
        conn.execute("ANALYZE")
    return url


def assert_inlined_and_filtered(nodes: list[dict[str, Any]], date_text: str) -> None:
    functions = [n.get("Function Name", "") for n in nodes if n["Node Type"] == "Function Scan"]
    assert not [f for f in functions
                if f.startswith("cicero_") or f == "task_delivery_recap_at"], functions
    scans = [n for n in nodes if n.get("Relation Name") in POST_TABLES]
    assert {n["Relation Name"] for n in scans} == set(POST_TABLES)
    for table in POST_TABLES:
        filtered = [n for n in scans if n["Relation Name"] == table
                    and "created_at" in n.get("Filter", "") and date_text in n["Filter"]]
        assert filtered, (table, scans)
    for scan in scans:  # every read of a post table is filtered on the day, or a key lookup
        key_lookup = KEYS[scan["Relation Name"]] in scan.get("Index Cond", "")
        assert key_lookup or "created_at" in scan.get("Filter", ""), scan


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_adapter_is_inlined_and_the_day_reaches_the_post_scans(dbs: Databases,
                                                                   variant: str) -> None:
    url = dbs.shared(f"history:{variant}", lambda u: with_history(u, variant))
    with session(url, "Asia/Jakarta") as conn:
        daily = explain(conn, "SELECT * FROM daily_report_view WHERE report_date = '2026-11-22'")
        assert_inlined_and_filtered(daily, "'2026-11-22'::date")
        # The day is applied at the scans, not to the aggregates: no other node filters on it
        # except the calendar (generate_series) the view starts from.
        others = [n for n in daily if "2026-11-22" in n.get("Filter", "")
                  and n.get("Relation Name") not in POST_TABLES]
        assert [n.get("Function Name") for n in others] == ["generate_series"], others
        for sql in ("SELECT * FROM task_delivery_recap_at(now())",
                    "SELECT * FROM task_delivery_recap_view"):
            assert_inlined_and_filtered(explain(conn, sql), "now()")
        # The plans answer: the filler posts do not disturb the boundary answers.
        assert_daily_recaps(conn, BOUNDARY, BOUNDARY_DAYS)


# ------------------------------------------------------------------------------ 5. complaints
@pytest.mark.parametrize("zone", SESSION_ZONES)
def test_complaint_answer_reads_the_jakarta_day(dbs: Databases, zone: str) -> None:
    url = boundary_db(dbs, "v2")
    params = {"client_id": CLIENT.lower(), "client_type": "org", "handle": "budi",
              "user_id": BUDI, "upto": "infinity"}
    with session(url, zone) as conn:
        for day in BOUNDARY_DAYS:
            ig = rows(conn, query("producers", "complaints.sql", "instagram_period"),
                      {**params, "day": day})
            assert [(r["shortcode"], r["liked"], r["reported"]) for r in ig] == [
                (p.post_id, p.done, p.post_id == REPORTED)
                for p in BOUNDARY["ig"] if p.day == day], day
            tt = rows(conn, query("producers", "complaints.sql", "tiktok_period"),
                      {**params, "day": day})
            assert [(r["video_id"], r["commented"]) for r in tt] == [
                (p.post_id, p.done) for p in BOUNDARY["tiktok"] if p.day == day], day
        # The 22 Nov answer: the four posts from 00:00 to 23:59 WIB.
        ig = rows(conn, query("producers", "complaints.sql", "instagram_period"),
                  {**params, "day": date(2026, 11, 22)})
        assert [r["shortcode"] for r in ig] == ["IG8", "IG7", "IG6", "IG5"]
        # A same-day recap's cut-off compares the same instants (posts uploaded up to 12.00 WIB).
        noon = wib(2026, 11, 22, 12, 0)
        ig = rows(conn, query("producers", "complaints.sql", "instagram_period"),
                  {**params, "day": date(2026, 11, 22), "upto": noon})
        assert [r["shortcode"] for r in ig] == [
            p.post_id for p in sorted(BOUNDARY["ig"], key=lambda p: p.instant)
            if p.day == date(2026, 11, 22) and p.instant <= noon]
        # The liked count over an instant range uses the same instants.
        start, until = wib(2026, 11, 22, 0, 0), wib(2026, 11, 22, 23, 59, 59)
        for name, platform in (("instagram_liked_count", "ig"),
                               ("tiktok_commented_count", "tiktok")):
            row = conn.execute(query("producers", "complaints.sql", name),
                               {**params, "start": start, "until": until}).fetchone()
            assert row == (sum(p.done for p in BOUNDARY[platform]
                               if start <= p.instant <= until),), name
