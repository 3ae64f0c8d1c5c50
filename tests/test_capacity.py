"""The pacing simulator of outbox/capacity.py against hand-computed schedules: the gap, the
per-recipient FIFO and gap, priorities, the hourly and daily budgets read from the history,
supersede and expiry (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from outbox.capacity import Outcome, Pace, Row, Session, percentile, simulate

T0 = datetime(2026, 6, 8, 0, 0, tzinfo=UTC)  # 07.00 WIB
# no budget reserve here: it is tested on its own (test_the_reserve_*)
PACE = Pace(max_per_hour=60, max_per_day=400, gap_min_s=10, gap_max_s=10, recipient_gap_s=60,
            reserve_per_hour=0, reserve_per_day=0)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def offsets(out: dict[int, Outcome], ids: list[int]) -> list[float | None]:
    return [None if out[i].at is None else (out[i].at - T0).total_seconds()  # type: ignore[operator]
            for i in ids]


def test_five_rows_one_recipient_twice() -> None:
    """Gap 10 s; a's second row waits for its FIFO turn and the 60 s recipient gap."""
    rows = [Row(i, "text", 0, r, T0) for i, r in [(1, "a"), (2, "a"), (3, "b"), (4, "c"),
                                                  (5, "d")]]
    out = simulate(rows, [Session("main", PACE)], start=T0)
    assert offsets(out, [1, 2, 3, 4, 5]) == [0, 60, 10, 20, 30]
    assert {o.status for o in out.values()} == {"sent"}


def test_priority_first_then_id_but_fifo_within_a_recipient() -> None:
    rows = [Row(1, "task_delivery_recap", 0, "a", T0),
            Row(2, "complaint_response", 30, "a", T0),  # behind row 1 (same recipient)
            Row(3, "daily_report", 10, "b", T0),
            Row(4, "complaint_response", 30, "c", T0)]
    out = simulate(rows, [Session("main", PACE)], start=T0)
    # 4 (30) at 0, 3 (10) at 10, 1 (0: the head of a) at 20, 2 after a's gap: 80
    assert offsets(out, [4, 3, 1, 2]) == [0, 10, 20, 80]


def test_hourly_budget_counts_the_history() -> None:
    """60/h: 58 sends in the last hour leave 2; the third waits until the oldest of the last
    60 is an hour old."""
    history = [s(-3000 + 50 * i) for i in range(58)]  # -3000 .. -150 s
    rows = [Row(i, "text", 0, f"r{i}", T0) for i in range(1, 5)]
    out = simulate(rows, [Session("main", PACE, history)], start=T0)
    # last send at -150 s: gap over; row 1 at 0, row 2 at 10; then 60 in the hour: the
    # oldest of the last 60 (-3000 s) frees a slot at +600 s, the next one (-2950) at +650
    assert offsets(out, [1, 2, 3, 4]) == [0, 10, 600, 650]


def test_daily_budget_rolls_over_24_hours() -> None:
    pace = Pace(max_per_hour=1000, max_per_day=3, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=0)
    history = [T0 - timedelta(hours=23), T0 - timedelta(hours=2)]
    rows = [Row(1, "text", 0, "a", T0), Row(2, "text", 0, "b", T0), Row(3, "text", 0, "c", T0)]
    out = simulate(rows, [Session("main", pace, history)], start=T0)
    # one left today; then the -23 h send frees one at +1 h, the -2 h one at +22 h
    assert offsets(out, [1, 2, 3]) == [0, 3600, 22 * 3600]


def test_recipient_gap_from_an_earlier_send_and_later_arrivals() -> None:
    session = Session("main", PACE, [s(-30)], {"a": s(-30)})
    rows = [Row(1, "text", 0, "a", T0), Row(2, "text", 0, "b", s(100))]
    out = simulate(rows, [session], start=T0)
    assert offsets(out, [1, 2]) == [30, 100]  # a free at +30 s; b arrives at +100 s


def test_supersede_and_expiry_counted() -> None:
    """Rows 1 and 2 (priority 10) take the two sends of a 2/h budget; row 3 (priority 0)
    expires at 30 min, waiting; row 4 is superseded by row 5 (same collapse key and recipient)
    5 s after it was queued; row 6 (same key, another recipient) is not superseded."""
    pace = Pace(max_per_hour=2, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=60)
    rows = [Row(1, "daily_report", 10, "a", T0), Row(2, "daily_report", 10, "b", T0),
            Row(3, "progress_report", 0, "c", s(1), expires_at=s(1800)),
            Row(4, "task_delivery_recap", 0, "x", T0, collapse_key="k"),
            Row(5, "task_delivery_recap", 0, "x", s(5), collapse_key="k"),
            Row(6, "task_delivery_recap", 0, "y", s(6), collapse_key="k")]
    out = simulate(rows, [Session("main", pace)], start=T0)
    assert {i: out[i].status for i in out} == {
        1: "sent", 2: "sent", 3: "expired", 4: "superseded", 5: "sent", 6: "sent"}
    assert out[4].superseded_by == 5 and out[4].at == s(5)
    assert out[3].at == s(1800)
    # 1 at 0, 2 at 10 (priority 10 first); the budget frees at 3600 and 3610: row 5 (the
    # lower id), then row 6
    assert offsets(out, [1, 2, 5, 6]) == [0, 10, 3600, 3610]


def test_a_superseded_head_frees_its_recipient_and_expiry_needs_a_horizon() -> None:
    rows = [Row(1, "progress_report", 20, "a", T0, collapse_key="p", expires_at=s(7200)),
            Row(2, "progress_report", 20, "a", T0, collapse_key="p", inserted_at=T0),
            Row(3, "text", 0, "b", T0, expires_at=s(5))]
    pace = Pace(max_per_hour=60, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=60)
    busy = Session("main", pace, [s(-1)])  # the gap after a send 1 s ago: ready at +9 s
    out = simulate(rows, [busy], start=T0)
    assert out[1].status == "superseded" and out[1].superseded_by == 2
    assert out[2].status == "sent" and out[2].at == s(9)
    assert out[3].status == "expired" and out[3].at == s(5)


def test_a_retry_holds_its_recipient_back_but_a_scheduled_row_does_not() -> None:
    rows = [Row(1, "text", 0, "a", s(300), attempts=1, inserted_at=T0),
            Row(2, "text", 0, "a", T0),
            Row(3, "text", 0, "b", s(300), inserted_at=T0),
            Row(4, "text", 0, "b", T0)]
    out = simulate(rows, [Session("main", PACE)], start=T0)
    assert offsets(out, [4, 1, 3, 2]) == [0, 300, 310, 360]


def test_horizon_leaves_rows_pending_and_pacing_off_sends_at_once() -> None:
    rows = [Row(i, "text", 0, f"r{i}", T0) for i in range(1, 4)]
    slow = Pace(max_per_hour=1, max_per_day=10, gap_min_s=10, gap_max_s=10, reserve_per_day=0)
    out = simulate(rows, [Session("main", slow)], start=T0, until=s(3600))
    assert [out[i].status for i in (1, 2, 3)] == ["sent", "sent", "pending"]
    fast = simulate(rows, [Session("main", Pace(enabled=False))], start=T0)
    assert offsets(fast, [1, 2, 3]) == [0, 0, 0]


def test_random_gaps_are_seeded_and_within_bounds() -> None:
    rows = [Row(i, "text", 0, f"r{i}", T0) for i in range(1, 30)]
    pace = Pace(gap_min_s=8, gap_max_s=25, recipient_gap_s=60)
    one = simulate(rows, [Session("main", pace)], start=T0, gap="random", seed=3)
    two = simulate(rows, [Session("main", pace)], start=T0, gap="random", seed=3)
    times = sorted(o.at for o in one.values() if o.at is not None)
    assert times == sorted(o.at for o in two.values() if o.at is not None)
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert all(8 <= g <= 25 for g in gaps) and len(set(gaps)) > 5


def test_percentile_nearest_rank() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95


def test_coalescing_counts_sends_not_rows() -> None:
    """A recipient's consecutive due texts ride in one send (the gateway's claim_followers);
    a document ends the run, a text too long to fit starts its own send, and only sends take
    the gap and the budget."""
    rows = [Row(1, "text", 0, "a", T0, chars=10), Row(2, "text", 0, "a", T0, chars=10),
            Row(3, "text", 0, "a", T0, chars=10),
            Row(4, "weekly_report", 0, "a", T0, chars=10, document=True),
            Row(5, "text", 0, "a", T0, chars=59_000), Row(6, "text", 0, "a", T0, chars=1_000),
            Row(7, "text", 0, "b", T0, chars=10)]
    pace = Pace(max_per_hour=60, max_per_day=400, gap_min_s=10, gap_max_s=10,
                recipient_gap_s=0)
    out = simulate(rows, [Session("main", pace)], start=T0)
    # row 1 carries 2 and 3; the document; row 5 (59.000 + 2 + 1.000 > 60.000) alone, then 6
    assert offsets(out, [1, 2, 3, 4, 5, 6, 7]) == [0, 0, 0, 10, 20, 30, 40]
    assert [out[i].carried_by for i in (1, 2, 3, 4, 5, 6, 7)] == [None, 1, 1, None, None, None,
                                                                   None]
    assert sum(o.is_send for o in out.values()) == 5
    # without coalescing (today's gateway) every row is a send
    plain = simulate(rows, [Session("main", Pace(60, 400, 10, 10, 0, coalesce=False))],
                     start=T0)
    assert sum(o.is_send for o in plain.values()) == 7
