"""The scheduled job ``ingestion``: per client, Instagram posts, TikTok posts, Instagram likes,
TikTok comments (in that order), then one transaction with every write of that client.

- Layer 1 (the cron): ``0,30,58 6-21 * * *``; a :58 slot runs only when it is a segment's final
  slot (20:58, 21:58). Layer 2: a client's **posts** are fetched only inside its segment's
  window (segment A: ``org`` clients and DITBINMAS, 06:00-20:30 plus 20:58; segment B: other
  ``direktorat`` clients, 06:00-21:30 plus 21:58); likes and comments of today's posts are
  refreshed at every trigger.
- One run at a time across processes: a session advisory lock on the job's own connection
  (``pg_try_advisory_lock``); a run that finds it taken does nothing.
- A run budget (28 min): clients not started in time go first in the next run (marked in
  ``ingestion_state``, so a restart does not forget them).
- Each client's writes commit in their own transaction; a failure loses nothing of the others.
- The summary goes to the log (a line per client as it finishes; a progress bar on a
  terminal); on errors one message per run to ``ADMIN_WHATSAPP`` (type ``admin_alert``,
  deduplicated by the slot) is enqueued in the slot's transaction.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from outbox.engine import NewMessage, enqueue_many
from producers.ingestion import state, store
from producers.ingestion.http import ApiError, BudgetExhausted, RapidApi
from producers.ingestion.instagram import Instagram, PostFetch
from producers.ingestion.parse import handle
from producers.ingestion.settings import MISSING_KEY, IngestionSettings, load_ingestion_settings
from producers.ingestion.tiktok import TikTok, VideoFetch
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import canonical, log_refused
from producers.schedule import day_bounds, jakarta

log = logging.getLogger(__name__)

NAME = "ingestion"
DEFAULT_CRON = "0,30,58 6-21 * * *"
LOCK_KEY = "cicero-ingestion"
Conn = psycopg.Connection[Any]
Connector = Callable[[], Conn]


@dataclass
class ClientReport:
    client_id: str
    posts_fetched: bool = False
    ig_new: int = 0
    ig_updated: int = 0
    ig_deleted: int = 0
    tt_new: int = 0
    tt_updated: int = 0
    tt_deleted: int = 0
    likes_added: int = 0
    comments_added: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        text = (f"{self.client_id}: ig posts +{self.ig_new}/~{self.ig_updated}/-{self.ig_deleted}"
                f", tiktok +{self.tt_new}/~{self.tt_updated}/-{self.tt_deleted}"
                f", likes +{self.likes_added}, comments +{self.comments_added}"
                f" ({self.seconds:.1f}s{'' if self.posts_fetched else ', engagement only'})")
        return text + (f"; {len(self.errors)} error(s)" if self.errors else "")


@dataclass
class RunSummary:
    reports: list[ClientReport] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    calls: int = 0
    retries: int = 0
    fallbacks: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> list[str]:
        return [f"{r.client_id}: {e}" for r in self.reports for e in r.errors]

    def line(self) -> str:
        def total(attr: str) -> int:
            return sum(int(getattr(r, attr)) for r in self.reports)

        return (f"{len(self.reports)} client(s) in {self.seconds:.1f}s: ig posts "
                f"+{total('ig_new')}/~{total('ig_updated')}/-{total('ig_deleted')}, tiktok "
                f"+{total('tt_new')}/~{total('tt_updated')}/-{total('tt_deleted')}, likes "
                f"+{total('likes_added')}, comments +{total('comments_added')}, "
                f"{self.calls} call(s), {self.retries} retr(y/ies), {self.fallbacks} fallback(s)"
                f", {len(self.errors)} error(s)"
                + (f", carried to the next run: {len(self.carried)}" if self.carried else ""))


def segment_of(settings: IngestionSettings, client: store.Client) -> str:
    if client.client_type.lower() == "direktorat" and (
            client.client_id.upper() not in settings.segment_a_clients):
        return "B"
    return "A"


def posts_due(settings: IngestionSettings, client: store.Client, slot: datetime) -> bool:
    segment = settings.segment_b if segment_of(settings, client) == "B" else settings.segment_a
    return segment.allows(jakarta(slot).time())


def is_trigger(settings: IngestionSettings, slot: datetime) -> bool:
    """A :58 slot of the cron is a trigger only when it is a segment's final slot."""
    moment = jakarta(slot).time().replace(second=0, microsecond=0)
    return moment.minute in (0, 30) or moment in settings.final_slots


def deletable(found: list[str], own: int, raw: int, previous: int | None, ok: bool,
              clean: bool, max_share: float) -> tuple[bool, str]:
    """Whether ``found`` (posts missing from a fetch) may be deleted, and why not."""
    if not found:
        return False, "nothing to delete"
    if not ok or raw == 0:
        return False, "the fetch failed or returned nothing"
    if not clean:
        return False, "the fetch had duplicates or items without code/time"
    if previous and raw <= previous * 0.4:
        return False, f"the raw item count dropped from {previous} to {raw}"
    if own and len(found) / own > max_share:
        return False, f"{len(found)} of {own} posts is more than {max_share:.0%}"
    return True, ""


class Ingestion:
    """One configured job. ``connector`` opens the job's own autocommit connections."""

    def __init__(self, settings: IngestionSettings, connector: Connector, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 progress: bool | None = None) -> None:
        self.settings = settings
        self.connector = connector
        self.sleep = sleep
        self.clock = clock
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.last: RunSummary | None = None

    # ------------------------------------------------------------------ the job
    def __call__(self, ctx: JobContext) -> JobResult:
        if not self.settings.key:
            log.error("%s refuses to run: %s (set RAPIDAPI_KEY, or switch the job off with "
                      "INGESTION_CRON=off)", NAME, MISSING_KEY, extra={"job": NAME})
            return JobResult(detail=f"refused: {MISSING_KEY}")
        if not is_trigger(self.settings, ctx.slot):
            return JobResult(detail="not a trigger slot")
        with self._locked() as conn:
            if conn is None:
                log.warning("%s: another run holds the lock; nothing done", NAME)
                return JobResult(detail="another run holds the lock")
            summary = self.run(conn, ctx.slot, ctx.now)
        enqueued = duplicates = skipped = 0
        if summary.errors and ctx.admin_whatsapp:
            enqueued, duplicates, skipped = self._alert(ctx, summary)
        return JobResult(enqueued=enqueued, duplicates=duplicates, skipped=skipped,
                         detail=summary.line())

    @contextmanager
    def _locked(self) -> Iterator[Conn | None]:
        conn = self.connector()
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,)
                               ).fetchone()
            if not row or not row[0]:
                yield None
                return
            try:
                yield conn
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
        finally:
            conn.close()

    def _alert(self, ctx: JobContext, summary: RunSummary) -> tuple[int, int, int]:
        errors = summary.errors
        lines = [f"⚠️ *Ingestion {jakarta(ctx.slot):%d-%m-%Y %H:%M} WIB*",
                 summary.line(), "", *errors[:20]]
        if len(errors) > 20:
            lines.append(f"... dan {len(errors) - 20} lainnya")
        content = "\n".join(lines)
        admins = canonical(ctx.conn, ctx.admin_whatsapp)
        messages = [NewMessage(recipient=admin, content=content, type="admin_alert",
                               dedupe_key=f"{NAME}:{jakarta(ctx.slot).isoformat()}:{admin}")
                    for admin in admins]
        results = enqueue_many(ctx.conn, messages, skip_invalid=True)
        skipped = log_refused(NAME, messages, results)
        return (sum(r.inserted for r in results), sum(r.duplicate for r in results), skipped)

    # ------------------------------------------------------------------ one run
    def run(self, conn: Conn, slot: datetime, now: datetime) -> RunSummary:
        started = self.clock()
        deadline = started + self.settings.run_budget.total_seconds()
        tables = store.read_tables(conn)
        clients = store.clients(conn, tables)
        exc_ig, exc_tt = store.exception_handles(conn, tables)
        extra_likes = sorted({h for h in (handle(x) for x in exc_ig) if h})
        extra_comments = sorted({"@" + h for h in (handle(x) for x in exc_tt) if h})
        first = [c for c in state.carried(conn) if c in {k.client_id for k in clients}]
        order = {cid: i for i, cid in enumerate(first)}
        clients.sort(key=lambda c: (order.get(c.client_id, len(order)), c.client_id))
        summary = RunSummary()
        api = RapidApi(self.settings, sleep=self.sleep, deadline=deadline)
        bar = _progress(len(clients)) if self.progress else None
        try:
            with ThreadPoolExecutor(self.settings.client_concurrency,
                                    thread_name_prefix="ingest-client") as clients_pool, \
                    ThreadPoolExecutor(self.settings.post_concurrency,
                                       thread_name_prefix="ingest-post") as posts_pool:
                futures: list[tuple[store.Client, Future[ClientReport | None]]] = []
                for client in clients:
                    futures.append((client, clients_pool.submit(
                        self._client, client, slot, now, tables, api, posts_pool, deadline,
                        extra_likes, extra_comments)))
                for client, future in futures:
                    report = future.result()
                    if report is None:
                        summary.carried.append(client.client_id)
                        continue
                    summary.reports.append(report)
                    log.info("%s %s", NAME, report.line(), extra={"job": NAME})
                    if bar is not None:
                        bar.update(1)
        finally:
            api.close()
            if bar is not None:
                bar.close()
        by_id = {c.client_id: c for c in clients}
        state.remember_carried(conn, ((cid, _platforms(by_id[cid])) for cid in summary.carried),
                               slot)
        if summary.carried:
            log.warning("%s: run budget (%s) used up; %d client(s) go first next run: %s",
                        NAME, self.settings.run_budget, len(summary.carried),
                        ", ".join(summary.carried))
        summary.calls = api.stats.total(api.stats.calls)
        summary.retries = api.stats.total(api.stats.retries)
        summary.fallbacks = api.stats.total(api.stats.fallbacks)
        summary.seconds = self.clock() - started
        log.info("%s run summary: %s", NAME, summary.line(), extra={"job": NAME})
        self.last = summary
        return summary

    def _client(self, client: store.Client, slot: datetime, now: datetime, tables: store.Tables,
                api: RapidApi, posts_pool: ThreadPoolExecutor, deadline: float,
                extra_likes: list[str], extra_comments: list[str]) -> ClientReport | None:
        if self.clock() >= deadline:
            return None
        began = self.clock()
        report = ClientReport(client.client_id)
        try:
            with self.connector() as conn:
                self._client_run(conn, client, slot, now, tables, api, posts_pool, report,
                                 extra_likes, extra_comments)
        except BudgetExhausted as exc:
            report.errors.append(f"stopped: {exc}")
        except Exception as exc:  # one client's failure never stops the others
            log.exception("%s: client %s failed", NAME, client.client_id)
            report.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        report.seconds = self.clock() - began
        return report

    def _client_run(self, conn: Conn, client: store.Client, slot: datetime, now: datetime,
                    tables: store.Tables, api: RapidApi, posts_pool: ThreadPoolExecutor,
                    report: ClientReport, extra_likes: list[str],
                    extra_comments: list[str]) -> None:
        day_start, day_end = day_bounds(jakarta(now))
        today = day_start.date()
        fetch_posts = posts_due(self.settings, client, slot)
        report.posts_fetched = fetch_posts
        cid = client.client_id
        ig_fetch: PostFetch | None = None
        tt_fetch: VideoFetch | None = None
        instagram = Instagram(api) if client.insta else None
        tiktok = TikTok(api, fallback_allowed=self._tiktok_fallback_allowed(now)
                        ) if client.tiktok else None
        # 1-2. posts (inside the segment's window only)
        if fetch_posts and instagram is not None and client.insta:
            account = client.insta.strip().lstrip("@")
            ig_fetch = instagram.posts(account, today, now)
            self._note(report, "instagram posts", ig_fetch.error, ig_fetch.problems)
        if fetch_posts and tiktok is not None and client.tiktok:
            tt_fetch = tiktok.videos(client.tiktok.strip().lstrip("@"), client.tiktok_secuid,
                                     today, now)
            self._note(report, "tiktok posts", tt_fetch.error, tt_fetch.problems)
        # 3-4. engagement of today's posts (the fetched ones and the stored ones)
        shortcodes: set[str] = set()
        videos: set[str] = set()
        if instagram is not None:
            shortcodes.update(store.today_shortcodes(conn, tables, cid, day_start, day_end))
            if ig_fetch is not None:
                shortcodes.update(p.shortcode for p in ig_fetch.posts)
        if tiktok is not None:
            videos.update(store.today_videos(conn, tables, cid, day_start, day_end))
            if tt_fetch is not None:
                videos.update(v.video_id for v in tt_fetch.videos)
        likes = self._engagement(posts_pool, sorted(shortcodes), report, "likes",
                                 lambda code, bad: set(instagram.likes(  # type: ignore[union-attr]
                                     code, self.settings.like_max_pages, bad)))
        comments = self._engagement(posts_pool, sorted(videos), report, "comments",
                                    lambda vid, bad: tiktok.commenters_of(  # type: ignore[union-attr]
                                        vid, self.settings.comment_max_pages, bad))
        # the writes: one transaction per client
        with conn.transaction():
            if ig_fetch is not None:
                report.ig_new, report.ig_updated = store.upsert_insta_posts(
                    conn, tables, cid, ig_fetch.posts)
                report.ig_deleted = self._delete_ig(conn, tables, cid, ig_fetch, day_start,
                                                    day_end, slot)
            if tt_fetch is not None:
                if tt_fetch.sec_uid:
                    store.save_secuid(conn, tables, cid, tt_fetch.sec_uid)
                report.tt_new, report.tt_updated = store.upsert_videos(
                    conn, tables, cid, tt_fetch.videos)
                report.tt_deleted = self._delete_tt(conn, tables, cid, tt_fetch, day_start,
                                                    day_end, slot)
            existing = set(store.today_shortcodes(conn, tables, cid, day_start, day_end))
            for code, names in likes.items():
                if code in existing:
                    report.likes_added += store.merge_likes(conn, tables, code,
                                                            [*names, *extra_likes])
            existing_videos = set(store.today_videos(conn, tables, cid, day_start, day_end))
            for vid, names in comments.items():
                if vid in existing_videos:
                    report.comments_added += store.merge_comments(conn, tables, vid,
                                                                  [*names, *extra_comments])

    def _tiktok_fallback_allowed(self, now: datetime) -> Callable[[], bool]:
        window = self.settings.tiktok_fallback_hours
        if window is None:
            return lambda: True
        moment = jakarta(now).time()
        return lambda: window[0] <= moment <= window[1]

    @staticmethod
    def _note(report: ClientReport, what: str, error: str | None, problems: list[str]) -> None:
        if error:
            report.errors.append(f"{what}: {error}")
            log.warning("%s: client %s: %s failed: %s", NAME, report.client_id, what, error)
        for problem in problems[:10]:
            log.warning("%s: client %s: %s: bad item skipped: %s", NAME, report.client_id,
                        what, problem)

    def _engagement(self, pool: ThreadPoolExecutor, keys: list[str], report: ClientReport,
                    what: str, fetch: Callable[[str, list[str]], set[str]]
                    ) -> dict[str, set[str]]:
        if not keys:
            return {}

        def one(key: str) -> tuple[str, set[str] | None, str | None, list[str]]:
            bad: list[str] = []
            try:
                return key, fetch(key, bad), None, bad
            except ApiError as exc:
                return key, None, str(exc), bad

        found: dict[str, set[str]] = {}
        for key, names, error, bad in pool.map(one, keys):
            if bad:
                log.warning("%s: client %s: %s of %s: names that are no handle skipped: %s",
                            NAME, report.client_id, what, key, ", ".join(bad))
            if error is not None:
                report.errors.append(f"{what} of {key}: {error}")
                log.warning("%s: client %s: %s of %s failed: %s", NAME, report.client_id,
                            what, key, error)
            elif names is not None:
                found[key] = names
        return found

    @staticmethod
    def _previous(conn: Conn, platform: state.Platform, client: str, raw: int, ok: bool,
                  slot: datetime) -> int | None:
        """The raw item count of the client's last complete fetch; this fetch's count replaces
        it when this fetch is complete (in the client's write transaction)."""
        previous = state.previous_count(conn, client, platform)
        if ok and raw:
            state.save_count(conn, client, platform, raw, slot)
        return previous

    def _max_share(self, client: str) -> float:
        return self.settings.delete_overrides.get(client.upper(), self.settings.delete_max_share)

    def _delete_ig(self, conn: Conn, tables: store.Tables, cid: str, fetch: PostFetch,
                   day_start: datetime, day_end: datetime, slot: datetime) -> int:
        previous = self._previous(conn, "instagram", cid, fetch.raw_count, fetch.ok, slot)
        fetched = {p.shortcode for p in fetch.posts}
        found, own = store.insta_deletion_candidates(conn, tables, cid, fetched, day_start,
                                                     day_end)
        ok, why = deletable(found, own, fetch.raw_count, previous, fetch.ok,
                            not fetch.duplicates and not fetch.incomplete_items,
                            self._max_share(cid))
        if not ok:
            if found:
                log.warning("%s: client %s: %d instagram post(s) not returned, not deleted: %s",
                            NAME, cid, len(found), why)
            return 0
        return store.delete_insta_posts(conn, tables, cid, found)

    def _delete_tt(self, conn: Conn, tables: store.Tables, cid: str, fetch: VideoFetch,
                   day_start: datetime, day_end: datetime, slot: datetime) -> int:
        previous = self._previous(conn, "tiktok", cid, fetch.raw_count, fetch.ok, slot)
        fetched = {v.video_id for v in fetch.videos}
        found, own = store.video_deletion_candidates(conn, tables, cid, fetched, day_start,
                                                     day_end)
        ok, why = deletable(found, own, fetch.raw_count, previous, fetch.ok,
                            not fetch.duplicates and not fetch.incomplete_items,
                            self._max_share(cid))
        if not ok:
            if found:
                log.warning("%s: client %s: %d tiktok video(s) not returned, not deleted: %s",
                            NAME, cid, len(found), why)
            return 0
        return store.delete_videos(conn, tables, found)


def _platforms(client: store.Client) -> list[state.Platform]:
    found: list[state.Platform] = []
    if client.insta:
        found.append("instagram")
    if client.tiktok:
        found.append("tiktok")
    return found


def _progress(total: int) -> Any:
    try:
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError:  # tqdm is optional: the per-client log lines remain
        return None
    return tqdm(total=total, desc=NAME, unit="client", file=sys.stderr)


def make_job(database_url: str, settings: IngestionSettings | None = None,
             grace: timedelta = timedelta(minutes=5)) -> JobSpec:
    """The job, reading its settings from the environment unless given."""
    from producers.scheduler import connect_producer

    settings = settings if settings is not None else load_ingestion_settings()
    job = Ingestion(settings, lambda: connect_producer(database_url, "cicero-ingestion"))
    return JobSpec(name=NAME, default_cron=DEFAULT_CRON, cron_env="INGESTION_CRON", run=job,
                   grace=grace)


def _unconfigured(ctx: JobContext) -> JobResult:
    raise RuntimeError("the ingestion job is not configured (producers.registry builds it)")


#: The spec the registry imports (names, cron, grace); configured_specs replaces it with
#: :func:`make_job`.
JOB = JobSpec(name=NAME, default_cron=DEFAULT_CRON, cron_env="INGESTION_CRON",
              run=_unconfigured, grace=timedelta(minutes=5))
