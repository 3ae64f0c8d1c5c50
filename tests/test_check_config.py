"""``--check-config`` of the gateway and the producers, on a real PostgreSQL: every bad value
at once (list numbers judged by the database's rules, a lease shorter than a send, a missing
WA_AUTH_PATH, six-field crons, misspelt variables with a "did you mean", an unreachable or
unmigrated database), and no false alarm on a complete shared environment file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import cli as gateway_cli
from gateway.config import load_gateway_settings
from outbox.checks import names_read, shared_loaders, unknown_variables, variable_owner
from outbox.exitcodes import ExitCode
from producers import cli as producers_cli
from producers import registry
from producers.config import load_producer_settings
from producers.ingestion.settings import load_ingestion_settings
from tests.dev import REPO_ROOT
from tests.test_docs import documented, job_prefixes

DEAD_DB = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"


def gateway_env(db_url: str, **values: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "WA_TRANSPORT": "log", **values}


def producers_env(db_url: str, **values: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "RAPIDAPI_KEY": "k", **values}


def problems_of(err: str) -> list[str]:
    return [line[4:] for line in err.splitlines() if line.startswith("  - ")]


# --------------------------------------------------------------------------- gateway


def test_gateway_lists_every_problem_at_once(db_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    env = gateway_env(db_url, WA_TRANSPORT="neonize", OUTBOX_LEASE_SECONDS="30",
                      WA_AUTH_PATH=str(tmp_path / "missing"),
                      GATEWAY_WHATSAPP_ADMIN="0812-3456-7890, 12345",
                      ADMIN_WHATSAPP="budi;+62 813 1111 2222",
                      WA_GATEWAY_POLL_CRON="0 */2 * * * *", WA_SESION_NAME="polda",
                      OUTBOX_RETENSION_DAYS="7")
    assert gateway_cli.main(["--check-config"], env=env) == ExitCode.USAGE
    captured = capsys.readouterr()
    problems = problems_of(captured.err)
    assert captured.err.startswith(f"gateway: {len(problems)} problem(s)")
    expected = [
        r"^WA_GATEWAY_POLL_CRON='0 \*/2 \* \* \* \*' is not a valid cron: expected 5 fields",
        r"^OUTBOX_LEASE_SECONDS=30 is shorter than a send may take: WA_SEND_TIMEOUT_SECONDS "
        r"\(90\) \+ 10 s to settle; use at least 100",
        r"^OUTBOX_RETENSION_DAYS is not a variable .*; did you mean OUTBOX_RETENTION_DAYS\?$",
        r"^WA_SESION_NAME is not a variable .*; did you mean WA_SESSION_NAME\?$",
        r"^WA_AUTH_PATH='.*/missing': the folder does not exist",
        r"^GATEWAY_WHATSAPP_ADMIN: '12345' is not a valid number",
        r"^ADMIN_WHATSAPP: 'budi' is not a valid number",
    ]
    for pattern in expected:
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)
    assert len(problems) == len(expected), problems  # the good numbers pass
    assert captured.out == ""


def test_gateway_passes_a_good_environment(db_url: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    auth = tmp_path / "auth"
    auth.mkdir()
    env = gateway_env(db_url, WA_TRANSPORT="neonize", WA_AUTH_PATH=str(auth),
                      ADMIN_WHATSAPP="0812-3456-7890", OUTBOX_LEASE_SECONDS="100",
                      # the other programs' variables in the same file are no concern of its
                      DAILY_REPORT_CRON="0 7 * * *", RAPIDAPI_KEY="k", INGESTION_FOO="1",
                      PRODUCERS_NONSENSE="1", OUTBOX_WEB_TOKEN="x" * 20)
    assert gateway_cli.main(["--check-config"], env=env) == ExitCode.OK, capsys.readouterr()
    out = capsys.readouterr().out
    assert "session main, transport neonize" in out and "lease 100 s" in out
    assert out.rstrip().endswith("gateway: configuration ok, database reachable and migrated")


def test_gateway_a_file_where_the_auth_folder_should_be(db_url: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = tmp_path / "auth"
    path.write_text("")
    env = gateway_env(db_url, WA_AUTH_PATH=str(path))
    assert gateway_cli.main(["--check-config"], env=env) == ExitCode.USAGE
    assert problems_of(capsys.readouterr().err) == [f"WA_AUTH_PATH='{path}' is not a folder"]


def test_an_unreachable_database_exits_3_with_the_reason(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert gateway_cli.main(["--check-config"], env=gateway_env(DEAD_DB)) == ExitCode.DATABASE
    problems = problems_of(capsys.readouterr().err)
    assert len(problems) == 1
    assert problems[0].startswith("the database cannot be reached: ")
    assert "Connection refused" in problems[0] or "port 1" in problems[0]


def test_a_database_not_migrated_exits_3(empty_db_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    env = gateway_env(empty_db_url, ADMIN_WHATSAPP="0812-3456-7890")
    assert gateway_cli.main(["--check-config"], env=env) == ExitCode.DATABASE
    text = " ".join(problems_of(capsys.readouterr().err))
    assert "no alembic_version table: run `make migrate` first" in text
    assert "not migrated" in text


def test_config_problems_and_a_dead_database_together_exit_2(
    capsys: pytest.CaptureFixture[str]
) -> None:
    env = gateway_env(DEAD_DB, WA_MAX_PER_HOUR="many", ADMIN_WHATSAPP="0812-3456-7890")
    assert gateway_cli.main(["--check-config"], env=env) == ExitCode.USAGE
    problems = problems_of(capsys.readouterr().err)
    assert problems[0].startswith("WA_MAX_PER_HOUR='many' is not a whole number")
    assert problems[1].startswith("the database cannot be reached")
    assert problems[2] == ("ADMIN_WHATSAPP: the numbers were not checked (they are checked by "
                           "the database's rules)")


# --------------------------------------------------------------------------- producers


def test_producers_list_every_problem_at_once(db_url: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    env = producers_env(db_url, WEEKLY_REPORT_CRON="0 0 7 * * 1", DAILY_REPROT_CRON="0 6 * * *",
                        PRODUCERS_MAX_SLEEP="30", ADMIN_WHATSAPP="0812-3456-7890,0812",
                        INGESTION_CLIENT_CONCURENCY="4", RAPIDAPI_RETRIES="lots",
                        WA_SESION_NAME="not the producers' business")
    assert producers_cli.main(["--check-config"], env=env) == ExitCode.USAGE
    problems = problems_of(capsys.readouterr().err)
    expected = [
        r"^WEEKLY_REPORT_CRON='0 0 7 \* \* 1' \(job weekly_report\) is not a valid cron: "
        r"expected 5 fields",
        r"^RAPIDAPI_RETRIES='lots' is not a whole number",
        r"^DAILY_REPROT_CRON is not a variable .*; did you mean DAILY_REPORT_CRON\?$",
        r"^INGESTION_CLIENT_CONCURENCY is not .*; did you mean INGESTION_CLIENT_CONCURRENCY\?$",
        r"^PRODUCERS_MAX_SLEEP is not .*; did you mean PRODUCERS_MAX_SLEEP_SECONDS\?$",
        r"^ADMIN_WHATSAPP: '0812' is not a valid number",
    ]
    for pattern in expected:
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)
    assert len(problems) == len(expected), problems


def test_producers_pass_a_good_environment_and_print_the_jobs(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = producers_env(db_url, DAILY_REPORT_CRON="30 6 * * *", ADMIN_WHATSAPP="0812-3456-7890",
                        WA_GATEWAY_POLL_CRON="*/5 * * * *", GATEWAY_WHATSAPP_ADMIN="x")
    assert producers_cli.main(["--check-config"], env=env) == ExitCode.OK, capsys.readouterr()
    out = capsys.readouterr().out
    assert re.search(r"^daily_report +30 6 \* \* \* +grace 360 min$", out, re.M)
    assert "producers: configuration ok" in out


def test_producers_need_a_key_for_an_enabled_ingestion(db_url: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    env = {"DATABASE_URL": db_url}
    assert producers_cli.main(["--check-config"], env=env) == ExitCode.USAGE
    assert problems_of(capsys.readouterr().err) == [
        "RAPIDAPI_KEY is not set but the ingestion job is on: set the key, or "
        "INGESTION_CRON=off"]
    assert producers_cli.main(["--check-config"], env={**env, "INGESTION_CRON": "off"}) == 0


# --------------------------------------------------------------------------- known variables


def test_every_documented_variable_is_known_to_the_program_that_owns_it() -> None:
    """A complete environment file (every variable of docs/operations/configuration.md set)
    raises no 'unknown variable' in either program: the known names come from the loaders,
    the same ones tests/test_docs.py holds the page to."""
    documented_names, _ = documented(job_prefixes())
    env = dict.fromkeys(documented_names, "1")
    specs = registry.base_specs()
    gateway_known = names_read([*shared_loaders(), lambda e: load_gateway_settings(e)], env)
    producers_known = names_read([*shared_loaders(),
                                  lambda e: load_producer_settings(specs, env=e),
                                  load_ingestion_settings], env)
    assert unknown_variables(env, gateway_known, ["gateway"]) == []
    assert unknown_variables(env, producers_known, ["producers"]) == []
    ours = {name for name in documented_names if variable_owner(name)}
    assert {"WA_SESSION_NAME", "DAILY_REPORT_CRON", "OUTBOX_LEASE_SECONDS",
            "CICERO_NAIVE_TIME_ZONE", "INGESTION_RUN_BUDGET_MINUTES"} <= ours
    # each of our documented variables is known to the program that judges it
    for name in ours:
        owner = variable_owner(name)
        known = gateway_known if owner == "gateway" else producers_known
        assert name in known or (owner == "outbox" and name in gateway_known), name


def test_the_status_page_variables_are_known_to_both() -> None:
    env = {"OUTBOX_WEB_TOKEN": "x" * 20, "OUTBOX_WEB_PORT": "8080", "OUTBOX_WEB_PROT": "1"}
    known = names_read(shared_loaders(), env)
    assert unknown_variables(env, known, ["gateway"]) == [
        "OUTBOX_WEB_PROT is not a variable this program knows; did you mean OUTBOX_WEB_PORT?"]


# --------------------------------------------------------------------------- as scripts


def clean_environ(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if variable_owner(k) is None and k not in ("DATABASE_URL", "DB_HOST", "DB_NAME",
                                                      "ADMIN_WHATSAPP", "LOG_FORMAT")}
    env.update(values)
    return env


def test_the_gateway_script_checks_and_exits_2(db_url: str) -> None:
    env = clean_environ(DATABASE_URL=db_url, WA_TRANSPORT="log", WA_PACNIG="off")
    proc = subprocess.run([sys.executable, "-m", "gateway", "--check-config"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    assert "WA_PACNIG is not a variable this program knows; did you mean WA_PACING?" in (
        proc.stderr)


def test_a_start_up_error_is_logged_like_every_line(tmp_path: Path) -> None:
    """Not --check-config: a normal start with a bad value stops with one log record on stderr,
    stamped in Jakarta with its offset, in LOG_FORMAT."""
    env = clean_environ(DATABASE_URL=DEAD_DB, WEEKLY_REPORT_CRON="0 7 * * 8")
    proc = subprocess.run([sys.executable, "-m", "producers", "--once"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == ExitCode.USAGE
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+07:00 ERROR   producers: invalid "
                    r"configuration \(1 problem\(s\)\):\n  - WEEKLY_REPORT_CRON", proc.stderr)
    proc = subprocess.run([sys.executable, "-m", "gateway", "--once"], cwd=REPO_ROOT,
                          env={**env, "LOG_FORMAT": "json", "WA_TRANSPORT": "log"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == ExitCode.DATABASE
    import json

    record = json.loads(proc.stderr.strip().splitlines()[-1])
    assert record["level"] == "error" and record["logger"] == "gateway"
    assert record["ts"].endswith("+07:00")
    assert "cannot connect to the database" in record["msg"]
