"""``python -m producers``: the report scheduler and its operator commands.

- ``python -m producers`` (``make run-producers``): run the scheduler in the foreground until
  SIGTERM/SIGINT; missed slots inside their grace window run at start.
- ``python -m producers --once``: run whatever is due now (catch-up included), then exit.
- ``python -m producers run JOB [--at "YYYY-MM-DD HH:MM"]``: run one job for one slot by hand
  (backfill; Jakarta time; default: the job's latest slot). A slot already done is not run
  again; a failed or skipped one is.
- ``python -m producers jobs``: the jobs, their crons, grace, last and next slots.
- ``python -m producers --check-config``: every problem of the environment at once (values,
  crons, unknown variables, admin numbers, the database and its Cicero adapter), or the jobs.

Exit codes (:class:`outbox.exitcodes.ExitCode`): 0 done; 1 nothing done (slot already done)
or the job failed; 2 bad usage or configuration (every problem listed); 3 database unavailable
or not migrated (``--check-config``: only the database failed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime

import psycopg

from outbox.checks import check_environment, print_report
from outbox.config import EnvReader, database_url
from outbox.db import check_adapter, check_schema
from outbox.errors import ConfigError, DatabaseUnavailable, SchemaNotReady
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag, stop_on_signals
from outbox.logs import configure_logging, log_startup_error
from producers import registry
from producers.config import ProducerSettings, load_producer_settings, producer_settings
from producers.ingestion.settings import ingestion_settings, load_ingestion_settings
from producers.job import JobSpec
from producers.runner import last_slots, run_slot
from producers.schedule import jakarta, parse_local
from producers.scheduler import (
    Clock,
    Scheduler,
    connect_producer,
    system_clock,
    wait_for_database,
)

log = logging.getLogger("producers")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m producers",
        description="Cicero report producers: cron slots -> wa_outbox (exactly once per slot).")
    parser.add_argument("--once", action="store_true",
                        help="run whatever is due now (including catch-up), then exit")
    parser.add_argument("--check-config", action="store_true",
                        help="check the environment (values, crons, unknown variables, admin "
                             "numbers, RapidAPI key, the database and its Cicero adapter), "
                             "print every problem or the jobs, then exit")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run one job for one slot by hand (backfill)")
    run.add_argument("job", help="the job name, e.g. daily_report")
    run.add_argument("--at", type=_slot_arg, default=None, metavar='"YYYY-MM-DD HH:MM"',
                     help="the slot, Asia/Jakarta time (default: the job's latest slot)")
    sub.add_parser("jobs", help="list the jobs with their crons, last and next slots")
    return parser


def _slot_arg(text: str) -> datetime:
    try:
        value = parse_local(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like \"2026-11-23 07:00\" ({exc})") from exc
    return value.replace(second=0, microsecond=0)


def load(env: Mapping[str, str] | None = None) -> tuple[ProducerSettings, list[JobSpec]]:
    specs = registry.base_specs()
    reader = EnvReader(env)
    settings = producer_settings(reader, specs)
    reader.finish()
    return settings, registry.configured_specs(settings, specs)


def check_config(env: Mapping[str, str]) -> int:
    """``--check-config``: the values (every job's cron, the ingestion settings), unknown
    variables, the admin numbers, the RapidAPI key of an enabled ingestion, the database and its
    Cicero adapter; every problem at once (exit 2; 3 when only the database fails)."""
    specs = registry.base_specs()
    reader = EnvReader(env)
    settings = producer_settings(reader, specs)
    ingestion = ingestion_settings(reader)
    problems = list(reader.problems)
    if any(job.name == "ingestion" and job.enabled for job in settings.jobs) and not ingestion.key:
        problems.append("RAPIDAPI_KEY is not set but the ingestion job is on: set the key, or "
                        "INGESTION_CRON=off")
    probe = EnvReader(env)
    url = database_url(probe)
    usable = bool(url) and not probe.problems
    report = check_environment(
        "producers", env, problems=problems,
        loaders=[lambda e: load_producer_settings(specs, env=e), load_ingestion_settings],
        database_url=url if usable else None,
        phone_lists={"ADMIN_WHATSAPP": settings.admin_whatsapp})
    if usable and not report.database:
        try:
            with connect_producer(url) as conn:
                check_adapter(conn, settings.naive_time_zone)
        except (DatabaseUnavailable, SchemaNotReady) as exc:
            report.database.append(str(exc))
    enabled = [job for job in settings.jobs if job.enabled]
    summary = [f"{job.name:26} {job.cron.expression if job.cron else 'off':20} "
               f"grace {job.grace.total_seconds() / 60:g} min" for job in settings.jobs]
    summary.append(f"{len(enabled)} of {len(settings.jobs)} jobs on, admins "
                   f"{len(settings.admin_whatsapp)}")
    return print_report("producers", report, summary, out=print,
                        err=lambda line: print(line, file=sys.stderr))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         clock: Clock = system_clock) -> int:
    args = build_parser().parse_args(argv)
    environ: Mapping[str, str] = os.environ if env is None else env
    if args.check_config:
        return check_config(environ)
    try:
        settings, specs = load(env)
    except ConfigError as exc:
        log_startup_error("producers", str(exc), environ)
        return ExitCode.USAGE
    configure_logging(settings.outbox.log_level, settings.outbox.log_format)
    try:
        return _dispatch(args, settings, specs, clock)
    except (DatabaseUnavailable, SchemaNotReady) as exc:
        log_startup_error("producers", str(exc), environ)
        return ExitCode.DATABASE
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # lost mid-run: one line
        print("producers: database unavailable: " + " ".join(str(exc).split()), file=sys.stderr)
        return ExitCode.DATABASE


def _dispatch(args: argparse.Namespace, settings: ProducerSettings, specs: list[JobSpec],
              clock: Clock) -> int:
    url = settings.outbox.database_url

    def connector() -> registry.Conn:
        return connect_producer(url)

    def check(conn: registry.Conn) -> None:
        check_schema(conn)
        check_adapter(conn, settings.naive_time_zone)

    if args.command is None and not args.once:  # the scheduler waits for a late database
        with stop_on_signals(StopFlag()) as stop:
            if not wait_for_database(connector, check, stop):
                return ExitCode.OK
    else:
        with connector() as conn:
            check(conn)
    jobs = registry.scheduled(settings, specs)
    if args.command == "run":
        return _run_one(args, settings, specs, connector, clock)
    if args.command == "jobs":
        return _list_jobs(settings, specs, connector, clock)
    scheduler = Scheduler(connector, jobs, clock=clock, admin_whatsapp=settings.admin_whatsapp)
    if args.once:
        outcomes = scheduler.start()
        scheduler.close()
        failed = [o for o in outcomes if o.status == "failed"]
        print(f"producers --once: {len(outcomes)} slot(s) due, "
              f"{sum(o.status == 'done' for o in outcomes)} done, "
              f"{sum(o.status == 'taken' for o in outcomes)} already taken, {len(failed)} failed")
        return ExitCode.NOTHING if failed else ExitCode.OK
    with stop_on_signals(StopFlag()) as stop:
        scheduler.run_forever(stop, listen_connector=lambda: connect_producer(
            url, "cicero-producers-listen"), max_sleep=settings.max_sleep)
    return ExitCode.OK


def _run_one(args: argparse.Namespace, settings: ProducerSettings, specs: list[JobSpec],
             connector: registry.Connector, clock: Clock) -> int:
    by_name = {spec.name: spec for spec in specs}
    spec = by_name.get(args.job)
    if spec is None:
        print(f"producers: unknown job {args.job!r}; jobs: {', '.join(sorted(by_name))}",
              file=sys.stderr)
        return ExitCode.USAGE
    cron = settings.job(spec.name).cron
    now = jakarta(clock())
    slot: datetime | None = args.at
    if slot is None:
        if cron is None:
            print(f"producers: {spec.name} is switched off; give the slot with --at",
                  file=sys.stderr)
            return ExitCode.USAGE
        slot = cron.latest(now)
    elif cron is not None and not cron.is_slot(slot):
        log.warning("%s is not a slot of %s's cron '%s'; running it anyway", slot.isoformat(),
                    spec.name, cron.expression)
    with connector() as conn:
        outcome = run_slot(conn, spec, slot, now=now, admin_whatsapp=settings.admin_whatsapp,
                           trigger="manual", rerun_failed=True)
    if outcome.status == "taken":
        print(f"{spec.name} {slot.isoformat()}: already done (nothing run)")
        return ExitCode.NOTHING
    if outcome.status == "failed":
        print(f"{spec.name} {slot.isoformat()}: failed: {outcome.error}", file=sys.stderr)
        return ExitCode.NOTHING
    result = outcome.result
    assert result is not None
    print(f"{spec.name} {slot.isoformat()}: done, enqueued={result.enqueued} "
          f"duplicates={result.duplicates} skipped={result.skipped}"
          + (f" ({result.detail})" if result.detail else ""))
    return ExitCode.OK


def _list_jobs(settings: ProducerSettings, specs: list[JobSpec], connector: registry.Connector,
               clock: Clock) -> int:
    now = jakarta(clock())
    with connector() as conn:
        last = last_slots(conn, [spec.name for spec in specs])
    for spec in specs:
        job = settings.job(spec.name)
        cron = job.cron.expression if job.cron else "off"
        nxt = job.cron.next_after(now).isoformat() if job.cron else "-"
        previous = last[spec.name].isoformat() if spec.name in last else "-"
        wake = f" wake={spec.wake_channel}" if spec.wake_channel else ""
        print(f"{spec.name:22} {cron:16} grace={job.grace} last={previous} next={nxt}{wake}")
    return ExitCode.OK
