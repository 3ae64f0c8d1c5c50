"""The attendance layers (report_engagement_*, report_user_*, report_client_day) against
hand-built data: the worked example of docs/concepts/reports.md under both rules, the Jakarta
midnight boundary,
handle normalisation, exception / inactive / handle-less users, days without posts, and the
independence from the session TimeZone. Expected values are computed from the data the test
built (``expected_status`` restates the rule of docs/concepts/reports.md), not typed in.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.view_fixtures import Cicero, WorkedExample, jkt, worked_example

DAY = date(2026, 11, 16)  # a Monday


def norm(handle: str | None) -> str | None:
    """docs/concepts/reports.md for Instagram: trim, strip '@', lower-case."""
    if handle is None:
        return None
    value = handle.strip().lstrip("@").lower()
    return value or None


def expected_status(posts: int, done: int, has_handle: bool, exception: bool, rule: str) -> str:
    if posts == 0:
        return "tidak_ada_konten"
    if exception:
        return "lengkap"
    if not has_handle:
        return "belum_username"
    if (rule == "half" and 2 * done >= posts) or (rule == "all" and done >= posts):
        return "lengkap"
    return "kurang" if done > 0 else "belum"


def expected_users(ex: WorkedExample, rule: str) -> dict[str, tuple[int, str]]:
    out = {}
    for user_id, kw in ex.users.items():
        handle = norm(kw.get("insta"))
        done = sum(1 for p in ex.posts if handle is not None and handle in ex.likes[p])
        if kw.get("exception"):
            done = len(ex.posts)
        status = expected_status(len(ex.posts), done, handle is not None,
                                 bool(kw.get("exception")), rule)
        out[user_id] = (done, status)
    return out


@pytest.fixture
def db(conn: psycopg.Connection[Any]) -> Cicero:
    return Cicero(conn)


def user_day(db: Cicero, day: date, client: str) -> dict[str, dict[str, Any]]:
    rows = db.rows("SELECT * FROM report_user_day WHERE report_date = %s AND client_id = %s",
                   (day, client))
    return {r["user_id"]: r for r in rows}


def test_worked_example_org_rule(db: Cicero) -> None:
    ex = worked_example(db, DAY)
    rows = user_day(db, DAY, ex.client)
    expected = expected_users(ex, "all")
    assert {u: (r["ig_done"], r["ig_status"]) for u, r in rows.items()} == expected
    assert all(r["ig_posts"] == len(ex.posts) for r in rows.values())
    assert all(r["ig_belum"] == len(ex.posts) - r["ig_done"] for r in rows.values())
    # Budi 3/3 lengkap, Sari 1/3 kurang, Joko belum, Rina no username, exc1 lengkap
    assert [expected[u][1] for u in ("1001", "1002", "1003", "1004", "1005")] == [
        "lengkap", "kurang", "belum", "belum_username", "lengkap"]
    (total,) = db.rows("SELECT * FROM report_client_day WHERE report_date = %s"
                       " AND client_id = %s AND platform = 'instagram'", (DAY, ex.client))
    statuses = [s for _, s in expected.values()]
    assert total["users"] == len(ex.users) == 5
    assert total["posts"] == 3
    assert total["lengkap"] == statuses.count("lengkap") == 2
    assert total["kurang"] == statuses.count("kurang") == 1
    assert total["belum"] + total["belum_username"] == 2  # "belum 2 (of which 1 no username)"
    assert total["belum_username"] == 1
    assert total["sudah"] == 3  # the directorate-style headline of the worked example


def test_worked_example_directorate_rule(db: Cicero) -> None:
    """The same likes for a directorate: users of two Polres holding the role, rule >= 50 %."""
    db.client("POLRES_A", "POLRES A")
    db.client("POLRES_B", "POLRES B")
    ex = worked_example(db, DAY, client="DITX", client_type="direktorat", roles=["ditx"])
    # move Joko and Rina to their Polres; the audience is by role, whatever the satker
    move = 'UPDATE "user" SET client_id = %s WHERE user_id = ANY(%s)'
    db.conn.execute(move, ("POLRES_A", ["1001", "1002"]))
    db.conn.execute(move, ("POLRES_B", ["1003", "1004"]))
    rows = user_day(db, DAY, "DITX")
    expected = expected_users(ex, "half")
    assert {u: (r["ig_done"], r["ig_status"]) for u, r in rows.items()} == expected
    # Budi and exc1 sudah (lengkap), Sari kurang (33 %), Joko belum, Rina no username
    assert [expected[u][1] for u in ("1001", "1002", "1003", "1004", "1005")] == [
        "lengkap", "kurang", "belum", "belum_username", "lengkap"]
    assert {r["user_client_id"] for r in rows.values()} == {"POLRES_A", "POLRES_B", "DITX"}
    satker = {r["user_client_id"]: r for r in db.rows(
        "SELECT * FROM report_satker_day WHERE report_date = %s AND client_id = 'DITX'", (DAY,))}
    assert satker["POLRES_A"]["ig_lengkap"] == 1 and satker["POLRES_A"]["ig_kurang"] == 1
    assert satker["POLRES_B"]["ig_belum"] == 1 and satker["POLRES_B"]["ig_belum_username"] == 1
    assert satker["POLRES_A"]["ig_done_total"] == expected["1001"][0] + expected["1002"][0]


def test_half_rule_boundary_and_org_rule_differ(db: Cicero) -> None:
    """Sari with 2 of 4 posts: lengkap under >= 50 % (report_rule), kurang under 'all posts'."""
    db.client("ORG1")
    db.client("DIRY", "DIREKTORAT Y", client_type="direktorat")
    db.user("2001", "ORG1", "SARI", insta="sari", roles=["operator", "diry"])
    for i in range(4):
        liked = ["sari"] if i < 2 else []
        db.ig_post(f"O{i}", "ORG1", jkt(DAY, 8 + i), liked)
        db.ig_post(f"D{i}", "DIRY", jkt(DAY, 8 + i), liked)
    # every client counts "lengkap" as all posts unless report_rule says >= 50 %
    dir_, = db.rows("SELECT ig_done, ig_status FROM report_user_day WHERE client_id = 'DIRY'")
    assert dir_ == {"ig_done": 2, "ig_status": expected_status(4, 2, True, False, "all")}
    db.conn.execute("INSERT INTO report_rule (client_id, lengkap_rule) VALUES ('DIRY', 'half')")
    org, = db.rows("SELECT ig_done, ig_status FROM report_user_day WHERE client_id = 'ORG1'")
    dir_, = db.rows("SELECT ig_done, ig_status FROM report_user_day WHERE client_id = 'DIRY'")
    assert org == {"ig_done": 2, "ig_status": expected_status(4, 2, True, False, "all")}
    assert dir_ == {"ig_done": 2, "ig_status": expected_status(4, 2, True, False, "half")}
    assert org["ig_status"] == "kurang" and dir_["ig_status"] == "lengkap"


def test_jakarta_midnight_boundary(db: Cicero) -> None:
    db.client("C1")
    db.user("3001", "C1", "BUDI", insta="budi")
    utc = UTC
    posts = {
        "LATE": datetime(2026, 11, 16, 16, 59, 59, tzinfo=utc),  # 23:59:59 WIB on the 16th
        "MIDNIGHT": datetime(2026, 11, 16, 17, 0, 0, tzinfo=utc),  # 00:00 WIB on the 17th
        "EARLY_UTC": datetime(2026, 11, 16, 1, 0, tzinfo=utc),  # 08:00 WIB on the 16th
        "PREV": datetime(2026, 11, 15, 16, 59, tzinfo=utc),  # 23:59 WIB on the 15th
    }
    for code, at in posts.items():
        db.ig_post(code, "C1", at, ["budi"])
    by_day: dict[date, int] = {}
    for at in posts.values():
        jd = at.astimezone(jkt(DAY).tzinfo).date()
        by_day[jd] = by_day.get(jd, 0) + 1
    got = {r["report_date"]: r["ig_posts"] for r in db.rows(
        "SELECT report_date, ig_posts FROM report_engagement_day WHERE client_id = 'C1'")}
    assert got == by_day == {date(2026, 11, 15): 1, date(2026, 11, 16): 2, date(2026, 11, 17): 1}
    assert {r["report_date"] for r in db.rows(
        "SELECT report_date FROM report_ig_post WHERE shortcode = 'MIDNIGHT'")} == {
        date(2026, 11, 17)}


def test_handle_normalisation_and_duplicates(db: Cicero) -> None:
    db.client("C2", tiktok="@polres_c2")
    db.user("4001", "C2", "BUDI", insta="  @Budi.Santoso ",
            tiktok="https://www.tiktok.com/@Budi.TT")
    db.user("4002", "C2", "SARI", insta="https://www.instagram.com/sari_ok/", tiktok="@Sari TT")
    db.user("4003", "C2", "JOKO", insta="JOKO", tiktok="joko")
    # stored like lists: current writer (lower, no '@'), '@' + capitals, legacy objects, and
    # the same person twice in one list under two spellings (must count once)
    db.ig_post("P1", "C2", jkt(DAY, 8), ["budi.santoso", "@BUDI.SANTOSO", {"username": "Sari_OK"}])
    db.ig_post("P2", "C2", jkt(DAY, 9), [" Joko ", {"username": "@budi.santoso"}])
    db.ig_post("P3", "C2", jkt(DAY, 10), ["somebody_else"])
    db.tiktok_post("V1", "C2", jkt(DAY, 8), ["@budi.tt", "@BUDI.TT", "@saritt"])
    db.tiktok_post("V2", "C2", jkt(DAY, 9), [{"username": "@Joko"}])
    rows = user_day(db, DAY, "C2")
    assert {u: r["insta"] for u, r in rows.items()} == {
        "4001": "budi.santoso", "4002": "sari_ok", "4003": "joko"}
    assert {u: r["tiktok"] for u, r in rows.items()} == {
        "4001": "budi.tt", "4002": "saritt", "4003": "joko"}
    assert {u: r["ig_done"] for u, r in rows.items()} == {"4001": 2, "4002": 1, "4003": 1}
    assert {u: r["tiktok_done"] for u, r in rows.items()} == {"4001": 1, "4002": 1, "4003": 1}
    assert all(r["ig_posts"] == 3 and r["tiktok_posts"] == 2 for r in rows.values())
    (eng,) = db.rows("SELECT ig_done_by_handle FROM report_engagement_day WHERE client_id = 'C2'")
    assert eng["ig_done_by_handle"]["budi.santoso"] == 2  # not 3: one post listed him twice


def test_exception_inactive_and_other_clients_users(db: Cicero) -> None:
    db.client("C3")
    db.client("C4")
    db.user("5001", "C3", "EXC TANPA AKUN", insta=None, exception=True)
    db.user("5002", "C3", "NONAKTIF", insta="nonaktif", status=False)
    db.user("5003", "C3", "AKTIF", insta="aktif")
    db.user("5004", "C4", "LAIN", insta="lain")
    db.ig_post("Q1", "C3", jkt(DAY, 8), ["nonaktif", "lain"])
    db.ig_post("Q2", "C3", jkt(DAY, 9), ["aktif", "nonaktif"])
    rows = user_day(db, DAY, "C3")
    assert set(rows) == {"5001", "5003"}  # inactive user and other client's user not counted
    assert (rows["5001"]["ig_done"], rows["5001"]["ig_status"]) == (2, "lengkap")
    assert (rows["5003"]["ig_done"], rows["5003"]["ig_status"]) == (1, "kurang")
    assert user_day(db, DAY, "C4") == {}  # no posts of C4 that day


def test_no_posts_today(db: Cicero) -> None:
    ex = worked_example(db, DAY)
    other_day = DAY + timedelta(days=1)
    assert user_day(db, other_day, ex.client) == {}
    assert db.rows("SELECT * FROM report_client_day WHERE report_date = %s", (other_day,)) == []
    assert len(user_day(db, DAY, ex.client)) == len(ex.users)


def test_week_and_month_layers_sum_the_days(db: Cicero) -> None:
    db.client("C5")
    db.user("6001", "C5", "BUDI", insta="budi")
    days = [date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 22), date(2026, 11, 23),
            date(2026, 12, 1)]
    liked_days = {date(2026, 11, 16), date(2026, 11, 22), date(2026, 12, 1)}
    for i, day in enumerate(days):
        db.ig_post(f"W{i}", "C5", jkt(day, 23, 30), ["budi"] if day in liked_days else [])
    weeks: dict[date, list[int]] = {}
    months: dict[date, list[int]] = {}
    for day in days:
        monday = day - timedelta(days=day.weekday())
        for bucket, key in ((weeks, monday), (months, day.replace(day=1))):
            posts_done = bucket.setdefault(key, [0, 0])
            posts_done[0] += 1
            posts_done[1] += day in liked_days
    got_w = {r["week_start"]: [r["ig_posts"], r["ig_done"]] for r in db.rows(
        "SELECT week_start, ig_posts, ig_done FROM report_user_week WHERE client_id = 'C5'")}
    got_m = {r["month_start"]: [r["ig_posts"], r["ig_done"]] for r in db.rows(
        "SELECT month_start, ig_posts, ig_done FROM report_user_month WHERE client_id = 'C5'")}
    assert got_w == weeks
    assert got_m == months
    assert date(2026, 11, 16) in got_w and got_w[date(2026, 11, 16)] == [2, 2]  # Mon 16 - Sun 22


QUERIES = [
    "SELECT * FROM report_user_day WHERE report_date = '2026-11-16' ORDER BY client_id, user_id",
    "SELECT * FROM daily_report_view WHERE report_date = '2026-11-16'"
    " ORDER BY message_key, recipient",
    "SELECT * FROM weekly_report_view WHERE week_start = '2026-11-16'"
    " ORDER BY message_key, recipient",
    "SELECT * FROM report_user_month WHERE month_start = '2026-11-01' ORDER BY client_id, user_id",
    "SELECT * FROM task_delivery_recap_at('2026-11-16 23:30:00+07') ORDER BY client_id, recipient",
]


def _utc(value: Any) -> str:
    """Instants compared as instants (psycopg returns them in the session's zone)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def test_session_timezone_does_not_change_the_answers(db: Cicero) -> None:
    ex = worked_example(db, DAY)
    # a post at 23:30 WIB: on the 16th in Jakarta, already the 17th in Kiritimati (UTC+14),
    # still the 16th in Los Angeles
    db.ig_post("LATE", ex.client, jkt(DAY, 23, 30), ["budi"])
    answers = []
    for zone in ("UTC", "Asia/Jakarta", "America/Los_Angeles", "Pacific/Kiritimati"):
        db.conn.execute(f"SET TimeZone = '{zone}'")
        answers.append([json.dumps(db.rows(q), default=_utc, sort_keys=True) for q in QUERIES])
    assert all(a == answers[0] for a in answers[1:])
    assert '"ig_posts": 4' in answers[0][0]


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


@pytest.mark.parametrize(("view", "where", "needle"), [
    ("daily_report_view", "report_date = '2026-11-16'", "'2026-11-16'::date"),
    ("weekly_report_view", "week_start = '2026-11-16'", "date_trunc('week'"),
    ("monthly_report_view", "month_start = '2026-11-01'", "date_trunc('month'"),
    ("report_user_day", "report_date BETWEEN '2026-11-16' AND '2026-11-22'", "'2026-11-22'::date"),
])
def test_period_filter_reaches_the_post_scans(db: Cicero, view: str, where: str,
                                              needle: str) -> None:
    worked_example(db, DAY)
    row = db.conn.execute(f"EXPLAIN (FORMAT JSON) SELECT * FROM {view} WHERE {where}").fetchone()
    assert row is not None
    nodes = _plan_nodes(row[0][0]["Plan"])
    post_scans = [n for n in nodes if n.get("Relation Name") in ("insta_post", "tiktok_post")]
    assert post_scans, "the plan reads no post table"
    for node in post_scans:
        conditions = " ".join(str(node.get(k, "")) for k in ("Filter", "Index Cond", "Join Filter"))
        assert needle in conditions, f"{view}: a {node['Relation Name']} scan is not filtered"
