"""All of the gateway's pacing in one place, every rule derived from ``sent_at`` in the database
(so a restart does not reset any of it):

* a random gap (``WA_SEND_GAP_MIN/MAX_SECONDS``) after the session's last send, drawn once per
  send (a restart draws a new one, never below the minimum);
* the hourly and daily (rolling 24 h) budgets (``WA_MAX_PER_HOUR``, ``WA_MAX_PER_DAY``), whose
  last sends (``WA_RESERVE_PER_HOUR``, ``WA_RESERVE_PER_DAY``) are kept for answers and alerts
  (priority ``engine.RESERVE_PRIORITY`` and above): when only the reserve is left, the claim
  takes only those;
* the per-recipient gap (``WA_RECIPIENT_GAP_SECONDS``), which the claim itself applies (the
  engine writes it into the claim, ``claim_recipient_gap``) and :meth:`Pacer.next_wake` waits for;
* the claim size: one row at a time with pacing on, ``WA_CLAIM_BATCH`` with it off;
* coalescing (``WA_COALESCE_TEXTS``, pacing on): a claimed text carries the recipient's next due
  texts in one message, so the budgets count sends, not rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config import Pacing
from outbox import engine
from outbox.engine import ClaimedMessage, Conn
from outbox.sql import QueryFile

_q = QueryFile("gateway", "gateway.sql")

#: The longest coalesced text: the producers' own bound for one text (WhatsApp accepts 65,536).
COALESCE_MAX_CHARS = 60_000


@dataclass(frozen=True)
class PacingWindow:
    now: datetime
    last_sent_at: datetime | None
    hour_free_at: datetime | None
    day_free_at: datetime | None
    # when the part of each budget open to every row (the budget less the reserve) frees a slot
    hour_general_at: datetime | None = None
    day_general_at: datetime | None = None


def pacing_window(conn: Conn, session: str, per_hour: int, per_day: int, *,
                  reserve_per_hour: int = 0, reserve_per_day: int = 0) -> PacingWindow:
    """The session's last send and when the hourly and daily budgets free a slot again: the
    whole budgets, and their part open to every row (less the reserve)."""
    with conn.cursor() as cur:
        cur.execute(_q("pacing_window"), {
            "session": session, "per_hour": per_hour, "per_day": per_day,
            "general_hour": max(per_hour - reserve_per_hour, 1),
            "general_day": max(per_day - reserve_per_day, 1)})
        row = cur.fetchone()
    assert row is not None
    return PacingWindow(*row)


def claim_max_bytes(conn: Conn) -> int:
    """The bound on the attachment bytes of one claim (``wa_outbox_limits``)."""
    with conn.cursor() as cur:
        cur.execute(_q("claim_max_bytes"))
        row = cur.fetchone()
    return 2**31 - 1 if row is None else int(row[0])


class Pacer:
    def __init__(self, pacing: Pacing, session: str, *, claim_batch: int = 1,
                 rng: random.Random | None = None) -> None:
        self.pacing = pacing
        self.session = session
        self.rng = rng or random.Random()
        self.claim_size = 1 if pacing.enabled else claim_batch
        self.max_bytes: int | None = None  # wa_outbox_limits.claim_max_bytes, read once
        self.gap = self._draw()
        # set by delay(): only the budgets' reserve is left, so only rows of this priority and
        # above may be claimed, for reserve_wait more seconds
        self.min_priority: int | None = None
        self.reserve_wait: float | None = None

    @property
    def enabled(self) -> bool:
        return self.pacing.enabled

    def _draw(self) -> timedelta:
        low = self.pacing.gap_min.total_seconds()
        high = self.pacing.gap_max.total_seconds()
        return timedelta(seconds=self.rng.uniform(low, high))

    def delay(self, conn: Conn) -> tuple[float, str]:
        """Seconds to wait before the next send, and why (``ok``, ``gap``, ``hourly cap``...).

        ``(0, "reserve")``: only the reserve of a budget is left (``WA_RESERVE_PER_HOUR``,
        ``WA_RESERVE_PER_DAY``), so the next claim takes only answers and alerts
        (:attr:`min_priority`); every row may go again in :attr:`reserve_wait` seconds."""
        self.min_priority, self.reserve_wait = None, None
        if not self.pacing.enabled:
            return 0.0, "ok"
        p = self.pacing
        w = pacing_window(conn, self.session, p.max_per_hour, p.max_per_day,
                          reserve_per_hour=p.reserve_per_hour, reserve_per_day=p.reserve_per_day)
        ready, reason = w.now, "ok"
        for at, why in ((w.last_sent_at + self.gap if w.last_sent_at else None, "gap"),
                        (w.hour_free_at, "hourly cap"), (w.day_free_at, "daily cap")):
            if at is not None and at > ready:
                ready, reason = at, why
        if ready > w.now:
            return (ready - w.now).total_seconds(), reason
        general = max((at for at in (w.hour_general_at, w.day_general_at) if at is not None),
                      default=None)
        if general is not None and general > w.now:
            self.min_priority = engine.RESERVE_PRIORITY
            self.reserve_wait = (general - w.now).total_seconds()
            return 0.0, "reserve"
        return 0.0, "ok"

    def sent(self) -> None:
        """A send was settled: draw the gap before the next one."""
        self.gap = self._draw()

    def claim(self, conn: Conn, *, worker: str, lease: timedelta) -> list[ClaimedMessage]:
        """Lease the next rows under the pacing rules (claim size, recipient gap). With pacing
        on and ``WA_COALESCE_TEXTS``, a claimed text carries the recipient's next due texts in
        the same message (one send of the budget instead of several)."""
        if self.max_bytes is None:
            self.max_bytes = claim_max_bytes(conn)
        claimed = engine.claim(conn, session=self.session, worker=worker, limit=self.claim_size,
                               lease=lease, recipient_gap=self.pacing.recipient_gap,
                               max_bytes=self.max_bytes, min_priority=self.min_priority)
        if not (self.pacing.enabled and self.pacing.coalesce_texts):
            return claimed
        return [engine.claim_followers(conn, msg, worker=worker, lease=lease,
                                       max_chars=COALESCE_MAX_CHARS) for msg in claimed]

    def next_wake(self, conn: Conn) -> tuple[datetime, datetime | None]:
        """``(now, wake_at)``: when a row may become claimable under the same rules."""
        return engine.next_wake(conn, self.session, self.pacing.recipient_gap)
