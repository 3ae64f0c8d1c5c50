"""Capacity: when will the queue be sent, under the gateway's own pacing rules?

One pacing simulator (:func:`simulate`, pure Python on a virtual clock, no sleeping) serves
both ``python -m outbox capacity`` (the projection of the rows queued now) and the week-long
simulation of ``make bench`` (bench/capacity.py). It follows the gateway's rules as they are
written in gateway/pacing.py, gateway/loop.py and the claim (outbox/sql/outbox.sql):

* a session sends one row at a time; the next send waits for the gap after the session's last
  send (``WA_SEND_GAP_MIN/MAX_SECONDS``: the mean, the minimum, the maximum or a seeded draw),
  and for the hourly and daily (rolling 24 h) budgets read from the sending history
  (``wa_send_log``: the ``max_per_hour``-th most recent send of the last hour frees a slot one
  hour after it was sent);
* the claim takes the highest priority first, then the lowest id, among the due rows
  (``available_at <= now``) whose recipient has no older open row (per-recipient FIFO; an older
  row scheduled for later with no attempt yet does not hold the others back) and got nothing
  from this session within the recipient gap (``WA_RECIPIENT_GAP_SECONDS``);
* a row past its ``expires_at`` is never handed out: it becomes ``expired`` at that moment;
* a row inserted with a ``collapse_key`` supersedes the older pending rows with the same
  (collapse key, recipient, session).

A send takes no time in the simulation (the gateway's send is well under a second: the gap
dominates); no send fails. Sessions do not share rows: each is simulated alone.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from psycopg import sql

from outbox.engine import (
    DEFAULT_RESERVE_PER_DAY,
    DEFAULT_RESERVE_PER_HOUR,
    RESERVE_PRIORITY,
    default_reserve,
)
from outbox.health import HARD_DOWN_STATES
from outbox.logs import JAKARTA

GapMode = Literal["mean", "min", "max", "random"]
#: The gateway's coalescing bounds (gateway/pacing.py COALESCE_MAX_CHARS, engine.claim_followers).
COALESCE_MAX_CHARS = 60_000
COALESCE_MAX_ROWS = 50
HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Pace:
    """A session's pacing. The defaults are the gateway's documented ones (gateway/config.py:
    WA_MAX_PER_HOUR 60, WA_MAX_PER_DAY 400, WA_SEND_GAP_MIN/MAX_SECONDS 8/25,
    WA_RECIPIENT_GAP_SECONDS 60)."""

    max_per_hour: int = 60
    max_per_day: int = 400
    gap_min_s: float = 8.0
    gap_max_s: float = 25.0
    recipient_gap_s: float = 60.0
    enabled: bool = True
    # WA_COALESCE_TEXTS (default on): a sent text carries the recipient's next due texts
    coalesce: bool = True
    # WA_RESERVE_PER_HOUR / _PER_DAY: the last sends of each budget are kept for rows of
    # priority >= RESERVE_PRIORITY (answers, forwards, admin alerts); None: the gateway's
    # default (2 an hour, 10 a day, at most a tenth of the cap)
    reserve_per_hour: int | None = None
    reserve_per_day: int | None = None

    @property
    def hour_reserve(self) -> int:
        if self.reserve_per_hour is not None:
            return self.reserve_per_hour
        return default_reserve(DEFAULT_RESERVE_PER_HOUR, self.max_per_hour)

    @property
    def day_reserve(self) -> int:
        if self.reserve_per_day is not None:
            return self.reserve_per_day
        return default_reserve(DEFAULT_RESERVE_PER_DAY, self.max_per_day)

    def gap(self, mode: GapMode, rng: random.Random) -> timedelta:
        if not self.enabled:
            return timedelta(0)
        low, high = self.gap_min_s, self.gap_max_s
        seconds = {"mean": (low + high) / 2, "min": low, "max": high}.get(mode)
        return timedelta(seconds=rng.uniform(low, high) if seconds is None else seconds)


DEFAULT_PACE = Pace()


@dataclass
class Row:
    """A queued message as the simulator sees it."""

    id: int
    type: str
    priority: int
    recipient: str
    available_at: datetime
    session: str = "main"
    expires_at: datetime | None = None
    collapse_key: str | None = None
    inserted_at: datetime | None = None  # when it enters the queue (default: available_at)
    attempts: int = 0  # > 0: a retry waiting for available_at holds its recipient back
    slot: datetime | None = None  # the producer slot it belongs to (for lag statistics)
    tag: Any = None  # free for the caller (bench: the deadline class)
    chars: int | None = None  # the text's length (None: unknown, never coalesced)
    document: bool = False  # has an attachment (never coalesced)

    @property
    def enters_at(self) -> datetime:
        return self.inserted_at or self.available_at


@dataclass
class Session:
    name: str
    pace: Pace = DEFAULT_PACE
    history: list[datetime] = field(default_factory=list)  # send times (any order)
    recipient_last_sent: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Outcome:
    row: Row
    status: str  # sent | superseded | expired | pending (not sent by the horizon)
    at: datetime | None = None  # sent_at, or when it was superseded / expired
    superseded_by: int | None = None
    carried_by: int | None = None  # sent inside this row's message (coalesced): no send

    @property
    def is_send(self) -> bool:
        """A send of the budget: sent, and not carried in another row's message."""
        return self.status == "sent" and self.carried_by is None


class _SessionSim:
    def __init__(self, session: Session, rows: Sequence[Row], start: datetime,
                 gap_mode: GapMode, rng: random.Random) -> None:
        self.s = session
        self.pace = session.pace
        self.gap_mode = gap_mode
        self.rng = rng
        self.sends: list[datetime] = sorted(session.history)
        self.last_sent: datetime | None = self.sends[-1] if self.sends else None
        self.gap = self.pace.gap(gap_mode, rng)
        self.rgap = timedelta(seconds=self.pace.recipient_gap_s if self.pace.enabled else 0)
        self.rlast: dict[str, datetime] = dict(session.recipient_last_sent)
        self.out: dict[int, Outcome] = {}
        self.queues: dict[str, list[Row]] = {}  # pending (and settled, pruned lazily) by id
        self.incoming = deque(sorted(rows, key=lambda r: (r.enters_at, r.id)))
        self.ready: list[tuple[int, int, str]] = []  # (-priority, id, recipient)
        self.wakes: list[tuple[datetime, str]] = []  # (when, recipient): gap / available_at
        self.expiries: list[tuple[datetime, int, str]] = []
        self.t = start
        self.pending = 0

    # -- the queue ------------------------------------------------------------------------

    def _insert(self, row: Row, at: datetime) -> None:
        queue = self.queues.setdefault(row.recipient, [])
        if row.collapse_key is not None:
            for old in queue:
                if (old.collapse_key == row.collapse_key and old.id < row.id
                        and self.out[old.id].status == "pending"):
                    self.out[old.id] = Outcome(old, "superseded", at, row.id)
                    self.pending -= 1
        self.out[row.id] = Outcome(row, "pending")
        self.pending += 1
        bisect.insort(queue, row, key=lambda r: r.id)
        if row.expires_at is not None:
            heapq.heappush(self.expiries, (row.expires_at, row.id, row.recipient))
        self._refresh(row.recipient)

    def _head(self, recipient: str) -> tuple[Row | None, datetime | None]:
        """The recipient's claimable row now (or None) and when to look again."""
        queue = self.queues.get(recipient, [])
        while queue and self.out[queue[0].id].status != "pending":
            queue.pop(0)
        wake: datetime | None = None
        for row in queue:
            if self.out[row.id].status != "pending":
                continue
            if row.available_at > self.t:
                wake = row.available_at if wake is None else min(wake, row.available_at)
                if row.attempts > 0:
                    return None, wake  # a retry holds its recipient back until it is due
                continue  # scheduled for later: does not hold back the rows behind it
            last = self.rlast.get(recipient)
            if last is not None and last + self.rgap > self.t:
                free = last + self.rgap
                return None, free if wake is None else min(wake, free)
            return row, wake
        return None, wake

    def _refresh(self, recipient: str) -> None:
        head, wake = self._head(recipient)
        if head is not None:
            heapq.heappush(self.ready, (-head.priority, head.id, recipient))
        if wake is not None:
            heapq.heappush(self.wakes, (wake, recipient))

    def _next_event(self) -> datetime | None:
        times = [self.incoming[0].enters_at] if self.incoming else []
        if self.wakes:
            times.append(self.wakes[0][0])
        if self.expiries:
            times.append(self.expiries[0][0])
        return min(times) if times else None

    def _events_upto(self, upto: datetime) -> None:
        """Insertions, expiries and wake-ups up to ``upto``, in time order."""
        while True:
            nxt = self._next_event()
            if nxt is None or nxt > upto:
                break
            self.t = max(self.t, nxt)
            if self.incoming and self.incoming[0].enters_at == nxt:
                row = self.incoming.popleft()
                self._insert(row, nxt)
            elif self.expiries and self.expiries[0][0] == nxt:
                at, rid, recipient = heapq.heappop(self.expiries)
                if self.out[rid].status == "pending":
                    self.out[rid] = Outcome(self.out[rid].row, "expired", at)
                    self.pending -= 1
                    self._refresh(recipient)
            else:
                _, recipient = heapq.heappop(self.wakes)
                self._refresh(recipient)
        self.t = max(self.t, upto)

    # -- pacing ---------------------------------------------------------------------------

    def _free_at(self, cap: int, window: timedelta) -> datetime | None:
        """When a budget of ``cap`` sends per ``window`` frees a slot (None: not exhausted)."""
        cap = max(cap, 1)
        recent = len(self.sends) - bisect.bisect_right(self.sends, self.t - window)
        return self.sends[len(self.sends) - cap] + window if recent >= cap else None

    def _ready_at(self) -> tuple[datetime, datetime]:
        """When the next send may go: any row (the whole budgets), and every row (the budgets
        less the reserve kept for answers and alerts)."""
        ready = self.t
        if not self.pace.enabled:
            return ready, ready
        if self.last_sent is not None:
            ready = max(ready, self.last_sent + self.gap)
        p = self.pace
        general = ready
        for cap, reserve, window in ((p.max_per_hour, p.hour_reserve, HOUR),
                                     (p.max_per_day, p.day_reserve, DAY)):
            free = self._free_at(cap, window)
            if free is not None:
                ready = max(ready, free)
            free = self._free_at(cap - reserve, window) if reserve > 0 else free
            if free is not None:
                general = max(general, free)
        return ready, max(ready, general)

    def _claim(self, min_priority: int | None = None) -> Row | None:
        while self.ready:
            entry = heapq.heappop(self.ready)
            _, rid, recipient = entry
            if self.out[rid].status != "pending":
                continue
            head, _ = self._head(recipient)
            if head is None or head.id != rid:
                continue
            if min_priority is not None and head.priority < min_priority:
                heapq.heappush(self.ready, entry)  # the best due row is below the reserve's
                return None
            return head
        return None

    def _send(self, row: Row) -> None:
        self.out[row.id] = Outcome(row, "sent", self.t)
        self.pending -= 1
        self._carry(row)
        self.sends.append(self.t)
        self.last_sent = self.t
        self.rlast[row.recipient] = self.t
        self.gap = self.pace.gap(self.gap_mode, self.rng)
        self._refresh(row.recipient)

    def _carry(self, head: Row) -> None:
        """Coalescing, as the gateway's claim_followers: the recipient's next open rows, in id
        order, ride in ``head``'s message while each is a due text, up to
        :data:`COALESCE_MAX_ROWS` rows and :data:`COALESCE_MAX_CHARS` characters."""
        if (not (self.pace.enabled and self.pace.coalesce) or head.document
                or head.chars is None or head.attempts > 0):
            return
        chars, riders = head.chars, 0
        for row in self.queues.get(head.recipient, []):
            if row.id <= head.id or self.out[row.id].status != "pending":
                continue  # earlier, or no longer open
            if (riders >= COALESCE_MAX_ROWS or row.document or row.chars is None
                    or row.attempts > 0 or row.available_at > self.t
                    or (row.expires_at is not None and row.expires_at <= self.t)
                    or chars + 2 + row.chars > COALESCE_MAX_CHARS):
                return
            chars += 2 + row.chars
            riders += 1
            self.out[row.id] = Outcome(row, "sent", self.t, carried_by=head.id)
            self.pending -= 1

    def _wait_until(self, at: datetime, until: datetime | None) -> bool:
        """Move the clock to ``at`` (the events on the way); False when the run ends instead:
        nothing left to queue or send, or ``at`` beyond the horizon."""
        if (not self.incoming and not self.pending) or (until is not None and at > until):
            return False
        self._events_upto(at)
        return True

    def run(self, until: datetime | None) -> dict[int, Outcome]:
        while True:
            self._events_upto(self.t)
            ready, general = self._ready_at()
            if ready > self.t:
                if not self._wait_until(ready, until):
                    break
                continue
            reserved = general > self.t  # only the reserve is left: answers and alerts only
            row = self._claim(RESERVE_PRIORITY if reserved else None)
            if row is not None:
                if until is not None and self.t > until:
                    break
                self._send(row)
                continue
            nxt = self._next_event()
            if reserved and (nxt is None or general < nxt):
                if not self._wait_until(general, until):
                    break
                continue
            if nxt is None or (until is not None and nxt > until):
                break
            self._events_upto(nxt)
        if until is not None:  # the horizon: queue, supersede and expire up to it
            self._events_upto(until)
            for at, rid, _ in sorted(self.expiries):
                if at <= until and self.out[rid].status == "pending":
                    self.out[rid] = Outcome(self.out[rid].row, "expired", at)
            for row in self.incoming:  # never entered: not inserted before the horizon
                self.out.setdefault(row.id, Outcome(row, "pending"))
        return self.out


def simulate(rows: Iterable[Row], sessions: Iterable[Session], *, start: datetime,
             until: datetime | None = None, gap: GapMode = "mean",
             seed: int = 0) -> dict[int, Outcome]:
    """Project every row: sent (when), superseded (by which), expired (when), or still pending
    at ``until`` (None: run until the queue drains). Rows of a session not listed in
    ``sessions`` are paced with the defaults."""
    by_session: dict[str, list[Row]] = {}
    for row in rows:
        by_session.setdefault(row.session, []).append(row)
    known = {s.name: s for s in sessions}
    out: dict[int, Outcome] = {}
    for index, name in enumerate(sorted(by_session)):
        session = known.get(name) or Session(name)
        sim = _SessionSim(session, by_session[name], start, gap, random.Random(seed + index))
        out.update(sim.run(until))
    return out


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return float(ordered[int(rank) - 1])


def jakarta_day_start(at: datetime) -> datetime:
    local = at.astimezone(JAKARTA)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


# -- the projection of the queue in the database (python -m outbox capacity) -------------------

PACE_COLUMNS = ("max_per_hour", "max_per_day", "gap_min_s", "gap_max_s", "recipient_gap_s",
                "pacing", "reserve_per_hour", "reserve_per_day", "coalesce_texts")
HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class KindLine:
    """The open rows of one (priority, type) of a session, with the projection of the last."""

    priority: int
    type: str
    rows: int
    last_at: datetime | None  # projected send of the last of them (None: none sent in horizon)
    superseded: int  # projected to be superseded (always 0 from the database: done at INSERT)
    expired: int  # projected to miss their expires_at
    unsent: int  # not sent within the horizon, no deadline


@dataclass(frozen=True)
class Miss:
    id: int
    type: str
    recipient: str
    expires_at: datetime
    projected_at: datetime | None  # when it would have been sent without the deadline


@dataclass(frozen=True)
class SessionCapacity:
    name: str
    state: str
    pace: Pace
    pace_from: str  # "wa_session" or "defaults"
    sent_today: int
    sent_last_hour: int
    sent_last_24h: int
    open_rows: int
    drained_at: datetime | None  # projected send of the last open row (None: queue empty)
    kinds: list[KindLine]
    misses: list[Miss]
    paused_until: datetime | None = None
    projected: dict[int, datetime] = field(default_factory=dict)  # row id -> projected send
    pool: str | None = None  # wa_session.pool: sessions sharing it serve one set of recipients
    sends_needed: int | None = None  # sends (not rows: coalesced texts ride along) to drain
    urgent_sends: int = 0  # of them, rows the budget's reserve is kept for (RESERVE_PRIORITY)

    @property
    def hour_left(self) -> int:
        return max(self.pace.max_per_hour - self.sent_last_hour, 0)

    @property
    def day_left(self) -> int:
        return max(self.pace.max_per_day - self.sent_last_24h, 0)

    @property
    def budget_short(self) -> bool:
        """The daily budget runs out before the queue drains: more sends needed (rows not
        projected to expire, texts carried in another row's message counted once) than sends
        left in the rolling 24 hours, or more sends of the other rows than the budget leaves
        them once the reserve for answers and alerts is kept."""
        to_send = (self.open_rows - len(self.misses) if self.sends_needed is None
                   else self.sends_needed)
        general = max(self.day_left - self.pace.day_reserve, 0)
        return self.pace.enabled and (to_send > self.day_left
                                      or to_send - self.urgent_sends > general)


@dataclass(frozen=True)
class CapacityReport:
    now: datetime
    sessions: list[SessionCapacity]

    @property
    def has_problem(self) -> bool:
        return any(s.misses or s.budget_short for s in self.sessions)


def _columns(conn: Any, table: str) -> set[str]:
    rows = conn.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s",
                        (table,)).fetchall()
    return {str(r[0]) for r in rows}


def _optional(names: Sequence[str], present: set[str]) -> sql.Composable:
    """The columns that exist, NULL for the others (a database before revision 0012)."""
    return sql.SQL(", ").join(sql.Identifier(c) if c in present else sql.SQL("NULL")
                              for c in names)


def _pace(values: Sequence[Any]) -> Pace | None:
    (per_hour, per_day, gap_min, gap_max, rgap, enabled, reserve_hour, reserve_day,
     coalesce) = values
    if per_hour is None or per_day is None:
        return None
    d = DEFAULT_PACE
    # a gateway that registered before revision 0013 did not record its reserve or its
    # coalescing: the gateway's defaults
    return Pace(max_per_hour=int(per_hour), max_per_day=int(per_day),
                gap_min_s=float(gap_min if gap_min is not None else d.gap_min_s),
                gap_max_s=float(gap_max if gap_max is not None else d.gap_max_s),
                recipient_gap_s=float(rgap if rgap is not None else d.recipient_gap_s),
                enabled=bool(enabled) if enabled is not None else True,
                reserve_per_hour=None if reserve_hour is None else int(reserve_hour),
                reserve_per_day=None if reserve_day is None else int(reserve_day),
                coalesce=bool(coalesce) if coalesce is not None else d.coalesce)


def capacity(conn: Any, now: datetime | None = None, *, horizon: timedelta = HORIZON,
             only: Iterable[str] | None = None) -> CapacityReport:
    """Project every session's open rows from ``now`` (default: the database's clock) with
    the pacing the gateway wrote into wa_session (else the defaults) and the sending history
    of wa_send_log. A row being sent (``sending``) counts as sent now. ``only``: just these
    sessions (the others' rows are not read)."""
    names_only = None if only is None else sorted(set(only))
    if now is None:
        row = conn.execute("SELECT now()").fetchone()
        now = row[0]
    assert now is not None
    session_cols = _columns(conn, "wa_session")
    outbox_cols = _columns(conn, "wa_outbox")
    sessions: dict[str, tuple[str, Pace | None, datetime | None]] = {}
    pools: dict[str, str] = {}
    for name, state, paused, pool, *rest in conn.execute(sql.SQL(
            "SELECT name, state, paused_until, {} FROM wa_session ORDER BY name").format(
                _optional(("pool", *PACE_COLUMNS), session_cols))).fetchall():
        sessions[name] = (state, _pace(rest), paused)
        if pool:
            pools[name] = str(pool)
    if names_only is not None:
        sessions = {k: v for k, v in sessions.items() if k in names_only}
    open_rows = conn.execute(sql.SQL(
        "SELECT id, type, priority, recipient, available_at, session_name, attempts, status, "
        "       length(content), attachment_name IS NOT NULL, "
        "       {} FROM wa_outbox WHERE is_open "
        "   AND (%(only)s::text[] IS NULL OR session_name = ANY(%(only)s::text[])) "
        " ORDER BY id").format(_optional(("expires_at", "collapse_key"), outbox_cols)),
        {"only": names_only}).fetchall()
    history: dict[str, list[datetime]] = {}
    for name, sent_at in conn.execute(
            "SELECT session_name, sent_at FROM wa_send_log "
            "WHERE sent_at > %(now)s::timestamptz - interval '24 hours' "
            "AND sent_at <= %(now)s::timestamptz", {"now": now}).fetchall():
        history.setdefault(name, []).append(sent_at)
    today: dict[str, int] = {
        name: int(count) for name, count in conn.execute(
            "SELECT session_name, count(*) FROM wa_send_log "
            "WHERE (sent_at AT TIME ZONE 'Asia/Jakarta')::date "
            "    = (%(now)s::timestamptz AT TIME ZONE 'Asia/Jakarta')::date "
            "AND sent_at <= %(now)s::timestamptz GROUP BY 1", {"now": now}).fetchall()}
    max_rgap = max([DEFAULT_PACE.recipient_gap_s,
                    *(p.recipient_gap_s for _, p, _ in sessions.values() if p)])
    recent: dict[str, dict[str, datetime]] = {}
    known = sorted(set(sessions) | {str(r[5]) for r in open_rows})
    for name, recipient, last in conn.execute(  # wa_outbox_sent_idx (session_name, sent_at)
            "SELECT session_name, recipient, max(sent_at) FROM wa_outbox "
            "WHERE session_name = ANY(%(names)s::text[]) AND sent_at IS NOT NULL "
            "AND sent_at > %(now)s::timestamptz - %(gap)s::interval "
            "AND sent_at <= %(now)s::timestamptz GROUP BY 1, 2",
            {"now": now, "gap": timedelta(seconds=max_rgap), "names": known}).fetchall():
        recent.setdefault(name, {})[recipient] = last

    rows: list[Row] = []
    for (rid, typ, prio, recipient, available, name, attempts, status, chars, document,
         expires, collapse) in open_rows:
        if status == "sending":  # in flight: settled in a moment, counted as sent now
            history.setdefault(name, []).append(now)
            recent.setdefault(name, {})[recipient] = now
            continue
        rows.append(Row(int(rid), str(typ), int(prio), str(recipient), available,
                        session=str(name), expires_at=expires, collapse_key=collapse,
                        inserted_at=min(available, now), attempts=int(attempts),
                        chars=int(chars), document=bool(document)))
    names = sorted(set(sessions) | {r.session for r in rows})
    result: list[SessionCapacity] = []
    for name in names:
        state, pace, paused = sessions.get(name, ("not registered", None, None))
        mine = [r for r in rows if r.session == name]
        session = Session(name, pace or DEFAULT_PACE, history.get(name, []),
                          recent.get(name, {}))
        start = max(now, paused) if paused is not None else now
        out = simulate(mine, [session], start=start, until=start + horizon)
        result.append(_session_capacity(
            name, state, session, "wa_session" if pace else "defaults", now,
            today.get(name, 0), mine, out, paused if paused and paused > now else None,
            pools.get(name)))
    return CapacityReport(now, result)


def _session_capacity(name: str, state: str, session: Session, pace_from: str, now: datetime,
                      sent_today: int, rows: Sequence[Row], out: dict[int, Outcome],
                      paused: datetime | None, pool: str | None) -> SessionCapacity:
    hist = session.history
    kinds: dict[tuple[int, str], list[Outcome]] = {}
    for row in rows:
        kinds.setdefault((row.priority, row.type), []).append(out[row.id])
    lines = []
    for (prio, typ), outs in sorted(kinds.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        sent = [o.at for o in outs if o.status == "sent" and o.at is not None]
        lines.append(KindLine(prio, typ, len(outs), max(sent) if sent else None,
                              sum(1 for o in outs if o.status == "superseded"),
                              sum(1 for o in outs if o.status == "expired"),
                              sum(1 for o in outs if o.status == "pending")))
    misses = []
    expired = [o.row for o in out.values() if o.status == "expired"]
    if expired:  # when would they have gone out without their deadline?
        undated = [replace(r, expires_at=None, collapse_key=None) for r in rows]
        late = simulate(undated, [session], start=max(now, paused or now),
                        until=max(now, paused or now) + HORIZON)
        misses = [Miss(r.id, r.type, r.recipient, r.expires_at, late[r.id].at)
                  for r in sorted(expired, key=lambda r: r.id) if r.expires_at is not None]
    sent_at = [o.at for o in out.values() if o.status == "sent" and o.at is not None]
    return SessionCapacity(
        name=name, state=state, pace=session.pace, pace_from=pace_from, sent_today=sent_today,
        sent_last_hour=sum(1 for t in hist if t > now - HOUR),
        sent_last_24h=sum(1 for t in hist if t > now - DAY),
        open_rows=len(rows), drained_at=max(sent_at) if sent_at else None,
        kinds=lines, misses=misses, paused_until=paused, pool=pool,
        projected={rid: o.at for rid, o in out.items() if o.status == "sent" and o.at},
        sends_needed=sum(1 for o in out.values() if o.is_send or o.status == "pending"),
        urgent_sends=sum(1 for o in out.values() if (o.is_send or o.status == "pending")
                         and o.row.priority >= RESERVE_PRIORITY))


# -- operator text -------------------------------------------------------------------------

def hm(at: datetime | None, now: datetime) -> str:
    """``08.30`` today (Jakarta), ``09-06 08.30`` another day, ``-`` for none."""
    if at is None:
        return "-"
    local, today = at.astimezone(JAKARTA), now.astimezone(JAKARTA)
    if local.date() == today.date():
        return f"{local:%H.%M}"
    return f"{local:%d-%m %H.%M}"


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def alert_texts(report: CapacityReport) -> list[tuple[str, str, str]]:
    """``(session, reason, text)`` for each session with a problem: reason ``deadline`` (rows
    projected to miss their expires_at) and/or ``budget`` (the daily budget runs out before the
    queue drains). Indonesian, for the admins' WhatsApp."""
    now = report.now
    alerts = []
    for s in report.sessions:
        if s.misses:
            first = min(s.misses, key=lambda m: m.expires_at)
            by_type: dict[str, int] = {}
            for m in s.misses:
                by_type[m.type] = by_type.get(m.type, 0) + 1
            kinds = ", ".join(f"{t} {number(n)}" for t, n in sorted(by_type.items()))
            alerts.append((s.name, "deadline", "\n".join([
                f"⚠️ *Kapasitas kirim sesi {s.name}*",
                f"{number(len(s.misses))} pesan diproyeksikan lewat tenggat dan akan "
                f"kedaluwarsa ({kinds}).",
                f"Tenggat pertama: {hm(first.expires_at, now)} WIB (#{first.id}, {first.type}).",
                f"Antrean {number(s.open_rows)} pesan, sisa kuota: {number(s.hour_left)}/jam, "
                f"{number(s.day_left)}/24 jam.",
                "_Periksa: python -m outbox capacity. Tambah nomor ke pool atau kurangi "
                "laporan._"])))
        if s.budget_short:
            alerts.append((s.name, "budget", "\n".join([
                f"⚠️ *Kuota harian sesi {s.name} habis sebelum antrean selesai*",
                f"Antrean {number(s.open_rows)} pesan, sisa kuota 24 jam "
                f"{number(s.day_left)} dari {number(s.pace.max_per_day)}.",
                f"Pesan terakhir diproyeksikan terkirim {hm(s.drained_at, now)} WIB.",
                "_Periksa: python -m outbox capacity._"])))
    return alerts


def text(report: CapacityReport) -> list[str]:
    """The report as printed by ``python -m outbox capacity``."""
    now = report.now
    lines = [f"Capacity projection at {now.astimezone(JAKARTA):%Y-%m-%d %H.%M} WIB (mean "
             "send gap, no failures; times WIB, another day as dd-mm)"]
    if not report.sessions:
        lines.append("no sessions and nothing queued")
    for s in report.sessions:
        p = s.pace
        kept = (f" ({number(p.hour_reserve)}/h and {number(p.day_reserve)}/24 h kept for "
                "answers and alerts)" if p.hour_reserve or p.day_reserve else "")
        pace = (f"{number(p.max_per_hour)}/h, {number(p.max_per_day)}/24 h{kept}, gap "
                f"{p.gap_min_s:g}-{p.gap_max_s:g} s, recipient gap {p.recipient_gap_s:g} s"
                if p.enabled else "pacing off")
        pool = f", pool {s.pool}" if s.pool else ""
        lines += ["", f"session {s.name} ({s.state}{pool}): pacing {pace} [{s.pace_from}]"]
        if s.paused_until is not None:
            lines.append(f"  paused until {hm(s.paused_until, now)} WIB")
        if s.state in HARD_DOWN_STATES:
            lines.append(f"  not sending ({s.state}): projected as if it sent from now; a "
                         "pool hands its rows to the other sessions")
        lines.append(f"  sent today (WIB day): {number(s.sent_today)}; last hour "
                     f"{number(s.sent_last_hour)}, left {number(s.hour_left)}; last 24 h "
                     f"{number(s.sent_last_24h)}, left {number(s.day_left)}")
        if not s.kinds:
            lines.append("  queue: empty")
            continue
        lines.append(f"  queue: {number(s.open_rows)} open, projected to drain at "
                     f"{hm(s.drained_at, now)} WIB" if s.drained_at else
                     f"  queue: {number(s.open_rows)} open, nothing projected to be sent")
        headers = ["priority", "type", "rows", "last sent at", "expire", "beyond 7 d"]
        body = [[str(k.priority), k.type, number(k.rows), hm(k.last_at, now),
                 number(k.expired), number(k.unsent)] for k in s.kinds]
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
        for cells in [headers, ["-" * w for w in widths], *body]:
            lines.append("  " + "  ".join(
                c.rjust(w) if i in (0, 2, 4, 5) else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip())
        if s.misses:
            lines.append(f"  projected to miss their deadline: {number(len(s.misses))}")
            groups: dict[tuple[str, datetime], list[Miss]] = {}
            for m in s.misses:
                groups.setdefault((m.type, m.expires_at), []).append(m)
            for (typ, due), misses in sorted(groups.items(), key=lambda kv: (kv[0][1],
                                                                             kv[0][0])):
                when = sorted(m.projected_at for m in misses if m.projected_at is not None)
                would = (f"{hm(when[0], now)}-{hm(when[-1], now)} WIB" if when
                         else "not within 7 days")
                ids = ", ".join(f"#{m.id}" for m in misses[:3])
                lines.append(f"    {typ}: {number(len(misses))} row(s) ({ids}"
                             f"{', ...' if len(misses) > 3 else ''}), deadline "
                             f"{hm(due, now)} WIB, would be sent {would}")
        if s.budget_short:
            lines.append(f"  daily budget runs out before the queue drains "
                         f"({number(s.open_rows - len(s.misses))} to send, "
                         f"{number(s.day_left)} left)")
    return lines
