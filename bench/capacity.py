"""Capacity (issue 13): a week of the producers' messages through the gateway's pacing, on a
virtual clock (outbox/capacity.py: the same simulator as ``python -m outbox capacity``).

The message stream is real: one day of the producers' output in ``make demo`` (the sample
province, 40 clients, Monday 8 June 2026), captured by bench/data/capture_trace.py:

* ``demo-day-today.jsonl.gz``: before issue 13 (every row priority 0, no collapse key, no
  deadline, a report's text and its workbook as separate sends);
* ``demo-day-new.jsonl.gz`` (when present): after the producer changes of issue 13 (priorities
  by type, collapse keys, expires_at, the text carried as the workbook's caption when it fits).
  While it is missing, the new stream is DERIVED from the old trace by the documented rules
  (:func:`derive_new`), and the output says so.

A week = the captured Monday seven times (the ``weekly_report`` rows on the Monday only; no
monthly report: the 1st is not in the week), each day's rows queued at their slot time. Ten
provinces = the one-province day ten times, recipients renamed per province, each message
followed by its nine copies in id order (one run queues every province's clients). Every
number is assumed to be in every group; a recipient is sticky to one number, recipients spread
over the numbers by their volume (largest first, to the least loaded number).

Today's behaviour: the old stream, priority 0 in id order, no supersede, no expiry, one number
(and, to size it, the same rules on a hypothetical pool). New: the new stream with its
priorities, supersede and expiry, on 1..N numbers. Default pacing (60/h, 400/24 h, gap 8-25 s
drawn with a fixed seed, recipient gap 60 s); a send takes no time and never fails.

Targets (one province): every complaint answer within 2 min of its slot, every same-day recap
before the end of its Jakarta day, every 07:00 recap by 09.00, at most 2 numbers; sends per
day at least 40 % fewer than today for the same information.

The floor (:func:`floors`): the fewest sends ANY delivery order needs under the issue's own
rules (per-recipient FIFO, coalescing, the caption, supersede), for the morning recaps'
window and for the whole day, and the numbers those sends need at the default caps: a proof
of what no delivery mechanics can do. The operators' options (:data:`OPTIONS`): report
schedules (``<JOB>_CRON``) applied to the captured day, each judged against today's rules on
the same schedule, and the smallest change with which 2 numbers meet every target.

Run alone with ``python -m bench.capacity`` (``--quick``: one province only).
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import table
from bench.data.capture_trace import read
from outbox.capacity import (
    COALESCE_MAX_CHARS,
    COALESCE_MAX_ROWS,
    DAY,
    HOUR,
    Outcome,
    Pace,
    Row,
    Session,
    percentile,
    simulate,
)
from outbox.logs import JAKARTA
from producers import deadlines

DATA = Path(__file__).resolve().parent / "data"
TODAY_TRACE = DATA / "demo-day-today.jsonl.gz"
NEW_TRACE = DATA / "demo-day-new.jsonl.gz"
TRACE_DAY = "2026-06-08"  # the Monday make demo simulates
WEEK_START = datetime(2026, 6, 8, tzinfo=JAKARTA)
DAYS = 7
PACE = Pace()
SEED = 7

# the contract's priorities (migration 0012, docs/concepts/delivery.md)
PRIORITY = {
    **dict.fromkeys(("complaint_response", "complaint_forward", "admin_alert"), 30),
    **dict.fromkeys(("progress_report", "bidhumas_progress_report",
                     "ditbinmas_progress_report", "task_change", "personal_reminder"), 20),
    "task_delivery_recap": 0,
}
DEFAULT_PRIORITY = 10
NEXT_DAY = ("amplify_monthly_report", "admin_daily_summary")  # judged a day later
MAX_CAPTION = 1024  # producers.jobs.reports.MAX_CAPTION (WhatsApp's documented caption limit)

COMPLAINT = ("complaint_response", "complaint_forward")
SAME_DAY = ("progress_report", "bidhumas_progress_report", "ditbinmas_progress_report",
            "link_report", "task_change", "personal_reminder")
MORNING = ("daily_report", "weekly_report", "monthly_report")
CLASSES = ("complaint", "same-day", "07:00 recap", "task list", "other")
#: a morning recap (daily, weekly, monthly) is due within 2 h of its slot: 09.00 for 07.00
MORNING_LIMIT = timedelta(hours=2)


def kind(typ: str, slot: datetime) -> str:
    if typ in COMPLAINT:
        return "complaint"
    if typ in SAME_DAY:
        return "same-day"
    if typ in MORNING:  # at 07.00 by default; moved by its <JOB>_CRON, the same promise
        return "07:00 recap"
    if typ == "task_delivery_recap":
        return "task list"
    return "other"


def deadline(klass: str, typ: str, slot: datetime) -> datetime:
    """The target each row is judged by (not its expires_at: today's rows have none). A
    morning recap moved to another hour by its ``<JOB>_CRON`` keeps the 07:00 recap's promise:
    within :data:`MORNING_LIMIT` of its slot."""
    if klass == "complaint":
        return slot + timedelta(minutes=2)
    if klass == "07:00 recap":
        return slot + MORNING_LIMIT
    day_end = (slot + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day_end + timedelta(days=1) if typ in NEXT_DAY else day_end


# -- the streams ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TraceRow:
    id: int
    slot: datetime
    type: str
    to: str
    att: bool
    length: int
    key: str | None
    priority: int | None
    collapse: str | None
    expires_after: timedelta | None


def load(path: Path) -> list[TraceRow]:
    _, lines = read(path)
    rows = []
    for r in lines:
        slot = datetime.fromisoformat(r["slot"]).replace(tzinfo=JAKARTA)
        exp = r.get("expires_after_s")
        rows.append(TraceRow(int(r["id"]), slot, str(r["type"]), str(r["to"]), bool(r["att"]),
                             int(r["len"]), r.get("key"), r.get("prio"), r.get("collapse"),
                             None if exp is None else timedelta(seconds=int(exp))))
    return rows


_SLOT_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T\d{4}")


def derived_collapse(row: TraceRow) -> str | None:
    """The collapse key the producers give (docs/concepts/delivery-deadlines.md), rebuilt from
    the old dedupe key: the same-day recaps per (kind, day, client[, part]) without the slot
    time, the task list per (day, client), the reminder per (day, client)."""
    if row.key is None:
        return None
    parts = row.key.split(":")
    if row.type in ("progress_report", "bidhumas_progress_report", "ditbinmas_progress_report",
                    "link_report"):
        return ":".join(p for p in _SLOT_TIME.sub(r"\1", row.key).split(":") if p != row.to)
    if row.type == "task_delivery_recap":
        return ":".join(parts[:3])
    if row.type == "personal_reminder" and len(parts) >= 4:
        return ":".join([parts[0], parts[1], parts[3]])
    return None


def derive_new(rows: Sequence[TraceRow]) -> list[TraceRow]:
    """The new behaviour applied to the old trace: the contract's priorities, the deadlines of
    producers/deadlines.py, the collapse keys above, and a report's last text carried as its
    workbook's caption when both fit in :data:`MAX_CAPTION` (one send instead of two)."""
    merged: set[int] = set()
    for att in (r for r in rows if r.att):
        texts = [r for r in rows if not r.att and r.to == att.to and r.slot == att.slot
                 and r.type == att.type and r.id < att.id]
        if texts:
            last = max(texts, key=lambda r: r.id)
            if last.length + 2 + att.length <= MAX_CAPTION:
                merged.add(last.id)
    return [TraceRow(r.id, r.slot, r.type, r.to, r.att, r.length, r.key,
                     PRIORITY.get(r.type, DEFAULT_PRIORITY), derived_collapse(r), None)
            for r in rows if r.id not in merged]


def expiry(typ: str, slot: datetime) -> datetime | None:
    """The producers' deadline rule (producers/deadlines.py) for a run at its slot. The
    captured rows' own expires_at cannot be used: make demo simulates a June day while the
    database clock is today's, and a deadline is never before the database's now()."""
    return deadlines.expires_at(typ, slot, slot)


def shift_key(key: str, day: int, province: int) -> str:
    """A collapse key of the trace day moved to ``day`` of the week, per province: its dates
    follow the day (a key without a date, ``username_recap:<client>``, still replaces the
    previous day's row, as in production)."""
    trace_day = datetime.fromisoformat(TRACE_DAY)
    for back in (0, 1):
        old = (trace_day - timedelta(days=back)).date().isoformat()
        new = (WEEK_START + timedelta(days=day - back)).date().isoformat()
        key = key.replace(old, new)
    return f"{province}:{key}"


def week(rows: Sequence[TraceRow], provinces: int, *, new: bool) -> list[Row]:
    """Seven days of the one-day trace for ``provinces`` provinces, as simulator rows."""
    trace_day = datetime.fromisoformat(TRACE_DAY).replace(tzinfo=JAKARTA)
    result = []
    n = 0
    for day in range(DAYS):
        shift = WEEK_START + timedelta(days=day) - trace_day
        for r in rows:
            if r.type == "weekly_report" and day:
                continue  # Mondays only
            slot = r.slot + shift
            for p in range(provinces):
                n += 1
                klass = kind(r.type, slot)
                target = deadline(klass, r.type, slot)
                result.append(Row(
                    id=n, type=r.type,
                    priority=(r.priority if r.priority is not None else 0) if new else 0,
                    recipient=f"{p}:{r.to}", available_at=slot,
                    expires_at=expiry(r.type, slot) if new else None,
                    collapse_key=shift_key(r.collapse, day, p) if new and r.collapse else None,
                    slot=slot, tag=(klass, target),
                    # today's gateway sends each row alone; the new one coalesces texts
                    chars=r.length if new else None, document=r.att))
    return result


def assign(rows: Sequence[Row], numbers: int) -> list[Row]:
    """Sticky recipients spread over ``numbers`` sessions by volume (largest first to the
    least loaded)."""
    volume = Counter(r.recipient for r in rows)
    load_of = [0] * numbers
    session: dict[str, str] = {}
    for recipient, count in sorted(volume.items(), key=lambda kv: (-kv[1], kv[0])):
        i = min(range(numbers), key=lambda k: (load_of[k], k))
        load_of[i] += count
        session[recipient] = f"wa{i + 1}"
    for r in rows:
        r.session = session[r.recipient]
    return list(rows)


# -- the floor: what ANY delivery order needs ---------------------------------------------

WHATSAPP_MAX_TEXT = 65_536  # WhatsApp's own limit of a text (wa_outbox refuses longer)


@dataclass(frozen=True)
class Bounds:
    """What one send may carry under the issue's rules: a run of one recipient's consecutive
    texts, at most ``max_rows`` rows and ``max_chars`` characters joined by blank lines (the
    gateway's coalescing: the head and up to 50 followers, 60.000 characters in all), or one
    document, alone or with adjacent texts as its caption within ``max_caption`` characters
    (joined the same way). ``None``: no bound."""

    max_chars: int | None = COALESCE_MAX_CHARS
    max_rows: int | None = COALESCE_MAX_ROWS + 1
    max_caption: int = MAX_CAPTION


@dataclass(frozen=True)
class Item:
    """A row as the floor sees it: its length (None: unknown, it travels alone), whether it is
    a document, when it is queued and by when it must be sent."""

    chars: int | None
    document: bool
    ready: datetime
    due: datetime


def item(row: Row) -> Item:
    _, target = row.tag
    return Item(row.chars, row.document, row.available_at, target)


def min_sends(items: Sequence[Item], bounds: Bounds = Bounds()) -> int:
    """The fewest sends that carry ``items``, one recipient's rows in FIFO (id) order. A send
    carries a run of consecutive rows: one row alone, or rows that are all queued and still in
    time at one instant (the latest ``ready`` <= the earliest ``due``), of known length, with
    one document and all of it (joined by blank lines) within ``max_caption``, or texts only
    within ``max_rows`` and ``max_chars``. The answer is the shortest partition of the sequence
    into such runs: exact, by dynamic programming over each run's last row."""
    text_chars = math.inf if bounds.max_chars is None else bounds.max_chars
    text_rows = math.inf if bounds.max_rows is None else bounds.max_rows
    longest = max(text_chars, bounds.max_caption)
    best = [0] + [len(items)] * len(items)
    for end in range(1, len(items) + 1):
        joined, documents, unknown = -2, 0, False
        ready, due = items[end - 1].ready, items[end - 1].due
        for start in range(end - 1, -1, -1):
            row, rows = items[start], end - start
            ready, due = max(ready, row.ready), min(due, row.due)
            documents += row.document
            unknown = unknown or row.chars is None
            joined += (row.chars or 0) + 2
            if rows > 1 and (ready > due or documents > 1 or unknown or joined > longest):
                break  # a longer run only adds to each of these
            fits = rows == 1 or (joined <= bounds.max_caption if documents
                                 else rows <= text_rows and joined <= text_chars)
            if fits:
                best[end] = min(best[end], best[start] + 1)
    return best[len(items)]


def latest_versions(rows: Sequence[Row]) -> list[Row]:
    """``rows`` without those a later row of the same (collapse key, recipient) queued on the
    same Jakarta day replaces: the floor lets every such row wait for its successor."""
    last: dict[tuple[str, str, object], int] = {}
    for r in rows:
        if r.collapse_key is not None:
            k = (r.collapse_key, r.recipient, r.available_at.astimezone(JAKARTA).date())
            last[k] = max(last.get(k, r.id), r.id)
    return [r for r in rows if r.collapse_key is None or last[
        (r.collapse_key, r.recipient, r.available_at.astimezone(JAKARTA).date())] == r.id]


def floor_sends(rows: Sequence[Row], bounds: Bounds = Bounds()) -> int:
    """The fewest sends ANY delivery order needs to send every one of ``rows`` in time: the
    sum over recipients of :func:`min_sends` (a send goes to one recipient)."""
    by_recipient: dict[str, list[Row]] = {}
    for r in sorted(rows, key=lambda r: r.id):
        by_recipient.setdefault(r.recipient, []).append(r)
    return sum(min_sends([item(r) for r in queue], bounds) for queue in by_recipient.values())


def most_sends(pace: Pace, start: datetime, end: datetime) -> int:
    """The most sends one number can make in the closed interval [start, end]. The gateway
    sends only while fewer than ``cap`` sends lie in the last ``period`` (hour, 24 h), so any
    half-open [t, t + period) holds at most ``cap``: cut [start, end] into such pieces (the last
    one closed and shorter, or the single instant ``end`` when the length is a whole number of
    periods: one more send, the gap between two sends is never 0)."""
    length = end - start
    bounds = []
    for cap, period in ((pace.max_per_hour, HOUR), (pace.max_per_day, DAY)):
        pieces = math.ceil(length / period)
        bounds.append(cap * pieces + (1 if length == pieces * period else 0))
    if pace.gap_min_s > 0:
        bounds.append(int(length.total_seconds() // pace.gap_min_s) + 1)
    return min(bounds)


@dataclass(frozen=True)
class IntervalFloor:
    """The rows that must be sent inside [start, end] (queued from ``start``, due by ``end``)
    and the fewest sends they need: with our bounds, WhatsApp's own text limit, no text bound."""

    start: datetime
    end: datetime
    rows: int
    recipients: int
    sends: int
    sends_whatsapp_limit: int
    sends_no_text_bound: int
    per_number: int  # most_sends of one number in [start, end]

    @property
    def numbers(self) -> int:
        return math.ceil(self.sends / self.per_number)

    @property
    def numbers_whatsapp_limit(self) -> int:
        return math.ceil(self.sends_whatsapp_limit / self.per_number)


def interval_floor(rows: Sequence[Row], start: datetime, end: datetime,
                   pace: Pace = PACE) -> IntervalFloor:
    """The floor of the rows queued in [start, end] and due by ``end`` (``rows``: the latest
    versions, :func:`latest_versions`; ``Row.tag`` = (class, target) as in :func:`week`)."""
    inside = [r for r in rows if r.available_at >= start and r.tag[1] <= end]
    return IntervalFloor(
        start, end, len(inside), len({r.recipient for r in inside}), floor_sends(inside),
        floor_sends(inside, Bounds(max_chars=WHATSAPP_MAX_TEXT)),
        floor_sends(inside, Bounds(max_chars=None, max_rows=None)),
        most_sends(pace, start, end))


@dataclass(frozen=True)
class DayFloor:
    day: datetime  # 00.00 WIB
    mornings: list[IntervalFloor]  # [slot, slot + 2 h] of each morning recap slot of the day
    whole: IntervalFloor  # [00.00, 24.00]: the rows queued that day and due that day

    @property
    def numbers(self) -> int:
        return max([self.whole.numbers, *(m.numbers for m in self.mornings)])


def floors(rows: Sequence[Row], pace: Pace = PACE) -> list[DayFloor]:
    """What any delivery order needs, day by day, for ``rows`` (one province's week as
    :func:`week` builds it, ``new=True``).

    What they bound. The morning window's floor: the sends of any delivery in which every
    morning recap of the day goes out within 2 h of its slot (the issue's "every 07:00 recap
    by 09.00"), whatever it does with the other rows. The day's floor: the sends on that day
    of any delivery that meets every deadline of the rows queued that day (all of them, task
    lists and the other once-a-day messages too, not only the issue's three targets), and
    only of those rows: a delivery also sends that day the admin summary of the day before
    and whatever it chooses to send early or twice. Neither says a delivery that reaches it
    exists.

    Why they are lower bounds. Take such a delivery and an interval [start, end]. (1) A row
    due by ``end`` and queued at or after ``start`` is sent inside [start, end]
    (or replaced, for a row with a collapse key, by a later version queued the same day: the
    floor counts only the day's latest versions, as if every older version waited for its
    successor, which can only save sends). (2) A send goes to one recipient and carries a run
    of that recipient's consecutive open rows in id order (per-recipient FIFO): one document
    (with adjacent texts as caption within 1.024), or texts within the coalescing bounds; a
    row outside the interval that sits between two of its rows can only split a run, so
    leaving it out can only save sends; and every row of a send is queued and still in time at
    the send's instant. The fewest such runs of each recipient (:func:`min_sends`, exact) summed
    is therefore at most the sends any delivery makes inside [start, end]. (3) One number makes
    at most :func:`most_sends` sends in [start, end], whatever it sends, so fewer than
    ceil(floor / most_sends) numbers cannot send them all in time. The bound ignores the gaps
    between sends to one recipient, the sends made before ``start`` that still count in the
    rolling budgets, the rows outside the interval and the stickiness of recipients: each can
    only raise what is really needed.

    The intervals: each morning recap slot with its 2 hours ([07.00, 09.00]), and the whole
    day [00.00, 24.00] with the rows queued and due that day (not the admin summary, due the
    next day)."""
    latest = latest_versions(rows)
    days = sorted({r.available_at.astimezone(JAKARTA).date() for r in latest
                   if WEEK_START.date() <= r.available_at.astimezone(JAKARTA).date()})
    result = []
    for d in days:
        start = datetime(d.year, d.month, d.day, tzinfo=JAKARTA)
        end = start + timedelta(days=1)
        slots = sorted({r.available_at for r in latest if r.tag[0] == "07:00 recap"
                        and start <= r.available_at < end})
        result.append(DayFloor(start, [interval_floor(latest, s, s + MORNING_LIMIT, pace)
                                       for s in slots],
                               interval_floor(latest, start, end, pace)))
    return result


# -- the operators' options: other report schedules -------------------------------------

Move = tuple[str, str, str | None]  # (type, its default slot "HH:MM", new "HH:MM" or None: off)


@dataclass(frozen=True)
class Option:
    """A report schedule an operator can set with ``<JOB>_CRON`` (configuration.md), applied
    to the captured day by moving or dropping the slots it changes (:func:`reschedule`)."""

    label: str
    env: tuple[str, ...]  # the settings, e.g. "WEEKLY_REPORT_CRON='0 9 * * 1'"
    moves: tuple[Move, ...]

    @property
    def dropped(self) -> int:
        return sum(1 for _, _, to in self.moves if to is None)

    @property
    def moved(self) -> int:
        return sum(1 for _, _, to in self.moves if to is not None)


def reschedule(rows: Sequence[TraceRow], moves: Sequence[Move]) -> list[TraceRow]:
    """The day's rows under another schedule: the rows of a moved slot queued at its new time
    (same day), those of a dropped slot gone, ids renumbered in queueing order (slot, then the
    old id) so that FIFO follows the time a row is queued, as in the database."""
    where = {(typ, at): to for typ, at, to in moves}
    kept = []
    for r in rows:
        hhmm = f"{r.slot:%H:%M}"
        if (r.type, hhmm) not in where:
            kept.append(r)
            continue
        to = where[(r.type, hhmm)]
        if to is not None:
            hour, minute = (int(x) for x in to.split(":"))
            kept.append(replace(r, slot=r.slot.replace(hour=hour, minute=minute)))
    kept.sort(key=lambda r: (r.slot, r.id))
    return [replace(r, id=i) for i, r in enumerate(kept, start=1)]


_WEEKLY_9 = ("WEEKLY_REPORT_CRON='0 9 * * 1'", ("weekly_report", "07:00", "09:00"))
_USERNAME_10 = ("USERNAME_RECAP_CRON='0 10 * * *'", ("username_recap", "06:45", "10:00"))
_LAST_PROGRESS: tuple[Move, ...] = (("progress_report", "15:20", None),
                                    ("progress_report", "18:20", None))
_LAST_LINK: tuple[Move, ...] = (("link_report", "15:05", None), ("link_report", "18:05", None))

#: The schedules tried, from the smallest change. Moving the weekly report off 07.00 is forced
#: by the floor (Monday's 07.00 window needs 3 numbers); the username recap at 10.00 travels
#: with the 10.00 task list; the same-day recaps once a day (at their last slot) drop the
#: versions the next one replaces.
OPTIONS = (
    Option("defaults", (), ()),
    Option("weekly report at 09.00", (_WEEKLY_9[0],), (_WEEKLY_9[1],)),
    Option("weekly 09.00, username recap 10.00", (_WEEKLY_9[0], _USERNAME_10[0]),
           (_WEEKLY_9[1], _USERNAME_10[1])),
    Option("weekly 09.00, username 10.00, progress and link twice (18.05, 21.05)",
           (_WEEKLY_9[0], _USERNAME_10[0], "PROGRESS_REPORT_CRON='5 18,21 * * *'",
            "LINK_REPORT_CRON='5 18,21 * * *'"),
           (_WEEKLY_9[1], _USERNAME_10[1], ("progress_report", "15:20", None),
            ("progress_report", "18:20", "18:05"), ("progress_report", "20:20", "21:05"),
            ("link_report", "15:05", None))),
    Option("weekly 09.00, username 10.00, progress 18.05 and 21.05, link 21.05",
           (_WEEKLY_9[0], _USERNAME_10[0], "PROGRESS_REPORT_CRON='5 18,21 * * *'",
            "LINK_REPORT_CRON='5 21 * * *'"),
           (_WEEKLY_9[1], _USERNAME_10[1], ("progress_report", "15:20", None),
            ("progress_report", "18:20", "18:05"), ("progress_report", "20:20", "21:05"),
            *_LAST_LINK)),
    Option("progress and link once a day (their last slot)",
           ("PROGRESS_REPORT_CRON='20 20 * * *'", "LINK_REPORT_CRON='5 21 * * *'"),
           (*_LAST_PROGRESS, *_LAST_LINK)),
    Option("weekly 09.00, progress and link once a day",
           (_WEEKLY_9[0], "PROGRESS_REPORT_CRON='20 20 * * *'", "LINK_REPORT_CRON='5 21 * * *'"),
           (_WEEKLY_9[1], *_LAST_PROGRESS, *_LAST_LINK)),
    Option("weekly 09.00, username 10.00, progress and link once a day",
           (_WEEKLY_9[0], _USERNAME_10[0], "PROGRESS_REPORT_CRON='20 20 * * *'",
            "LINK_REPORT_CRON='5 21 * * *'"),
           (_WEEKLY_9[1], _USERNAME_10[1], *_LAST_PROGRESS, *_LAST_LINK)),
    Option("weekly 09.00, username 10.00, progress and link once a day, both at 21.05",
           (_WEEKLY_9[0], _USERNAME_10[0], "PROGRESS_REPORT_CRON='5 21 * * *'",
            "LINK_REPORT_CRON='5 21 * * *'"),
           (_WEEKLY_9[1], _USERNAME_10[1], *_LAST_PROGRESS,
            ("progress_report", "20:20", "21:05"), *_LAST_LINK)),
)


# -- one simulated week --------------------------------------------------------------------

@dataclass
class Result:
    label: str
    numbers: int
    rows: int
    sends_per_day: list[int]
    superseded: int
    expired: int
    undelivered: int  # still queued at the end of the week
    lags: dict[str, tuple[float, float, float, bool] | None]  # p50, p95, max (s), censored
    missed: dict[str, int]  # class -> rows past their target (late, expired or undelivered)

    @property
    def in_time(self) -> float:
        """The share of the latest versions (rows not superseded) delivered by their target:
        a superseded row's information travels in the row that replaced it."""
        latest = self.rows - self.superseded
        return 1 - sum(self.missed.values()) / latest if latest else 1.0

    @property
    def targets_met(self) -> bool:
        return all(self.missed[k] == 0 for k in ("complaint", "same-day", "07:00 recap"))

    @property
    def every_deadline(self) -> bool:
        return not any(self.missed.values())


def run_week(label: str, rows: Sequence[Row], numbers: int, pace: Pace = PACE) -> Result:
    rows = assign(rows, numbers)
    end = WEEK_START + timedelta(days=DAYS)
    sessions = [Session(f"wa{i + 1}", pace) for i in range(numbers)]
    out = simulate(rows, sessions, start=WEEK_START, until=end, gap="random", seed=SEED)
    return summarise(label, numbers, out, end)


def summarise(label: str, numbers: int, out: dict[int, Outcome], end: datetime) -> Result:
    per_day = [0] * DAYS
    lags: dict[str, list[tuple[float, bool]]] = {k: [] for k in CLASSES}
    missed = dict.fromkeys(CLASSES, 0)
    counts = Counter(o.status for o in out.values())
    for o in out.values():
        klass, target = o.row.tag
        slot = o.row.slot
        assert slot is not None
        if o.status == "sent" and o.at is not None:
            day = (o.at.astimezone(JAKARTA).date() - WEEK_START.date()).days
            if 0 <= day < DAYS and o.is_send:  # a coalesced text rides in another send
                per_day[day] += 1
            lags[klass].append(((o.at - slot).total_seconds(), False))
            if o.at > target:
                missed[klass] += 1
        elif o.status == "pending":
            lags[klass].append(((end - slot).total_seconds(), True))
            missed[klass] += 1 if target <= end else 0
        elif o.status == "expired":
            missed[klass] += 1
    stats: dict[str, tuple[float, float, float, bool] | None] = {}
    for klass, values in lags.items():
        seconds = [v for v, _ in values]
        if not seconds:
            stats[klass] = None
            continue
        censored = sum(1 for _, c in values if c)
        p95 = percentile(seconds, 95)
        stats[klass] = (percentile(seconds, 50), p95, max(seconds, default=0.0),
                        censored > 0 and censored >= 0.05 * len(values))
    return Result(label, numbers, len(out), per_day, counts["superseded"], counts["expired"],
                  counts["pending"], stats, missed)


def numbers_needed(label: str, rows: Sequence[Row], *, start: int, limit: int,
                   ) -> tuple[int | None, list[Result]]:
    """The fewest numbers in ``start..limit`` that meet every deadline (a binary search: more
    numbers never make a deadline harder to meet here), with the runs it made."""
    tried: dict[int, Result] = {}

    def ok(n: int) -> bool:
        if n not in tried:
            tried[n] = run_week(f"{label}: {n} numbers", rows, n)
        return tried[n].every_deadline

    low, high = max(1, start), limit
    if not ok(high):
        return None, [tried[high]]
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    ok(high)
    return high, [tried[n] for n in sorted(tried)]


# -- output --------------------------------------------------------------------------------

def decimal(value: float) -> str:
    """One decimal, Indonesian style (``52,6``)."""
    return f"{value:.1f}".replace(".", ",")


def span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{decimal(seconds / 3600)} h"


def lag_cell(stat: tuple[float, float, float, bool] | None) -> str:
    if stat is None:
        return "none sent"
    p50, p95, high, censored = stat
    mark = "+" if censored else ""
    return f"{span(p50)} / {span(p95)}{mark} / {span(high)}{mark}"


def num(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def result_rows(results: Iterable[Result]) -> list[list[Any]]:
    rows = []
    for r in results:
        mean = sum(r.sends_per_day) / DAYS
        rows.append([r.label, num(mean), num(max(r.sends_per_day)), num(r.superseded),
                     num(r.expired), num(r.undelivered), f"{decimal(r.in_time * 100)} %",
                     lag_cell(r.lags["complaint"]), lag_cell(r.lags["same-day"]),
                     lag_cell(r.lags["07:00 recap"]), lag_cell(r.lags["task list"]),
                     ", ".join(f"{k} {num(v)}" for k, v in r.missed.items() if v) or "none",
                     "yes" if r.targets_met else "no"])
    return rows


RESULT_HEADER = ["scenario", "sends/day (mean)", "max/day", "superseded", "expired",
                 "queued at week end", "latest versions in time", "complaint lag p50/p95/max",
                 "same-day recap lag", "07:00 recap lag", "task list lag",
                 "rows past their target", "targets met"]


def stream_table(title: str, streams: Sequence[tuple[str, Sequence[TraceRow]]]) -> str:
    body = []
    for label, rows in streams:
        monday = len(rows)
        other = sum(1 for r in rows if r.type != "weekly_report")
        per_class = Counter(kind(r.type, r.slot) for r in rows)
        atts = sum(1 for r in rows if r.att)
        body.append([label, num(monday), num(other), num(atts),
                     ", ".join(f"{k} {num(per_class[k])}" for k in CLASSES if per_class[k])])
    return table(title, ["stream", "rows Monday", "rows other days", "documents",
                         "by kind (Monday)"], body)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_names(days: Sequence[datetime]) -> str:
    names = [WEEKDAYS[d.weekday()] for d in days]
    consecutive = all((b - a).days == 1 for a, b in itertools.pairwise(days))
    return f"{names[0]}-{names[-1]}" if len(names) > 2 and consecutive else ", ".join(names)


def floor_table(days: Sequence[DayFloor]) -> str:
    """Per day (days with the same figures together), the floors of :func:`floors`."""
    groups: dict[tuple[Any, ...], list[datetime]] = {}
    cells: dict[tuple[Any, ...], list[str]] = {}
    for d in days:
        w = d.mornings
        row = [
            "; ".join(f"{m.start:%H.%M}: {num(m.rows)} ({num(m.recipients)})" for m in w),
            "; ".join(f"{num(m.sends)} / {num(m.sends_whatsapp_limit)} / "
                      f"{num(m.sends_no_text_bound)}" for m in w),
            "; ".join(num(m.per_number) for m in w),
            "; ".join(f"{num(m.numbers)} / {num(m.numbers_whatsapp_limit)}" for m in w),
            f"{num(d.whole.rows)} ({num(d.whole.recipients)})",
            f"{num(d.whole.sends)} / {num(d.whole.sends_whatsapp_limit)} / "
            f"{num(d.whole.sends_no_text_bound)}",
            num(d.whole.per_number),
            f"{num(d.whole.numbers)} / {num(d.whole.numbers_whatsapp_limit)}"]
        key = tuple(row)
        groups.setdefault(key, []).append(d.day)
        cells[key] = row
    body = [[day_names(groups[k]), *cells[k]] for k in groups]
    return table(
        "What any delivery order needs (a floor), 1 province, new stream: the fewest sends "
        "that can carry the rows due in each interval (texts joined up to 60.000 / 65.536 "
        "characters and 51 rows / no text bound; a document alone or with adjacent texts as "
        "caption up to 1.024; FIFO per recipient; a same-day recap replaced the same day is "
        "not sent) and the numbers they need at 60/h and 400/24 h",
        ["days", "07.00 window: rows (recipients)", "window floor: sends",
         "one number's most in [07.00, 09.00]", "numbers it needs",
         "day: latest versions due that day (recipients)", "day floor: sends",
         "one number's most in the day", "numbers it needs"], body)


@dataclass
class OptionResult:
    option: Option
    today_per_day: float  # today's rules on the same schedule: one send per row
    floor_numbers: int  # max over the week of what any delivery order needs
    two: Result  # the new rules on 2 numbers
    needed: int | None  # numbers to meet every deadline (None: more than ``limit``)
    limit: int

    @property
    def sends_per_day(self) -> float:
        return sum(self.two.sends_per_day) / DAYS

    @property
    def fewer(self) -> float:
        return 1 - self.sends_per_day / self.today_per_day

    @property
    def meets(self) -> bool:
        """The issue's targets with 2 numbers: complaint answers, same-day and 07:00 recaps
        in time, and at least 40 % fewer sends than today for the same information."""
        return self.two.targets_met and self.fewer >= 0.40


def evaluate(option: Option, today_trace: Sequence[TraceRow], new_trace: Sequence[TraceRow],
             *, limit: int) -> OptionResult:
    """One schedule for one province: today's sends on it, the floor, 2 numbers, and the
    numbers needed to meet every deadline (from the floor up, at most ``limit``)."""
    today_rows = week(reschedule(today_trace, option.moves), 1, new=False)
    new_rows = week(reschedule(new_trace, option.moves), 1, new=True)
    floor_n = max(d.numbers for d in floors(new_rows))
    two = run_week(f"{option.label}: 2 numbers", new_rows, 2)
    needed: int | None
    if two.every_deadline:
        needed = 2
        if floor_n <= 1 and run_week(option.label, new_rows, 1).every_deadline:
            needed = 1
    else:
        needed, _ = numbers_needed(option.label, new_rows, start=max(3, floor_n), limit=limit)
    return OptionResult(option, len(today_rows) / DAYS, floor_n, two, needed, limit)


def smallest(results: Sequence[OptionResult]) -> OptionResult | None:
    """The option that meets the targets with 2 numbers with the fewest slots dropped, then
    the fewest moved (moving keeps the information; dropping loses a version)."""
    meeting = [r for r in results if r.meets]
    return min(meeting, key=lambda r: (r.option.dropped, r.option.moved), default=None)


def options_table(results: Sequence[OptionResult]) -> str:
    body = []
    for r in results:
        o = r.option
        past = ", ".join(f"{k} {num(v)}" for k, v in r.two.missed.items() if v) or "none"
        body.append([
            o.label, "; ".join(o.env) or "(none)", f"{o.moved} / {o.dropped}",
            num(r.floor_numbers), num(r.needed) if r.needed else f"> {r.limit}", past,
            f"{decimal(r.two.in_time * 100)} %", num(r.sends_per_day), num(r.today_per_day),
            f"{decimal(r.fewer * 100)} %", "yes" if r.meets else "no"])
    best = smallest(results)
    verdict = ("none of these schedules meets every target with 2 numbers" if best is None
               else f"the smallest change that meets every target with 2 numbers: "
                    f"{best.option.label} ({'; '.join(best.option.env)})")
    return table(
        "The operators' options: report schedules (<JOB>_CRON), 1 province, new rules; "
        "the sends compared with today's rules on the SAME schedule (one send per row); "
        f"{verdict}",
        ["schedule", "settings", "slots moved / dropped", "numbers any order needs (floor)",
         "numbers needed (every deadline)", "2 numbers: rows past their target",
         "latest versions in time", "sends/day", "today's sends/day, same schedule",
         "fewer sends", "issue's targets with 2 numbers"], body)


def run(quick: bool = False) -> str:
    today_trace = load(TODAY_TRACE)
    derived = not NEW_TRACE.exists()
    new_trace = derive_new(today_trace) if derived else load(NEW_TRACE)
    source = ("DERIVED from the old trace by the documented rules (bench/capacity.py "
              "derive_new: priorities, deadlines, collapse keys, caption merge)" if derived
              else f"captured from make demo after the producer changes ({NEW_TRACE.name})")
    out = [f"Streams: today = {TODAY_TRACE.name} (make demo before issue 13); new = {source}. "
           "A week = the captured Monday 7 times (weekly report on Monday only); 10 provinces "
           "= the one-province stream 10 times with renamed recipients. Default pacing "
           "(60/h, 400/24 h, gap 8-25 s seeded, recipient gap 60 s).\n",
           stream_table("The day's messages (one province)",
                        [("today", today_trace), ("new", new_trace)])]
    for provinces in ((1,) if quick else (1, 10)):
        today_rows = week(today_trace, provinces, new=False)
        new_rows = week(new_trace, provinces, new=True)
        today_one = run_week("today: 1 number (no pool)", today_rows, 1)
        daily = max(Counter(r.available_at.date() for r in today_rows).values())
        start = math.ceil(daily / PACE.max_per_day)
        today_n, today_tried = numbers_needed("today's rules on a pool", today_rows,
                                              start=start, limit=4 * start)
        new_tried = [run_week(f"new: {n} number{'s' if n > 1 else ''}", new_rows, n)
                     for n in (1, 2)]
        new_n: int | None = next((r.numbers for r in new_tried if r.every_deadline), None)
        day_floors = floors(new_rows)
        if new_n is None:  # the search starts at the floor: fewer numbers cannot do it
            low = max(3, *(d.numbers for d in day_floors))
            new_n, more = numbers_needed("new", new_rows, start=low, limit=4 * low)
            new_tried += [r for r in more if r.numbers == new_n] or more[-1:]
        today_best = [r for r in today_tried if r.numbers == today_n] or today_tried[-1:]
        shown = [today_one, *today_best, *new_tried]
        out.append(table(
            f"A week, {provinces} province{'s' if provinces > 1 else ''}: sends and delivery "
            "lag after the slot (p50 / p95 / max; + = the value is a lower bound, rows still "
            "queued at the end of the week)", RESULT_HEADER, result_rows(shown)))
        today_info = len(today_rows) / DAYS  # every row is information that must be sent
        summary = []
        for r in [today_one, *today_best, *new_tried]:
            sends = sum(r.sends_per_day) / DAYS
            summary.append([r.label, num(r.numbers), num(sends),
                            f"{(1 - sends / today_info) * 100:.0f} %",
                            f"{decimal(r.in_time * 100)} %", "yes" if r.targets_met else "no",
                            "yes" if r.every_deadline else "no"])
        out.append(table(
            f"Sends against today's for the same information, {provinces} "
            f"province{'s' if provinces > 1 else ''} (today delivers the information with "
            f"{num(today_info)} sends a day: one per row; numbers needed to meet every "
            f"deadline: today's rules {num(today_n) if today_n else f'> {4 * start}'}, new "
            f"{num(new_n) if new_n else 'not found'})",
            ["scenario", "numbers", "sends/day", "fewer sends than today",
             "latest versions in time", "3 targets met", "every deadline met"], summary))
        if provinces == 1:
            out.append(floor_table(day_floors))
            limit = max(new_n or 0, 6)
            out.append(options_table([evaluate(o, today_trace, new_trace, limit=limit)
                                      for o in OPTIONS]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(quick=args.quick))


if __name__ == "__main__":
    main()
