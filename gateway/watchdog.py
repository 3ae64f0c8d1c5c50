"""The gateway's watchdog and its heartbeat, two daemon threads independent of the send loop.

* :class:`Heartbeat` writes ``wa_session.heartbeat_at`` every ``WA_HEARTBEAT_SECONDS`` on a
  connection of its own, fenced by the session lock (a process that lost the lock never beats).
  It is what other gateways (the fenced takeover, ``WA_TAKEOVER_SECONDS``) and the status page
  read. A frozen process (SIGSTOP, a stuck interpreter) stops beating; a hung send loop does not
  stop it, the watchdog ends that process instead.
* :class:`Watchdog` ends the process (``os._exit``, exit code 6 ``HUNG``) when a send has not
  returned after ``WA_SEND_TIMEOUT_SECONDS`` or the loop made no progress for
  ``WA_WATCHDOG_SECONDS``: a thread stuck in Go cannot be cancelled, so the process goes and the
  supervisor starts a new one, whose first act is to give back the rows this one left
  ``sending`` (the one in flight as "delivery unknown").
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from gateway import db
from outbox.db import connect, is_connection_error
from outbox.exitcodes import ExitCode

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, *, stall: float, send_timeout: float,
                 on_fire: Callable[[int], None] | None = None, tick: float = 0.25) -> None:
        self.stall = stall
        self.send_timeout = send_timeout
        self.tick = min(tick, stall / 4, send_timeout / 4)
        self._on_fire = on_fire or _exit
        self._progress = time.monotonic()
        self._send_started: float | None = None
        self._send_what = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wa-watchdog-loop", daemon=True)
        self.fired: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def progress(self) -> None:
        """The loop made a turn (or is waiting for the database, which is not a hang)."""
        self._progress = time.monotonic()

    def send_started(self, what: str) -> None:
        self._send_what = what
        self._send_started = time.monotonic()
        self._progress = self._send_started

    def send_ended(self) -> None:
        self._send_started = None
        self._progress = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            started = self._send_started
            if started is not None and now - started > self.send_timeout:
                self._fire(f"the send of {self._send_what} has not returned after "
                           f"{now - started:.0f} s (WA_SEND_TIMEOUT_SECONDS="
                           f"{self.send_timeout:g})")
                return
            if started is None and now - self._progress > self.stall:
                self._fire(f"the send loop made no progress for {now - self._progress:.0f} s "
                           f"(WA_WATCHDOG_SECONDS={self.stall:g})")
                return

    def _fire(self, why: str) -> None:
        self.fired = why
        log.critical("watchdog: %s; ending the process (exit %d) so that the supervisor "
                     "starts a new one", why, ExitCode.HUNG)
        self._on_fire(ExitCode.HUNG)


def _exit(code: int) -> None:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Heartbeat:
    """Writes the session's heartbeat on its own connection while ``lock_pid`` holds the lock."""

    def __init__(self, url: str, application_name: str, session: str, interval: float,
                 lock_pid: Callable[[], int | None]) -> None:
        self.url = url
        self.application_name = application_name
        self.session = session
        self.interval = interval
        self._lock_pid = lock_pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wa-heartbeat", daemon=True)
        self._conn: psycopg.Connection[Any] | None = None
        self.beats = 0
        self.fenced = False  # the last beat was refused: this process no longer holds the lock

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        if self._conn is not None and not self._thread.is_alive():
            self._conn.close()

    def beat_now(self) -> bool:
        pid = self._lock_pid()
        if pid is None:
            return False
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.url, application_name=self.application_name,
                                 connect_timeout=5)
        ok = db.heartbeat(self._conn, self.session, lock_pid=pid)
        if ok:
            self.beats += 1
        elif not self.fenced:
            log.warning("heartbeat refused: this process no longer holds the session lock")
        self.fenced = not ok
        return ok

    def _run(self) -> None:
        failing = False
        while True:
            try:
                self.beat_now()
                if failing:
                    log.info("heartbeat written again")
                failing = False
            except Exception as exc:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if not failing:
                    level = logging.INFO if is_connection_error(exc) else logging.ERROR
                    log.log(level, "heartbeat not written (%s); trying again",
                            " ".join(str(exc).split())[:200])
                failing = True
            if self._stop.wait(self.interval):
                return
