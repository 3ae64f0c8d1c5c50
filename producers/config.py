"""Producer settings from the environment (read once at start, frozen).

Per job (``<JOB>`` = the job name upper-cased, e.g. ``DAILY_REPORT``):

- ``<JOB>_CRON`` (the spec's ``cron_env``): a five-field cron in Asia/Jakarta, or ``off`` to
  switch the job off. An invalid value stops the process at start, naming the job.
- ``<JOB>_GRACE_MINUTES``: how late a missed slot may still run (on start or after a stall).

Global: ``ADMIN_WHATSAPP`` (a list split on ``,`` ``;`` or whitespace; kept as given, checked
when enqueued), the task-delivery notification window ``TASK_DELIVERY_WINDOW``
(``06:00-17:59``) and its mandatory slots ``TASK_DELIVERY_MANDATORY`` (``17:00``),
``COMPLAINT_RESPONSE_BATCH`` (50), ``PRODUCERS_MAX_SLEEP_SECONDS`` (60) and the outbox settings
(``DATABASE_URL``, ``LOG_LEVEL``, ``LOG_FORMAT``...). Every problem is collected and reported
together (:class:`outbox.errors.ConfigError`; the CLI exits with code 2).

``GATEWAY_WHATSAPP_ADMIN`` is not read here: it names admins who receive the gateway's alerts
(gateway/config.py). The gateway's own number, which the complaint intake ignores, comes from
the paired sessions (``wa_session.jid``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta

from outbox.config import EnvReader, OutboxSettings, outbox_settings, split_items
from producers.job import JobSpec
from producers.schedule import Cron, cron_problem
from views.adapter import NAIVE_TIME_ZONE_VARIABLE

OFF_VALUES = ("off",)
_HM = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


@dataclass(frozen=True)
class JobSettings:
    name: str
    cron: Cron | None  # None: switched off (``<JOB>_CRON=off``)
    grace: timedelta

    @property
    def enabled(self) -> bool:
        return self.cron is not None


@dataclass(frozen=True)
class TaskWindow:
    """Hourly "Daftar Tugas" slots are sent inside ``[start, end]``, plus the mandatory times."""

    start: time = time(6, 0)
    end: time = time(17, 59)
    mandatory: tuple[time, ...] = (time(17, 0),)

    def hourly_due(self, moment: time) -> bool:
        """Whether a slot at ``moment`` is an hourly (full list) slot."""
        if moment.replace(second=0, microsecond=0) in self.mandatory:
            return True
        return moment.minute == 0 and self.start <= moment <= self.end


@dataclass(frozen=True)
class ProducerSettings:
    outbox: OutboxSettings
    jobs: tuple[JobSettings, ...]
    admin_whatsapp: tuple[str, ...] = ()
    task_window: TaskWindow = field(default_factory=TaskWindow)
    complaint_batch: int = 50
    max_sleep: timedelta = timedelta(seconds=60)
    naive_time_zone: str | None = None  # CICERO_NAIVE_TIME_ZONE; None = as rendered

    def job(self, name: str) -> JobSettings:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)


def env_prefix(job_name: str) -> str:
    return job_name.upper()


def _parse_hm(text: str) -> time:
    match = _HM.match(text.strip())
    if not match:
        raise ValueError("use HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_window(text: str) -> tuple[time, time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError("use HH:MM-HH:MM")
    first, last = _parse_hm(start), _parse_hm(end)
    if last < first:
        raise ValueError("the end is before the start")
    return first, last


def _parse_times(text: str) -> tuple[time, ...]:
    if text.strip().lower() in OFF_VALUES:
        return ()
    return tuple(_parse_hm(part) for part in split_items(text))


def job_settings(reader: EnvReader, spec: JobSpec) -> JobSettings:
    prefix = env_prefix(spec.name)
    raw = reader.text(spec.cron_env, default=spec.default_cron)
    cron: Cron | None = None
    if raw.strip().lower() not in OFF_VALUES:
        problem = cron_problem(raw)
        if problem is None:
            cron = Cron(raw)
        else:
            reader.problem(f"{spec.cron_env}={raw!r} (job {spec.name}) is not a valid cron: "
                           f"{problem}; use five fields like '0 7 * * *', or 'off'")
    grace_minutes = reader.number(f"{prefix}_GRACE_MINUTES",
                                  default=spec.grace.total_seconds() / 60, minimum=0.0)
    return JobSettings(spec.name, cron, timedelta(minutes=grace_minutes))


def producer_settings(reader: EnvReader, specs: Sequence[JobSpec]) -> ProducerSettings:
    """Read every producer setting; problems are collected on ``reader``."""
    outbox = outbox_settings(reader)
    jobs = tuple(job_settings(reader, spec) for spec in specs)
    window = reader.parsed(("TASK_DELIVERY_WINDOW",), (time(6, 0), time(17, 59)), _parse_window,
                           "a window HH:MM-HH:MM")
    default_mandatory: tuple[time, ...] = (time(17, 0),)
    mandatory = reader.parsed(("TASK_DELIVERY_MANDATORY",), default_mandatory, _parse_times,
                              "a list of HH:MM (or off)")
    return ProducerSettings(
        outbox=outbox,
        jobs=jobs,
        admin_whatsapp=reader.items("ADMIN_WHATSAPP"),
        task_window=TaskWindow(window[0], window[1], mandatory),
        complaint_batch=reader.integer("COMPLAINT_RESPONSE_BATCH", default=50, minimum=1,
                                       maximum=10_000),
        max_sleep=reader.seconds("PRODUCERS_MAX_SLEEP_SECONDS", default=60.0, minimum=1.0),
        naive_time_zone=reader.optional_text(NAIVE_TIME_ZONE_VARIABLE),
    )


def load_producer_settings(specs: Sequence[JobSpec],
                           env: Mapping[str, str] | None = None) -> ProducerSettings:
    reader = EnvReader(env)
    settings = producer_settings(reader, specs)
    reader.finish()
    return settings
