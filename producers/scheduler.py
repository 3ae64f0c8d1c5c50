"""The scheduler: turns cron slots into :func:`producers.runner.run_slot` calls.

Per job it keeps a *cursor* (the last moment it evaluated). Each :meth:`Scheduler.tick` at
``now`` looks at the job's slots in ``(cursor, now]`` (normally just the slot that is due):

- the newest of them runs if it is at most ``grace`` old (exactly once across processes thanks
  to ``producer_run``);
- every other one (older than the grace window, or superseded by that newer slot) is skipped:
  one warning per job with their count and range, and the newest skipped slot is recorded in
  ``producer_run`` with status ``skipped`` (``python -m producers run JOB --at ...`` backfills
  any of them by hand).

On start the cursor is the job's newest ``producer_run`` slot (bounded to ``lookback``), so
slots missed while no scheduler ran are caught up or skipped by the same rule; a job that never
ran only considers its latest slot (run if still inside the grace window).

The clock is injected: :meth:`tick` takes ``now`` and never sleeps, so tests simulate a week in
seconds; :meth:`run_forever` is the real-time loop (it sleeps until the next slot, a NOTIFY on
a job's ``wake_channel``, or a stop request).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from outbox.db import Outage, connect, is_connection_error, listen
from outbox.errors import DatabaseUnavailable
from outbox.lifecycle import StopFlag
from outbox.notify import NotifyWaiter
from producers.job import JobSpec
from producers.runner import RunOutcome, last_slots, record_skipped, run_slot, run_unslotted
from producers.schedule import Cron, jakarta, require_aware

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ScheduledJob:
    spec: JobSpec
    cron: Cron
    grace: timedelta

    @property
    def name(self) -> str:
        return self.spec.name


def wait_for_database(connector: Callable[[], Conn], check: Callable[[Conn], None],
                      stop: StopFlag) -> bool:
    """At the scheduler's start: connect and run ``check`` (schema, adapter), waiting with
    backoff while the database is unavailable (logged once, not per try). ``False`` when a
    stop was requested meanwhile. A schema that is not migrated still raises."""
    outage = Outage("producers", cap=2.0, logger=log)
    while not stop.is_set():
        try:
            with connector() as conn:
                check(conn)
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            stop.wait(outage.down(exc))
            continue
        outage.up()
        return True
    return False


def connect_producer(url: str, application_name: str = "cicero-producers") -> Conn:
    """An autocommit connection (jobs run inside explicit transactions) in Jakarta time."""
    conn = connect(url, application_name=application_name)
    conn.execute("SET TIME ZONE 'Asia/Jakarta'")
    return conn


class Scheduler:
    def __init__(
        self,
        connector: Callable[[], Conn],
        jobs: Sequence[ScheduledJob],
        *,
        clock: Clock = system_clock,
        admin_whatsapp: tuple[str, ...] = (),
        lookback: timedelta = timedelta(days=40),
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate job names: {names}")
        self._connector = connector
        self.jobs = list(jobs)
        self.clock = clock
        self.admin_whatsapp = admin_whatsapp
        self.lookback = lookback
        self._conn: Conn | None = None
        self._cursor: dict[str, datetime] = {}

    # ------------------------------------------------------------------ connection
    @property
    def conn(self) -> Conn:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connector()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _drop_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _now(self, now: datetime | None) -> datetime:
        return jakarta(require_aware(self.clock() if now is None else now, "now"))

    # ------------------------------------------------------------------ slots
    @property
    def started(self) -> bool:
        return len(self._cursor) == len(self.jobs)

    def start(self, now: datetime | None = None) -> list[RunOutcome]:
        """Set the cursors from ``producer_run`` and run (or skip) whatever was missed."""
        now = self._now(now)
        last = last_slots(self.conn, [job.name for job in self.jobs])
        for job in self.jobs:
            if job.name in last:
                self._cursor[job.name] = max(last[job.name], now - self.lookback)
            else:  # never ran: only its latest slot, if still inside the grace window
                latest = job.cron.latest(now)
                fresh = now - latest <= job.grace
                self._cursor[job.name] = latest - timedelta(microseconds=1) if fresh else now
        return self.tick(now)

    def tick(self, now: datetime | None = None) -> list[RunOutcome]:
        """Run each job's newest slot in ``(cursor, now]`` if inside its grace; skip the rest."""
        now = self._now(now)
        if not self.started:
            return self.start(now)
        outcomes: list[RunOutcome] = []
        for job in self.jobs:
            cursor = self._cursor[job.name]
            if now <= cursor:
                continue
            slots = list(job.cron.slots(cursor, now))
            due = [slot for slot in slots if now - slot <= job.grace][-1:]
            passed = [slot for slot in slots if slot not in due]
            try:
                if passed:
                    self._skip(job, passed, due, now)
                for slot in due:
                    outcomes.append(run_slot(
                        self.conn, job.spec, slot, now=now, admin_whatsapp=self.admin_whatsapp))
            except (psycopg.OperationalError, DatabaseUnavailable):
                self._drop_conn()
                raise  # cursor not advanced: the slots are tried again after reconnecting
            self._cursor[job.name] = now
        return outcomes

    def _skip(self, job: ScheduledJob, passed: list[datetime], due: list[datetime],
              now: datetime) -> None:
        first, newest = passed[0], passed[-1]
        why = (f"superseded by the slot {due[0].isoformat()}" if due
               else f"older than the grace window ({job.grace})")
        detail = (f"{len(passed)} missed slot(s) from {first.isoformat()} to "
                  f"{newest.isoformat()} not run at {now.isoformat()}: {why}")
        log.warning("job %s: skipped %s", job.name, detail,
                    extra={"job": job.name, "skipped": len(passed)})
        record_skipped(self.conn, job.name, newest, detail)

    def next_due(self) -> datetime | None:
        """The earliest next slot over all jobs (after each job's cursor)."""
        if not self.started or not self.jobs:
            return None
        return min(job.cron.next_after(self._cursor[job.name]) for job in self.jobs)

    # ------------------------------------------------------------------ wake-ups
    @property
    def wake_channels(self) -> set[str]:
        return {job.spec.wake_channel for job in self.jobs if job.spec.wake_channel}

    def wake(self, channel: str, now: datetime | None = None) -> list[RunOutcome]:
        """Out-of-slot runs of the jobs woken by ``channel`` (not recorded in producer_run)."""
        now = self._now(now)
        outcomes = []
        for job in self.jobs:
            if job.spec.wake_channel == channel:
                try:
                    outcomes.append(run_unslotted(
                        self.conn, job.spec, now=now, admin_whatsapp=self.admin_whatsapp))
                except (psycopg.OperationalError, DatabaseUnavailable):
                    self._drop_conn()
                    raise
        return outcomes

    # ------------------------------------------------------------------ real-time loop
    def run_forever(
        self,
        stop: StopFlag,
        *,
        listen_connector: Callable[[], Conn] | None = None,
        max_sleep: timedelta = timedelta(seconds=60),
    ) -> None:
        """Tick at every slot until ``stop`` is set; LISTEN for the jobs' wake channels."""
        channels = sorted(self.wake_channels)
        waiter: NotifyWaiter | None = None
        backoff = 1.0
        outage = Outage("producers", cap=2.0, logger=log)
        log.info("scheduler running: %s", ", ".join(
            f"{job.name}='{job.cron.expression}' grace={job.grace}" for job in self.jobs))
        while not stop.is_set():
            try:
                if channels and listen_connector is not None and waiter is None:
                    listener = listen_connector()
                    try:
                        listen(listener, *channels)
                        waiter = NotifyWaiter(listener)
                    except BaseException:
                        listener.close()
                        raise
                    log.info("listening on %s", ", ".join(channels))
                self.tick()
                next_slot = self.next_due()
                wait = max_sleep.total_seconds()
                if next_slot is not None:
                    wait = min(wait, (next_slot - self._now(None)).total_seconds())
                outage.up()
                woken = self._wait(stop, waiter, max(wait, 0.0))
                for channel in sorted(woken):
                    self.wake(channel)
                backoff = 1.0
            except Exception as exc:
                if is_connection_error(exc):
                    # logged once per outage (not per try); back within 2 s of the database
                    self._drop_conn()
                    _close_waiter(waiter)
                    waiter = None
                    stop.wait(outage.down(exc))
                    continue
                # a bug outside any job: keep the other jobs going
                log.exception("scheduler loop error, retrying in %.0fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
        _close_waiter(waiter)
        self.close()
        log.info("scheduler stopped (%s)", stop.reason)

    @staticmethod
    def _wait(stop: StopFlag, waiter: NotifyWaiter | None, seconds: float) -> set[str]:
        """Sleep up to ``seconds``; return the channels that notified meanwhile."""
        if waiter is None:
            stop.wait(seconds)
            return set()
        deadline = time.monotonic() + seconds
        woken: set[str] = set()
        while not woken and not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            woken = waiter.wait(min(remaining, 1.0))  # stay responsive to the stop flag
        if woken:  # coalesce a burst: whatever else arrives within 50 ms
            burst_end = time.monotonic() + 0.05
            while (left := burst_end - time.monotonic()) > 0:
                woken |= waiter.wait(left)
        return woken


def _close_waiter(waiter: NotifyWaiter | None) -> None:
    """Close a waiter and its LISTEN connection."""
    if waiter is not None:
        waiter.close()
        waiter.conn.close()
