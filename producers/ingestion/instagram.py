"""Instagram through RapidAPI (``social-api4``): posts of today, likes per post.

Posts: ``GET /v1/posts?username_or_id_or_url=<account>[&pagination_token=<t>]``; items at
``data.items``, next page while ``has_more`` or a ``pagination_token`` is present; stop on an
empty page, no token, or 50 items. Likes: ``GET /v1/likes?code_or_id_or_url=<shortcode>
[&cursor=<c>]``; usernames at ``data.items[].username``, next cursor ``data.next_cursor`` or
``data.end_cursor`` while ``data.has_more`` or a cursor; at most 20 pages, each tried up to 3
times, waiting 1 s × attempt (any failure but an exhausted budget or a refused key). A 401/403
from the primary host repeats the same call on the fallback host with the fallback key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from producers.ingestion.http import ApiError, Params, RapidApi, RetryPolicy
from producers.ingestion.parse import as_list, count, dig, epoch, first, handle, text
from producers.schedule import jakarta

log = logging.getLogger(__name__)

MAX_POST_ITEMS = 50


@dataclass(frozen=True)
class InstaPost:
    shortcode: str
    taken_at: datetime
    caption: str | None
    comment_count: int
    like_count: int
    thumbnail_url: str | None
    is_video: bool
    video_url: str | None
    image_url: str | None
    images_url: str  # JSON array text
    is_carousel: bool


@dataclass
class PostFetch:
    """One account's fetch: today's posts and whether the fetch is complete enough to delete."""

    posts: list[InstaPost] = field(default_factory=list)
    raw_count: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)  # bad items (logged, not stored)
    duplicates: bool = False
    incomplete_items: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def _url(value: Any) -> str | None:
    found = text(value)
    return found if found and found.startswith(("http://", "https://")) else None


def map_post(item: Any, today: date, now: datetime) -> InstaPost | str | None:
    """The post of one item, None when not of today's Jakarta date, or a problem text."""
    if not isinstance(item, dict):
        return "item is not an object"
    code = item.get("code")
    if not isinstance(code, str) or not code.strip() or not code.replace("_", "").replace(
            "-", "").isalnum():
        return f"item without a valid code ({_peek(code)})"
    taken = epoch(item.get("taken_at"))
    if taken is None:
        return f"{code}: taken_at missing or not a number ({_peek(item.get('taken_at'))})"
    if taken > now.astimezone(taken.tzinfo) and (taken - now).total_seconds() > 300:
        return f"{code}: taken_at {taken.isoformat()} is in the future"
    if jakarta(taken).date() != today:
        return None
    caption_raw = item.get("caption")
    caption = text(dig(caption_raw, "text")) if isinstance(caption_raw, dict) else text(
        caption_raw)
    first_image = _url(dig(item, "image_versions", "items", 0, "url"))
    carousel = as_list(item.get("carousel_media")) or []
    images = [u for u in (_url(dig(c, "image_versions", "items", 0, "url")) for c in carousel)
              if u]
    if not images and first_image:
        images = [first_image]
    return InstaPost(
        shortcode=code.strip(),
        taken_at=taken,
        caption=caption,
        comment_count=count(item.get("comment_count")),
        like_count=count(item.get("like_count")),
        thumbnail_url=_url(first(item, ("thumbnail_url",), ("thumbnail_src",), ("display_url",),
                                 ("image_versions", "items", 0, "url"))),
        is_video=item.get("is_video") is True,
        video_url=_url(first(item, ("video_url",), ("video_versions", 0, "url"))),
        image_url=first_image,
        images_url=json.dumps(images),
        is_carousel=len(carousel) > 1,
    )


def _peek(value: Any) -> str:
    return repr(value)[:40]


class Instagram:
    def __init__(self, api: RapidApi) -> None:
        self.api = api
        settings = api.settings
        assert settings.instagram is not None
        self.primary = settings.instagram
        self.fallback = settings.fallback
        step = settings.like_page_retry
        self.like_policy = RetryPolicy(settings.engagement_attempts, lambda n: step * n,
                                       lambda e: not e.auth)

    def call(self, path: str, params: Params, policy: RetryPolicy | None = None) -> Any:
        try:
            return self.api.get(self.primary, path, params, policy)
        except ApiError as exc:
            if not exc.auth or self.fallback is None:
                raise
            log.warning("instagram: %s; trying the fallback host %s", exc, self.fallback.host)
            self.api.fallback_used(self.primary.host)
            return self.api.get(self.fallback, path, params, policy)

    def posts(self, account: str, today: date, now: datetime) -> PostFetch:
        result = PostFetch()
        seen: set[str] = set()
        token: str | None = None
        try:
            while result.raw_count < MAX_POST_ITEMS:
                params: dict[str, str | int] = {"username_or_id_or_url": account}
                if token:
                    params["pagination_token"] = token
                body = self.call("/v1/posts", params)
                items = as_list(dig(body, "data", "items"))
                if items is None:
                    if dig(body, "data") is None and not isinstance(body, dict):
                        raise ApiError(self.primary.host, "/v1/posts", "unexpected shape")
                    items = []
                if not items:
                    break
                for item in items[:MAX_POST_ITEMS - result.raw_count]:
                    result.raw_count += 1
                    mapped = map_post(item, today, now)
                    if isinstance(mapped, str):
                        result.problems.append(mapped)
                        result.incomplete_items = True
                    elif mapped is not None:
                        if mapped.shortcode in seen:
                            result.duplicates = True
                            continue
                        seen.add(mapped.shortcode)
                        result.posts.append(mapped)
                token = text(dig(body, "pagination_token"))
                if not token:
                    break
        except ApiError as exc:
            result.error = str(exc)
        return result

    def likes(self, shortcode: str, max_pages: int, bad: list[str]) -> Iterator[str]:
        """The normalised usernames of a post's likes, page by page (raises ApiError); the
        usernames that are no handle (spaces, URLs...) are counted in ``bad`` (first 5 kept)."""
        cursor: str | None = None
        for _ in range(max_pages):
            params: dict[str, str | int] = {"code_or_id_or_url": shortcode}
            if cursor:
                params["cursor"] = cursor
            body = self.call("/v1/likes", params, self.like_policy)
            items = as_list(dig(body, "data", "items")) or []
            for item in items:
                raw = dig(item, "username")
                name = handle(raw)
                if name is not None:
                    yield name
                elif len(bad) < 5:
                    bad.append(repr(raw)[:40])
            cursor = text(first(body, ("data", "next_cursor"), ("data", "end_cursor")))
            if not items or not cursor:
                return
