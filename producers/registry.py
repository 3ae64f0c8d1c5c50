"""Which jobs exist: the built-in report, task and complaint jobs, the other scheduled
messages (``OTHER_SCHEDULED``), plus the complaints package's ``complaint_intake``.

``base_specs()`` is what the settings are read for (names, cron variables, default crons and
graces). ``configured_specs(settings)`` rebuilds the specs whose behaviour depends on settings
(task window, complaint batch). ``complaint_intake`` is imported defensively from
``producers.complaints.intake`` (attribute ``JOB``): while that module is missing the scheduler
runs without it, and if it is broken the error is logged and the other jobs still run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import psycopg

from producers.config import ProducerSettings
from producers.job import JobSpec
from producers.jobs import (
    admin_digest,
    complaint_response,
    link_report,
    personal_reminder,
    reports,
    task_delivery_recap,
    username_recap,
)
from producers.scheduler import ScheduledJob

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]
Connector = Callable[[], Conn]

EXTERNAL = (("producers.complaints.intake", "JOB"),
            ("producers.ingestion.job", "JOB"),  # ingestion (issue 12): see configured_specs
            ("producers.jobs.capacity_check", "JOB"))  # issue 13: the queue's projection


def external_specs() -> list[JobSpec]:
    specs: list[JobSpec] = []
    for module_name, attribute in EXTERNAL:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                log.info("%s is not installed: its job is not scheduled", module_name)
            else:
                log.error("%s could not be imported: %s", module_name, exc)
            continue
        except Exception as exc:
            log.error("%s could not be imported: %s: %s", module_name, type(exc).__name__, exc)
            continue
        spec = getattr(module, attribute, None)
        if isinstance(spec, JobSpec):
            specs.append(spec)
        else:
            log.error("%s.%s is not a JobSpec: %r", module_name, attribute, spec)
    return specs


# The old services' other scheduled messages (docs/concepts/reports.md).
OTHER_SCHEDULED = (link_report.LINK_REPORT, link_report.AMPLIFY_DAILY,
                   link_report.AMPLIFY_MONTHLY, username_recap.JOB,
                   personal_reminder.JOB, admin_digest.ALERT_JOB, admin_digest.SUMMARY_JOB)


def base_specs() -> list[JobSpec]:
    # complaint_intake (external) runs before complaint_response at a shared moment, so a
    # complaint parsed at 09:05 is answered in the same 09:05 tick.
    return [reports.DAILY, reports.WEEKLY, reports.MONTHLY, reports.PROGRESS,
            reports.DITBINMAS_PROGRESS, reports.BIDHUMAS_PROGRESS, task_delivery_recap.JOB,
            *external_specs(), complaint_response.JOB, *OTHER_SCHEDULED]


def configured_specs(settings: ProducerSettings, specs: list[JobSpec]) -> list[JobSpec]:
    configured: list[JobSpec] = []
    for spec in specs:
        if spec.name == task_delivery_recap.NAME:
            spec = task_delivery_recap.make_job(window=settings.task_window)
        elif spec.name == complaint_response.NAME:
            spec = complaint_response.make_job(batch=settings.complaint_batch)
        elif spec.name == "ingestion":  # --- ingestion (issue 12): its own settings, own conns
            spec = importlib.import_module("producers.ingestion.job").make_job(
                settings.outbox.database_url)
        configured.append(spec)
    return configured


def scheduled(settings: ProducerSettings, specs: list[JobSpec]) -> list[ScheduledJob]:
    """The enabled jobs with their cron and grace (``<JOB>_CRON=off`` leaves a job out)."""
    jobs = []
    for spec in specs:
        job = settings.job(spec.name)
        if job.cron is None:
            log.info("job %s is switched off (%s=off)", spec.name, spec.cron_env)
            continue
        jobs.append(ScheduledJob(spec, job.cron, job.grace))
    return jobs
