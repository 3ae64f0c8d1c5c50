"""The scheduler machinery on a real PostgreSQL, with a test-only job and an injected clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from outbox.engine import NewMessage, enqueue_many
from outbox.lifecycle import StopFlag
from producers.job import JobContext, JobResult, JobSpec
from producers.runner import run_slot
from producers.schedule import JAKARTA, Cron
from producers.scheduler import ScheduledJob, Scheduler, connect_producer

MONDAY = datetime(2026, 11, 16, 0, 0, tzinfo=JAKARTA)


def counting_job(name: str, *, keyed: bool = False, fail_at: set[datetime] | None = None,
                 wake_channel: str | None = None,
                 seen: list[JobContext] | None = None) -> JobSpec:
    """Enqueues one text message per run (no dedupe key unless ``keyed``)."""

    def run(ctx: JobContext) -> JobResult:
        if seen is not None:
            seen.append(ctx)
        key = f"{name}:{ctx.slot.isoformat()}" if keyed else None
        result = enqueue_many(ctx.conn, [NewMessage("081234567890", f"{name} {ctx.slot}",
                                                    dedupe_key=key)])
        if fail_at and ctx.slot in fail_at:
            raise RuntimeError(f"boom at {ctx.slot:%H:%M}")
        return JobResult(enqueued=sum(r.inserted for r in result))

    return JobSpec(name=name, default_cron="* * * * *", cron_env="X_CRON", run=run,
                   wake_channel=wake_channel)


def scheduled(spec: JobSpec, cron: str, grace: timedelta = timedelta(hours=1)) -> ScheduledJob:
    return ScheduledJob(spec, Cron(cron), grace)


def make_scheduler(db_url: str, jobs: list[ScheduledJob], **kw: Any) -> Scheduler:
    return Scheduler(lambda: connect_producer(db_url), jobs, **kw)


def messages(conn: psycopg.Connection[Any], like: str) -> list[str]:
    rows = conn.execute("SELECT content FROM wa_outbox WHERE content LIKE %s ORDER BY id",
                        (like,)).fetchall()
    return [r[0] for r in rows]


def runs(conn: psycopg.Connection[Any], job: str) -> list[tuple[datetime, str]]:
    rows = conn.execute("SELECT slot, status FROM producer_run WHERE job = %s ORDER BY slot",
                        (job,)).fetchall()
    return [(r[0].astimezone(JAKARTA), r[1]) for r in rows]


def timeline(crons: list[str], start: datetime, end: datetime) -> list[datetime]:
    moments: set[datetime] = set()
    for cron in crons:
        moments.update(Cron(cron).slots(start, end))
    return sorted(moments)


def test_two_schedulers_racing_over_a_simulated_week_enqueue_each_slot_once(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    crons = {"race_daily": "0 7 * * *", "race_quarter": "*/15 * * * *"}
    start, end = MONDAY, MONDAY + timedelta(days=7)
    moments = timeline(list(crons.values()), start, end)
    barrier = threading.Barrier(2)
    outcomes: dict[int, list[str]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def drive(index: int) -> None:
        jobs = [scheduled(counting_job(name), cron) for name, cron in crons.items()]
        scheduler = make_scheduler(db_url, jobs)
        try:
            outcomes[index].extend(o.status for o in scheduler.start(start))
            for moment in moments:
                barrier.wait(timeout=30)  # both processes hit every slot together
                outcomes[index].extend(o.status for o in scheduler.tick(moment))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            scheduler.close()

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    # the first start also runs the latest slot (00:00, inside its grace), then the week
    quarter_slots = list(Cron(crons["race_quarter"]).slots(start - timedelta(seconds=1), end))
    daily_slots = list(Cron(crons["race_daily"]).slots(start, end))
    assert len(quarter_slots) == 7 * 96 + 1 and len(daily_slots) == 7
    # each slot's (unkeyed) message exists exactly once, and each slot is one done run
    assert len(messages(conn, "race_quarter %")) == len(quarter_slots)
    assert len(messages(conn, "race_daily %")) == len(daily_slots)
    assert runs(conn, "race_quarter") == [(s, "done") for s in quarter_slots]
    assert runs(conn, "race_daily") == [(s, "done") for s in daily_slots]
    statuses = outcomes[0] + outcomes[1]
    assert statuses.count("done") == len(quarter_slots) + len(daily_slots)
    assert statuses.count("taken") == len(quarter_slots) + len(daily_slots)


def test_restart_mid_slot_does_not_run_the_slot_again(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    now = MONDAY + timedelta(hours=7, minutes=3)
    first = make_scheduler(db_url, [scheduled(counting_job("restart"), "0 7 * * *")])
    assert [o.status for o in first.start(now)] == ["done"]
    first.close()
    second = make_scheduler(db_url, [scheduled(counting_job("restart"), "0 7 * * *")])
    assert second.start(now + timedelta(minutes=1)) == []
    second.close()
    assert len(messages(conn, "restart %")) == 1


def test_a_slot_held_by_another_transaction_is_taken_once(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    """The loser blocks on the slot's primary key until the winner commits, then runs nothing."""
    slot = MONDAY + timedelta(hours=7)
    spec = counting_job("held")
    winner = connect_producer(db_url)
    loser = connect_producer(db_url)
    results: dict[str, str] = {}
    entered = threading.Event()
    release = threading.Event()

    def slow(ctx: JobContext) -> JobResult:
        entered.set()
        release.wait(timeout=30)
        return spec.run(ctx)

    slow_spec = JobSpec("held", "0 7 * * *", "X_CRON", slow)
    thread = threading.Thread(target=lambda: results.__setitem__(
        "winner", run_slot(winner, slow_spec, slot, now=slot).status))
    thread.start()
    assert entered.wait(timeout=30)
    other = threading.Thread(target=lambda: results.__setitem__(
        "loser", run_slot(loser, spec, slot, now=slot).status))
    other.start()
    other.join(timeout=0.5)
    assert other.is_alive()  # waiting on the winner's uncommitted producer_run row
    release.set()
    thread.join(timeout=30)
    other.join(timeout=30)
    winner.close()
    loser.close()
    assert results == {"winner": "done", "loser": "taken"}
    assert len(messages(conn, "held %")) == 1


def test_catch_up_runs_the_slot_inside_grace_and_skips_older_ones(
        db_url: str, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    cron = "0 7 * * *"
    # ran on Monday, then down until Wednesday 08:00 (grace 6 h)
    sched = make_scheduler(db_url, [scheduled(counting_job("catch"), cron, timedelta(hours=6))])
    sched.start(MONDAY + timedelta(hours=7, minutes=1))
    sched.close()
    with caplog.at_level(logging.WARNING):
        later = make_scheduler(db_url, [scheduled(counting_job("catch"), cron,
                                                  timedelta(hours=6))])
        outcomes = later.start(MONDAY + timedelta(days=2, hours=8))
        later.close()
    assert [(o.slot, o.status) for o in outcomes] == [
        (MONDAY + timedelta(days=2, hours=7), "done")]
    assert runs(conn, "catch") == [(MONDAY + timedelta(hours=7), "done"),
                                   (MONDAY + timedelta(days=1, hours=7), "skipped"),
                                   (MONDAY + timedelta(days=2, hours=7), "done")]
    assert any("catch" in r.getMessage() and "skipped 1 missed slot" in r.getMessage()
               for r in caplog.records)
    assert len(messages(conn, "catch %")) == 2
    # started too late: Thursday 14:00 is 7 h after the 07:00 slot
    again = make_scheduler(db_url, [scheduled(counting_job("catch"), cron, timedelta(hours=6))])
    assert again.start(MONDAY + timedelta(days=3, hours=14)) == []
    assert runs(conn, "catch")[-1] == (MONDAY + timedelta(days=3, hours=7), "skipped")
    # and the following slot runs normally
    assert [o.status for o in again.tick(MONDAY + timedelta(days=4, hours=7))] == ["done"]
    again.close()


def test_first_start_runs_only_the_latest_slot_inside_grace(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    jobs = [scheduled(counting_job("fresh_in"), "0 7 * * *", timedelta(hours=2)),
            scheduled(counting_job("fresh_out"), "0 5 * * *", timedelta(hours=2))]
    sched = make_scheduler(db_url, jobs)
    outcomes = sched.start(MONDAY + timedelta(hours=8))
    sched.close()
    assert [(o.job, o.status) for o in outcomes] == [("fresh_in", "done")]
    assert runs(conn, "fresh_out") == []


def test_after_downtime_only_the_newest_slot_inside_grace_runs(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    """A per-minute job down for 40 minutes (grace 2 h) runs once, not 40 times."""
    job = scheduled(counting_job("minutely"), "* * * * *", timedelta(hours=2))
    sched = make_scheduler(db_url, [job])
    assert [o.status for o in sched.start(MONDAY + timedelta(hours=9))] == ["done"]
    sched.close()
    later = make_scheduler(db_url, [job])
    outcomes = later.start(MONDAY + timedelta(hours=9, minutes=40, seconds=20))
    later.close()
    assert [(o.slot, o.status) for o in outcomes] == [
        (MONDAY + timedelta(hours=9, minutes=40), "done")]
    assert runs(conn, "minutely") == [(MONDAY + timedelta(hours=9), "done"),
                                      (MONDAY + timedelta(hours=9, minutes=39), "skipped"),
                                      (MONDAY + timedelta(hours=9, minutes=40), "done")]
    detail = conn.execute("SELECT detail FROM producer_run WHERE status = 'skipped'").fetchone()
    assert detail is not None and detail[0].startswith("39 missed slot(s)")


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(
        db_url: str, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    bad_slot = MONDAY + timedelta(hours=7)
    jobs = [scheduled(counting_job("flaky", fail_at={bad_slot}), "0 7 * * *"),
            scheduled(counting_job("steady"), "0 7 * * *")]
    sched = make_scheduler(db_url, jobs)
    sched.start(MONDAY)
    with caplog.at_level(logging.ERROR):
        outcomes = sched.tick(bad_slot)
    assert [(o.job, o.status) for o in outcomes] == [("flaky", "failed"), ("steady", "done")]
    assert any("flaky" in r.getMessage() and "boom at 07:00" in r.getMessage()
               for r in caplog.records)
    # the failed slot's messages were rolled back; the failure is on record
    assert messages(conn, "flaky %") == []
    row = conn.execute("SELECT status, detail FROM producer_run WHERE job = 'flaky'").fetchone()
    assert row is not None and row[0] == "failed" and "boom" in row[1]
    # not retried at the next tick, retried at the next slot
    assert sched.tick(bad_slot + timedelta(minutes=30)) == []
    assert [o.status for o in sched.tick(bad_slot + timedelta(days=1))] == ["done", "done"]
    sched.close()
    assert len(messages(conn, "flaky %")) == 1


def test_dedupe_keys_are_the_second_guard(db_url: str, conn: psycopg.Connection[Any]) -> None:
    slot = MONDAY + timedelta(hours=7)
    spec = counting_job("keyed", keyed=True)
    with connect_producer(db_url) as c:
        assert run_slot(c, spec, slot, now=slot).status == "done"
        conn.execute("DELETE FROM producer_run")  # the ledger lost, the outbox still knows
        outcome = run_slot(c, spec, slot, now=slot)
    assert outcome.status == "done" and outcome.result == JobResult(enqueued=0)
    assert len(messages(conn, "keyed %")) == 1


def test_backfill_reruns_a_failed_slot_but_never_a_done_one(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    slot = MONDAY + timedelta(hours=7)
    with connect_producer(db_url) as c:
        assert run_slot(c, counting_job("bf", fail_at={slot}), slot, now=slot).status == "failed"
        # the scheduler does not take a failed slot again...
        assert run_slot(c, counting_job("bf"), slot, now=slot).status == "taken"
        # ...a manual backfill does, once
        manual = run_slot(c, counting_job("bf"), slot, now=slot, trigger="manual",
                          rerun_failed=True)
        assert manual.status == "done"
        assert run_slot(c, counting_job("bf"), slot, now=slot, trigger="manual",
                        rerun_failed=True).status == "taken"
    assert runs(conn, "bf") == [(slot, "done")]
    assert len(messages(conn, "bf %")) == 1


def _wait_for(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    flag = threading.Event()
    deadline = seconds
    while deadline > 0:
        if predicate():
            return True
        flag.wait(0.05)
        deadline -= 0.05
    return predicate()


def test_notify_on_the_wake_channel_runs_the_job_out_of_slot(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    seen: list[JobContext] = []
    job = scheduled(counting_job("woken", wake_channel="wa_inbox", seen=seen), "0 0 1 1 *")
    sched = make_scheduler(db_url, [job])
    stop = StopFlag()
    thread = threading.Thread(target=sched.run_forever, args=(stop,), kwargs={
        "listen_connector": lambda: connect_producer(db_url, "test-listen"),
        "max_sleep": timedelta(seconds=1)})
    thread.start()
    try:
        assert _wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test-listen'"
        ).fetchone() == (1,))
        conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text) "
                     "VALUES ('6281@s.whatsapp.net', '6281@s.whatsapp.net', 'm1', 'hi')")
        assert _wait_for(lambda: len(seen) >= 1)
    finally:
        stop.set("test over")
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert seen[0].trigger == "notify"
    assert runs(conn, "woken") == []  # out-of-slot runs leave no producer_run row
    assert len(messages(conn, "woken %")) == len(seen)


def test_a_producer_killed_mid_slot_leaves_nothing_and_the_restart_runs_it_once(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    slot = MONDAY + timedelta(hours=7)
    entered, release = threading.Event(), threading.Event()
    inner = counting_job("killed")

    def stuck(ctx: JobContext) -> JobResult:
        result = inner.run(ctx)  # the message is inserted, not committed
        entered.set()
        release.wait(timeout=30)
        return result

    victim = make_scheduler(db_url, [scheduled(JobSpec("killed", "0 7 * * *", "X_CRON", stuck),
                                               "0 7 * * *")])
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            victim.start(slot + timedelta(minutes=1))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=drive)
    thread.start()
    assert entered.wait(timeout=30)
    killed = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'cicero-producers' AND datname = "
                          "current_database()").fetchall()
    assert killed == [(True,)]
    release.set()
    thread.join(timeout=30)
    assert errors and isinstance(errors[0], psycopg.OperationalError)
    victim.close()
    assert messages(conn, "killed %") == [] and runs(conn, "killed") == []
    restarted = make_scheduler(db_url, [scheduled(counting_job("killed"), "0 7 * * *")])
    assert [o.status for o in restarted.start(slot + timedelta(minutes=2))] == ["done"]
    restarted.close()
    assert len(messages(conn, "killed %")) == 1
