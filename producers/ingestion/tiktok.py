"""TikTok through RapidAPI (``tiktok-api23``): the account's videos of today, commenters.

secUid: ``clients.tiktok_secuid`` else ``GET /api/user/info?uniqueId=<handle>``
(``userInfo.user.secUid``). Videos: ``GET /api/user/posts?secUid=..&cursor=0&count=35`` (one
page); the list is the first of ``data.itemList``, ``items``, ``result.videos``, ``videos``.
When the primary fails **or returns an empty list**: ``GET /user/videos`` with the same
parameters on the fallback host. When that still gives no video of today (failed, empty, or
none of today): ``GET /user/posts?username=<handle>&cursor=0&count=35`` on the fallback host
(the path is ``RAPIDAPI_TIKTOK_USERNAME_PATH``). Both fallbacks only inside
``INGESTION_TIKTOK_FALLBACK_HOURS``.
Comments: ``GET /api/post/comments?videoId=..&count=50&cursor=n``
(``data.comments`` or ``comments``, total at ``.total``), the next cursor n+50 while the page is
not empty and the cursor <= total; usernames from the whole comment tree. Timing as the old
service: 2 s between pages; a page tried up to 3 times (500 ms × 2^(n-1)) for retryable
failures only; a video's comments tried up to 3 times (2 s × attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from producers.ingestion.http import (
    ApiError,
    BudgetExhausted,
    Params,
    RapidApi,
    RetryPolicy,
    retryable,
)
from producers.ingestion.parse import as_list, count, dig, epoch, first, handle, text
from producers.schedule import jakarta

log = logging.getLogger(__name__)

PAGE = 50
REPLY_KEYS = ("replies", "reply_comment", "reply_comments", "comment_replies", "comments",
              "children", "items", "sub_comments", "subComments")
USER_KEYS = ("user", "author", "owner")
NAME_KEYS = ("unique_id", "uniqueId", "username")
MAX_DEPTH = 20


@dataclass(frozen=True)
class Video:
    video_id: str
    created_at: datetime
    caption: str | None
    like_count: int
    comment_count: int


@dataclass
class VideoFetch:
    videos: list[Video] = field(default_factory=list)
    raw_count: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    duplicates: bool = False
    incomplete_items: bool = False
    sec_uid: str | None = None  # resolved by a lookup (to save into clients.tiktok_secuid)

    @property
    def ok(self) -> bool:
        return self.error is None


def video_list(body: Any) -> list[Any] | None:
    found = first(body, ("data", "itemList"), ("items",), ("result", "videos"), ("videos",))
    return as_list(found)


def map_video(item: Any, today: date, now: datetime) -> Video | str | None:
    if not isinstance(item, dict):
        return "item is not an object"
    vid = text(first(item, ("id",), ("video_id",), ("aweme_id",)))
    if vid is None or not vid.isdigit():
        return f"item without a valid id ({repr(vid)[:40]})"
    created = epoch(first(item, ("createTime",), ("create_time",), ("timestamp",),
                          ("create_at",)))
    if created is None:
        return f"{vid}: createTime missing or not a number"
    if (created - now).total_seconds() > 300:
        return f"{vid}: createTime {created.isoformat()} is in the future"
    if jakarta(created).date() != today:
        return None
    return Video(
        video_id=vid,
        created_at=created,
        caption=text(first(item, ("desc",), ("caption",), ("title",))),
        like_count=count(first(item, ("stats", "diggCount"), ("digg_count",), ("like_count",),
                               ("stats", "likeCount"))),
        comment_count=count(first(item, ("stats", "commentCount"), ("comment_count",),
                                  ("stats", "comments"))),
    )


def commenters(comments: list[Any], bad: list[str]) -> Iterator[str]:
    """Every ``@handle`` in a comment tree (iterative: a deep or cyclic tree cannot recurse)."""
    stack: list[tuple[Any, int]] = [(c, 0) for c in comments]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            continue
        raw = None
        for key in USER_KEYS:
            raw = first(node.get(key), *((k,) for k in NAME_KEYS))
            if raw is not None:
                break
        if raw is None:
            raw = node.get("user_unique_id")
        if raw is not None:
            name = handle(raw)
            if name is not None:
                yield "@" + name
            elif len(bad) < 5:
                bad.append(repr(raw)[:40])
        for key in REPLY_KEYS:
            children = as_list(node.get(key))
            if children:
                stack.extend((child, depth + 1) for child in children)


def _collect(result: VideoFetch, items: list[Any], today: date, now: datetime) -> None:
    """Map ``items`` into ``result``: today's videos, bad items, duplicates, the raw count."""
    seen: set[str] = set()
    for item in items:
        result.raw_count += 1
        mapped = map_video(item, today, now)
        if isinstance(mapped, str):
            result.problems.append(mapped)
            result.incomplete_items = True
        elif mapped is not None:
            if mapped.video_id in seen:
                result.duplicates = True
                continue
            seen.add(mapped.video_id)
            result.videos.append(mapped)


class TikTok:
    def __init__(self, api: RapidApi, *, fallback_allowed: Callable[[], bool] = lambda: True
                 ) -> None:
        self.api = api
        settings = api.settings
        assert settings.tiktok is not None
        self.primary = settings.tiktok
        self.fallback = settings.fallback
        self.fallback_allowed = fallback_allowed
        base = settings.comment_page_retry
        self.page_policy = RetryPolicy(settings.engagement_attempts,
                                       lambda n: base * 2 ** (n - 1), retryable)

    def sec_uid(self, username: str) -> str | None:
        body = self.api.get(self.primary, "/api/user/info", {"uniqueId": username})
        found = text(dig(body, "userInfo", "user", "secUid"))
        return found or None

    def _primary_posts(self, sec_uid: str) -> list[Any]:
        params: Params = {"secUid": sec_uid, "cursor": 0, "count": 35}
        body = self.api.get(self.primary, "/api/user/posts", params)
        items = video_list(body)
        if items is None:
            message = text(first(body, ("message",), ("error",), ("msg",))) or ""
            raise ApiError(self.primary.host, "/api/user/posts", "unexpected shape",
                           detail=message[:80])
        return items

    def videos(self, username: str, sec_uid: str | None, today: date, now: datetime
               ) -> VideoFetch:
        """Today's videos of the account: by secUid (primary, then the fallback host), then by
        username on the fallback host when that found no video of today or failed."""
        result = VideoFetch()
        error: ApiError | None = None
        try:
            _collect(result, self._by_sec_uid(username, sec_uid, result), today, now)
        except ApiError as exc:
            error = exc
        if error is not None or not result.videos:
            by_name = self._by_username(username, error, today, now)
            if by_name is not None and by_name.ok and (
                    error is not None or by_name.videos or not result.raw_count):
                by_name.sec_uid = result.sec_uid
                return by_name
            if error is not None and by_name is not None and by_name.error:
                result.error = f"{error}; by username: {by_name.error}"
                return result
        if error is not None:
            result.error = str(error)
        return result

    def _by_sec_uid(self, username: str, sec_uid: str | None, result: VideoFetch
                    ) -> list[Any]:
        if not sec_uid:
            sec_uid = self.sec_uid(username)
            if sec_uid is None:
                raise ApiError(self.primary.host, "/api/user/info", "no secUid",
                               detail=username)
            result.sec_uid = sec_uid
        try:
            items = self._primary_posts(sec_uid)
        except ApiError as exc:
            stale = exc.status == 400 or "missing required params" in str(exc).lower()
            if stale and not result.sec_uid:
                fresh = self.sec_uid(username)
                if fresh is None:
                    raise
                result.sec_uid = sec_uid = fresh
                items = self._primary_posts(sec_uid)
            else:
                items = self._fallback(sec_uid, exc)
        if not items:
            items = self._fallback(sec_uid, None)
        return items

    def _by_username(self, username: str, error: ApiError | None, today: date,
                     now: datetime) -> VideoFetch | None:
        """The second fallback: the account's videos by username on the fallback host
        (``RAPIDAPI_TIKTOK_USERNAME_PATH``); None when the fallback may not be used."""
        if self.fallback is None or not self.fallback_allowed():
            return None
        path = self.api.settings.tiktok_username_path
        log.info("tiktok: %s; asking the fallback host %s by username",
                 error or "no video of today by secUid", self.fallback.host)
        self.api.fallback_used(self.primary.host)
        fetch = VideoFetch()
        try:
            body = self.api.get(self.fallback, path,
                                {"username": username, "cursor": 0, "count": 35})
            items = video_list(body)
            if items is None:
                raise ApiError(self.fallback.host, path, "unexpected shape")
        except ApiError as exc:
            log.warning("tiktok: the fallback by username for %s failed: %s", username, exc)
            fetch.error = str(exc)
            return fetch
        _collect(fetch, items, today, now)
        return fetch

    def _fallback(self, sec_uid: str, error: ApiError | None) -> list[Any]:
        if self.fallback is None or not self.fallback_allowed():
            if error is not None:
                raise error
            return []
        log.info("tiktok: %s; trying the fallback host %s",
                 error or "the primary returned an empty list", self.fallback.host)
        self.api.fallback_used(self.primary.host)
        body = self.api.get(self.fallback, "/user/videos",
                            {"secUid": sec_uid, "cursor": 0, "count": 35})
        items = video_list(body)
        if items is None:
            if error is not None:
                raise error
            raise ApiError(self.fallback.host, "/user/videos", "unexpected shape")
        return items

    def commenters_of(self, video_id: str, max_pages: int, bad: list[str]) -> set[str]:
        """Every commenter of a video; the whole video is tried again (from its first page)
        when a page fails for good, up to ``engagement_attempts`` tries, waiting
        ``video_retry`` × attempt (not for an exhausted budget or a refused key)."""
        settings = self.api.settings
        attempt = 1
        while True:
            try:
                return set(self.comments(video_id, max_pages, bad))
            except ApiError as exc:
                if (isinstance(exc, BudgetExhausted) or exc.auth
                        or attempt >= settings.engagement_attempts):
                    raise
                log.info("tiktok: comments of %s failed (%s); trying the video again", video_id,
                         exc)
                self.api.stats.add(self.api.stats.retries, self.primary.host)
                self.api.sleep(settings.video_retry * attempt)
                attempt += 1

    def comments(self, video_id: str, max_pages: int, bad: list[str]) -> Iterator[str]:
        cursor = 0
        pause = self.api.settings.comment_page_pause
        for page in range(max_pages):
            if page and pause:
                self.api.sleep(pause)
            body = self.api.get(self.primary, "/api/post/comments",
                                {"videoId": video_id, "count": PAGE, "cursor": cursor},
                                self.page_policy)
            found = first(body, ("data", "comments"), ("comments",))
            items = as_list(found) or []
            yield from commenters(items, bad)
            total = count(first(body, ("data", "total"), ("total",)))
            cursor += PAGE
            if not items or cursor > total:
                return
