"""A PostgreSQL for development, tests, the demo and the benchmark: never for production.

Order of preference:

1. the URL in the given environment variable (``TEST_DATABASE_URL`` for tests, ``DATABASE_URL``
   for the demo), used as is;
2. an embedded server from the ``pgserver`` wheel, data under ``.pgdata/<name>`` in the repo;
3. ``initdb``/``pg_ctl`` found on PATH, data under ``.pgdata/<name>-pgctl``, on a free port;
4. a testcontainers PostgreSQL, when a Docker engine answers.

The embedded servers are shared between processes (pgserver counts its users) and stop when the
last process that started them exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import subprocess
import time
from typing import Any

from tests.dev import REPO_ROOT

log = logging.getLogger(__name__)

PGDATA_ROOT = REPO_ROOT / ".pgdata"
_handles: list[Any] = []  # keep embedded servers referenced for the life of the process


class NoDatabase(RuntimeError):
    """No PostgreSQL could be found or started."""


def _tune_for_tests(url: str) -> None:
    """Durability off: a throw-away test cluster does not need fsync."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")


def _pgserver(name: str) -> str:
    import pgserver

    PGDATA_ROOT.mkdir(exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]
       PGDATA_ROOT / name, cleanup_mode="stop")
    _handles.append(server)
    return str(server.get_uri("postgres"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_ctl_prefix() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise NoDatabase("running as root and runuser is missing")
    if subprocess.run(["id", "postgres"], capture_output=True, check=False).returncode != 0:
        raise NoDatabase("running as root and there is no postgres user to run the server")
    return ["runuser", "-u", "postgres", "--"]


def _run(tool: str, cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise NoDatabase(f"{tool} failed: " + " / ".join(detail))


def _pg_ctl(name: str) -> str:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        raise NoDatabase("initdb/pg_ctl not on PATH")
    data = PGDATA_ROOT / f"{name}-pgctl"
    prefix = _pg_ctl_prefix()
    PGDATA_ROOT.mkdir(exist_ok=True)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if prefix:
            shutil.chown(data, "postgres")
        _run("initdb", [*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8"])
    port = _free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data}"
    _run("pg_ctl start", [*prefix, pg_ctl, "-D", str(data), "-w",
                          "-l", str(data / "server.log"), "-o", options, "start"])
    atexit.register(stop_pg_ctl, name)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def stop_pg_ctl(name: str) -> None:
    """Stop a server started by the initdb/pg_ctl fallback (registered at exit too)."""
    pg_ctl = shutil.which("pg_ctl")
    data = PGDATA_ROOT / f"{name}-pgctl"
    if pg_ctl and (data / "postmaster.pid").exists():
        subprocess.run([*_pg_ctl_prefix(), pg_ctl, "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True, check=False)


def _testcontainers() -> str:
    if shutil.which("docker") is None:
        raise NoDatabase("no docker client")
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    if probe.returncode != 0:
        raise NoDatabase("no Docker engine answers")
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    atexit.register(container.stop)
    _handles.append(container)
    return str(container.get_connection_url())


def server_url(name: str = "dev", *, env_var: str | None = "DATABASE_URL",
               tune_for_tests: bool = False) -> str:
    """A URL of a running PostgreSQL (its maintenance database ``postgres`` when embedded)."""
    if env_var and os.environ.get(env_var, "").strip():
        return os.environ[env_var].strip()
    errors: list[str] = []
    for starter in (_pgserver, _pg_ctl):
        try:
            url = starter(name)
        except Exception as exc:
            errors.append(f"{starter.__name__.lstrip('_')}: {exc}")
            continue
        if tune_for_tests:
            _tune_for_tests(url)
        return url
    try:
        return _testcontainers()
    except Exception as exc:
        errors.append(f"testcontainers: {exc}")
    raise NoDatabase("no PostgreSQL available:\n  " + "\n  ".join(errors))


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (query parameters kept)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


def create_database(server: str, dbname: str, *, template: str | None = None,
                    drop_first: bool = False) -> str:
    """Create ``dbname`` on the server (optionally from a template) and return its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname))
        if template:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(dbname), sql.Identifier(template))
        for attempt in range(20):
            try:
                conn.execute(stmt)
                break
            except psycopg.errors.ObjectInUse:  # template briefly in use by another cloner
                if attempt == 19:
                    raise
                time.sleep(0.1 * (attempt + 1))
    return with_database(server, dbname)


def drop_database(server: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(dbname)))


def database_exists(server: str, dbname: str) -> bool:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None
