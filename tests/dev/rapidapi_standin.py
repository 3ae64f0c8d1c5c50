"""A local RapidAPI stand-in (dev only): a WSGI app served by a real threaded HTTP server on
127.0.0.1, answering the documented Instagram (social-api4) and TikTok (tiktok-api23, and the
fallback's ``/user/videos`` by secUid and ``/user/posts`` by username) shapes from generated
data. The username route is this project's choice (the facts name no path; production sets
``RAPIDAPI_TIKTOK_USERNAME_PATH`` to its provider's); it answers in a third item shape
(``videos[]`` with ``aweme_id``, ``create_at`` in milliseconds, ``stats.likeCount``,
``stats.comments``) so that every documented field variant is exercised.

Faults are injectable while it runs: latency, a share of 5xx, a 429 burst (with
``Retry-After``), 401/403 for a host, and per-path scripted answers (``"timeout"`` = a body that
never ends, ``"malformed"``, ``"empty"``, or an HTTP status). The host is told apart by the
``X-RapidAPI-Host`` header, so one server stands in for all three base URLs.

    python -m tests.dev.rapidapi_standin --port 8765     # serve an empty data set
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

IG_HOST = "social-api4.p.rapidapi.com"
TT_HOST = "tiktok-api23.p.rapidapi.com"
FALLBACK_HOST = "tiktok-api6.p.rapidapi.com"
KEY = "standin-key"
FALLBACK_KEY = "standin-fallback-key"
USERNAME_PATH = "/user/posts"  # the TikTok fallback by username (RAPIDAPI_TIKTOK_USERNAME_PATH)


@dataclass
class IgPost:
    code: str
    taken_at: int
    caption: str = ""
    likes: list[str] | int = field(default_factory=list)  # an int: that many generated names
    comment_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TtVideo:
    id: str
    create_time: int
    desc: str = ""
    commenters: list[str] = field(default_factory=list)
    digg: int = 0


@dataclass
class Data:
    ig: dict[str, list[IgPost]] = field(default_factory=dict)  # account -> posts (newest first)
    tt: dict[str, list[TtVideo]] = field(default_factory=dict)  # username -> videos
    sec_uids: dict[str, str] = field(default_factory=dict)  # username -> secUid
    # username -> videos only the fallback by username returns (default: the same as ``tt``)
    tt_by_username: dict[str, list[TtVideo]] = field(default_factory=dict)

    def likes_of(self, code: str) -> list[str] | int:
        for posts in self.ig.values():
            for post in posts:
                if post.code == code:
                    return post.likes
        return []

    def video(self, vid: str) -> TtVideo | None:
        for videos in (*self.tt.values(), *self.tt_by_username.values()):
            for video in videos:
                if video.id == vid:
                    return video
        return None


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0  # share of 5xx answers
    burst_429: int = 0  # the next N calls answer 429
    retry_after: float = 1.0
    auth_failure: dict[str, int] = field(default_factory=dict)  # host -> 401/403
    script: dict[str, list[Any]] = field(default_factory=dict)  # path -> answers, in order
    seed: int = 0


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StandIn:
    """The app and its server. ``with StandIn(data) as s: s.url``."""

    def __init__(self, data: Data | None = None, faults: Faults | None = None,
                 like_page: int = 1000) -> None:
        self.data = data or Data()
        self.faults = faults or Faults()
        self.like_page = like_page
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, str, dict[str, str]]] = []  # (host, path, params)
        self.keys_seen: set[str] = set()
        self._lock = threading.Lock()
        self._rnd = random.Random(self.faults.seed)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ server
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self, port: int = 0) -> StandIn:
        self._server = make_server("127.0.0.1", port, self.app, server_class=_Server,
                                   handler_class=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="rapidapi-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The ingestion variables pointing every host at this server."""
        return {"RAPIDAPI_KEY": KEY, "RAPIDAPI_INSTAGRAM_URL": self.url,
                "RAPIDAPI_TIKTOK_URL": self.url, "RAPIDAPI_FALLBACK_URL": self.url,
                "RAPIDAPI_FALLBACK_HOST": FALLBACK_HOST, "RAPIDAPI_FALLBACK_KEY": FALLBACK_KEY}

    # ------------------------------------------------------------------ WSGI
    def app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        host = environ.get("HTTP_X_RAPIDAPI_HOST", "")
        key = environ.get("HTTP_X_RAPIDAPI_KEY", "")
        with self._lock:
            self.calls[path] += 1
            self.log.append((host, path, params))
            self.keys_seen.add(key)
            scripted = self.faults.script.get(path)
            answer = scripted.pop(0) if scripted else None
            burst = self.faults.burst_429 > 0
            if burst:
                self.faults.burst_429 -= 1
            fail = self._rnd.random() < self.faults.error_rate
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if key not in (KEY, FALLBACK_KEY):
            return self._status(start_response, 401, {"message": "Invalid API key"})
        if host in self.faults.auth_failure:
            return self._status(start_response, self.faults.auth_failure[host],
                                {"message": "You are not subscribed to this API."})
        if burst:
            return self._status(start_response, 429, {"message": "Too many requests"},
                                [("Retry-After", str(self.faults.retry_after))])
        if answer is None and fail:
            answer = 503
        if isinstance(answer, int):
            return self._status(start_response, answer, {"message": "scripted"})
        if answer == "timeout":
            start_response("200 OK", [("Content-Type", "application/json")])
            return self._never_ending()
        if answer == "malformed":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"data": {"items": [ {"code": "x"']
        body = self._answer(host, path, params, empty=answer == "empty")
        if isinstance(answer, dict):
            body = answer
        return self._status(start_response, 200, body)

    @staticmethod
    def _never_ending() -> Iterator[bytes]:
        yield b'{"data": {"items": ['
        for _ in range(600):
            time.sleep(0.05)
            yield b" "

    @staticmethod
    def _status(start_response: Any, status: int, body: Any,
                headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests",
                  400: "Bad Request", 500: "Internal Server Error",
                  503: "Service Unavailable"}.get(status, "Status")
        payload = json.dumps(body).encode()
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(payload))),
                                              *(headers or [])])
        return [payload]

    def _answer(self, host: str, path: str, params: dict[str, str], empty: bool) -> Any:
        if path == "/v1/posts":
            account = params.get("username_or_id_or_url", "").lower()
            posts = [] if empty else self.data.ig.get(account, [])
            start = int(params.get("pagination_token") or 0)
            page = posts[start:start + 12]
            token = str(start + 12) if start + 12 < len(posts) else None
            return {"data": {"count": len(page), "items": [self._ig_item(p) for p in page]},
                    "pagination_token": token, "has_more": token is not None}
        if path == "/v1/likes":
            likes = self.data.likes_of(params.get("code_or_id_or_url", ""))
            total = likes if isinstance(likes, int) else len(likes)
            start = int(params.get("cursor") or 0)
            end = min(start + self.like_page, total)
            names = (
                [f"liker{i:06d}" for i in range(start, end)] if isinstance(likes, int)
                else likes[start:end])
            cursor = str(end) if end < total else None
            return {"data": {"items": [{"username": n} for n in names], "next_cursor": cursor,
                             "has_more": cursor is not None}}
        if path == "/api/user/info":
            name = params.get("uniqueId", "").lower()
            sec = self.data.sec_uids.get(name)
            return {"userInfo": {"user": {"secUid": sec, "uniqueId": name}}} if sec else {
                "statusCode": 10202, "userInfo": {}}
        if path in ("/api/user/posts", "/user/videos"):
            sec = params.get("secUid", "")
            user = next((u for u, s in self.data.sec_uids.items() if s == sec), None)
            if user is None:
                return {"message": "missing required params"}
            videos = [] if empty else self.data.tt.get(user, [])
            items = [{"id": v.id, "createTime": v.create_time, "desc": v.desc,
                      "stats": {"diggCount": v.digg, "commentCount": len(v.commenters)}}
                     for v in videos]
            if path == "/user/videos":  # the fallback provider's shape
                return {"result": {"videos": [
                    {"video_id": i["id"], "create_time": i["createTime"], "title": i["desc"],
                     "digg_count": v.digg, "comment_count": len(v.commenters)}
                    for i, v in zip(items, videos, strict=True)]}}
            return {"data": {"itemList": items, "hasMore": False}}
        if path == USERNAME_PATH:
            name = params.get("username", "").lower().lstrip("@")
            found = self.data.tt_by_username.get(name, self.data.tt.get(name))
            if found is None:
                return {"statusCode": 10221, "message": "user not found"}
            return {"videos": [] if empty else [
                {"aweme_id": v.id, "create_at": v.create_time * 1000, "caption": v.desc,
                 "stats": {"likeCount": v.digg, "comments": len(v.commenters)}}
                for v in found], "hasMore": False}
        if path == "/api/post/comments":
            video = self.data.video(params.get("videoId", ""))
            people = video.commenters if video else []
            offset = int(params.get("cursor") or 0)
            comments = [{"cid": str(i), "user": {"unique_id": n},
                         "reply_comment": [{"user": {"uniqueId": n}}] if i % 7 == 0 else None}
                        for i, n in enumerate(people[offset:offset + 50])]
            return {"data": {"comments": comments, "total": len(people),
                             "has_more": offset + 50 < len(people)}}
        return {"message": f"no such endpoint {path}"}

    @staticmethod
    def _ig_item(post: IgPost) -> dict[str, Any]:
        url = f"https://cdn.example/{post.code}.jpg"
        item: dict[str, Any] = {
            "code": post.code, "taken_at": post.taken_at, "caption": {"text": post.caption},
            "comment_count": post.comment_count,
            "like_count": post.likes if isinstance(post.likes, int) else len(post.likes),
            "is_video": False, "image_versions": {"items": [{"url": url}]},
            "thumbnail_url": url}
        item.update(post.extra)
        return item


def sample(accounts: dict[str, tuple[str | None, str | None]], handles: dict[str, list[str]],
           day_start: datetime, *, posts: int = 10, videos: int = 5, seed: int = 0,
           share: float = 0.8) -> Data:
    """Generated data: per client (``client_id -> (instagram, tiktok)`` accounts) ``posts``
    Instagram posts and ``videos`` TikTok videos spread over the Jakarta day, liked and
    commented by about ``share`` of the client's ``handles``."""
    rnd = random.Random(seed)
    data = Data()
    base = int(day_start.timestamp())
    for cid, (ig, tt) in accounts.items():
        people = handles.get(cid, [])
        if ig:
            items = []
            for n in range(posts):
                taken = base + 6 * 3600 + n * 3600 + rnd.randrange(600)
                likers = [h for h in people if rnd.random() < share]
                items.append(IgPost(f"{cid[:6]}{n:02d}{rnd.randrange(10**6):06d}".replace(
                    "_", "x"), taken, f"Postingan {n} {cid}", likers, rnd.randrange(30)))
            data.ig[ig.lower().lstrip("@")] = sorted(items, key=lambda p: -p.taken_at)
        if tt:
            name = tt.lower().lstrip("@")
            data.sec_uids[name] = f"MS4w{abs(hash((cid, seed))) % 10**12:012d}"
            data.tt[name] = [TtVideo(str(7_300_000_000_000_000_000 + rnd.randrange(10**15)),
                                     base + 7 * 3600 + n * 7200, f"Video {n} {cid}",
                                     [h for h in people if rnd.random() < share],
                                     rnd.randrange(500))
                             for n in range(videos)]
    return data


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dev.rapidapi_standin")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    with StandIn(faults=Faults(latency=args.latency)).start(args.port) as server:
        print(f"RapidAPI stand-in on {server.url} (key {KEY!r}); Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
