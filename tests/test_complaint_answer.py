"""The standard answers, each classification against hand-seeded data on a real PostgreSQL.

Expected counts and lists are computed from the seed below (``WORLD``) with plain Python, never
written as literals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from producers.complaints.answer import (
    ACTIVITY_START,
    UPDATE_DATA_LINK,
    Answer,
    compose_answer,
)
from producers.indonesian import greeting, number
from producers.schedule import JAKARTA

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
TODAY = NOW.date()
START = datetime.combine(ACTIVITY_START, datetime.min.time(), JAKARTA)
# The world's last recap before NOW: a same-day recap of LAMONGAN at 09.00 (hand-recorded).
UPTO = datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA)
GROUP = "120363000000000777@g.us"


@dataclass(frozen=True)
class Client:
    client_id: str
    nama: str
    client_type: str = "org"
    operator: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class User:
    user_id: str
    nama: str
    title: str
    client_id: str
    insta: str | None
    tiktok: str | None
    status: bool = True


@dataclass(frozen=True)
class Post:
    shortcode: str
    client_id: str
    created_at: datetime
    likers: Sequence[Any]
    caption: str = ""
    collab: Sequence[str] = ()


@dataclass(frozen=True)
class Video:
    video_id: str
    client_id: str
    created_at: datetime
    commenters: Sequence[Any]


@dataclass(frozen=True)
class Link:
    shortcode: str
    user_id: str
    links: dict[str, str | None]


@dataclass
class World:
    clients: list[Client] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def _at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(),
                            JAKARTA).replace(hour=hour)


WORLD = World(
    clients=[
        Client("LAMONGAN", "POLRES LAMONGAN",
               operator="0812-1111-2222; 628133334444\nnot-a-number", group=GROUP),
        Client("BATU", "POLRES BATU", operator=None),
    ],
    users=[
        User("75020201", "BUDI SANTOSO", "BRIPKA", "LAMONGAN", "@Budi.Santoso", "budi_tt"),
        User("75020202", "SARI", "AIPDA", "LAMONGAN", "sari_s", "@sari.tt"),
        User("75020203", "JOKO", "BRIPTU", "LAMONGAN", "joko", "joko_tt", status=False),
        User("75020204", "RINA", "BRIPDA", "LAMONGAN", None, ""),
        User("75020205", "ANI", "BRIPDA", "BATU", "ani.batu", None),
    ],
    posts=[
        Post("OLD1", "LAMONGAN", START - timedelta(seconds=1), ["budi.santoso"]),  # before
        Post("SEP1", "LAMONGAN", START + timedelta(hours=1), ["budi.santoso"]),
        Post("OCT1", "LAMONGAN", datetime(2025, 10, 5, 9, tzinfo=JAKARTA),
             [{"username": "Budi.Santoso"}, {"username": "x"}]),
        Post("JAN1", "LAMONGAN", datetime(2026, 1, 10, 9, tzinfo=JAKARTA), ["@budi.santoso "]),
        Post("NOLK", "LAMONGAN", datetime(2026, 2, 1, 9, tzinfo=JAKARTA), ["other"]),
        Post("COLB", "BATU", datetime(2026, 3, 1, 9, tzinfo=JAKARTA), ["budi.santoso"],
             collab=["LAMONGAN"]),
        Post("BATU1", "BATU", datetime(2026, 3, 2, 9, tzinfo=JAKARTA), ["budi.santoso"]),
        Post("TDY1", "LAMONGAN", _at(0, 7), ["budi.santoso"], "Kegiatan pagi " * 20),
        Post("TDY2", "LAMONGAN", _at(0, 8), [], "Sambang desa"),
        Post("TDY3", "LAMONGAN", _at(0, 9), ["budi.santoso"], ""),
        Post("LATE", "LAMONGAN", _at(0, 9) + timedelta(hours=5), ["budi.santoso"]),  # after NOW
        Post("YDAY", "LAMONGAN", _at(1, 23), [], "Kemarin"),
    ],
    videos=[
        Video("V1", "LAMONGAN", datetime(2025, 12, 1, 9, tzinfo=JAKARTA), ["@budi_tt", "@x"]),
        Video("V2", "LAMONGAN", datetime(2026, 5, 1, 9, tzinfo=JAKARTA), [{"username": "BUDI_TT"}]),
        Video("V3", "LAMONGAN", _at(0, 8), []),
        Video("V4", "BATU", datetime(2026, 5, 1, 9, tzinfo=JAKARTA), ["budi_tt"]),
    ],
    links=[
        Link("TDY1", "75020201", {"instagram_link": "https://instagram.com/p/x"}),
        Link("TDY3", "75020201", {"facebook_link": "  ", "twitter_link": ""}),
    ],
)


def seed(conn: psycopg.Connection[Any], world: World = WORLD) -> None:
    """Insert the world with plain SQL."""
    for c in world.clients:
        conn.execute(
            "INSERT INTO clients (client_id, nama, client_type, client_operator, client_group) "
            "VALUES (%s, %s, %s, %s, %s)",
            (c.client_id, c.nama, c.client_type, c.operator, c.group))
    for u in world.users:
        conn.execute(
            'INSERT INTO "user" (user_id, nama, title, client_id, insta, tiktok, status) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (u.user_id, u.nama, u.title, u.client_id, u.insta, u.tiktok, u.status))
    for p in world.posts:
        conn.execute(
            "INSERT INTO insta_post (shortcode, client_id, caption, created_at) "
            "VALUES (%s, %s, %s, %s)", (p.shortcode, p.client_id, p.caption, p.created_at))
        conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, %s)",
                     (p.shortcode, Jsonb(list(p.likers))))
        for other in p.collab:
            conn.execute("INSERT INTO insta_post_clients (shortcode, client_id) VALUES (%s, %s)",
                         (p.shortcode, other))
    for v in world.videos:
        conn.execute("INSERT INTO tiktok_post (video_id, client_id, created_at) "
                     "VALUES (%s, %s, %s)", (v.video_id, v.client_id, v.created_at))
        conn.execute("INSERT INTO tiktok_comment (video_id, comments) VALUES (%s, %s)",
                     (v.video_id, Jsonb(list(v.commenters))))
    for link in world.links:
        conn.execute(
            "INSERT INTO link_report (shortcode, user_id, instagram_link, facebook_link, "
            "twitter_link, tiktok_link, youtube_link) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (link.shortcode, link.user_id, *(link.links.get(k) for k in (
                "instagram_link", "facebook_link", "twitter_link", "tiktok_link",
                "youtube_link"))))


def record_recap(conn: psycopg.Connection[Any], job: str, slot: datetime, client_id: str,
                 recipient: str = GROUP) -> None:
    """Record a recap run by hand as the report jobs record it: the producer_run slot and one
    outbox row about the client to one of its recipients (key
    <job>:<period key>:daily:<CLIENT>:ig:<recipient>)."""
    wall = slot.astimezone(JAKARTA)
    key = ((wall.date() - timedelta(days=1)).isoformat() if job == "daily_report"
           else f"{wall.date().isoformat()}T{wall:%H%M}")
    conn.execute("INSERT INTO producer_run (job, slot) VALUES (%s, %s)", (job, slot))
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, dedupe_key) "
                 "VALUES (%s, 'rekap', %s, %s)",
                 (recipient, job, f"{job}:{key}:daily:{client_id}:ig:{recipient}"))


# ---------------------------------------------------------------------------- oracles
def norm(value: Any) -> str:
    text = value.get("username", "") if isinstance(value, dict) else str(value)
    return text.strip().lstrip("@").lower()


def user(user_id: str) -> User:
    return next(u for u in WORLD.users if u.user_id == user_id)


def client(client_id: str) -> Client:
    return next(c for c in WORLD.clients if c.client_id == client_id)


def client_posts(client_id: str) -> list[Post]:
    return [p for p in WORLD.posts if p.client_id == client_id or client_id in p.collab]


def expected_likes(u: User) -> int:
    handle = norm(u.insta or "")
    return sum(1 for p in client_posts(u.client_id)
               if START <= p.created_at <= NOW and handle in {norm(x) for x in p.likers})


def expected_comments(u: User) -> int:
    handle = norm(u.tiktok or "")
    return sum(1 for v in WORLD.videos if v.client_id == u.client_id
               and START <= v.created_at <= NOW and handle in {norm(x) for x in v.commenters})


def todays_posts(u: User) -> list[tuple[Post, bool, bool]]:
    """(post, liked, reported) for the user's client's posts of the Jakarta day of NOW up to
    the recap's cut-off UPTO."""
    handle = norm(u.insta or "")
    reported = {link.shortcode for link in WORLD.links if link.user_id == u.user_id
                and any((v or "").strip() for v in link.links.values())}
    posts = sorted((p for p in client_posts(u.client_id)
                    if p.created_at.astimezone(JAKARTA).date() == TODAY
                    and p.created_at <= UPTO),
                   key=lambda p: (p.created_at, p.shortcode))
    return [(p, handle in {norm(x) for x in p.likers}, p.shortcode in reported) for p in posts]


def operator_jids(c: Client) -> list[str]:
    jids = []
    for entry in re.split(r"[,;\n]+", c.operator or ""):
        digits = re.sub(r"[\s()-]", "", entry.strip())
        if digits.isdigit():
            jids.append(("62" + digits[1:] if digits.startswith("0") else digits)
                        + "@s.whatsapp.net")
    return jids


def complaint(nrp: str, *issues: str, instagram: str | None = None,
              tiktok: str | None = None, polres: str | None = None) -> dict[str, Any]:
    return {"id": 42, "complainant": "6281299990000@s.whatsapp.net", "nrp": nrp,
            "reporter_name": "PELAPOR", "polres": polres, "instagram": instagram,
            "tiktok": tiktok, "issues": list(issues), "raw_text": "..."}


def solution_of(answer: Answer) -> str:
    return answer.text.split("*Solusi/Tindak Lanjut*:\n", 1)[1]


def todays_videos(u: User) -> list[tuple[Video, bool]]:
    handle = norm(u.tiktok or "")
    videos = sorted((v for v in WORLD.videos if v.client_id == u.client_id
                     and v.created_at.astimezone(JAKARTA).date() == TODAY
                     and v.created_at <= UPTO), key=lambda v: (v.created_at, v.video_id))
    return [(v, handle in {norm(x) for x in v.commenters}) for v in videos]


@pytest.fixture
def world(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    seed(conn)
    record_recap(conn, "progress_report", UPTO, "LAMONGAN")
    return conn


# ---------------------------------------------------------------------------- the frame
def test_answer_frame_follows_the_old_wording(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    issue = "Sudah melaksanakan Instagram belum terdata"
    answer = compose_answer(world, complaint(u.user_id, issue), now=NOW)
    lines = answer.text.splitlines()
    assert lines[0] == f"{greeting(NOW)}! Kami menindaklanjuti laporan yang Anda sampaikan."
    assert f"*Pelapor*: {u.title} {u.nama}" in lines
    assert f"*NRP/NIP*: {u.user_id}" in lines
    kendala = lines.index("*Kendala*:")
    assert lines[kendala + 1] == f"- {issue}"
    assert "*Solusi/Tindak Lanjut*:" in lines


@pytest.mark.parametrize(("hour", "word"), [(3, "malam"), (4, "pagi"), (9, "pagi"),
                                            (10, "siang"), (14, "siang"), (15, "sore"),
                                            (17, "sore"), (18, "malam"), (23, "malam")])
def test_greeting_by_jakarta_hour(hour: int, word: str) -> None:
    moment = NOW.replace(hour=hour)
    assert greeting(moment) == f"Selamat {word}"
    assert greeting(moment.astimezone(JAKARTA).astimezone(tz=None)) == f"Selamat {word}"


# ---------------------------------------------------------------------------- classes
def test_personnel_not_found(world: psycopg.Connection[Any]) -> None:
    nrp = "99999999"
    assert nrp not in {u.user_id for u in WORLD.users}
    answer = compose_answer(world, complaint(nrp, "x", polres="POLRES X"), now=NOW)
    assert answer.classes == ("personnel_not_found",)
    assert f"NRP/NIP *{nrp}* tidak ditemukan" in answer.text
    assert "operator satker POLRES X" in answer.text
    assert "*Pelapor*: PELAPOR" in answer.text
    assert answer.forwards == []


def test_inactive_account(world: psycopg.Connection[Any]) -> None:
    u = next(u for u in WORLD.users if not u.status)
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata"),
                            now=NOW)
    assert answer.classes == ("account_inactive",)
    assert "Akun Cicero personel saat ini *tidak aktif*." in solution_of(answer)


def test_no_handle_registered(world: psycopg.Connection[Any]) -> None:
    u = next(u for u in WORLD.users if not u.insta and not u.tiktok)
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata"),
                            now=NOW)
    assert answer.classes == ("no_handle",)
    solution = solution_of(answer)
    assert "Belum terdapat username Instagram maupun TikTok" in solution
    assert UPDATE_DATA_LINK in solution and "*Update Data Personil*" in solution


def test_no_handle_for_the_platform_of_the_issue(world: psycopg.Connection[Any]) -> None:
    u = next(u for u in WORLD.users if u.insta and not u.tiktok and u.status)
    answer = compose_answer(world, complaint(u.user_id, "Sudah komen TikTok belum terdata",
                                             tiktok="@ani.tt"), now=NOW)
    assert answer.classes == ("tiktok_no_handle",)
    solution = solution_of(answer)
    assert "- Username pada database Cicero: Belum tercatat." in solution
    assert "- Username pada pesan komplain: @ani.tt" in solution
    assert "perbarui username TikTok" in solution


def test_handle_differs_from_registered(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    claimed = "@budi.baru"
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata",
                                             instagram=claimed), now=NOW)
    assert answer.classes == ("instagram_handle_mismatch",)
    solution = solution_of(answer)
    registered = "@" + norm(u.insta)
    assert f"- Username pada database Cicero: {registered}" in solution
    assert f"- Username pada pesan komplain: {claimed}" in solution
    assert "berbeda dengan username yang terdaftar" in solution
    assert f"pada {number(expected_likes(u))} konten Instagram" in solution
    assert UPDATE_DATA_LINK in solution


def test_instagram_missing_posts_of_the_recap_are_named(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    today = todays_posts(u)
    missing = [p for p, liked, _ in today if not liked]
    assert missing and len(missing) < len(today)
    # The complaint handle equals the registered one apart from case and '@'.
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata",
                                             instagram=u.insta.upper() if u.insta else None),
                            now=NOW)
    assert answer.classes == ("instagram_not_recorded",)
    solution = solution_of(answer)
    assert ("*Rekap yang dicek*: rekap tanggal Senin, 23 November 2026 s.d. 09.00 WIB"
            in solution)
    assert (f"{number(len(today))} konten; like dari akun *@{norm(u.insta)}* tercatat pada "
            f"{number(len(today) - len(missing))} konten.") in solution
    for post in WORLD.posts:
        link = f"https://www.instagram.com/p/{post.shortcode}/"
        assert (link in solution) == (post in missing), post.shortcode
    assert "tidak menemukan gangguan pencatatan" not in solution


def test_no_recording_fault_only_when_the_handle_is_on_every_post(
        conn: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    done = Post("DONE", u.client_id, _at(0, 7), [u.insta or ""])
    seed(conn, World(clients=WORLD.clients, users=WORLD.users, posts=[done]))
    record_recap(conn, "progress_report", UPTO, u.client_id)
    answer = compose_answer(conn, complaint(u.user_id, "Sudah like IG belum terdata"), now=NOW)
    assert answer.classes == ("instagram_recorded",)
    assert (f"Sistem Cicero tidak menemukan gangguan pencatatan: akun *@{norm(u.insta)}* "
            "tercatat memberikan like pada semua konten rekap tersebut.") in answer.text
    assert "*Absensi Likes Instagram*" in answer.text and "*Refresh*" in answer.text
    # one more post of the recap without his like: no longer "no fault"
    conn.execute("INSERT INTO insta_post (shortcode, client_id, created_at) VALUES (%s, %s, %s)",
                 ("MISS", u.client_id, _at(0, 8)))
    conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES ('MISS', '[\"x\"]')")
    answer = compose_answer(conn, complaint(u.user_id, "Sudah like IG belum terdata"), now=NOW)
    assert answer.classes == ("instagram_not_recorded",)
    assert "gangguan pencatatan" not in answer.text
    assert "https://www.instagram.com/p/MISS/" in answer.text
    assert "https://www.instagram.com/p/DONE/" not in answer.text


def test_tiktok_missing_videos_are_named_with_the_recap_links(
        world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    videos = todays_videos(u)
    missing = [v for v, commented in videos if not commented]
    assert missing
    answer = compose_answer(world, complaint(u.user_id, "sdh komen tiktok tp blm terdata"),
                            now=NOW)
    assert answer.classes == ("tiktok_not_recorded",)
    account = u.client_id.lower()  # no client_tiktok: the recaps' fallback
    for v in WORLD.videos:
        link = f"https://www.tiktok.com/@{account}/video/{v.video_id}"
        assert (link in answer.text) == (v in missing), v.video_id
    assert "*Rekap yang dicek*" in answer.text


def test_tiktok_commenters_match_by_the_reports_rule(conn: psycopg.Connection[Any]) -> None:
    """The reports read comment entries with cicero_tiktok_comment_handle ('@budi tt' stays
    'budi tt'), so a registered 'buditt' did not comment, in the recap and in the answer."""
    u = User("75020299", "DEDI", "BRIPDA", "LAMONGAN", None, "buditt")
    seed(conn, World(clients=WORLD.clients, users=[u], videos=[
        Video("SPACED", u.client_id, _at(0, 7), ["@budi tt"]),
        Video("PLAIN", u.client_id, _at(0, 8), ["@BudiTT"])]))
    record_recap(conn, "progress_report", UPTO, u.client_id)
    handles = conn.execute(
        "SELECT cicero_tiktok_comment_handle('@budi tt'), cicero_tiktok_handle('@budi tt')"
    ).fetchone()
    assert handles == ("budi tt", "buditt")  # the two rules differ on this entry
    answer = compose_answer(conn, complaint(u.user_id, "Sudah komen TikTok belum terdata"),
                            now=NOW)
    assert answer.classes == ("tiktok_not_recorded",)
    assert "/video/SPACED" in answer.text and "/video/PLAIN" not in answer.text


def test_activity_not_recorded(world: psycopg.Connection[Any]) -> None:
    u = user("75020202")
    assert not any(liked for _, liked, _ in todays_posts(u))
    answer = compose_answer(
        world, complaint(u.user_id, "Sudah melaksanakan IG dan TikTok belum terdata"), now=NOW)
    assert answer.classes == ("instagram_not_recorded", "tiktok_not_recorded")
    solution = solution_of(answer)
    assert (f"like dari akun *@{norm(u.insta)}* tercatat pada 0 konten." in solution)
    assert (f"komentar dari akun *@{norm(u.tiktok)}* tercatat pada 0 konten." in solution)
    for post, _, _ in todays_posts(u):
        assert f"https://www.instagram.com/p/{post.shortcode}/" in solution
    assert solution.count("Panduan verifikasi:") == 2
    assert solution.count("*Rekap yang dicek*") == 1
    assert "- Username pada pesan komplain: Tidak dicantumkan." in solution
    assert "Eskalasi:" in solution and "RapidAPI" not in solution


def test_attendance_incomplete_lists_todays_missing_posts(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    today = todays_posts(u)
    missing = [(p, liked, rep) for p, liked, rep in today if not (liked and rep)]
    done = [p for p, liked, rep in today if liked and rep]
    assert missing and done
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan tapi terabsen kurang"),
                            now=NOW)
    assert answer.classes == ("attendance_incomplete",)
    solution = solution_of(answer)
    assert f": {number(len(today))} konten." in solution
    lines = solution.splitlines()
    for index, (post, liked, reported) in enumerate(missing, start=1):
        at = lines.index(f"   https://www.instagram.com/p/{post.shortcode}/")
        assert lines[at - 1].startswith(f"{index}. ")
        caption = " ".join(post.caption.split()) or "(tanpa caption)"
        assert lines[at - 1][len(f"{index}. "):].rstrip("…") in caption
        assert len(lines[at - 1]) <= len(f"{index}. ") + 120
        gaps = [g for g, ok in (("like Instagram", liked), ("laporan link", reported)) if not ok]
        assert lines[at + 1] == f"   Belum tercatat: {', '.join(gaps)}"
    for post in done:
        assert f"/p/{post.shortcode}/" not in solution
    for post in WORLD.posts:
        if post not in [p for p, _, _ in today]:
            assert f"/p/{post.shortcode}/" not in solution
    assert "*Update Tugas*" in solution


def test_attendance_complete(conn: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    world = World(clients=WORLD.clients, users=WORLD.users,
                  posts=[Post("ONLY", u.client_id, _at(0, 6), [u.insta or ""], "x")],
                  links=[Link("ONLY", u.user_id, {"youtube_link": "https://youtu.be/x"})])
    seed(conn, world)
    record_recap(conn, "progress_report", UPTO, u.client_id)
    answer = compose_answer(conn, complaint(u.user_id, "absen kurang"), now=NOW)
    assert "Semua tugas pada rekap tersebut (like dan link) sudah tercatat" in answer.text


def test_activity_flagged_not_done(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    today = todays_posts(u)
    videos = todays_videos(u)
    commented = sum(1 for _, done in videos if done)
    answer = compose_answer(world, complaint(u.user_id, "terabsen belum melaksanakan"), now=NOW)
    assert answer.classes == ("activity_status",)
    liked = sum(1 for _, lk, _ in today if lk)
    assert (f"- Instagram: like tercatat pada {number(liked)} dari {number(len(today))} konten."
            in answer.text)
    assert (f"- TikTok: komentar tercatat pada {number(commented)} dari {number(len(videos))} "
            "konten.") in answer.text


def test_unknown_issue_is_forwarded_to_the_operators(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    c = client(u.client_id)
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata",
                                             "minta reset password aplikasi"), now=NOW)
    assert answer.classes == ("instagram_not_recorded", "forwarded")
    expected = operator_jids(c)
    assert expected and [r for r, _ in answer.forwards] == expected
    forward = answer.forwards[0][1]
    assert "minta reset password aplikasi" in forward
    assert "Sudah melaksanakan IG" not in forward
    assert f"({u.user_id})" in forward and c.nama in forward and "Komplain #42" in forward
    assert "wa.me/6281299990000" in forward
    assert f"diteruskan kepada operator {c.nama}" in answer.text


def test_unknown_issue_without_operator(world: psycopg.Connection[Any]) -> None:
    u = next(u for u in WORLD.users if client(u.client_id).operator is None)
    answer = compose_answer(world, complaint(u.user_id, "aplikasi error"), now=NOW)
    assert answer.forwards == []
    assert "Operator satker belum terdaftar" in answer.text


def test_each_issue_class_is_answered_once(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    answer = compose_answer(world, complaint(u.user_id, "Sudah melaksanakan IG belum terdata",
                                             "sudah like instagram tapi tidak tercatat"), now=NOW)
    assert answer.classes == ("instagram_not_recorded",)
    assert answer.text.count("Panduan verifikasi") == 1
    assert answer.text.count("\n- ") >= 2  # both lines are still quoted under *Kendala*


def test_complaint_without_issue_lines(world: psycopg.Connection[Any]) -> None:
    answer = compose_answer(world, complaint("75020201"), now=NOW)
    assert answer.classes == ("no_issue",)
    assert "belum memuat rincian kendala" in answer.text


def test_counts_use_indonesian_grouping(conn: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    seed(conn, World(clients=WORLD.clients, users=WORLD.users))
    posts = 1234
    conn.execute(
        "INSERT INTO insta_post (shortcode, client_id, created_at) "
        "SELECT 'bulk' || i, %s, %s - make_interval(hours => i) FROM generate_series(1, %s) i",
        (u.client_id, NOW, posts))
    conn.execute("INSERT INTO insta_like (shortcode, likes) SELECT shortcode, %s FROM insta_post",
                 (Jsonb([norm(u.insta)]),))
    answer = compose_answer(conn, complaint(u.user_id, "Sudah melaksanakan IG belum terdata",
                                            instagram="@akun.lain"), now=NOW)
    assert answer.classes == ("instagram_handle_mismatch",)
    assert f"pada {number(posts)} konten Instagram" in answer.text
    assert number(posts) == "1.234"


def test_session_time_zone_does_not_matter(world: psycopg.Connection[Any]) -> None:
    u = user("75020201")
    issues = ("Sudah melaksanakan IG dan TikTok belum terdata", "terabsen kurang")
    reference = compose_answer(world, complaint(u.user_id, *issues), now=NOW)
    for zone in ("America/Los_Angeles", "Pacific/Kiritimati", "UTC"):
        world.execute(f"SET TIME ZONE '{zone}'")
        assert compose_answer(world, complaint(u.user_id, *issues), now=NOW) == reference
