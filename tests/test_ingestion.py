"""Ingestion (producers/ingestion): mapping rules, the HTTP layer against the local RapidAPI
stand-in (retries, 429, fallbacks, timeouts, malformed JSON, budget), gating, deletion safety,
merge-never-shrink, exception users, and the writes on both Cicero variants."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from outbox import migrate
from producers.ingestion import job as ingestion_job
from producers.ingestion.http import ApiError, BudgetExhausted, RapidApi
from producers.ingestion.instagram import Instagram, map_post
from producers.ingestion.job import Ingestion, deletable, is_trigger, posts_due
from producers.ingestion.parse import handle
from producers.ingestion.settings import IngestionSettings, load_ingestion_settings
from producers.ingestion.store import Client
from producers.ingestion.tiktok import TikTok, commenters, map_video
from producers.job import JobContext, JobSpec
from tests.cicero_variants import load
from tests.dev.rapidapi_standin import (
    FALLBACK_HOST,
    IG_HOST,
    USERNAME_PATH,
    Data,
    IgPost,
    StandIn,
    TtVideo,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)
DAY_START = datetime(2026, 11, 23, tzinfo=JAKARTA)
Conn = psycopg.Connection[Any]


def at(hour: int, minute: int = 0) -> int:
    return int(DAY_START.replace(hour=hour, minute=minute).timestamp())


def settings_for(server: StandIn, **env: str) -> IngestionSettings:
    return load_ingestion_settings({**server.env(), "RAPIDAPI_RETRIES": "3", **env})


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


# --------------------------------------------------------------------------- mapping rules


def test_instagram_post_mapping_rules() -> None:
    item = {"code": "Cabc_1", "taken_at": at(8), "caption": {"text": "Halo"},
            "comment_count": "x", "like_count": 12, "display_url": "https://d/1.jpg",
            "image_versions": {"items": [{"url": "https://i/1.jpg"}]},
            "video_versions": [{"url": "https://v/1.mp4"}], "is_video": True,
            "carousel_media": [{"image_versions": {"items": [{"url": "https://c/1.jpg"}]}},
                               {"image_versions": {"items": [{"url": "https://c/2.jpg"}]}}]}
    post = map_post(item, DAY, NOW)
    assert not isinstance(post, str) and post is not None
    assert (post.shortcode, post.caption, post.comment_count, post.like_count) == (
        "Cabc_1", "Halo", 0, 12)
    assert post.thumbnail_url == "https://d/1.jpg"  # thumbnail_url || thumbnail_src || display
    assert post.video_url == "https://v/1.mp4" and post.is_video
    assert post.image_url == "https://i/1.jpg"
    assert json.loads(post.images_url) == ["https://c/1.jpg", "https://c/2.jpg"]
    assert post.is_carousel
    plain = map_post({"code": "C2", "taken_at": at(9), "caption": "teks",
                      "image_versions": {"items": [{"url": "https://i/2.jpg"}]}}, DAY, NOW)
    assert not isinstance(plain, str) and plain is not None
    assert plain.caption == "teks" and plain.thumbnail_url == "https://i/2.jpg"
    assert json.loads(plain.images_url) == ["https://i/2.jpg"] and not plain.is_carousel
    assert map_post({"code": "C3", "taken_at": at(8) - 86400}, DAY, NOW) is None  # yesterday
    assert "future" in str(map_post({"code": "C4", "taken_at": at(18)}, DAY, NOW))
    assert "code" in str(map_post({"taken_at": at(8)}, DAY, NOW))
    assert "taken_at" in str(map_post({"code": "C5", "taken_at": "pagi"}, DAY, NOW))
    assert "object" in str(map_post(["not", "a", "post"], DAY, NOW))


def test_tiktok_video_mapping_rules() -> None:
    ms = at(8) * 1000
    video = map_video({"aweme_id": 7300000000000000001, "create_time": ms, "title": "t",
                       "digg_count": 5, "stats": {"comments": 3}}, DAY, NOW)
    assert not isinstance(video, str) and video is not None
    assert (video.video_id, video.caption, video.like_count, video.comment_count) == (
        "7300000000000000001", "t", 5, 3)
    assert video.created_at == datetime.fromtimestamp(at(8), UTC)
    other = map_video({"id": "7300000000000000002", "createTime": at(9), "desc": "d",
                       "stats": {"diggCount": 9, "commentCount": 4}}, DAY, NOW)
    assert not isinstance(other, str) and other is not None
    assert (other.like_count, other.comment_count, other.caption) == (9, 4, "d")
    assert map_video({"id": "7", "createTime": at(8) - 86400}, DAY, NOW) is None
    assert "future" in str(map_video({"id": "8", "createTime": at(20)}, DAY, NOW))
    assert "id" in str(map_video({"createTime": at(8)}, DAY, NOW))


def test_commenters_walk_the_whole_tree() -> None:
    tree = [{"user": {"unique_id": "Budi"}, "replies": [
        {"author": {"uniqueId": "@Siti"}, "sub_comments": [{"owner": {"username": "andi"}}]}]},
        {"user_unique_id": "joko", "children": [{"user": {"unique_id": "bad name"}}]},
        {"user": {"unique_id": "https://tiktok.com/@x"}}, "junk"]
    bad: list[str] = []
    assert sorted(commenters(tree, bad)) == ["@andi", "@budi", "@joko", "@siti"]
    assert len(bad) == 2


def test_handles_are_normalised_and_junk_refused() -> None:
    assert handle("  @Budi.Santoso ") == "budi.santoso"
    assert handle("@@x") is None
    for junk in ("budi santoso", "https://instagram.com/budi", "", "   ", None, 12, "a/b"):
        assert handle(junk) is None


# --------------------------------------------------------------------------- the HTTP layer


def test_429_burst_honours_retry_after_and_5xx_is_retried(server: StandIn) -> None:
    server.data.ig["akun"] = [IgPost("P1", at(8), likes=["a"])]
    server.faults.burst_429 = 2
    server.faults.retry_after = 7
    server.faults.script["/v1/likes"] = [503]
    sleeps = Sleeps()
    with RapidApi(settings_for(server), sleep=sleeps) as api:
        fetch = Instagram(api).posts("akun", DAY, NOW)
        assert fetch.ok and [p.shortcode for p in fetch.posts] == ["P1"]
        assert list(Instagram(api).likes("P1", 20, [])) == ["a"]
        assert api.stats.total(api.stats.retries) == 3
    assert sleeps == [7, 7, 1.0]  # Retry-After twice, then a likes page's 1 s × attempt


def test_retries_give_up_and_4xx_is_not_retried(server: StandIn) -> None:
    server.faults.script["/v1/posts"] = [500, 502, 503, 504, 404]
    sleeps = Sleeps()
    with RapidApi(settings_for(server), sleep=sleeps) as api:
        assert "HTTP 504" in str(Instagram(api).posts("akun", DAY, NOW).error)
        assert "HTTP 404" in str(Instagram(api).posts("akun", DAY, NOW).error)
    assert sleeps == [0.5, 1.0, 2.0]
    assert server.calls["/v1/posts"] == 5


class RealSleeps(Sleeps):
    """Records the waits and really waits (the small values of the timing tests)."""

    def __call__(self, seconds: float) -> None:
        super().__call__(seconds)
        time.sleep(seconds)


TIMING = {"INGESTION_INSTAGRAM_LIKE_PAGE_RETRY_SECONDS": "0.02",
          "INGESTION_TIKTOK_COMMENT_PAGE_PAUSE_SECONDS": "0.05",
          "INGESTION_TIKTOK_COMMENT_PAGE_RETRY_SECONDS": "0.01",
          "INGESTION_TIKTOK_VIDEO_RETRY_SECONDS": "0.1"}


def test_the_engagement_timing_defaults_are_the_old_services_and_configurable() -> None:
    s = load_ingestion_settings({})
    assert (s.engagement_attempts, s.like_page_retry, s.comment_page_pause,
            s.comment_page_retry, s.video_retry) == (3, 1.0, 2.0, 0.5, 2.0)
    s = load_ingestion_settings({**TIMING, "INGESTION_ENGAGEMENT_ATTEMPTS": "2"})
    assert (s.engagement_attempts, s.like_page_retry, s.comment_page_pause,
            s.comment_page_retry, s.video_retry) == (2, 0.02, 0.05, 0.01, 0.1)
    from outbox.errors import ConfigError

    with pytest.raises(ConfigError, match="INGESTION_TIKTOK_VIDEO_RETRY_SECONDS"):
        load_ingestion_settings({"INGESTION_TIKTOK_VIDEO_RETRY_SECONDS": "-1"})


def test_a_likes_page_is_tried_three_times_waiting_one_step_per_attempt(
        server: StandIn) -> None:
    server.data.ig["akun"] = [IgPost("P1", at(8), likes=["a", "b"])]
    server.faults.script["/v1/likes"] = [500, "malformed", "ok", 404, 404, 404]
    sleeps = RealSleeps()
    with RapidApi(settings_for(server, **TIMING), sleep=sleeps) as api:
        assert sorted(Instagram(api).likes("P1", 20, [])) == ["a", "b"]
        assert sleeps == [0.02, 0.04]  # 1 s × attempt, here 0.02 s × attempt
        with pytest.raises(ApiError, match="HTTP 404"):  # any failure, 3 tries in all
            list(Instagram(api).likes("P1", 20, []))
    assert sleeps == [0.02, 0.04, 0.02, 0.04]
    assert server.calls["/v1/likes"] == 6


def test_comment_pages_pause_and_pages_and_videos_are_retried(server: StandIn) -> None:
    server.data.tt["akun_tt"] = [TtVideo("7300000000000000001", at(8), "v",
                                         [f"warga{i:03d}" for i in range(120)])]
    # try 1: page 1, page 2 (503, retried), page 3 (404: no page retry) -> the video again;
    # try 2: three clean pages
    server.faults.script["/api/post/comments"] = ["ok", 503, "ok", 404, "ok", "ok", "ok"]
    sleeps = RealSleeps()
    started = time.monotonic()
    with RapidApi(settings_for(server, **TIMING), sleep=sleeps) as api:
        names = TikTok(api).commenters_of("7300000000000000001", 40, [])
        assert api.stats.total(api.stats.retries) == 2
    elapsed = time.monotonic() - started
    assert len(names) == 120 and "@warga000" in names
    assert sleeps == [0.05, 0.01, 0.05, 0.1, 0.05, 0.05]
    assert elapsed >= sum(sleeps)
    assert [p["cursor"] for _, p, _ in [(h, q, 0) for h, _, q in server.log]] == [
        "0", "50", "50", "100", "0", "50", "100"]


def test_a_failing_comment_page_gives_up_after_three_tries_of_three_videos(
        server: StandIn) -> None:
    server.data.tt["akun_tt"] = [TtVideo("7300000000000000001", at(8), "v", ["a"])]
    server.faults.script["/api/post/comments"] = [503] * 9
    sleeps = Sleeps()
    with RapidApi(settings_for(server, **TIMING), sleep=sleeps) as api, \
            pytest.raises(ApiError, match="HTTP 503"):
        TikTok(api).commenters_of("7300000000000000001", 40, [])
    assert sleeps == [0.01, 0.02, 0.1, 0.01, 0.02, 0.2, 0.01, 0.02]
    assert server.calls["/api/post/comments"] == 9


def test_instagram_falls_back_on_401_and_403_only(server: StandIn) -> None:
    server.data.ig["akun"] = [IgPost("P1", at(8))]
    server.faults.auth_failure[IG_HOST] = 403
    with RapidApi(settings_for(server), sleep=Sleeps()) as api:
        fetch = Instagram(api).posts("akun", DAY, NOW)
        assert fetch.ok and len(fetch.posts) == 1
        assert api.stats.total(api.stats.fallbacks) == 1
    assert [h for h, p, _ in server.log] == [IG_HOST, FALLBACK_HOST]
    server.faults.auth_failure.clear()
    server.faults.script["/v1/posts"] = [400]
    with RapidApi(settings_for(server), sleep=Sleeps()) as api:
        assert "HTTP 400" in str(Instagram(api).posts("akun", DAY, NOW).error)
        assert api.stats.total(api.stats.fallbacks) == 0


def test_tiktok_falls_back_on_error_and_on_an_empty_list(server: StandIn) -> None:
    server.data.sec_uids["akun_tt"] = "SEC1"
    server.data.tt["akun_tt"] = [TtVideo("7300000000000000001", at(8), "v")]
    server.faults.script["/api/user/posts"] = ["empty", 500, 500, 500, 500]
    with RapidApi(settings_for(server), sleep=Sleeps()) as api:
        tiktok = TikTok(api)
        first = tiktok.videos("akun_tt", None, DAY, NOW)  # secUid lookup, empty -> fallback
        assert first.ok and first.sec_uid == "SEC1" and len(first.videos) == 1
        second = tiktok.videos("akun_tt", "SEC1", DAY, NOW)  # 5xx after retries -> fallback
        assert second.ok and len(second.videos) == 1
        assert api.stats.total(api.stats.fallbacks) == 2
        no_fallback = TikTok(api, fallback_allowed=lambda: False)
        server.faults.script["/api/user/posts"] = ["empty"]
        assert no_fallback.videos("akun_tt", "SEC1", DAY, NOW).videos == []
    paths = [p for _, p, _ in server.log]
    assert paths[0] == "/api/user/info" and paths.count("/user/videos") == 2


def by_username(server: StandIn) -> list[tuple[str, dict[str, str]]]:
    return [(h, q) for h, p, q in server.log if p == USERNAME_PATH]


def test_tiktok_falls_back_by_username_when_the_secuid_fetch_finds_nothing_of_today(
        server: StandIn) -> None:
    today = TtVideo("7300000000000000001", at(8), "hari ini", digg=7, commenters=["a", "b"])
    yesterday = TtVideo("7300000000000000002", at(8) - 86400, "kemarin")
    server.data.tt["tanpa_sec"] = [today]  # no secUid known: the lookup fails
    server.data.sec_uids["lama"] = "SECL"
    server.data.tt["lama"] = [yesterday]  # by secUid: nothing of today
    server.data.tt_by_username["lama"] = [today, yesterday]
    with RapidApi(settings_for(server), sleep=Sleeps()) as api:
        tiktok = TikTok(api)
        failed = tiktok.videos("tanpa_sec", None, DAY, NOW)
        assert failed.ok and [v.video_id for v in failed.videos] == [today.id]
        video = failed.videos[0]
        assert (video.caption, video.like_count, video.comment_count) == ("hari ini", 7, 2)
        assert video.created_at == datetime.fromtimestamp(at(8), UTC)  # create_at in ms
        assert by_username(server) == [(FALLBACK_HOST, {"username": "tanpa_sec", "cursor": "0",
                                                        "count": "35"})]
        old = tiktok.videos("lama", "SECL", DAY, NOW)
        assert old.ok and [v.video_id for v in old.videos] == [today.id]
        assert old.raw_count == 2 and not old.sec_uid
        server.faults.script["/api/user/posts"] = ["empty"]
        server.faults.script["/user/videos"] = ["empty"]
        empty = tiktok.videos("lama", "SECL", DAY, NOW)  # primary and fallback empty
        assert empty.ok and len(empty.videos) == 1
        assert api.stats.total(api.stats.fallbacks) == 4  # /user/videos once, by username x3
    assert [p for _, p, _ in server.log].count(USERNAME_PATH) == 3


def test_the_username_fallback_keeps_the_secuid_result_or_reports_both_errors(
        server: StandIn) -> None:
    server.data.sec_uids["akun_tt"] = "SEC1"
    server.data.tt["akun_tt"] = [TtVideo("7300000000000000001", at(8), "v")]
    with RapidApi(settings_for(server, RAPIDAPI_RETRIES="0"), sleep=Sleeps()) as api:
        tiktok = TikTok(api)
        assert len(tiktok.videos("akun_tt", "SEC1", DAY, NOW).videos) == 1
        assert by_username(server) == []  # a video of today by secUid: no second fallback
        server.data.tt["akun_tt"][0].create_time = at(8) - 86400
        server.faults.script[USERNAME_PATH] = ["empty"]
        kept = tiktok.videos("akun_tt", "SEC1", DAY, NOW)  # nothing of today either way
        assert kept.ok and kept.raw_count == 1 and kept.videos == []
        server.faults.script["/api/user/posts"] = [500]
        server.faults.script["/user/videos"] = [500]
        server.faults.script[USERNAME_PATH] = [502]
        both = tiktok.videos("akun_tt", "SEC1", DAY, NOW)
        assert not both.ok and "HTTP 500" in str(both.error)
        assert "by username" in str(both.error) and "HTTP 502" in str(both.error)
        closed = TikTok(api, fallback_allowed=lambda: False)
        server.faults.script["/api/user/posts"] = [500]
        assert "HTTP 500" in str(closed.videos("akun_tt", "SEC1", DAY, NOW).error)
    assert len(by_username(server)) == 2
    moved = settings_for(server, RAPIDAPI_TIKTOK_USERNAME_PATH="/v2/user/videos")
    with RapidApi(moved, sleep=Sleeps()) as api:
        TikTok(api).videos("akun_tt", "SEC1", DAY, NOW)
    assert server.log[-1][:2] == (FALLBACK_HOST, "/v2/user/videos")
    from outbox.errors import ConfigError

    with pytest.raises(ConfigError, match="RAPIDAPI_TIKTOK_USERNAME_PATH"):
        load_ingestion_settings({"RAPIDAPI_TIKTOK_USERNAME_PATH": "user/posts?x=1"})


def test_a_never_ending_response_and_malformed_json_fail_cleanly(server: StandIn) -> None:
    server.faults.script["/v1/posts"] = ["timeout", "malformed"]
    settings = settings_for(server, RAPIDAPI_TIMEOUT_SECONDS="0.5", RAPIDAPI_RETRIES="0")
    with RapidApi(settings, sleep=Sleeps()) as api:
        assert "timeout" in str(Instagram(api).posts("akun", DAY, NOW).error)
        assert "malformed JSON" in str(Instagram(api).posts("akun", DAY, NOW).error)


def test_the_request_budget_and_the_key_never_in_errors(server: StandIn) -> None:
    settings = settings_for(server, RAPIDAPI_REQUEST_BUDGET="2")
    with RapidApi(settings, sleep=Sleeps()) as api:
        Instagram(api).posts("a", DAY, NOW)
        Instagram(api).posts("b", DAY, NOW)
        with pytest.raises(BudgetExhausted):
            api.get(settings.instagram, "/v1/posts", {"username_or_id_or_url": "c"})  # type: ignore[arg-type]
    wrong = load_ingestion_settings({**server.env(), "RAPIDAPI_KEY": "sekret-123",
                                     "RAPIDAPI_FALLBACK_HOST": "", "RAPIDAPI_FALLBACK_KEY": ""})
    with RapidApi(wrong, sleep=Sleeps()) as api:
        error = Instagram(api).posts("a", DAY, NOW).error
    assert error is not None and "401" in error and "sekret" not in error
    assert "sekret" not in repr(wrong)


def test_a_100k_like_list_is_paged_into_one_set(server: StandIn) -> None:
    server.like_page = 5000
    server.data.ig["akun"] = [IgPost("BIG", at(8), likes=100_000)]
    with RapidApi(settings_for(server), sleep=Sleeps()) as api:
        names = set(Instagram(api).likes("BIG", 20, []))
    assert len(names) == 100_000


# --------------------------------------------------------------------------- gating, deletion


def test_gating_by_segment_and_slot() -> None:
    s = IngestionSettings()
    org = Client("BOJONEGORO", "org", "x", None, None)
    binmas = Client("DITBINMAS", "direktorat", "x", None, None)
    other = Client("DITLANTAS", "direktorat", "x", None, None)

    def slot(h: int, m: int) -> datetime:
        return DAY_START.replace(hour=h, minute=m)

    for client, yes, no in ((org, [(6, 0), (20, 30), (20, 58)], [(21, 0), (21, 58), (5, 30)]),
                            (binmas, [(20, 58)], [(21, 30), (21, 58)]),
                            (other, [(21, 30), (21, 58), (6, 0)], [(20, 58), (22, 0)])):
        assert all(posts_due(s, client, slot(*hm)) for hm in yes), client
        assert not any(posts_due(s, client, slot(*hm)) for hm in no), client
    assert is_trigger(s, slot(20, 58)) and is_trigger(s, slot(7, 30))
    assert not is_trigger(s, slot(7, 58))
    moved = load_ingestion_settings({"INGESTION_SEGMENT_A_WINDOW": "07:00-19:00",
                                     "INGESTION_SEGMENT_A_FINAL": "19:45"})
    assert posts_due(moved, org, slot(19, 45)) and not posts_due(moved, org, slot(6, 30))


def test_deletion_safety_thresholds() -> None:
    assert deletable(["a"], 5, 10, None, True, True, 0.4) == (True, "")
    assert not deletable(["a", "b", "c"], 5, 10, None, True, True, 0.4)[0]  # 60 % > 40 %
    assert deletable(["a", "b", "c"], 5, 10, None, True, True, 0.6)[0]  # a client override
    assert not deletable(["a"], 5, 10, None, False, True, 0.4)[0]  # an API error
    assert not deletable(["a"], 5, 0, None, True, True, 0.4)[0]  # nothing returned
    assert not deletable(["a"], 5, 10, None, True, False, 0.4)[0]  # duplicates / bad items
    assert not deletable(["a"], 5, 4, 10, True, True, 0.4)[0]  # raw count dropped 60 %
    assert deletable(["a"], 5, 5, 10, True, True, 0.4)[0]  # dropped 50 %: still complete


def test_settings_problems_are_collected() -> None:
    from outbox.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_ingestion_settings({"RAPIDAPI_FALLBACK_HOST": "x", "RAPIDAPI_INSTAGRAM_URL": "ftp:x",
                                 "INGESTION_SEGMENT_B_WINDOW": "22:00-06:00",
                                 "INGESTION_DELETE_MAX_SHARE_CLIENTS": "A=2"})
    text = str(caught.value)
    for needle in ("RAPIDAPI_FALLBACK_KEY", "RAPIDAPI_INSTAGRAM_URL",
                   "INGESTION_SEGMENT_B_WINDOW", "INGESTION_DELETE_MAX_SHARE_CLIENTS"):
        assert needle in text
    assert load_ingestion_settings({}).key is None


# --------------------------------------------------------------------------- the writes


def seed_clients(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO clients (client_id, nama, client_type, client_status, client_insta, "
        "client_insta_status, client_tiktok, client_tiktok_status, client_amplify_status) VALUES "
        "('POLRES_A', 'POLRES A', 'org', true, '@polres_a', true, 'polres_a_tt', true, true),"
        "('POLRES_B', 'POLRES B', 'org', true, 'polres_b', true, NULL, true, true),"
        "('OFF', 'OFF', 'org', false, 'off_ig', true, NULL, true, true)")
    conn.execute(
        'INSERT INTO "user" (user_id, nama, insta, tiktok, client_id, status, exception) VALUES '
        "('1', 'Budi', 'budi', 'budi_tt', 'POLRES_A', true, false),"
        "('2', 'Siti', '@Siti ', 'siti_tt', 'POLRES_A', true, false),"
        "('9', 'Pimpinan', '@Pimpinan', '@pimpinan_tt', 'POLRES_B', true, true)")


def standin_data() -> Data:
    data = Data()
    data.ig["polres_a"] = [IgPost("A1", at(8), likes=["budi", "Siti", "bad name"]),
                           IgPost("A2", at(7), likes=["budi"]),
                           IgPost("AOLD", at(7) - 86400)]
    data.ig["polres_b"] = [IgPost("B1", at(9), likes=["x_user"])]
    data.sec_uids["polres_a_tt"] = "SECA"
    data.tt["polres_a_tt"] = [TtVideo("7300000000000000011", at(8), "v", ["budi_tt"])]
    return data


def make_job(url: str, server: StandIn, **env: str) -> Ingestion:
    return Ingestion(settings_for(server, **env),
                     lambda: psycopg.connect(url, autocommit=True), sleep=Sleeps(),
                     progress=False)


def run(job: Ingestion, url: str, now: datetime = NOW) -> ingestion_job.RunSummary:
    with psycopg.connect(url, autocommit=True) as conn:
        return job.run(conn, now, now)


def likes(conn: Conn, code: str) -> list[Any]:
    row = conn.execute("SELECT likes FROM insta_like WHERE shortcode = %s", (code,)).fetchone()
    return [] if row is None else list(row[0])


def test_a_run_stores_posts_likes_comments_with_exceptions_and_never_shrinks(
        db_url: str, conn: Conn) -> None:
    seed_clients(conn)
    with StandIn(standin_data()) as server:
        job = make_job(db_url, server)
        summary = run(job, db_url)
        assert not summary.errors, summary.errors
        assert sorted(r.client_id for r in summary.reports) == ["POLRES_A", "POLRES_B"]
        rows = conn.execute("SELECT shortcode, client_id, source_type FROM insta_post "
                            "ORDER BY 1").fetchall()
        assert rows == [("A1", "POLRES_A", "cron_fetch"), ("A2", "POLRES_A", "cron_fetch"),
                        ("B1", "POLRES_B", "cron_fetch")]
        assert likes(conn, "A1") == ["budi", "pimpinan", "siti"]  # exception user added
        assert conn.execute("SELECT comments FROM tiktok_comment").fetchone() == (
            ["@budi_tt", "@pimpinan_tt"],)
        assert conn.execute("SELECT tiktok_secuid FROM clients WHERE client_id = 'POLRES_A'"
                            ).fetchone() == ("SECA",)
        # a refresh that sees fewer likes removes nobody; a new name is appended
        server.data.ig["polres_a"][0].likes = ["andi"]
        conn.execute("UPDATE insta_like SET likes = likes || '[{\"username\": \"Legacy\"}]' "
                     "WHERE shortcode = 'A1'")
        second = run(make_job(db_url, server), db_url)
        assert second.reports[0].likes_added == 1
        assert likes(conn, "A1") == ["budi", "pimpinan", "siti", {"username": "Legacy"}, "andi"]


def test_manual_rows_keep_their_source_and_deletion_follows_the_rules(
        db_url: str, conn: Conn) -> None:
    seed_clients(conn)
    data = standin_data()
    data.ig["polres_a"] += [IgPost(f"A{n}", at(6, n)) for n in range(3, 8)]
    with StandIn(data) as server:
        run(make_job(db_url, server), db_url)
        conn.execute("INSERT INTO insta_post (shortcode, client_id, source_type, created_at) "
                     "VALUES ('MAN1', 'POLRES_A', 'manual_input', %s)", (NOW - timedelta(hours=1),))
        conn.execute("UPDATE insta_post SET source_type = 'manual_input' WHERE shortcode = 'A2'")
        # A3 disappears (1 of 7 own cron posts): deleted; manual rows never
        server.data.ig["polres_a"] = [p for p in server.data.ig["polres_a"]
                                      if p.code not in ("A3", "A2")]
        job = make_job(db_url, server)
        summary = run(job, db_url)
        report = next(r for r in summary.reports if r.client_id == "POLRES_A")
        assert report.ig_deleted == 1
        codes = {r[0] for r in conn.execute("SELECT shortcode FROM insta_post")}
        assert "A3" not in codes and {"A2", "MAN1"} <= codes
        assert conn.execute("SELECT source_type FROM insta_post WHERE shortcode = 'A2'"
                            ).fetchone() == ("manual_input",)
        assert conn.execute("SELECT count(*) FROM insta_like WHERE shortcode = 'MAN1'"
                            ).fetchone() == (1,)  # likes refreshed for the manual post too
        # most posts gone at once (> 40 %): nothing deleted
        server.data.ig["polres_a"] = server.data.ig["polres_a"][:1]
        report = next(r for r in run(job, db_url).reports if r.client_id == "POLRES_A")
        assert report.ig_deleted == 0
        # an API error: nothing deleted either
        server.faults.script["/v1/posts"] = [500] * 8
        assert all(r.ig_deleted == 0 for r in run(job, db_url).reports)


def test_bad_input_is_logged_and_skipped(db_url: str, conn: Conn,
                                         caplog: pytest.LogCaptureFixture) -> None:
    seed_clients(conn)
    data = standin_data()
    data.ig["polres_a"].append(IgPost("FUT", at(23)))
    data.ig["polres_a"].append(IgPost("BADT", 0, extra={"taken_at": "kemarin"}))
    with StandIn(data) as server:
        # one call at a time: A1's likes, then A2's three tries, all malformed
        server.faults.script["/v1/likes"] = ["ok", "malformed", "malformed", "malformed"]
        with caplog.at_level("WARNING"):
            summary = run(make_job(db_url, server, INGESTION_CLIENT_CONCURRENCY="1",
                                   INGESTION_POST_CONCURRENCY="1"), db_url)
    codes = {r[0] for r in conn.execute("SELECT shortcode FROM insta_post")}
    assert "FUT" not in codes and "BADT" not in codes and {"A1", "A2", "B1"} <= codes
    assert any("malformed JSON" in e for e in summary.errors)
    assert "POLRES_A" in caplog.text and "future" in caplog.text and "bad name" in caplog.text
    assert "standin-key" not in caplog.text


def test_a_run_pauses_and_retries_likes_and_comments_as_configured(db_url: str,
                                                                   conn: Conn) -> None:
    seed_clients(conn)
    data = standin_data()
    data.tt["polres_a_tt"][0].commenters = [f"warga{i:03d}" for i in range(120)]
    with StandIn(data) as server:
        server.faults.script["/v1/likes"] = [500]
        server.faults.script["/api/post/comments"] = ["ok", 503, "ok", 404, "ok", "ok", "ok"]
        sleeps = RealSleeps()
        job = Ingestion(settings_for(server, **TIMING), lambda: psycopg.connect(
            db_url, autocommit=True), sleep=sleeps, progress=False)
        summary = run(job, db_url)
    assert not summary.errors, summary.errors
    assert summary.retries == 3  # a likes page, a comment page, the video
    assert sorted(sleeps) == sorted([0.02, 0.05, 0.01, 0.05, 0.1, 0.05, 0.05])
    stored = conn.execute("SELECT jsonb_array_length(comments) FROM tiktok_comment"
                          ).fetchone()
    assert stored == (121,)  # 120 commenters and the exception user
    assert likes(conn, "A1") == ["budi", "pimpinan", "siti"]


def test_a_run_stores_the_videos_found_by_username_inside_the_fallback_hours(
        db_url: str, conn: Conn) -> None:
    seed_clients(conn)
    data = standin_data()
    del data.sec_uids["polres_a_tt"]  # the secUid lookup fails: only the username route helps
    with StandIn(data) as server:
        closed = run(make_job(db_url, server, INGESTION_TIKTOK_FALLBACK_HOURS="11:00-17:15"),
                     db_url)  # 10:00 WIB: outside Cicero_V2's fallback hours
        assert any("no secUid" in e for e in closed.errors), closed.errors
        assert by_username(server) == []
        assert conn.execute("SELECT count(*) FROM tiktok_post").fetchone() == (0,)
        summary = run(make_job(db_url, server, INGESTION_TIKTOK_FALLBACK_HOURS="09:00-17:15"),
                      db_url)
        assert not summary.errors, summary.errors
        report = next(r for r in summary.reports if r.client_id == "POLRES_A")
        assert (report.tt_new, report.comments_added) == (1, 2)
        assert len(by_username(server)) == 1
    assert conn.execute("SELECT video_id, client_id, source_type, caption FROM tiktok_post"
                        ).fetchall() == [("7300000000000000011", "POLRES_A", "cron_fetch", "v")]
    assert conn.execute("SELECT comments FROM tiktok_comment").fetchone() == (
        ["@budi_tt", "@pimpinan_tt"],)
    assert conn.execute("SELECT tiktok_secuid FROM clients WHERE client_id = 'POLRES_A'"
                        ).fetchone() == (None,)


def test_the_run_budget_carries_the_remaining_clients_over(db_url: str, conn: Conn) -> None:
    seed_clients(conn)
    ticks = iter([0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 100.0])
    with StandIn(standin_data()) as server:
        job = make_job(db_url, server, INGESTION_RUN_BUDGET_MINUTES="1",
                       INGESTION_CLIENT_CONCURRENCY="1")
        job.clock = lambda: next(ticks, 1000.0)
        summary = run(job, db_url)
        assert [r.client_id for r in summary.reports] == ["POLRES_A"]
        assert summary.carried == ["POLRES_B"]
        assert conn.execute("SELECT client_id, platform, carried_since FROM ingestion_state "
                            "WHERE carried_since IS NOT NULL").fetchall() == [
            ("POLRES_B", "instagram", NOW)]
        # a restart: a new job object (a new process) still starts with the carried client
        restarted = make_job(db_url, server, INGESTION_CLIENT_CONCURRENCY="1")
        again = run(restarted, db_url, NOW + timedelta(minutes=30))
        assert [r.client_id for r in again.reports] == ["POLRES_B", "POLRES_A"]
        assert not again.carried
        assert conn.execute("SELECT count(*) FROM ingestion_state "
                            "WHERE carried_since IS NOT NULL").fetchone() == (0,)


def test_a_carried_client_keeps_its_older_mark(db_url: str, conn: Conn) -> None:
    from producers.ingestion import state

    later = NOW + timedelta(minutes=30)
    state.remember_carried(conn, [("B", ["instagram", "tiktok"]), ("A", ["tiktok"])], NOW)
    state.remember_carried(conn, [("C", ["instagram"]), ("B", ["instagram"])], later)
    assert state.carried(conn) == ["B", "C"]  # A ran: unmarked; B's mark stays the older one
    assert conn.execute("SELECT carried_since FROM ingestion_state WHERE client_id = 'B' "
                        "AND platform = 'instagram'").fetchone() == (NOW,)
    state.remember_carried(conn, [], later)
    assert state.carried(conn) == []


def test_the_previous_raw_count_survives_a_restart(db_url: str, conn: Conn) -> None:
    seed_clients(conn)
    data = standin_data()
    data.ig["polres_a"] = [IgPost(f"A{n}", at(6, n)) for n in range(1, 6)] + [
        IgPost(f"OLD{n}", at(6, n) - 86400) for n in range(10)]
    with StandIn(data) as server:
        run(make_job(db_url, server), db_url)  # 15 raw items, 5 of today
        counts = conn.execute("SELECT client_id, platform, raw_count FROM ingestion_state "
                              "ORDER BY 1, 2").fetchall()
        assert counts == [("POLRES_A", "instagram", 15), ("POLRES_A", "tiktok", 1),
                          ("POLRES_B", "instagram", 1)]
        # after a restart the provider returns 4 items (a 73 % drop): A5 is not deleted,
        # although 1 of 5 posts is within the 40 % share
        server.data.ig["polres_a"] = server.data.ig["polres_a"][:4]
        report = next(r for r in run(make_job(db_url, server), db_url).reports
                      if r.client_id == "POLRES_A")
        assert report.ig_deleted == 0
        assert conn.execute("SELECT count(*) FROM insta_post WHERE shortcode = 'A5'"
                            ).fetchone() == (1,)
        assert conn.execute("SELECT raw_count FROM ingestion_state WHERE client_id = "
                            "'POLRES_A' AND platform = 'instagram'").fetchone() == (4,)
        # a failed fetch leaves the count as it was; the next complete one deletes A5
        server.faults.script["/v1/posts"] = [500] * 8
        run(make_job(db_url, server), db_url)
        assert conn.execute("SELECT raw_count FROM ingestion_state WHERE client_id = "
                            "'POLRES_A' AND platform = 'instagram'").fetchone() == (4,)
        report = next(r for r in run(make_job(db_url, server), db_url).reports
                      if r.client_id == "POLRES_A")
        assert report.ig_deleted == 1


def test_the_job_refuses_without_a_key_and_runs_one_at_a_time(
        db_url: str, conn: Conn, caplog: pytest.LogCaptureFixture) -> None:
    seed_clients(conn)
    refused = Ingestion(load_ingestion_settings({}), lambda: psycopg.connect(db_url))
    ctx = JobContext(conn=conn, job="ingestion", slot=NOW, now=NOW)
    with caplog.at_level("ERROR"):
        assert refused(ctx).detail == "refused: RAPIDAPI_KEY belum di-set"
    assert "RAPIDAPI_KEY belum di-set" in caplog.text
    with StandIn(standin_data()) as server, psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext('cicero-ingestion'))")
        job = make_job(db_url, server)
        assert job(ctx).detail == "another run holds the lock"
        assert server.calls.total() == 0
        holder.execute("SELECT pg_advisory_unlock_all()")
        assert job(JobContext(conn=conn, job="ingestion", slot=NOW.replace(minute=58),
                              now=NOW)).detail == "not a trigger slot"


def test_errors_send_one_deduplicated_admin_message(db_url: str, conn: Conn) -> None:
    from producers.runner import run_slot

    seed_clients(conn)
    with StandIn(standin_data()) as server:
        server.faults.script["/v1/posts"] = [500] * 8
        job = make_job(db_url, server)
        spec = JobSpec("ingestion", ingestion_job.DEFAULT_CRON, "INGESTION_CRON",
                                     job)
        outcome = run_slot(conn, spec, NOW, now=NOW, admin_whatsapp=("0811-2222-3333",))
        assert outcome.status == "done" and outcome.result is not None
        assert outcome.result.enqueued == 1
        outcome = run_slot(conn, spec, NOW, now=NOW, admin_whatsapp=("0811-2222-3333",),
                           rerun_failed=True)
        assert outcome.status == "taken"
    rows = conn.execute("SELECT type, content FROM wa_outbox").fetchall()
    assert len(rows) == 1 and rows[0][0] == "admin_alert"
    assert "POLRES_A" in rows[0][1] and "HTTP 500" in rows[0][1] and "standin" not in rows[0][1]


@pytest.mark.parametrize("variant", ["v2", "cf"])
def test_the_writes_on_the_real_cicero_variants(empty_db_url: str, variant: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        load(conn, variant)
        migrate.upgrade(empty_db_url)
        seed_clients(conn)
        with StandIn(standin_data()) as server:
            summary = run(make_job(empty_db_url, server), empty_db_url)
            assert not summary.errors, summary.errors
            again = run(make_job(empty_db_url, server), empty_db_url)
            assert not again.errors
        # naive created_at holds the UTC wall clock (the adapter's default contract)
        stored = conn.execute("SELECT created_at FROM insta_post WHERE shortcode = 'A1'"
                              ).fetchone()
        assert stored == (datetime.fromtimestamp(at(8), UTC).replace(tzinfo=None),)
        read = conn.execute("SELECT created_at, report_date FROM cicero_insta_posts() "
                            "WHERE shortcode = 'A1'").fetchone()
        assert read == (datetime.fromtimestamp(at(8), UTC), DAY)
        tt = conn.execute("SELECT created_at, report_date FROM cicero_tiktok_posts()").fetchone()
        assert tt == (datetime.fromtimestamp(at(8), UTC), DAY)
        assert likes(conn, "A1") == ["budi", "pimpinan", "siti"]
        audits = conn.execute("SELECT count(*) FROM insta_like_audit").fetchone()
        assert audits is not None and audits[0] == 6  # 3 posts x 2 runs
        links = conn.execute("SELECT count(*) FROM cicero_insta_post_links()").fetchone()
        assert links == ((3,) if variant == "cf" else (0,))
        if variant == "cf":
            assert conn.execute("SELECT original_created_at FROM insta_post WHERE "
                                "shortcode = 'A1'").fetchone() == (
                datetime.fromtimestamp(at(8), UTC),)


def test_revision_0003_creates_and_drops_ingestion_state(empty_db_url: str) -> None:
    def exists() -> bool:
        with psycopg.connect(empty_db_url) as c:
            row = c.execute("SELECT to_regclass('ingestion_state') IS NOT NULL").fetchone()
        return bool(row and row[0])

    migrate.upgrade(empty_db_url)
    assert exists()
    migrate.downgrade(empty_db_url, "0002_task_recap_state")
    assert not exists()
    migrate.upgrade(empty_db_url)
    assert exists()
