"""Issue 14: the producers through a late or lost database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from outbox.exitcodes import ExitCode
from tests.dev import REPO_ROOT
from tests.gateway_helpers import throwaway_server, wait_for

OFF = {name: "off" for name in ("DAILY_REPORT_CRON", "WEEKLY_REPORT_CRON", "MONTHLY_REPORT_CRON",
                                "TASK_DELIVERY_RECAP_CRON", "COMPLAINT_INTAKE_CRON")}


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CRON")}
    env.update({"DATABASE_URL": db_url, **OFF, "LOG_LEVEL": "info", "PYTHONUNBUFFERED": "1"})
    return env


@pytest.mark.slow
def test_the_scheduler_waits_for_a_late_database_and_an_outage(tmp_path: Path) -> None:
    out = tmp_path / "producers.log"
    with throwaway_server() as server:
        server.stop()
        with out.open("wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "producers"], cwd=REPO_ROOT,
                                    env=_env(server.url), stdout=sink, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: "database unavailable" in out.read_text(), 30)
            time.sleep(2)
            assert proc.poll() is None, out.read_text()
            server.start()
            back = time.monotonic()
            assert wait_for(lambda: "database available again" in out.read_text(), 15)
            recovered = time.monotonic() - back
            assert wait_for(lambda: "scheduler running" in out.read_text(), 15), out.read_text()
            # while running: an outage, then the LISTEN connection comes back by itself
            server.stop()
            assert wait_for(lambda: out.read_text().count("database unavailable") == 2, 15)
            time.sleep(3)
            server.start()
            back = time.monotonic()
            assert wait_for(lambda: out.read_text().count("database available again") == 2,
                            15), out.read_text()
            recovered_again = time.monotonic() - back
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == ExitCode.OK
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = out.read_text()
    print(f"\nproducers: connected {recovered:.1f} s after a late database came up, back "
          f"{recovered_again:.1f} s after an outage")
    assert text.count("database unavailable") == 2, text  # once per outage, not per try
    assert "Traceback" not in text
    assert recovered < 5 and recovered_again < 5


def test_run_exits_3_with_one_line_when_the_database_goes_away(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) "
                 "VALUES ('081234567890', 'Terima kasih')")
    blocker = psycopg.connect(db_url)
    try:
        # the job's claim waits on this lock; meanwhile its connection is terminated
        blocker.execute("LOCK TABLE producer_run IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen([sys.executable, "-m", "producers", "run", "complaint_response",
                                 "--at", "2026-11-23 10:00"], cwd=REPO_ROOT, env=_env(db_url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cicero-producers' "
            "AND wait_event_type = 'Lock'").fetchone() == (1,), 30)
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'cicero-producers'")
        out, err = proc.communicate(timeout=30)
    finally:
        blocker.close()
    assert proc.returncode == ExitCode.DATABASE, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("producers: database unavailable: ")
    assert "Traceback" not in err
