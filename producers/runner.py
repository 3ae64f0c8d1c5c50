"""Run one job for one slot, exactly once across processes.

In one transaction: ``INSERT INTO producer_run (job, slot) ... ON CONFLICT DO NOTHING``; only
the process whose insert won calls the job (on the same connection, inside that transaction)
and the slot row and the job's messages commit together. A second process racing for the same
slot blocks on the primary key until the first commits, then inserts nothing and leaves; if the
first rolled back, the second wins and runs. A job that raises rolls its transaction back
(no slot row, no messages), then a ``failed`` row is written in a transaction of its own so the
slot is not retried by the scheduler (the job runs again at its next slot; ``python -m producers
run JOB --at ...`` re-runs a failed slot by hand).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

from outbox.db import check_adapter
from outbox.errors import SchemaNotReady
from outbox.sql import QueryFile
from producers.job import JobContext, JobResult, JobSpec
from producers.schedule import jakarta

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]
Status = Literal["done", "failed", "taken", "skipped"]


_q = QueryFile("producers", "runner.sql")


@dataclass(frozen=True)
class RunOutcome:
    job: str
    slot: datetime
    status: Status  # taken: another process (or an earlier run) already owns the slot
    result: JobResult | None = None
    error: str | None = None
    seconds: float = 0.0


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:2000]


def _extra(spec: JobSpec, slot: datetime, trigger: str) -> dict[str, Any]:
    return {"job": spec.name, "slot": jakarta(slot).isoformat(), "trigger": trigger}


def run_slot(
    conn: Conn,
    spec: JobSpec,
    slot: datetime,
    *,
    now: datetime,
    admin_whatsapp: tuple[str, ...] = (),
    trigger: str = "slot",
    rerun_failed: bool = False,
) -> RunOutcome:
    """Claim ``(spec.name, slot)`` and, if won, run the job and commit both together.

    ``rerun_failed`` (manual backfill) also takes over a slot recorded as failed or skipped;
    a slot recorded as done is never run twice.
    """
    slot, now = jakarta(slot), jakarta(now)
    extra = _extra(spec, slot, trigger)
    started = time.perf_counter()
    try:
        with conn.transaction():
            claim = _q("claim_rerun") if rerun_failed else _q("claim")
            won = conn.execute(claim, {"job": spec.name, "slot": slot}).fetchone() is not None
            if not won:
                log.info("slot already taken: %s %s", spec.name, slot.isoformat(), extra=extra)
                return RunOutcome(spec.name, slot, "taken")
            check_adapter(conn)  # the Node services may have changed Cicero's tables since
            ctx = JobContext(conn=conn, job=spec.name, slot=slot, now=now,
                             admin_whatsapp=admin_whatsapp, trigger=trigger)
            result = spec.run(ctx)
            conn.execute(_q("finish"), {"job": spec.name, "slot": slot,
                                        "enqueued": result.enqueued,
                                        "duplicates": result.duplicates,
                                        "detail": _detail(result)})
    except Exception as exc:
        if conn.closed or conn.broken:
            raise  # the connection is gone: the scheduler reconnects and retries the slot
        error = _error_text(exc)
        seconds = time.perf_counter() - started
        log.log(logging.ERROR, "job %s failed for slot %s: %s", spec.name, slot.isoformat(),
                error, extra=extra, exc_info=not isinstance(exc, SchemaNotReady))
        record_failed(conn, spec.name, slot, error)
        return RunOutcome(spec.name, slot, "failed", error=error, seconds=seconds)
    seconds = time.perf_counter() - started
    busy = result.enqueued or result.duplicates or result.skipped
    log.log(logging.INFO if busy else logging.DEBUG,  # an idle per-minute slot is not news
            "job %s done for slot %s: enqueued=%d duplicates=%d skipped=%d (%.2fs)%s",
            spec.name, slot.isoformat(), result.enqueued, result.duplicates, result.skipped,
            seconds, f" - {result.detail}" if result.detail else "", extra=extra)
    return RunOutcome(spec.name, slot, "done", result=result, seconds=seconds)


def _detail(result: JobResult) -> str | None:
    parts = []
    if result.skipped:
        parts.append(f"skipped={result.skipped}")
    if result.detail:
        parts.append(result.detail)
    return "; ".join(parts) or None


def record_failed(conn: Conn, job: str, slot: datetime, error: str) -> None:
    """Write the ``failed`` row in its own transaction (never over a ``done`` row)."""
    try:
        with conn.transaction():
            conn.execute(_q("record_failed"), {"job": job, "slot": slot, "detail": error})
    except psycopg.Error as exc:
        log.error("could not record the failure of %s at %s: %s", job, slot.isoformat(), exc,
                  extra={"job": job})


def record_skipped(conn: Conn, job: str, slot: datetime, detail: str) -> None:
    """Mark a missed slot (older than its grace) as skipped, unless something else owns it."""
    with conn.transaction():
        conn.execute(_q("record_skipped"), {"job": job, "slot": slot, "detail": detail})


def run_unslotted(
    conn: Conn,
    spec: JobSpec,
    *,
    now: datetime,
    admin_whatsapp: tuple[str, ...] = (),
    trigger: str = "notify",
) -> RunOutcome:
    """An out-of-slot run (NOTIFY wake-up): one transaction, no ``producer_run`` row.

    The job itself must be safe to run concurrently (e.g. claim its input rows with
    ``FOR UPDATE SKIP LOCKED``); ``ctx.slot`` is the wake-up time.
    """
    now = jakarta(now)
    extra = _extra(spec, now, trigger)
    started = time.perf_counter()
    try:
        with conn.transaction():
            check_adapter(conn)
            ctx = JobContext(conn=conn, job=spec.name, slot=now, now=now,
                             admin_whatsapp=admin_whatsapp, trigger=trigger)
            result = spec.run(ctx)
    except Exception as exc:
        if conn.closed or conn.broken:
            raise
        error = _error_text(exc)
        log.log(logging.ERROR, "job %s failed (woken by notify): %s", spec.name, error,
                extra=extra, exc_info=not isinstance(exc, SchemaNotReady))
        return RunOutcome(spec.name, now, "failed", error=error,
                          seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if result.enqueued or result.skipped or result.detail:
        log.info("job %s (woken by notify): enqueued=%d duplicates=%d skipped=%d%s",
                 spec.name, result.enqueued, result.duplicates, result.skipped,
                 f" - {result.detail}" if result.detail else "", extra=extra)
    return RunOutcome(spec.name, now, "done", result=result, seconds=seconds)


def last_slots(conn: Conn, jobs: list[str]) -> dict[str, datetime]:
    """The newest recorded slot per job (any status)."""
    rows = conn.execute(_q("last_slots"), {"jobs": jobs}).fetchall()
    return {row[0]: jakarta(row[1]) for row in rows}
