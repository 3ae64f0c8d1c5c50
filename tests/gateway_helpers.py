"""Helpers for the gateway tests: environments, subprocess gateways, in-process gateways."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.config import load_gateway_settings
from gateway.service import Gateway
from tests.dev import REPO_ROOT


def gateway_env(db_url: str, jsonl: Path | None, **overrides: str) -> dict[str, str]:
    """A clean environment for a gateway: jsonl transport, pacing off, the test database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OUTBOX_", "GATEWAY_", "WA_", "ADMIN_"))}
    env.update({
        "DATABASE_URL": db_url,
        "WA_TRANSPORT": f"jsonl:{jsonl}" if jsonl else "log",
        "WA_PACING": "off",
        "WA_SESSION_NAME": "main",
        "LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


def start_gateway(env: dict[str, str], *args: str, log_dir: Path) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"gateway-{time.time_ns()}.log").open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway", *args], env=env,
                                cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)


def run_once(env: dict[str, str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "--once"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a jsonl transport's file. A test polling it while a gateway writes
    may catch the last line half written (one write(2) per line, but a reader can see part of
    it): a line without its newline yet is left for the next read."""
    if not path.exists():
        return []
    *complete, _partial = path.read_text().split("\n")
    return [json.loads(line) for line in complete if line.strip()]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def settings_for(db_url: str, jsonl: Path | None, **overrides: str) -> Any:
    env = gateway_env(db_url, jsonl, **overrides)
    return load_gateway_settings(env, worker_id="test-worker")


@contextmanager
def gateway_thread(settings: Any, *, once: bool = False) -> Iterator[Gateway]:
    """Run a gateway in a thread of this process; stop it (and check it ended) on exit."""
    gateway = Gateway(settings, once=once)
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", gateway.run()),
                              name="test-gateway", daemon=True)
    thread.start()
    assert gateway.started.wait(15), "the gateway did not start"
    try:
        yield gateway
    finally:
        gateway.request_stop("test finished")
        thread.join(10)
        assert not thread.is_alive(), "the gateway did not stop"
        assert result.get("code") == 0


class ThrowawayServer:
    """A PostgreSQL server of the test's own (never the shared test server), which the test may
    stop and start: pgserver's binaries, a fixed TCP port on 127.0.0.1 so the URL outlives a
    restart, run as pgserver's system user when the tests run as root."""

    def __init__(self) -> None:
        import shutil
        import socket
        import tempfile

        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.prefix: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="wa-throwaway-pg-"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            from pgserver.utils import ensure_user_exists

            ensure_user_exists("pgserver")
            self.prefix = ["runuser", "-u", "pgserver", "--"]
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "pgserver")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.data}'\nfsync = off\n"
                       "full_page_writes = off\n")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.prefix, str(self.bin / tool), *args], capture_output=True,
                              text=True, check=False, timeout=60)
        assert done.returncode == 0, f"{tool} {args}: {done.stderr or done.stdout}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.dir / "server.log"),
                  "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        import shutil

        if self.running():
            subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                            "immediate", "stop"], capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def throwaway_server(*, migrated: bool = True) -> Iterator[ThrowawayServer]:
    """A started throwaway server (migrated to head unless ``migrated=False``)."""
    from outbox import migrate

    server = ThrowawayServer()
    try:
        server.start()
        if migrated:
            migrate.upgrade(server.url)
        yield server
    finally:
        server.close()
