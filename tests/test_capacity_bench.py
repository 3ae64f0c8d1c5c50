"""The week simulation of ``make bench`` (bench/capacity.py) on a small case with a known
answer: one number allowed one send per 24 hours, four messages a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from bench import capacity as bench
from outbox.capacity import Pace
from outbox.logs import JAKARTA


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 6, 8, hour, minute, tzinfo=JAKARTA)


def trace_row(i: int, slot: datetime, typ: str, to: str, key: str, length: int = 500,
              att: bool = False) -> bench.TraceRow:
    return bench.TraceRow(i, slot, typ, to, att, length, key, None, None, None)


DAY = [
    trace_row(1, at(7, 0), "daily_report", "g2", "daily_report:2026-06-07:daily:BATU:ig:g2"),
    trace_row(2, at(15, 20), "progress_report", "g1",
              "progress_report:2026-06-08T1520:daily:BATU:ig:g1"),
    trace_row(3, at(16, 5), "complaint_response", "p1", "complaint:1"),
    trace_row(4, at(18, 20), "progress_report", "g1",
              "progress_report:2026-06-08T1820:daily:BATU:ig:g1"),
]


def test_the_derived_new_stream() -> None:
    new = {r.id: r for r in bench.derive_new(DAY)}
    assert new[2].collapse == new[4].collapse == "progress_report:2026-06-08:daily:BATU:ig"
    assert new[1].collapse is None and new[3].collapse is None
    assert (new[1].priority, new[2].priority, new[3].priority) == (10, 20, 30)
    # the producers' deadlines, at the slot: 00.00 WIB after the day; a complaint never
    assert bench.expiry("progress_report", at(15, 20)) == at(0, 0) + timedelta(days=1)
    assert bench.expiry("admin_daily_summary", at(22, 0)) == at(0, 0) + timedelta(days=2)
    assert bench.expiry("complaint_response", at(16, 5)) is None
    assert bench.shift_key("username_recap:BATU", 3, 2) == "2:username_recap:BATU"
    assert (bench.shift_key("same_day_recap:2026-06-08:daily:BATU:ig", 2, 0)
            == "0:same_day_recap:2026-06-10:daily:BATU:ig")
    # a text that fits in the workbook's caption travels with it; a longer one does not
    text = trace_row(5, at(7, 0), "weekly_report", "p9", "weekly_report:a:p9", length=958)
    book = trace_row(6, at(7, 0), "weekly_report", "p9", "weekly_report:xlsx:p9", length=64,
                     att=True)
    assert [r.id for r in bench.derive_new([text, book])] == [6]
    longer = trace_row(5, at(7, 0), "weekly_report", "p9", "weekly_report:a:p9", length=959)
    assert [r.id for r in bench.derive_new([longer, book])] == [5, 6]


def test_a_week_with_one_send_a_day() -> None:
    """Day 0: the 07:00 recap takes the day's one send; the 15:20 recap waits and is
    superseded at 18:20; the 18:20 one expires at midnight; the complaint waits. Every later
    day: the budget frees at 07:00 and the complaint of the day before (priority 30) takes it,
    so that day's 07:00 recap and 18:20 recap expire, the 15:20 one is superseded. At the end
    of the week the last complaint is still queued."""
    rows = bench.week(bench.derive_new(DAY), 1, new=True)
    assert len(rows) == 28
    result = bench.run_week("tiny", rows, 1, Pace(max_per_hour=60, max_per_day=1))
    assert result.sends_per_day == [1] * 7
    assert (result.superseded, result.expired, result.undelivered) == (7, 13, 1)
    assert result.missed == {"complaint": 7, "same-day": 7, "07:00 recap": 6, "task list": 0,
                             "other": 0}
    complaint = result.lags["complaint"]
    assert complaint is not None
    p50, _, high, censored = complaint
    assert p50 == high == (14 * 60 + 55) * 60  # 16.05 -> 07.00 the next day
    assert censored
    assert result.lags["task list"] is None
    assert not result.targets_met and not result.every_deadline


def test_today_never_supersedes_or_expires_and_enough_numbers_meet_every_deadline() -> None:
    rows = bench.week(DAY, 1, new=False)
    assert {r.priority for r in rows} == {0} and not any(r.collapse_key or r.expires_at
                                                         for r in rows)
    slow = bench.run_week("today", rows, 1, Pace(max_per_hour=60, max_per_day=1))
    assert (slow.superseded, slow.expired) == (0, 0)
    assert slow.undelivered == 28 - 7  # one send a day
    needed, tried = bench.numbers_needed("today", rows, start=1, limit=4)
    assert needed == 1 and tried[-1].every_deadline
    assert sum(tried[-1].sends_per_day) == 28
