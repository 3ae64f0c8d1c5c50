"""The operator CLI and the environment configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from outbox import cli, engine
from outbox.config import EnvReader, load_outbox_settings
from outbox.errors import ConfigError
from outbox.exitcodes import ExitCode
from tests.dev import REPO_ROOT

Conn = psycopg.Connection[Any]


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_send_test_enqueues_and_status_shows_it(env: str, conn: Conn,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["send-test", "0812-3456-7890", "Tes gateway"]) == ExitCode.OK
    assert "enqueued message" in capsys.readouterr().out
    assert conn.execute("SELECT recipient, type FROM wa_outbox").fetchone() == (
        "6281234567890@s.whatsapp.net", "text")
    assert cli.main(["status"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "main" in out and "pending" in out and " 1 " in out


def test_send_test_to_a_bad_number_exits_2_with_the_reason(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["send-test", "budi", "x"]) == ExitCode.USAGE
    assert "'budi' is not a phone number or group id" in capsys.readouterr().err


def test_retry_cancel_and_purge(env: str, conn: Conn,
                                capsys: pytest.CaptureFixture[str]) -> None:
    ids = [r.id for r in engine.enqueue_many(conn, [
        engine.NewMessage("081211111111", "a"), engine.NewMessage("081222222222", "b")])]
    msgs = engine.claim(conn, session="main", worker="w", limit=5, lease=timedelta(minutes=1))
    for m in msgs:
        engine.mark_failed(conn, m, "invalid JID")
    assert cli.main(["retry", str(ids[0])]) == ExitCode.OK
    assert cli.main(["retry", str(ids[0])]) == ExitCode.NOTHING
    assert "is pending, not failed" in capsys.readouterr().out
    assert cli.main(["retry", "--failed"]) == ExitCode.OK
    assert cli.main(["retry", "--failed"]) == ExitCode.NOTHING
    assert cli.main(["cancel", str(ids[1])]) == ExitCode.OK
    assert cli.main(["cancel", "999999"]) == ExitCode.NOTHING
    assert "no wa_outbox row with id 999999" in capsys.readouterr().err
    conn.execute("UPDATE wa_outbox SET finished_at = now() - interval '3 days' "
                 "WHERE status = 'cancelled'")
    assert cli.main(["purge", "--older-than", "2d", "--yes"]) == ExitCode.OK
    assert "purged 1 finished message(s)" in capsys.readouterr().out
    assert conn.execute("SELECT count(*) FROM wa_outbox").fetchone() == (1,)


def test_a_bad_duration_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["purge", "--older-than", "soon"])
    assert caught.value.code == 2


def test_the_cli_reports_a_dead_database_with_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert cli.main(["status"]) == ExitCode.DATABASE
    assert "cannot connect to the database" in capsys.readouterr().err


def test_the_cli_as_a_script_lists_every_config_problem() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DB_HOST")}
    env.update({"OUTBOX_RETENTION_DAYS": "zero"})
    proc = subprocess.run([sys.executable, "-m", "outbox", "status"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "DATABASE_URL is not set" in proc.stderr
    assert "OUTBOX_RETENTION_DAYS='zero' is not a whole number" in proc.stderr


def test_every_config_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_outbox_settings({
            "DATABASE_URL": "host=db dbname=cicero",
            "OUTBOX_LEASE_SECONDS": "1",
            "OUTBOX_RETRY_BASE_SECONDS": "abc",
            "OUTBOX_EXPIRED_LEASE_POLICY": "maybe",
            "LOG_LEVEL": "loud",
        })
    problems = caught.value.problems
    assert len(problems) == 5
    text = str(caught.value)
    for part in ("DATABASE_URL must be a postgresql:// URL", "OUTBOX_LEASE_SECONDS='1'",
                 "OUTBOX_RETRY_BASE_SECONDS='abc'", "OUTBOX_EXPIRED_LEASE_POLICY='maybe'",
                 "LOG_LEVEL='loud'"):
        assert part in text


def test_defaults_and_the_old_db_variables() -> None:
    settings = load_outbox_settings({"DB_HOST": "db.local", "DB_NAME": "cicero",
                                     "DB_USER": "cicero", "DB_PASS": "p@ss word"})
    assert settings.database_url == "postgresql://cicero:p%40ss%20word@db.local:5432/cicero"
    assert settings.lease == timedelta(seconds=120)
    assert settings.expired_lease_policy == "resend"
    assert settings.retention_days == 30


def test_env_reader_parses_flags_choices_and_bounds() -> None:
    reader = EnvReader({"A": "yes", "B": "off", "C": "7", "D": "x", "E": "150"})
    assert reader.flag("A", default=False) is True
    assert reader.flag("B", default=True) is False
    assert reader.flag("MISSING", default=True) is True
    assert reader.integer("C", default=0, maximum=10) == 7
    assert reader.integer("E", default=1, maximum=100) == 1
    assert reader.flag("D", default=False) is False
    assert reader.problems == ["E='150' is not a whole number (must be <= 100)",
                               "D='x' is not a boolean (use true/false)"]


def test_list_variables_split_on_commas_semicolons_and_new_lines_only() -> None:
    reader = EnvReader({"ADMIN_WHATSAPP": "+62 812-3456-7890, 0813 1111 2222;6281399998888\n"})
    assert reader.items("ADMIN_WHATSAPP") == (
        "+62 812-3456-7890", "0813 1111 2222", "6281399998888")
    assert reader.items("UNSET") == ()
