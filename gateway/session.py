"""The WhatsApp session as the sending loop sees it.

* its lock: one gateway process per session, a session-level advisory lock held by the LISTEN
  connection for the process's whole life;
* its recorded state (``wa_session.state``): ``starting`` at start, the transport's state changes
  as the event sink records them (:meth:`Session.on_state`, called on the sink thread), a
  heartbeat while it runs, ``offline`` at the end;
* whether it is *ready* (the transport is connected and logged in), with the admin alerts when it
  stays disconnected too long and when it comes back;
* whether it is *paused* (``wa_session.paused_until``: a rate limit, a temporary ban), read again
  each second and after every state change;
* in a pool of numbers (``WA_POOL``): its pool and pacing written at registration, and the
  hand-over of the rows of the pool's sessions that cannot send (gateway/pool.py), checked with
  the heartbeat, once a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway import db, pool
from gateway.alerts import alert
from gateway.config import GatewaySettings
from gateway.events import StateChange
from outbox import engine
from outbox.engine import Conn

log = logging.getLogger(__name__)

# States in which a long disconnection raises no "disconnected" alert: each has its own alert,
# or (pairing) waits for a person.
_QUIET_STATES = {"logged_out", "banned", "replaced", "pairing"}


class LockLost(Exception):
    """This process no longer holds the session lock (another gateway took the session over):
    it must not send again."""


class Session:
    def __init__(self, settings: GatewaySettings, connected: Callable[[], bool], *,
                 once: bool = False) -> None:
        self.settings = settings
        self.name = settings.session_name
        self.worker = settings.worker_id
        self._connected = connected
        self.once = once
        self.state = "starting"  # the transport's last reported state
        self._not_ready_since: float | None = None
        self._disconnect_alerted = False
        self._paused: db.PauseState | None = None
        self._pause_stale = True
        self.lock_pid: int | None = None  # the backend holding the lock for this process
        self.pool = pool.PoolKeeper(settings) if settings.pool else None

    # ------------------------------------------------------------------ lock and lifecycle
    def lock(self, listen_conn: Conn) -> str | None:
        """Take the session lock on ``listen_conn``; ``None`` when taken, else who holds it.

        Fenced takeover: when the holder's heartbeat is older than ``WA_TAKEOVER_SECONDS``
        (a frozen or hung process), its lock connection is terminated and the lock taken."""
        if not db.try_session_lock(listen_conn, self.name):
            holder = db.session_lock_holder(listen_conn, self.name)
            stale = self.settings.takeover
            if stale.total_seconds() <= 0 or not db.take_over(listen_conn, self.name, stale):
                return holder
            age = db.heartbeat_age(listen_conn, self.name)
            log.warning("session %s: taking over from %s, whose heartbeat is %s old (more than "
                        "%.0f s): its lock connection was terminated", self.name, holder,
                        "never written" if age is None else f"{age:.0f} s",
                        stale.total_seconds())
            deadline = time.monotonic() + 5.0
            while not db.try_session_lock(listen_conn, self.name):
                if time.monotonic() > deadline:
                    return db.session_lock_holder(listen_conn, self.name)
                time.sleep(0.05)
        self.lock_pid = int(listen_conn.info.backend_pid)
        return None

    def register(self, conn: Conn, *, resumed: bool = False) -> bool:
        """Record the session (the first one becomes the default) as starting; after a
        reconnection, as the transport's last known state."""
        is_default = engine.register_session(conn, self.name)
        pool.register(conn, self.name, self.settings)
        if resumed:
            db.set_state(conn, self.name, self.state, f"gateway {self.worker}: database back",
                         lock_pid=self.lock_pid)
        else:
            db.set_state(conn, self.name, "starting", f"gateway {self.worker} starting",
                         lock_pid=self.lock_pid)
        return is_default

    def stopped(self, conn: Conn) -> None:
        """``offline``, unless this process no longer holds the lock (then it writes nothing)."""
        db.set_state(conn, self.name, "offline", f"gateway {self.worker} stopped",
                     lock_pid=self.lock_pid if self.lock_pid is not None else -1)

    def heartbeat(self, conn: Conn) -> None:
        """Once a second: makes the pause be read again (the heartbeat itself is written by
        its own thread, gateway/watchdog.py); in a pool, the hand-over check."""
        self._pause_stale = True
        if self.pool is not None:
            self.pool.tick(conn, self)

    def on_state(self, change: StateChange) -> None:
        """A state change the sink recorded (runs on the sink thread)."""
        self.state = change.state
        self._pause_stale = True

    # ------------------------------------------------------------------ ready
    def ready(self, conn: Conn) -> bool:
        """Connected: rows may be claimed. Alerts when a disconnection lasts longer than
        ``WA_DISCONNECT_ALERT_SECONDS`` (not in ``--once``) and when it ends after that."""
        if self._connected():
            if self._not_ready_since is not None:
                log.info("session %s connected: sending resumes", self.name)
                if self._disconnect_alerted:
                    alert(conn, self.settings, "reconnected",
                          f"session {self.name} is connected again; sending resumes")
            self._not_ready_since = None
            self._disconnect_alerted = False
            return True
        now = time.monotonic()
        if self._not_ready_since is None:
            self._not_ready_since = now
            log.warning("session %s is not connected: not claiming", self.name)
        limit = self.settings.disconnect_alert.total_seconds()
        if (not self.once and not self._disconnect_alerted
                and now - self._not_ready_since > limit
                and self.state not in _QUIET_STATES):
            self._disconnect_alerted = True
            alert(conn, self.settings, "disconnected",
                  f"session {self.name} not connected for {limit / 60:.0f} minute(s) "
                  f"({self.state}); messages wait in the outbox")
        return False

    def not_ready_for(self) -> float:
        """Seconds since the session was last seen ready (0 while it is)."""
        return 0.0 if self._not_ready_since is None else time.monotonic() - self._not_ready_since

    # ------------------------------------------------------------------ pause
    def paused(self, conn: Conn) -> db.PauseState | None:
        """The session's pause, read again each second and after every state change."""
        if self._pause_stale:
            self._paused = db.pause_state(conn, self.name)
            self._pause_stale = False
        return self._paused

    def recheck_pause(self) -> None:
        self._pause_stale = True

    def pause(self, conn: Conn, length: timedelta, reason: str) -> datetime | None:
        """WhatsApp throttles the session: pause sending for ``length`` and alert the admins
        (the alert goes out when the pause ends)."""
        until = db.pause(conn, self.name, length, reason)
        self._pause_stale = True
        alert(conn, self.settings, "rate_limit",
              f"WhatsApp throttles session {self.name} ({reason}); sending paused "
              f"until {until.isoformat() if until else '?'}", available_at=until)
        return until
