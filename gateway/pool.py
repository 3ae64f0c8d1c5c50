"""The gateway's part of the pool of numbers (docs/concepts/pool.md).

Several sessions that share ``WA_POOL`` serve one set of recipients; the database routes each row
at INSERT (migration 0012: sticky recipients, groups to members, personal chats by remaining
daily budget). The gateway supplies what that routing reads and moves what a session cannot send:

* :func:`register`: the session's pool and the pacing it runs with, written at registration;
* :func:`record_groups` / :func:`record_membership`: the groups the number is in (the event sink
  writes them: the whole set on each connect, one group per group event);
* :class:`PoolKeeper`: called once a second (``Session.heartbeat``), it hands the session's own
  pending rows to the others of the pool while the session is logged out, banned or paused, and,
  while it is connected, every 10 s those of any other member that cannot send (the same, or
  served by no gateway for longer than ``WA_POOL_HANDOVER_SECONDS``). One log line per
  hand-over with its counts, one admin alert per episode;
* :class:`Waker`: an idle send loop sleeps up to ``WA_HEARTBEAT_SECONDS`` (or until the next
  poll) between turns, so in a pool a thread wakes it every 2 s: the checks keep their pace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import psycopg

from gateway.alerts import alert
from gateway.config import GatewaySettings
from outbox import engine
from outbox.db import is_connection_error
from outbox.engine import Conn, ExpiredLeasePolicy
from outbox.sql import QueryFile

log = logging.getLogger(__name__)

_q = QueryFile("gateway", "pool.sql")
_WIB = ZoneInfo("Asia/Jakarta")

OWN_RECHECK_SECONDS = 2.0  # while its own session cannot send: rows given back meanwhile follow
PEERS_EVERY_SECONDS = 10.0  # the other members of the pool
CONNECTED_GRACE_SECONDS = 1.0  # ... once this session has been connected that long
GONE_STATES = ("logged_out", "banned")


def count(n: int) -> str:
    """A count for an operator: ``1.234``."""
    return f"{n:,}".replace(",", ".")


def wib(at: datetime) -> str:
    return at.astimezone(_WIB).strftime("%d-%m-%Y %H.%M WIB")


# ---------------------------------------------------------------------- registration and groups
def register(conn: Conn, session: str, settings: GatewaySettings) -> None:
    """Write the session's pool (``WA_POOL``, NULL without) and its pacing (the configured caps,
    gaps, budget reserve and coalescing; ``pacing`` false when ``WA_PACING`` is off)."""
    declared = settings.declared_pacing or settings.pacing
    with conn.cursor() as cur:
        cur.execute(_q("register_pool"), {
            "session": session, "pool": settings.pool,
            "max_per_hour": declared.max_per_hour, "max_per_day": declared.max_per_day,
            "gap_min_s": declared.gap_min.total_seconds(),
            "gap_max_s": declared.gap_max.total_seconds(),
            "recipient_gap_s": declared.recipient_gap.total_seconds(),
            "pacing": settings.pacing.enabled,
            "reserve_per_hour": declared.reserve_per_hour,
            "reserve_per_day": declared.reserve_per_day,
            "coalesce_texts": declared.coalesce_texts})


def record_groups(conn: Conn, session: str, groups: Sequence[str], *,
                  lock_pid: int | None = None) -> tuple[int, int] | None:
    """Replace the session's recorded groups by ``groups`` and set ``groups_seen_at``; with
    ``lock_pid`` only while that backend holds the session lock. ``(deleted, recorded)``, or
    ``None`` when the fence refused it."""
    with conn.cursor() as cur:
        cur.execute(_q("record_groups"), {"session": session, "groups": list(groups),
                                          "lock_pid": lock_pid})
        row = cur.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def record_membership(conn: Conn, session: str, group: str, member: bool) -> bool:
    """One group event: the number joined (``member``) or left ``group``. Whether a row
    changed (a join always records one)."""
    with conn.cursor() as cur:
        cur.execute(_q("join_group" if member else "leave_group"),
                    {"session": session, "group": group})
        return cur.fetchone() is not None


# ---------------------------------------------------------------------- hand-over
@dataclass(frozen=True)
class HandOver:
    moved: int
    failed: int

    def __bool__(self) -> bool:
        return bool(self.moved or self.failed)


def hand_over(conn: Conn, session: str, why: str) -> HandOver:
    """``wa_pool_hand_over``: the session's pending rows to the other available members."""
    with conn.cursor() as cur:
        cur.execute(_q("hand_over"), {"session": session, "why": why})
        row = cur.fetchone()
    return HandOver(0, 0) if row is None else HandOver(int(row[0] or 0), int(row[1] or 0))


@dataclass(frozen=True)
class Peer:
    name: str
    why: str  # logged_out | banned | paused | unserved
    since: datetime | None
    pause_reason: str | None


def unavailable_peers(conn: Conn, pool: str, session: str, stale: timedelta) -> list[Peer]:
    """The other members of ``pool`` with pending rows that cannot send them."""
    with conn.cursor() as cur:
        cur.execute(_q("unavailable_peers"), {"pool": pool, "session": session, "stale": stale})
        return [Peer(*row) for row in cur.fetchall()]


class SessionView(Protocol):
    """What the keeper reads of :class:`gateway.session.Session`."""

    name: str
    state: str

    def paused(self, conn: Conn) -> Any: ...


def describe(why: str, since: datetime | None, pause_reason: str | None = None) -> str:
    if why == "paused":
        until = f" until {wib(since)}" if since is not None else ""
        return f"paused{until}" + (f" ({pause_reason})" if pause_reason else "")
    if why == "unserved":
        beat = f"last heartbeat {wib(since)}" if since is not None else "no heartbeat"
        return f"served by no gateway ({beat})"
    return why.replace("_", " ")


class PoolKeeper:
    """Hands over the rows of the sessions of the pool that cannot send them."""

    def __init__(self, settings: GatewaySettings, clock: Any = time.monotonic) -> None:
        assert settings.pool is not None
        self.settings = settings
        self.pool = settings.pool
        self.policy = ExpiredLeasePolicy(settings.outbox.expired_lease_policy)
        self._clock = clock
        self._own_episode: str | None = None  # why the own session cannot send (None: it can)
        self._own_began = 0  # when that episode began (unix time): the alert's once key
        self._own_at = float("-inf")
        self._peers_at = float("-inf")
        self._connected_at: float | None = None
        self.moved = 0
        self.failed = 0

    def tick(self, conn: Conn, session: SessionView) -> None:
        """Once a second. A database refusal is logged and tried again later; a lost connection
        is raised (the gateway waits for the database)."""
        try:
            self._own(conn, session)
            if session.state != "connected":
                self._connected_at = None
            elif self._connected_at is None:
                self._connected_at = self._clock()
            # the other sessions' rows only once this one has been connected a moment: its
            # groups, reported with the connect, are recorded by then (a session whose groups
            # are not known yet would be given every group as a possible member)
            if (self._connected_at is not None
                    and self._clock() - self._connected_at >= CONNECTED_GRACE_SECONDS):
                self._peers(conn, session.name)
        except psycopg.Error as exc:
            if is_connection_error(exc):
                raise
            log.exception("pool %s: the hand-over check failed; tried again later", self.pool)

    def _own(self, conn: Conn, session: SessionView) -> None:
        now = self._clock()
        why: str | None = None
        since: datetime | None = None
        reason: str | None = None
        if session.state in GONE_STATES:
            why = session.state
        else:
            pause = session.paused(conn)
            if pause is not None and pause.paused_until is not None:
                why, since, reason = "paused", pause.paused_until, pause.reason
        if why is None:
            self._own_episode = None
            return
        episode = f"{why}:{since.isoformat() if since else ''}"
        if episode == self._own_episode and now - self._own_at < OWN_RECHECK_SECONDS:
            return
        if episode != self._own_episode:
            self._own_began = int(time.time())
        self._own_episode, self._own_at = episode, now
        self._hand_over(conn, session.name, describe(why, since, reason),
                        episode=f"{session.name}:{episode}:{self._own_began}", own=True)

    def _peers(self, conn: Conn, own: str) -> None:
        now = self._clock()
        if now - self._peers_at < PEERS_EVERY_SECONDS:
            return
        self._peers_at = now
        for peer in unavailable_peers(conn, self.pool, own, self.settings.pool_handover):
            if peer.why == "unserved":
                # no process holds its lock: its rows left `sending` by a gateway that died
                # are given back (or failed) by the expired-lease rule, as their rescuer would,
                # once their lease ran out; then they are handed over with the others
                engine.release_expired(conn, policy=self.policy, session=peer.name)
            since = peer.since.isoformat() if peer.since else "never"
            self._hand_over(conn, peer.name, describe(peer.why, peer.since, peer.pause_reason),
                            episode=f"{peer.name}:{peer.why}:{since}", own=False)

    def _hand_over(self, conn: Conn, session: str, why: str, *, episode: str,
                   own: bool) -> None:
        # the hand-over and its alert in one transaction: both or neither
        with conn.transaction():
            done = hand_over(conn, session, f"session {session} is {why}")
            if not done:
                return
            self.moved += done.moved
            self.failed += done.failed
            who = "this session" if own else "session"
            log.warning("pool %s: %s %s is %s: %d pending message(s) handed to the other "
                        "session(s) of the pool, %d failed (a group no other session is in)",
                        self.pool, who, session, why, done.moved, done.failed,
                        extra={"pool": self.pool, "handed_over": done.moved,
                               "hand_over_failed": done.failed, "from_session": session})
            failed = (f"; {count(done.failed)} failed: no other session of the pool is in "
                      "their group" if done.failed else "")
            alert(conn, self.settings, "pool_hand_over",
                  f"session {session} is {why}: {count(done.moved)} pending message(s) moved "
                  f"to the other session(s) of pool {self.pool}{failed}",
                  once_key=f"hand-over:{episode}")


class Waker:
    """Wakes the send loop every ``every`` seconds (a daemon thread), so its once-a-second
    housekeeping, and with it :meth:`PoolKeeper.tick`, also runs while it has nothing to send."""

    def __init__(self, wake: Callable[[], None], every: float = OWN_RECHECK_SECONDS) -> None:
        self._wake = wake
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wa-pool-waker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._wake()
