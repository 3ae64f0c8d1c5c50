"""``python -m producers``: configuration errors, backfill (``run JOB --at``) and ``--once``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from typing import Any

import psycopg
import pytest

from outbox.exitcodes import ExitCode
from producers import cli
from producers.schedule import JAKARTA
from tests.dev import REPO_ROOT

OFF = {name: "off" for name in ("DAILY_REPORT_CRON", "WEEKLY_REPORT_CRON", "MONTHLY_REPORT_CRON",
                                "TASK_DELIVERY_RECAP_CRON", "COMPLAINT_INTAKE_CRON",
                                "ADMIN_ALERT_CRON", "CAPACITY_CHECK_CRON")}


@pytest.fixture(autouse=True)
def _keep_pytest_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "configure_logging", lambda *a, **k: None)


def test_an_invalid_cron_stops_the_process_at_start_with_the_job_name() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CRON")}
    env.update({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                "WEEKLY_REPORT_CRON": "0 7 * * 8", "TASK_DELIVERY_WINDOW": "late"})
    proc = subprocess.run([sys.executable, "-m", "producers", "--once"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "WEEKLY_REPORT_CRON" in proc.stderr and "weekly_report" in proc.stderr
    assert "TASK_DELIVERY_WINDOW" in proc.stderr


def test_unknown_job_is_a_usage_error(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "nightly"], env={"DATABASE_URL": db_url}) == ExitCode.USAGE
    assert "unknown job 'nightly'" in capsys.readouterr().err


def test_backfill_runs_one_slot_once(db_url: str, conn: psycopg.Connection[Any],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) "
                 "VALUES ('081234567890', 'Terima kasih')")
    env = {"DATABASE_URL": db_url, **OFF}
    args = ["run", "complaint_response", "--at", "2026-11-23 09:05"]
    assert cli.main(args, env=env) == ExitCode.OK
    assert "enqueued=1" in capsys.readouterr().out
    assert cli.main(args, env=env) == ExitCode.NOTHING
    assert "already done" in capsys.readouterr().out
    row = conn.execute("SELECT slot, status FROM producer_run WHERE job = 'complaint_response'"
                       ).fetchone()
    assert row == (datetime(2026, 11, 23, 9, 5, tzinfo=JAKARTA), "done")


def test_once_runs_what_is_due_and_exits(db_url: str, conn: psycopg.Connection[Any],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    env = {"DATABASE_URL": db_url, **OFF}
    now = datetime(2026, 11, 23, 9, 7, tzinfo=JAKARTA)
    assert cli.main(["--once"], env=env, clock=lambda: now) == ExitCode.OK
    assert "1 slot(s) due, 1 done" in capsys.readouterr().out
    assert cli.main(["--once"], env=env, clock=lambda: now) == ExitCode.OK
    assert "0 slot(s) due" in capsys.readouterr().out
    assert conn.execute("SELECT job, slot FROM producer_run").fetchall() == [
        ("complaint_response", datetime(2026, 11, 23, 9, 5, tzinfo=JAKARTA))]
    assert cli.main(["jobs"], env=env, clock=lambda: now) == ExitCode.OK
    listing = capsys.readouterr().out
    assert "complaint_response" in listing and "daily_report" in listing and " off " in listing


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CRON")}
    env.update({"DATABASE_URL": db_url, **OFF, "LOG_LEVEL": "info"})
    return env


def test_two_processes_backfilling_the_same_slot_enqueue_once(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) "
                 "VALUES ('081234567890', 'Terima kasih')")
    args = [sys.executable, "-m", "producers", "run", "complaint_response", "--at",
            "2026-11-23 10:00"]
    procs = [subprocess.Popen(args, cwd=REPO_ROOT, env=_env(db_url), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 1], outputs
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (1,)


def test_the_scheduler_process_stops_cleanly_on_sigterm(db_url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "producers"], cwd=REPO_ROOT,
                            env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # wait until it runs
        lines.append(line)
        if "scheduler running" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, "".join(lines) + out
    assert "complaint_response='*/5 * * * *'" in "".join(lines)
    assert "scheduler stopped (SIGTERM)" in out


def test_the_intake_job_is_imported_defensively(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    from producers import registry

    names = [spec.name for spec in registry.base_specs()]
    assert names.index("complaint_intake") < names.index("complaint_response")
    monkeypatch.setattr(registry, "EXTERNAL", (("producers.complaints.no_such_module", "JOB"),
                                               ("producers.schedule", "JOB"),
                                               ("tests.test_producers_cli", "OFF")))
    with caplog.at_level("INFO"):
        names = [spec.name for spec in registry.base_specs()]
    assert names == ["daily_report", "weekly_report", "monthly_report", "progress_report",
                     "ditbinmas_progress_report", "bidhumas_progress_report",
                     "task_delivery_recap", "complaint_response",
                     *(spec.name for spec in registry.OTHER_SCHEDULED)]
    text = caplog.text
    assert "no_such_module is not installed" in text
    assert "tests.test_producers_cli.OFF is not a JobSpec" in text
