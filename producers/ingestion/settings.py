"""Ingestion settings from the environment, read through :class:`outbox.config.EnvReader`.

Every variable is documented once in docs/operations/configuration.md. ``RAPIDAPI_KEY`` may be
missing: the settings load, and the job refuses to run ("RAPIDAPI_KEY belum di-set") while
the rest of the scheduler goes on. Every other bad value is a configuration problem collected
with the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta

from outbox.config import EnvReader, split_items

DEFAULT_INSTAGRAM_HOST = "social-api4.p.rapidapi.com"
DEFAULT_TIKTOK_HOST = "tiktok-api23.p.rapidapi.com"
DEFAULT_TIKTOK_USERNAME_PATH = "/user/posts"  # on the fallback host
MISSING_KEY = "RAPIDAPI_KEY belum di-set"
_HM = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


@dataclass(frozen=True)
class Endpoint:
    """One RapidAPI host: the ``X-RapidAPI-Host`` value, the base URL, the key (never logged)."""

    host: str
    base_url: str
    key: str = field(repr=False)

    def __str__(self) -> str:
        return self.host


@dataclass(frozen=True)
class Segment:
    """Post-fetch window of a segment: :00/:30 slots in ``[start, until]`` plus ``final``."""

    start: time
    until: time
    final: tuple[time, ...]

    def allows(self, moment: time) -> bool:
        moment = moment.replace(second=0, microsecond=0)
        if moment in self.final:
            return True
        return moment.minute in (0, 30) and self.start <= moment <= self.until


@dataclass(frozen=True)
class IngestionSettings:
    key: str | None = field(default=None, repr=False)
    instagram: Endpoint | None = None
    tiktok: Endpoint | None = None
    fallback: Endpoint | None = None  # RAPIDAPI_FALLBACK_HOST + RAPIDAPI_FALLBACK_KEY
    timeout: float = 20.0  # seconds per call, the whole response included
    max_response_bytes: int = 32 * 1024 * 1024
    host_concurrency: int = 8  # concurrent calls per host
    request_budget: int = 20_000  # calls per host per run
    retries: int = 3  # retries after the first attempt (5xx, 429, timeouts, connection errors)
    retry_base: float = 0.5  # seconds, doubled per retry (a Retry-After wins)
    retry_after_max: float = 60.0
    client_concurrency: int = 8  # clients fetched in parallel
    post_concurrency: int = 12  # likes/comments of posts fetched in parallel (all clients)
    run_budget: timedelta = timedelta(minutes=28)
    like_max_pages: int = 20
    comment_max_pages: int = 40
    # the old service's engagement timing (docs/concepts/ingestion.md#pauses-and-retries)
    engagement_attempts: int = 3  # tries of a likes page, a comment page, a video's comments
    like_page_retry: float = 1.0  # seconds × attempt before a likes page's next try
    comment_page_pause: float = 2.0  # seconds between two comment pages of a video
    comment_page_retry: float = 0.5  # seconds × 2^(n-1) before a comment page's next try
    video_retry: float = 2.0  # seconds × attempt before a video's comments are fetched again
    delete_max_share: float = 0.4
    delete_overrides: Mapping[str, float] = field(default_factory=dict)
    segment_a: Segment = Segment(time(6, 0), time(20, 30), (time(20, 58),))
    segment_b: Segment = Segment(time(6, 0), time(21, 30), (time(21, 58),))
    segment_a_clients: tuple[str, ...] = ("DITBINMAS",)
    tiktok_fallback_hours: tuple[time, time] | None = None  # None: at any hour (CF)
    tiktok_username_path: str = DEFAULT_TIKTOK_USERNAME_PATH

    @property
    def final_slots(self) -> tuple[time, ...]:
        return tuple(sorted(set(self.segment_a.final) | set(self.segment_b.final)))


def _hm(text: str) -> time:
    match = _HM.match(text.strip())
    if not match:
        raise ValueError("use HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def _window(text: str) -> tuple[time, time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError("use HH:MM-HH:MM")
    first, last = _hm(start), _hm(end)
    if last < first:
        raise ValueError("the end is before the start")
    return first, last


def _times(text: str) -> tuple[time, ...]:
    if text.strip().lower() == "off":
        return ()
    return tuple(_hm(part) for part in split_items(text))


def _overrides(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in split_items(text):
        client, sep, share = item.partition("=")
        if not sep or not client.strip():
            raise ValueError("use CLIENT=share, e.g. BOJONEGORO=0.6")
        value = float(share)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{client.strip()}: share must be between 0 and 1")
        found[client.strip().upper()] = value
    return found


def _path(text: str) -> str:
    path = text.strip()
    if not path.startswith("/") or "?" in path or any(c.isspace() for c in path):
        raise ValueError("use a path such as /user/posts (no query, no spaces)")
    return path


def _base_url(reader: EnvReader, name: str, host: str) -> str:
    url = reader.text(name, default=f"https://{host}").rstrip("/")
    if not url.startswith(("http://", "https://")):
        reader.problem(f"{name}={url!r} is not an http(s) URL")
    return url


def _segment(reader: EnvReader, name: str, default: Segment) -> Segment:
    start, until = reader.parsed((f"INGESTION_SEGMENT_{name}_WINDOW",),
                                 (default.start, default.until), _window,
                                 "a window HH:MM-HH:MM")
    final = reader.parsed((f"INGESTION_SEGMENT_{name}_FINAL",), default.final, _times,
                          "a list of HH:MM (or off)")
    return Segment(start, until, final)


def ingestion_settings(reader: EnvReader) -> IngestionSettings:
    """Read every ingestion setting; problems are collected on ``reader``."""
    key = reader.optional_text("RAPIDAPI_KEY")
    ig_host = reader.text("RAPIDAPI_INSTAGRAM_HOST", default=DEFAULT_INSTAGRAM_HOST)
    tt_host = reader.text("RAPIDAPI_TIKTOK_HOST", default=DEFAULT_TIKTOK_HOST)
    ig_url = _base_url(reader, "RAPIDAPI_INSTAGRAM_URL", ig_host)
    tt_url = _base_url(reader, "RAPIDAPI_TIKTOK_URL", tt_host)
    fb_host = reader.optional_text("RAPIDAPI_FALLBACK_HOST")
    fb_key = reader.optional_text("RAPIDAPI_FALLBACK_KEY")
    fb_url = _base_url(reader, "RAPIDAPI_FALLBACK_URL", fb_host or "fallback.invalid")
    fallback = None
    if fb_host and fb_key:
        fallback = Endpoint(fb_host, fb_url, fb_key)
    elif fb_host or fb_key:
        reader.problem("RAPIDAPI_FALLBACK_HOST and RAPIDAPI_FALLBACK_KEY go together: set both "
                       "or neither")
    defaults = IngestionSettings()
    tt_window = reader.parsed(("INGESTION_TIKTOK_FALLBACK_HOURS",), None,
                              lambda text: None if text.lower() == "any" else _window(text),
                              "a window HH:MM-HH:MM (or any)")
    return IngestionSettings(
        key=key,
        instagram=Endpoint(ig_host, ig_url, key) if key else None,
        tiktok=Endpoint(tt_host, tt_url, key) if key else None,
        fallback=fallback,
        timeout=reader.number("RAPIDAPI_TIMEOUT_SECONDS", default=defaults.timeout,
                              minimum=0.1),
        host_concurrency=reader.integer("RAPIDAPI_MAX_CONCURRENCY",
                                        default=defaults.host_concurrency, minimum=1,
                                        maximum=100),
        request_budget=reader.integer("RAPIDAPI_REQUEST_BUDGET",
                                      default=defaults.request_budget, minimum=1),
        retries=reader.integer("RAPIDAPI_RETRIES", default=defaults.retries, minimum=0,
                               maximum=10),
        client_concurrency=reader.integer("INGESTION_CLIENT_CONCURRENCY",
                                          default=defaults.client_concurrency, minimum=1,
                                          maximum=64),
        post_concurrency=reader.integer("INGESTION_POST_CONCURRENCY",
                                        default=defaults.post_concurrency, minimum=1,
                                        maximum=64),
        engagement_attempts=reader.integer("INGESTION_ENGAGEMENT_ATTEMPTS",
                                           default=defaults.engagement_attempts, minimum=1,
                                           maximum=10),
        like_page_retry=reader.number("INGESTION_INSTAGRAM_LIKE_PAGE_RETRY_SECONDS",
                                      default=defaults.like_page_retry, minimum=0.0,
                                      maximum=60.0),
        comment_page_pause=reader.number("INGESTION_TIKTOK_COMMENT_PAGE_PAUSE_SECONDS",
                                         default=defaults.comment_page_pause, minimum=0.0,
                                         maximum=60.0),
        comment_page_retry=reader.number("INGESTION_TIKTOK_COMMENT_PAGE_RETRY_SECONDS",
                                         default=defaults.comment_page_retry, minimum=0.0,
                                         maximum=60.0),
        video_retry=reader.number("INGESTION_TIKTOK_VIDEO_RETRY_SECONDS",
                                  default=defaults.video_retry, minimum=0.0, maximum=60.0),
        run_budget=timedelta(minutes=reader.number(
            "INGESTION_RUN_BUDGET_MINUTES", default=28.0, minimum=0.1)),
        delete_max_share=reader.number("INGESTION_DELETE_MAX_SHARE",
                                       default=defaults.delete_max_share, minimum=0.0,
                                       maximum=1.0),
        delete_overrides=reader.parsed(("INGESTION_DELETE_MAX_SHARE_CLIENTS",), {},
                                       _overrides, "a list of CLIENT=share"),
        segment_a=_segment(reader, "A", defaults.segment_a),
        segment_b=_segment(reader, "B", defaults.segment_b),
        segment_a_clients=tuple(c.upper() for c in reader.items("INGESTION_SEGMENT_A_CLIENTS"))
        or defaults.segment_a_clients,
        tiktok_fallback_hours=tt_window,
        tiktok_username_path=reader.parsed(("RAPIDAPI_TIKTOK_USERNAME_PATH",),
                                           DEFAULT_TIKTOK_USERNAME_PATH, _path,
                                           "a path starting with /"),
    )


def load_ingestion_settings(env: Mapping[str, str] | None = None) -> IngestionSettings:
    reader = EnvReader(env)
    settings = ingestion_settings(reader)
    reader.finish()
    return settings
