"""Cron slots in Asia/Jakarta, settings parsing and the Indonesian formatting helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from outbox.errors import ConfigError
from producers import indonesian
from producers.config import TaskWindow, load_producer_settings
from producers.jobs import complaint_response, reports, task_delivery_recap
from producers.jobs.reports import previous_day, previous_month, previous_week
from producers.schedule import JAKARTA, Cron, cron_problem, parse_local

SPECS = [reports.DAILY, reports.WEEKLY, reports.MONTHLY, task_delivery_recap.JOB,
         complaint_response.JOB]
ENV = {"DATABASE_URL": "postgresql://u@localhost/db"}


def test_slots_are_jakarta_wall_times_from_the_cron() -> None:
    cron = Cron("0 7 * * *")
    after = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 06:00 WIB on the 23rd
    slots = list(cron.slots(after, after + timedelta(days=2)))
    assert slots == [datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA),
                     datetime(2026, 11, 24, 7, 0, tzinfo=JAKARTA)]
    assert all(s.tzinfo is JAKARTA for s in slots)
    assert slots[0].astimezone(UTC).hour == 0


def test_slot_interval_is_open_at_the_start_and_closed_at_the_end() -> None:
    cron = Cron("*/30 * * * *")
    start = datetime(2026, 11, 23, 8, 0, tzinfo=JAKARTA)
    assert list(cron.slots(start, start + timedelta(minutes=30))) == [
        start + timedelta(minutes=30)]
    assert cron.latest(start + timedelta(minutes=29, seconds=59)) == start
    assert cron.latest(start) == start
    assert cron.next_after(start) == start + timedelta(minutes=30)
    assert cron.is_slot(start) and not cron.is_slot(start + timedelta(minutes=1))


def test_weekly_and_monthly_crons() -> None:
    monday = Cron("0 7 * * 1").next_after(datetime(2026, 11, 24, tzinfo=JAKARTA))
    assert monday == datetime(2026, 11, 30, 7, 0, tzinfo=JAKARTA)
    first = Cron("0 7 1 * *").next_after(datetime(2026, 11, 24, tzinfo=JAKARTA))
    assert first == datetime(2026, 12, 1, 7, 0, tzinfo=JAKARTA)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Cron("0 7 * * *").next_after(datetime(2026, 11, 23))  # noqa: DTZ001


@pytest.mark.parametrize("expression", ["", "0 7 * *", "0 7 * * * *", "61 * * * *",
                                        "@reboot", "every day"])
def test_invalid_crons_are_refused(expression: str) -> None:
    assert cron_problem(expression) is not None
    with pytest.raises(ValueError, match=r"."):
        Cron(expression)


def test_parse_local_reads_jakarta_wall_time() -> None:
    assert parse_local("2026-11-23 07:00") == datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)
    assert parse_local("2026-11-23T00:00+00:00") == datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)


def test_report_periods_come_from_the_slot() -> None:
    assert previous_day(date(2026, 11, 23)).start == date(2026, 11, 22)
    week = previous_week(date(2026, 11, 23))  # a Monday
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert previous_week(date(2026, 11, 25)).start == date(2026, 11, 16)
    month = previous_month(date(2026, 12, 1))
    assert (month.start, month.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert previous_month(date(2026, 3, 1)).end == date(2026, 2, 28)


def test_default_settings() -> None:
    settings = load_producer_settings(SPECS, ENV)
    crons = {job.name: job.cron.expression for job in settings.jobs if job.cron}
    assert crons == {"daily_report": "0 7 * * *", "weekly_report": "0 7 * * 1",
                     "monthly_report": "0 7 1 * *", "task_delivery_recap": "*/30 * * * *",
                     "complaint_response": "*/5 * * * *"}
    assert settings.job("daily_report").grace == timedelta(hours=6)
    assert settings.task_window == TaskWindow(time(6, 0), time(17, 59), (time(17, 0),))
    assert settings.admin_whatsapp == ()


def test_overrides_switches_and_lists() -> None:
    env = {**ENV, "DAILY_REPORT_CRON": "30 6 * * *", "WEEKLY_REPORT_CRON": "OFF",
           "DAILY_REPORT_GRACE_MINUTES": "90", "ADMIN_WHATSAPP": "0812-3456-7890, 62811;x",
           "TASK_DELIVERY_WINDOW": "07:00-16:59", "TASK_DELIVERY_MANDATORY": "17:00,18.00"}
    settings = load_producer_settings(SPECS, env)
    daily = settings.job("daily_report")
    assert daily.cron == Cron("30 6 * * *") and daily.grace == timedelta(minutes=90)
    assert not settings.job("weekly_report").enabled
    assert settings.admin_whatsapp == ("0812-3456-7890", "62811", "x")
    window = settings.task_window
    assert window.hourly_due(time(7, 0)) and window.hourly_due(time(18, 0))
    assert not window.hourly_due(time(6, 0)) and not window.hourly_due(time(7, 30))


def test_every_problem_is_listed_with_the_job_name() -> None:
    env = {"DAILY_REPORT_CRON": "0 25 * * *", "COMPLAINT_RESPONSE_CRON": "*/5 * *",
           "TASK_DELIVERY_WINDOW": "18:00-06:00", "MONTHLY_REPORT_GRACE_MINUTES": "-1"}
    with pytest.raises(ConfigError) as info:
        load_producer_settings(SPECS, env)
    problems = info.value.problems
    assert any("DAILY_REPORT_CRON" in p and "daily_report" in p for p in problems)
    assert any("COMPLAINT_RESPONSE_CRON" in p and "complaint_response" in p for p in problems)
    assert any("TASK_DELIVERY_WINDOW" in p for p in problems)
    assert any("MONTHLY_REPORT_GRACE_MINUTES" in p for p in problems)
    assert any("DATABASE_URL" in p for p in problems)


def test_indonesian_formatting() -> None:
    moment = datetime(2026, 2, 17, 1, 30, tzinfo=UTC)
    assert indonesian.datetime_long(moment) == "Selasa, 17 Februari 2026 pukul 08.30 WIB"
    assert indonesian.time_hm(moment) == "08.30"
    assert indonesian.number(1234) == "1.234"
    assert indonesian.number(1234567) == "1.234.567"
    assert indonesian.number(12.5) == "12,5"
    assert indonesian.percent(1, 3) == "33,3%"
    assert indonesian.percent(0, 0) == "0%"
    assert indonesian.day_name(date(2026, 11, 22)) == "Minggu"
    assert indonesian.month_name(8) == "Agustus"
    assert indonesian.date_short(date(2026, 2, 7)) == "07/02/2026"
    assert indonesian.period_label(date(2026, 11, 16), date(2026, 11, 22)) == (
        "Senin, 16 November 2026 s.d. Minggu, 22 November 2026")
    assert indonesian.file_safe("POLRES BATU / Kota") == "POLRES_BATU_Kota"
