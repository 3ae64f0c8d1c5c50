"""Ingestion against the local RapidAPI stand-in: one full cycle for one province.

The stand-in (tests/dev/rapidapi_standin.py) answers with ~300 ms latency, 2 % HTTP 503 and one
burst of 429 (``Retry-After: 1``). One cycle = every client's Instagram posts, TikTok posts,
Instagram likes and TikTok comments of the day, written into a fresh database holding one
province of sample data (40 clients). Baseline, in the same run: the old design's concurrency
(4 clients in parallel, one post's pages after the other). Both keep the old service's
engagement timing (2 s between comment pages, the likes/comment retry waits: the defaults of
docs/concepts/ingestion.md#pauses-and-retries). Then the memory of a 100,000-item like list
(paged, 5,000 names a page).
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.common import drop_db, fresh_db, table
from producers.ingestion.http import RapidApi
from producers.ingestion.instagram import Instagram
from producers.ingestion.job import Ingestion
from producers.ingestion.settings import load_ingestion_settings
from tests.dev.rapidapi_standin import Faults, IgPost, StandIn, sample
from tests.dev.sample_data import generate

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 20, 30, tzinfo=JAKARTA)  # every generated post is past


def _accounts(url: str) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, list[str]]]:
    with psycopg.connect(url) as conn:
        accounts = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT client_id, client_insta, client_tiktok FROM clients")}
        handles: dict[str, list[str]] = {}
        for cid, insta in conn.execute('SELECT client_id, insta FROM "user" WHERE insta IS '
                                       "NOT NULL"):
            handles.setdefault(cid, []).append(str(insta).strip().lstrip("@").lower())
    return accounts, handles


def _cycle(latency: float, clients: int, posts: int, *, old: bool) -> dict[str, Any]:
    url = fresh_db("ingest")
    try:
        with psycopg.connect(url) as conn:
            generate(conn, provinces=1, start=DAY, days=0)
            if clients < 40:
                conn.execute("UPDATE clients SET client_status = false WHERE client_id NOT IN "
                             "(SELECT client_id FROM clients ORDER BY client_id LIMIT %s)",
                             (clients,))
            conn.commit()
        accounts, handles = _accounts(url)
        data = sample(accounts, handles, datetime(2026, 11, 23, tzinfo=JAKARTA), posts=posts,
                      videos=max(1, posts // 2))
        faults = Faults(latency=latency, error_rate=0.02, burst_429=12, retry_after=1.0, seed=1)
        with StandIn(data, faults) as server:
            env = {**server.env(), "RAPIDAPI_RETRIES": "4"}
            if old:
                env.update({"INGESTION_CLIENT_CONCURRENCY": "4", "INGESTION_POST_CONCURRENCY": "4",
                            "RAPIDAPI_MAX_CONCURRENCY": "100"})
            job = Ingestion(load_ingestion_settings(env),
                            lambda: psycopg.connect(url, autocommit=True), progress=False)
            if old:  # sequential pages: one post after the other inside a client
                job.settings = _old(job.settings)
            started = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                summary = job.run(conn, NOW, NOW)
            seconds = time.perf_counter() - started
            calls = sum(server.calls.values())
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT (SELECT count(*) FROM insta_post), "
                                  "(SELECT count(*) FROM tiktok_post), "
                                  "(SELECT count(*) FROM insta_like)").fetchone()
        return {"seconds": seconds, "calls": calls, "summary": summary, "stored": stored}
    finally:
        drop_db(url)


def _old(settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, client_concurrency=4, post_concurrency=4)


def _memory(names: int) -> tuple[float, float]:
    """(peak traced MiB while fetching ``names`` likes, MiB of the resulting set)."""
    with StandIn(like_page=5000) as server:
        server.data.ig["big"] = [IgPost("BIG", int(NOW.timestamp()), likes=names)]
        with RapidApi(load_ingestion_settings(server.env())) as api:
            tracemalloc.start()
            found = set(Instagram(api).likes("BIG", 40, []))
            _, peak = tracemalloc.get_traced_memory()
            size = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
    assert len(found) == names
    return peak / 2**20, size / 2**20


def run(quick: bool = False) -> str:
    latency, clients, posts = (0.05, 10, 4) if quick else (0.3, 40, 10)
    new = _cycle(latency, clients, posts, old=False)
    old = _cycle(latency, clients, posts, old=True)
    rows = []
    for name, r in (("this project", new), ("old design (4 clients, sequential pages)", old)):
        s = r["summary"]
        rows.append([name, round(r["seconds"], 1), r["calls"], round(r["calls"] / r["seconds"], 1),
                     s.retries, len(s.errors), f"{r['stored'][0]}/{r['stored'][1]}/"
                     f"{r['stored'][2]}"])
    out = [table(f"One cycle, {clients} clients x ({posts} IG + {max(1, posts // 2)} TikTok "
                 f"posts), {latency * 1000:.0f} ms per call, 2 % 503, one 429 burst",
                 ["design", "cycle s", "calls", "calls/s", "retries", "errors",
                  "stored ig/tt/likes"], rows)]
    out.append(f"\nspeed-up over the old design: {old['seconds'] / new['seconds']:.1f}x; "
               f"budget used: {new['seconds'] / (28 * 60):.1%} of 28 min\n")
    mem = [[n, *(round(v, 1) for v in _memory(n))] for n in (10_000, 100_000)]
    out.append(table("Memory of one like list (tracemalloc)",
                     ["names", "peak MiB while fetching", "MiB held after"], mem))
    return "\n".join(out)
