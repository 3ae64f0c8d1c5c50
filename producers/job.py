"""The contract between the scheduler and its jobs.

The scheduler claims a slot by inserting ``producer_run (job, slot)`` and then calls the job's
function inside that same transaction; the job enqueues with :mod:`outbox.engine` on
``ctx.conn`` (never committing itself). The scheduler commits, so the slot and its messages are
recorded together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg


@dataclass(frozen=True)
class JobContext:
    conn: psycopg.Connection[Any]  # inside the slot's transaction: do not commit
    job: str  # the job name, also the ``type`` of the messages it enqueues
    slot: datetime  # the scheduled time being run, tz-aware (Asia/Jakarta)
    now: datetime  # the (injectable) clock, tz-aware
    admin_whatsapp: tuple[str, ...] = ()  # ADMIN_WHATSAPP, as given (may be invalid)
    # Why the job runs: "slot" (the scheduler, recorded in producer_run), "manual" (backfill,
    # recorded too) or "notify" (an out-of-slot run woken by NOTIFY on the spec's wake_channel:
    # no producer_run row; ``slot`` is then the wake-up time, not a cron slot).
    trigger: str = "slot"


@dataclass(frozen=True)
class JobResult:
    enqueued: int = 0
    duplicates: int = 0
    skipped: int = 0  # e.g. invalid recipients, logged and left out
    detail: str | None = None


JobFn = Callable[[JobContext], JobResult]


@dataclass(frozen=True)
class JobSpec:
    name: str
    default_cron: str
    cron_env: str  # e.g. DAILY_REPORT_CRON
    run: JobFn
    grace: timedelta = timedelta(hours=2)  # how late a missed slot may still run on start
    wake_channel: str | None = None  # also run (outside slots) when NOTIFY arrives here
