"""Migrations: the baseline up from empty, down and up again, and an installed package.

The real Cicero variants, the skeleton tables and all-or-nothing failures are in
tests/test_real_databases.py; the catalog drift against the current-state files in
tests/test_schema_drift.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from outbox import migrate
from outbox.db import check_schema
from outbox.errors import SchemaNotReady
from tests.dev import REPO_ROOT
from views import adapter

OURS = {"wa_outbox", "wa_message_type", "wa_session", "wa_inbox", "complaint_queue",
        "producer_run", "cicero_bootstrap_table", "cicero_adapter", "task_recap_state",
        "ingestion_state", "report_routing"}


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def test_one_head_and_revision_ids_match_file_names() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert rev.path is not None
        assert rev.path.endswith(f"/{rev.revision}.py")
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+", rev.revision)
    assert migrate.head_revision() == script.get_current_head()


def test_up_from_empty_down_to_base_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    after_up = tables(empty_db_url)
    assert OURS | set(adapter.CICERO_TABLES) <= after_up
    with psycopg.connect(empty_db_url) as conn:
        created = {r[0] for r in conn.execute("SELECT table_name FROM cicero_bootstrap_table")}
        check_schema(conn)
    assert created == set(adapter.CICERO_TABLES)  # an empty database: the bootstrap made them
    migrate.downgrade(empty_db_url, "base")
    assert tables(empty_db_url) == {"alembic_version"}
    with psycopg.connect(empty_db_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'").fetchone()
    assert left == (0,), "a downgrade to base leaves no function of ours behind"
    migrate.upgrade(empty_db_url)
    assert tables(empty_db_url) == after_up


def test_the_schema_check_refuses_an_unmigrated_database(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url) as conn, pytest.raises(SchemaNotReady,
                                                               match="make migrate"):
        check_schema(conn)


def test_the_alembic_folder_has_no_init_file() -> None:
    # An alembic/__init__.py would shadow the installed alembic package.
    assert not (REPO_ROOT / "alembic" / "__init__.py").exists()


@pytest.mark.slow
def test_an_installed_package_migrates_outside_a_checkout(tmp_path: Path,
                                                          empty_db_url: str) -> None:
    """`wa-outbox migrate` from a wheel, run in a folder that is not the checkout."""
    dist = tmp_path / "dist"
    # Build from a copy: setuptools builds in the source tree and never cleans build/lib, so a
    # checkout's stale build/ (a deleted revision, say) would end up in the wheel.
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".pgdata", "build", "*.egg-info", "__pycache__", "demo-output", ".git"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", str(dist), str(source)],
        capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel, = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "outbox/migrations/env.py" in names
    assert "outbox/migrations/versions/0001_baseline.py" in names
    assert any(n.startswith("outbox/migrations/versions/sql/0001_baseline/views/") for n in names)
    assert "outbox/migrations/versions/sql/0002_task_recap_state/seed_from_outbox.sql" in names
    assert "outbox/schema/20_outbox.sql" in names and "views/daily_report_view.sql" in names
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": empty_db_url}
    probe = subprocess.run([sys.executable, "-c", "import outbox, views; "
                            "print(outbox.__file__); print(views.__file__)"],
                           cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(site)) for line in probe.stdout.split()), probe.stdout
    done = subprocess.run([sys.executable, "-m", "outbox", "migrate"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "database migrated to head" in done.stdout
    with psycopg.connect(empty_db_url) as conn:
        check_schema(conn)
