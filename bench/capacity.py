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

Run alone with ``python -m bench.capacity`` (``--quick``: one province only).
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import table
from bench.data.capture_trace import read
from outbox.capacity import Outcome, Pace, Row, Session, percentile, simulate
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


def kind(typ: str, slot: datetime) -> str:
    if typ in COMPLAINT:
        return "complaint"
    if typ in SAME_DAY:
        return "same-day"
    if typ in MORNING and slot.hour == 7:
        return "07:00 recap"
    if typ == "task_delivery_recap":
        return "task list"
    return "other"


def deadline(klass: str, typ: str, slot: datetime) -> datetime:
    """The target each row is judged by (not its expires_at: today's rows have none)."""
    if klass == "complaint":
        return slot + timedelta(minutes=2)
    if klass == "07:00 recap":
        return slot.replace(hour=9, minute=0)
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
        if new_n is None:
            daily_new = max(Counter(r.available_at.date() for r in new_rows).values())
            low = max(3, math.ceil(daily_new / PACE.max_per_day) - 1)
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
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(quick=args.quick))


if __name__ == "__main__":
    main()
