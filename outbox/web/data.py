"""What the status page shows, read from the database (outbox/web/sql/web.sql).

Phone numbers are masked (``62812****890``) everywhere on the page, failure reasons included,
as in the logs; ``python -m outbox show ID`` prints a row in full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from psycopg.rows import dict_row

from outbox import engine
from outbox.engine import Conn
from outbox.health import HealthThresholds, judge
from outbox.logs import JAKARTA, mask_phone, mask_text
from outbox.sql import QueryFile

_q = QueryFile("outbox.web", "web.sql")

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
ROWS_SHOWN = 20
QR_FRESH_SECONDS = 90


def _all(conn: Conn, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q(name), params or {})
        return cur.fetchall()


# --------------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class SessionView:
    name: str
    is_default: bool
    state: str  # as the gateway recorded it
    state_detail: str | None
    state_changed_at: datetime
    heartbeat_at: datetime | None
    paired: str | None  # the paired number, masked
    paused_until: datetime | None
    pause_reason: str | None
    last_sent_at: datetime | None
    sent_last_hour: int
    sent_last_day: int
    sent_today: int
    max_per_hour: int
    max_per_day: int
    pairing_qr: str | None  # only while the session is pairing
    pairing_qr_at: datetime | None
    now: datetime

    @property
    def status(self) -> str:
        """The operator's word: connected, needs pairing, logged out, banned, ..."""
        if self.state in ("banned",) or (self.paused_until is not None
                                          and "ban" in (self.pause_reason or "").lower()):
            return "banned"
        if self.state == "connected" and self.paused_until is not None:
            return "paused"
        return {"connected": "connected", "pairing": "needs pairing",
                "logged_out": "logged out", "replaced": "replaced",
                "disconnected": "disconnected", "starting": "starting",
                "offline": "offline"}.get(self.state, self.state)

    @property
    def qr_age(self) -> float | None:
        if self.pairing_qr_at is None:
            return None
        return (self.now - self.pairing_qr_at).total_seconds()

    @property
    def qr_fresh(self) -> bool:
        """WhatsApp replaces a pairing code within 60 s: an older one cannot be scanned (the
        gateway is probably not running any more)."""
        age = self.qr_age
        return self.pairing_qr is not None and age is not None and age <= QR_FRESH_SECONDS


def sessions(conn: Conn, *, max_per_hour: int, max_per_day: int,
             name: str | None = None) -> list[SessionView]:
    out: list[SessionView] = []
    for r in _all(conn, "sessions", {"name": name}):
        last = r["last_sent_at"]
        if last is None:
            with conn.cursor() as cur:
                cur.execute(_q("last_sent"), {"name": r["name"]})
                row = cur.fetchone()
                last = None if row is None else row[0]
        pairing = r["state"] == "pairing" and r["pairing_qr"] is not None
        out.append(SessionView(
            name=r["name"], is_default=r["is_default"], state=r["state"],
            state_detail=mask_text(r["state_detail"]) if r["state_detail"] else None,
            state_changed_at=r["state_changed_at"], heartbeat_at=r["heartbeat_at"],
            paired=mask_phone(r["jid"]).partition("@")[0] if r["jid"] else None,
            paused_until=r["paused_until"], pause_reason=r["pause_reason"],
            last_sent_at=last, sent_last_hour=r["last_hour"], sent_last_day=r["last_day"],
            sent_today=r["today"], max_per_hour=max_per_hour, max_per_day=max_per_day,
            pairing_qr=r["pairing_qr"] if pairing else None,
            pairing_qr_at=r["pairing_qr_at"] if pairing else None, now=r["now"]))
    return out


# --------------------------------------------------------------------------- queue
@dataclass(frozen=True)
class QueueLine:
    session_name: str
    status: str
    type: str
    failure_class: str | None  # failed rows: permanent, attempts_exhausted, delivery_unknown
    messages: int
    oldest_pending_at: datetime | None


def queue(conn: Conn) -> list[QueueLine]:
    return [QueueLine(r["session_name"], r["status"], r["type"], r["failure_class"],
                      r["messages"], r["oldest_pending_at"]) for r in _all(conn, "queue")]


@dataclass(frozen=True)
class QueueSummary:
    by_status: dict[str, int]
    by_type: list[tuple[str, dict[str, int]]]  # type -> status -> messages
    oldest_pending_at: datetime | None


def summarise(lines: list[QueueLine]) -> QueueSummary:
    by_status = dict.fromkeys(STATUSES, 0)
    types: dict[str, dict[str, int]] = {}
    oldest: datetime | None = None
    for line in lines:
        by_status[line.status] = by_status.get(line.status, 0) + line.messages
        per = types.setdefault(line.type, dict.fromkeys(STATUSES, 0))
        per[line.status] = per.get(line.status, 0) + line.messages
        if line.oldest_pending_at is not None and (oldest is None
                                                   or line.oldest_pending_at < oldest):
            oldest = line.oldest_pending_at
    return QueueSummary(by_status, sorted(types.items()), oldest)


@dataclass(frozen=True)
class RowView:
    id: int
    session_name: str
    recipient: str  # masked
    type: str
    status: str
    attempts: int
    max_attempts: int
    created_at: datetime
    available_at: datetime
    finished_at: datetime | None
    reason: str | None  # last_error, masked

    @property
    def can_retry(self) -> bool:
        return self.status == "failed"

    @property
    def can_cancel(self) -> bool:
        return self.status in ("pending", "failed")


def _row_view(r: dict[str, Any]) -> RowView:
    return RowView(id=r["id"], session_name=r["session_name"],
                   recipient=mask_phone(r["recipient"]).replace("@s.whatsapp.net", ""),
                   type=r["type"], status=r["status"], attempts=r["attempts"],
                   max_attempts=r["max_attempts"], created_at=r["created_at"],
                   available_at=r["available_at"], finished_at=r["finished_at"],
                   reason=mask_text(r["last_error"]) if r["last_error"] else None)


def rows(conn: Conn, status: str, limit: int = ROWS_SHOWN) -> list[RowView]:
    """The oldest pending rows (as they will be sent) or the newest failed ones."""
    if status not in ("pending", "failed"):
        raise ValueError(f"no row list for status {status!r}")
    return [_row_view(r) for r in _all(conn, f"rows_{status}", {"limit": limit})]


def row(conn: Conn, msg_id: int) -> RowView | None:
    found = _all(conn, "row", {"id": msg_id})
    return _row_view(found[0]) if found else None


# --------------------------------------------------------------------------- producers
@dataclass(frozen=True)
class JobView:
    job: str
    slot: datetime
    status: str
    finished_at: datetime | None
    enqueued: int
    duplicates: int
    detail: str | None
    runs_day: int
    failed_day: int
    cron: str | None  # from <JOB>_CRON in this process's environment, if set
    next_run: datetime | None


def next_run(expression: str | None, after: datetime) -> datetime | None:
    """The next slot of a five-field cron in Asia/Jakarta (``None`` if it is not one)."""
    if expression is None or len(expression.split()) != 5:
        return None
    try:
        nxt: datetime = croniter(expression, after.astimezone(JAKARTA)).get_next(datetime)
    except (ValueError, KeyError):
        return None
    return nxt


def job_cron(job: str) -> str | None:
    """``<JOB>_CRON`` as this process sees it (the producers' env file under supervisord)."""
    value = os.environ.get(f"{job.upper()}_CRON", "").strip()
    return value or None


def producers(conn: Conn, now: datetime) -> list[JobView]:
    out = []
    for r in _all(conn, "producers"):
        cron = job_cron(r["job"])
        out.append(JobView(job=r["job"], slot=r["slot"], status=r["status"],
                           finished_at=r["finished_at"], enqueued=r["enqueued"],
                           duplicates=r["duplicates"],
                           detail=mask_text(r["detail"]) if r["detail"] else None,
                           runs_day=r["runs_day"], failed_day=r["failed_day"], cron=cron,
                           next_run=next_run(cron, now)))
    return out


# --------------------------------------------------------------------------- health
@dataclass(frozen=True)
class Health:
    ok: bool
    problems: list[str]
    sessions: dict[str, str]  # name -> up | down | paused
    now: datetime


def health(conn: Conn, *, down_after: timedelta, stuck_after: timedelta) -> Health:
    """The verdict of ``python -m outbox health`` (:func:`outbox.health.judge`, with the page's
    thresholds): down sessions, stuck queues, rows for a session no gateway registered. Numbers
    in a session's state detail or pause reason are masked; no message text is read."""
    sessions = engine.session_health(conn)
    verdicts = judge(sessions, HealthThresholds(stuck=stuck_after, heartbeat=down_after))
    problems = [mask_text(v.text if v.session is None else f"session {v.session}: {v.text}")
                for v in verdicts if not v.healthy]
    states = {v.session: "down" if v.down else "paused" if v.paused else "up"
              for v in verdicts if v.session is not None}
    return Health(not problems, problems, states, sessions[0].now if sessions else db_now(conn))


def db_now(conn: Conn) -> datetime:
    """The database's clock (the page never reads the host's)."""
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value
