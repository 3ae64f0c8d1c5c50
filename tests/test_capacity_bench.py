"""The week simulation of ``make bench`` (bench/capacity.py) on a small case with a known
answer: one number allowed one send per 24 hours, four messages a day."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from bench import capacity as bench
from outbox.capacity import Pace, Row, simulate
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


# -- the floor: what any delivery order needs ------------------------------------------------

SEVEN = at(7, 0)
NINE = at(9, 0)
MIDNIGHT = at(0, 0) + timedelta(days=1)


def text(chars: int | None, ready: datetime = SEVEN, due: datetime = NINE) -> bench.Item:
    return bench.Item(chars, False, ready, due)


def book(caption: int = 50) -> bench.Item:
    return bench.Item(caption, True, SEVEN, NINE)


def test_the_fewest_sends_of_one_recipient() -> None:
    # texts joined by blank lines: 30.000 + 2 + 29.000 fits 60.000, one more 1.000 does not
    # (60.004); WhatsApp's own 65.536 takes the three in one send
    three = [text(30_000), text(29_000), text(1_000)]
    assert bench.min_sends(three) == 2
    assert bench.min_sends(three, bench.Bounds(max_chars=bench.WHATSAPP_MAX_TEXT)) == 1
    # the head and 50 followers: 52 short texts are 2 sends, 1 without a row bound
    assert bench.min_sends([text(10)] * 51) == 1
    assert bench.min_sends([text(10)] * 52) == 2
    assert bench.min_sends([text(10)] * 52, bench.Bounds(max_rows=None)) == 1
    # a document: alone, or with an adjacent text as caption when all of it fits 1.024
    # (900 + 2 + 50 = 952; 900 + 2 + 50 + 2 + 900 does not fit), never two documents
    assert bench.min_sends([text(900), book(), text(900)]) == 2
    assert bench.min_sends([text(100), book(), text(100)]) == 1
    assert bench.min_sends([text(2_000), book()]) == 2
    assert bench.min_sends([book(), book()]) == 2
    # FIFO: a document between two texts splits them (3 sends, not 2)
    assert bench.min_sends([text(5_000), book(), text(5_000)]) == 3
    assert bench.min_sends([text(5_000), text(5_000), book()]) == 2
    # no instant at which both are queued and in time: a 07.00 recap due 09.00 and a text
    # queued at 10.00 go apart; due at midnight, they can wait for each other
    late = text(100, ready=at(10, 0), due=MIDNIGHT)
    assert bench.min_sends([text(100), late]) == 2
    assert bench.min_sends([text(100, due=MIDNIGHT), late]) == 1
    # a row of unknown length travels alone
    assert bench.min_sends([text(None), text(100)]) == 2
    assert bench.min_sends([]) == 0


def _one_send(run: list[bench.Item], bounds: bench.Bounds) -> bool:
    """The rule of one send, written out plainly (min_sends folds it into its search)."""
    if len(run) == 1:
        return True
    if max(i.ready for i in run) > min(i.due for i in run):
        return False
    lengths = [i.chars for i in run]
    if None in lengths:
        return False
    joined = sum(c or 0 for c in lengths) + 2 * (len(run) - 1)
    documents = sum(i.document for i in run)
    if documents:
        return documents == 1 and joined <= bounds.max_caption
    return ((bounds.max_rows is None or len(run) <= bounds.max_rows)
            and (bounds.max_chars is None or joined <= bounds.max_chars))


def test_the_fewest_sends_equal_an_exhaustive_search() -> None:
    """Every way to cut short random sequences into consecutive sends, against min_sends."""
    rng = random.Random(13)
    bounds = [bench.Bounds(), bench.Bounds(max_rows=3), bench.Bounds(max_chars=None,
                                                                     max_rows=None),
              bench.Bounds(max_rows=2, max_caption=2_000)]
    for _ in range(400):
        items = []
        for _ in range(rng.randint(1, 8)):
            ready = at(rng.choice([7, 7, 10, 15]), 0)
            items.append(bench.Item(rng.choice([None, 50, 300, 600, 900, 20_000, 30_000]),
                                    rng.random() < 0.25, ready,
                                    ready + timedelta(hours=rng.choice([2, 5, 17]))))
        bound = rng.choice(bounds)
        fewest = len(items)
        for mask in range(1 << (len(items) - 1)):
            cuts = [0, *(k + 1 for k in range(len(items) - 1) if mask >> k & 1), len(items)]
            runs = [items[a:b] for a, b in itertools.pairwise(cuts)]
            if all(_one_send(run, bound) for run in runs):
                fewest = min(fewest, len(runs))
        assert bench.min_sends(items, bound) == fewest


def test_the_most_one_number_sends_in_a_closed_interval() -> None:
    pace = Pace()
    # 60 in [07.00, 08.00), 60 in [08.00, 09.00), one more at exactly 09.00.00
    assert bench.most_sends(pace, at(7, 0), at(9, 0)) == 121
    assert bench.most_sends(pace, at(7, 0), at(8, 30)) == 120
    assert bench.most_sends(pace, at(0, 0), MIDNIGHT) == 401  # 400 in 24 h, + the end
    # the minimum gap of 8 s: at most 8 sends in one minute (0, 8, ..., 56 s)
    assert bench.most_sends(pace, at(7, 0), at(7, 1)) == 8
    assert bench.most_sends(Pace(max_per_hour=1000, gap_min_s=60), at(7, 0), at(8, 0)) == 61


def test_latest_versions_of_a_day() -> None:
    def row(i: int, slot: datetime, key: str | None, to: str = "g1") -> Row:
        return Row(id=i, type="progress_report", priority=20, recipient=to,
                   available_at=slot, collapse_key=key)

    rows = [row(1, at(15, 20), "p"), row(2, at(18, 20), "p"), row(3, at(18, 20), "p", "g2"),
            row(4, at(20, 20), "p"), row(5, at(15, 20) + timedelta(days=1), "p"),
            row(6, at(15, 20), None), row(7, at(16, 0), None)]
    assert [r.id for r in bench.latest_versions(rows)] == [3, 4, 5, 6, 7]


def test_the_floor_of_a_small_week() -> None:
    """Group g2 gets the daily text (500) and, on Monday, the weekly workbook (caption 64) at
    07.00: one send on Monday (the text as the workbook's caption: 500 + 2 + 64 <= 1.024),
    one on the other days. g1 gets three versions of the same-day recap (the last one
    counts) and p1 a complaint answer; g2 also the 10.00 task list, which may travel with the
    07.00 text only if that text waits past 09.00: it may not, so 2 sends for g2."""
    day = [
        trace_row(1, at(7, 0), "daily_report", "g2", "daily_report:2026-06-07:g2"),
        trace_row(2, at(7, 0), "weekly_report", "g2", "weekly_report:xlsx:g2", length=64,
                  att=True),
        trace_row(3, at(10, 0), "task_delivery_recap", "g2",
                  "task_delivery_recap:2026-06-08:BATU:1000:g2"),
        trace_row(4, at(15, 20), "progress_report", "g1",
                  "progress_report:2026-06-08T1520:daily:BATU:ig:g1"),
        trace_row(5, at(16, 5), "complaint_response", "p1", "complaint:1"),
        trace_row(6, at(18, 20), "progress_report", "g1",
                  "progress_report:2026-06-08T1820:daily:BATU:ig:g1"),
        trace_row(7, at(20, 20), "progress_report", "g1",
                  "progress_report:2026-06-08T2020:daily:BATU:ig:g1"),
    ]
    days = bench.floors(bench.week(bench.derive_new(day), 1, new=True))
    assert [d.day for d in days] == [at(0, 0) + timedelta(days=n) for n in range(7)]
    monday, tuesday = days[0], days[1]
    (window,) = monday.mornings
    assert (window.start, window.end) == (at(7, 0), NINE)
    assert (window.rows, window.recipients, window.sends, window.per_number) == (2, 1, 1, 121)
    assert (window.sends_whatsapp_limit, window.sends_no_text_bound, window.numbers) == (1, 1, 1)
    assert (monday.whole.rows, monday.whole.sends, monday.whole.per_number) == (5, 4, 401)
    (window,) = tuesday.mornings
    assert (window.rows, window.sends) == (1, 1)
    assert (tuesday.whole.rows, tuesday.whole.sends, tuesday.numbers) == (4, 4, 1)
    assert all(d.whole.rows == 4 for d in days[1:])
    table = bench.floor_table(days)
    assert "| Mon " in table and "| Tue-Sun " in table


def test_the_floor_is_a_lower_bound_and_proves_monday_needs_3_numbers() -> None:
    """On the captured day: the simulator's delivery (one order among all) never needs fewer
    sends than the floor, and Monday's 07.00 recaps need more sends than 2 numbers can make in
    [07.00, 09.00]."""
    rows = bench.week(bench.load(bench.NEW_TRACE), 1, new=True)
    days = bench.floors(rows)
    (monday,) = days[0].mornings
    assert monday.rows == 487 and monday.recipients == 133
    assert monday.sends_no_text_bound > 2 * monday.per_number  # whatever the text bound
    assert monday.numbers == monday.numbers_whatsapp_limit == 3
    assert all(d.mornings[0].numbers <= 2 for d in days[1:])
    out = simulate(bench.assign(rows, 4), [], start=bench.WEEK_START, gap="random", seed=7)
    for d in days:
        (window,) = d.mornings
        sends = {o.carried_by or o.row.id for o in out.values()
                 if o.status == "sent" and o.row.tag[0] == "07:00 recap"
                 and window.start <= o.row.available_at <= window.end}
        assert len(sends) >= window.sends
        day_sends = {o.carried_by or o.row.id for o in out.values() if o.status == "sent"
                     and d.day <= o.row.available_at < d.whole.end
                     and o.row.tag[1] <= d.whole.end}
        assert len(day_sends) >= d.whole.sends


# -- the operators' options --------------------------------------------------------------------

def test_reschedule_moves_and_drops_slots() -> None:
    day = [
        trace_row(1, at(6, 45), "username_recap", "g1", "username_recap:BATU:g1"),
        trace_row(2, at(7, 0), "weekly_report", "g1", "weekly_report:xlsx:g1", att=True),
        trace_row(3, at(10, 0), "task_delivery_recap", "g1", "task:g1"),
        trace_row(4, at(15, 20), "progress_report", "g1", "progress:1520:g1"),
        trace_row(5, at(20, 20), "progress_report", "g1", "progress:2020:g1"),
    ]
    moved = bench.reschedule(day, [("username_recap", "06:45", "10:00"),
                                   ("weekly_report", "07:00", "09:00"),
                                   ("progress_report", "15:20", None)])
    assert [(r.id, f"{r.slot:%H:%M}", r.type) for r in moved] == [
        (1, "09:00", "weekly_report"), (2, "10:00", "username_recap"),
        (3, "10:00", "task_delivery_recap"), (4, "20:20", "progress_report")]
    assert bench.reschedule(day, []) == day
    # a moved morning recap keeps the 07:00 recap's promise: 2 hours after its slot
    assert bench.kind("weekly_report", at(9, 0)) == "07:00 recap"
    assert bench.deadline("07:00 recap", "weekly_report", at(9, 0)) == at(11, 0)


def test_options_are_judged_against_today_on_the_same_schedule() -> None:
    """g1 gets the progress recap at 20.20 and the link recap at 21.05: today 2 sends a day
    (one per row), the new rules too (15 min apart). The link recap at 20.20 travels with the
    progress recap (1 send, 50 % fewer); switched off, 1 send against today's 1 (0 %)."""
    day = [trace_row(1, at(20, 20), "progress_report", "g1", "progress:2020:g1"),
           trace_row(2, at(21, 5), "link_report", "g1", "link:2105:g1")]
    options = [bench.Option("defaults", (), ()),
               bench.Option("link off", ("LINK_REPORT_CRON=off",),
                            (("link_report", "21:05", None),)),
               bench.Option("link 20.20", ("LINK_REPORT_CRON='20 20 * * *'",),
                            (("link_report", "21:05", "20:20"),)),
               bench.Option("progress 21.05", ("PROGRESS_REPORT_CRON='5 21 * * *'",),
                            (("progress_report", "20:20", "21:05"),))]
    results = [bench.evaluate(o, day, bench.derive_new(day), limit=3) for o in options]
    assert [(r.today_per_day, r.sends_per_day) for r in results] == [(2, 2), (1, 1), (2, 1),
                                                                     (2, 1)]
    assert [r.fewer for r in results] == [0, 0, 0.5, 0.5]
    assert [r.meets for r in results] == [False, False, True, True]
    assert all(r.needed == 1 and r.floor_numbers == 1 for r in results)
    best = bench.smallest(results)
    assert best is not None and best.option.label == "link 20.20"
    assert bench.smallest(results[:2]) is None
    table = bench.options_table(results)
    assert "LINK_REPORT_CRON='20 20 * * *'" in table and "50,0 %" in table
