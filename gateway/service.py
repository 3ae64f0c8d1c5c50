"""The gateway process: one WhatsApp session, from start to shutdown.

:meth:`Gateway.run` opens the two connections (the LISTEN one, which also holds the session
lock, and the loop's own), records the session, starts the event sink and the transport, runs
the sending loop (gateway/loop.py) and shuts everything down in order: the last settles, the
transport, the sink, the ``offline`` state. The pieces, one concern each:

* gateway/session.py: the session's lock, state, readiness, pause and heartbeat;
* gateway/pacing.py: every pacing rule (gaps, budgets, claim size);
* gateway/outcome.py: what a send's outcome does to its row (a pure function);
* gateway/settle.py: carrying that out, settling sends in batches (and the settle thread);
* gateway/sink.py: the transport's events into the database;
* gateway/alerts.py: admin alerts;
* gateway/pool.py: a pool of numbers (``WA_POOL``): the hand-over of the rows of a session that
  cannot send, checked by the session's housekeeping (a waker keeps it going while idle).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import psycopg

from gateway import db, pool
from gateway.config import GatewaySettings
from gateway.events import EventQueue
from gateway.loop import SendLoop
from gateway.pacing import Pacer
from gateway.sending import Transport
from gateway.session import LockLost, Session
from gateway.settle import Settlements, Settler
from gateway.sink import Sink
from gateway.transport import make_transport
from gateway.watchdog import Heartbeat, Watchdog
from outbox.db import Outage, check_schema, connect, is_connection_error, listen
from outbox.engine import Backoff
from outbox.errors import DatabaseUnavailable, SchemaNotReady
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag
from outbox.migrate import head_revision
from outbox.notify import NotifyWaiter

log = logging.getLogger(__name__)

CHANNEL = "wa_outbox"


class Gateway:
    def __init__(self, settings: GatewaySettings, transport: Transport | None = None, *,
                 once: bool = False, stop: StopFlag | None = None) -> None:
        self.settings = settings
        self.transport = transport if transport is not None else make_transport(settings)
        self.once = once
        self.stop = stop or StopFlag()
        self.session = Session(settings, self.transport.ready, once=once)
        self.started = threading.Event()
        self._waiter: NotifyWaiter | None = None
        self._settle: Settlements | None = None
        self._events = EventQueue(wake=self._wake)
        self._sink: Sink | None = None
        self._heartbeat: Heartbeat | None = None
        self._watchdog: Watchdog | None = None
        self._pool_waker: pool.Waker | None = None
        self._transport_started = False
        self._head: str | None = None

    # ------------------------------------------------------------------ what it did
    @property
    def sent(self) -> int:
        return self._settle.sent if self._settle else 0

    @property
    def failed(self) -> int:
        return self._settle.failed if self._settle else 0

    @property
    def retried(self) -> int:
        return self._settle.retried if self._settle else 0

    # ------------------------------------------------------------------ control
    def request_stop(self, reason: str = "stop requested") -> None:
        self.stop.set(reason)
        if self._waiter is not None:
            self._waiter.wake()

    # ------------------------------------------------------------------ run
    def run(self) -> int:
        """Serve the session until a stop is requested. The database may go away at any time
        (and may not be there at start): the process waits for it with backoff, logged once
        per outage, and carries on within seconds of its return (``--once`` gives up instead:
        exit 3). The transport (the WhatsApp connection) and the event sink live across
        outages; the connections, the session lock and the send loop are set up again."""
        outage = Outage(f"gateway {self.session.name}", cap=1.0, logger=log)
        watchdog = self._watchdog = Watchdog(
            stall=self.settings.watchdog.total_seconds(),
            send_timeout=self.settings.send_timeout.total_seconds())
        if not self.once:
            watchdog.start()
        code: int = ExitCode.OK
        self._head = head_revision()  # once: it reads every revision script
        try:
            while not self.stop.is_set():
                watchdog.progress()
                try:
                    code = self._cycle(outage)
                    break
                except Exception as exc:
                    if not (is_connection_error(exc) or isinstance(exc, (SchemaNotReady,
                                                                         LockLost))):
                        raise
                    if self._settle is not None:
                        self._settle.detach()
                    if self.once:
                        if isinstance(exc, SchemaNotReady | LockLost):
                            raise
                        raise DatabaseUnavailable(
                            "database unavailable: " + " ".join(str(exc).split())) from exc
                    if isinstance(exc, LockLost):
                        log.error("%s", exc)
                    self.stop.wait(outage.down(exc))
        finally:
            watchdog.stop()
            self.started.set()
            self._final_shutdown()
        return code

    def _cycle(self, outage: Outage) -> int:
        """One stretch with the database: connect, lock, give back what a previous owner left
        ``sending``, send until stopped. Raises on a lost database (the caller waits)."""
        url = self.settings.database_url
        app = f"wa-gateway:{self.session.name}:{self.settings.worker_id}"
        listen_conn = connect(url, application_name=app, connect_timeout=5)
        conn: psycopg.Connection[Any] | None = None
        try:
            check_schema(listen_conn, self._head)
            holder = self.session.lock(listen_conn)
            if holder is not None:
                outage.up()
                print(f"gateway: session {self.session.name!r} is already served by another "
                      f"gateway process: {holder}. One process per WhatsApp session; stop that "
                      "one first (or set another WA_SESSION_NAME).", file=sys.stderr, flush=True)
                return ExitCode.SESSION_TAKEN
            listen(listen_conn, CHANNEL)
            conn = connect(url, application_name=app + ":main", connect_timeout=5)
            resumed = self._transport_started
            outage.up()
            return self._serve(listen_conn, conn, resumed=resumed)
        finally:
            self.session.lock_pid = None  # the lock goes with the connection: nothing is fenced in
            if conn is not None:
                conn.close()
            listen_conn.close()

    def _serve(self, listen_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any], *,
               resumed: bool) -> int:
        settings, session = self.settings, self.session
        is_default = session.register(conn, resumed=resumed)
        settler = None
        if not settings.pacing.enabled:
            settler = Settler(settings.database_url,
                              f"wa-gateway:{session.name}:{settings.worker_id}:settle")
        if self._settle is None:
            self._settle = Settlements(
                conn, self.transport, session,
                Backoff(settings.outbox.retry_base, settings.outbox.retry_max), settler)
        else:
            self._settle.attach(conn, settler)
        settle = self._settle
        # the sends done before the database went away are settled first, then every row still
        # `sending` (left by a previous owner, or by this process before it lost the database)
        # goes back
        settle.flush()
        self._release_orphans(conn, resumed=resumed)
        waiter = self._waiter = NotifyWaiter(listen_conn)
        waiter.install_signal_wakeup()
        if self._heartbeat is None:
            self._heartbeat = Heartbeat(
                settings.database_url, f"wa-gateway:{session.name}:{settings.worker_id}:beat",
                session.name, settings.heartbeat.total_seconds(), lambda: session.lock_pid)
            self._heartbeat.start()
        if settings.pool and not self.once and self._pool_waker is None:
            self._pool_waker = pool.Waker(self._wake)
            self._pool_waker.start()
        pacer = Pacer(settings.pacing, session.name, claim_batch=settings.claim_batch)
        loop = SendLoop(settings, conn, self.transport, session, pacer, settle, waiter,
                        self.stop, once=self.once, watchdog=self._watchdog)
        log.info(
            "gateway %s: session %s%s, transport %s, pacing %s, %s",
            "resumed" if resumed else "started", session.name,
            " (default)" if is_default else "", self.transport.name,
            "on" if settings.pacing.enabled else "off",
            "draining once" if self.once else f"poll {settings.poll_cron!r}",
        )
        try:
            if not self._transport_started:
                self._sink = Sink(settings, self._events, on_state=session.on_state,
                                  fence=lambda: session.lock_pid)
                self._sink.start()
                self.transport.start(self._events)
                self._transport_started = True
            self.started.set()
            code = loop.run()
        except Exception as exc:
            if is_connection_error(exc) or isinstance(exc, LockLost):
                waiter.close()
                self._waiter = None
                raise
            log.exception("gateway stopped by an unexpected error")
            code = ExitCode.CRASHED
        # a clean end (stop requested, --once drained) or a crash: the last settles and the
        # `offline` state, on this connection
        try:
            settle.close()
            if not conn.closed:
                self.session.stopped(conn)
        except psycopg.Error:
            log.warning("could not record the stopped state")
        finally:
            waiter.close()
            self._waiter = None
        return code

    def _release_orphans(self, conn: psycopg.Connection[Any], *, resumed: bool) -> None:
        why = ("this gateway lost its database connection" if resumed
               else "the previous gateway process ended without settling it")
        orphans = db.release_orphans(conn, self.session.name,
                                     policy=self.settings.outbox.expired_lease_policy, why=why)
        if orphans.back or orphans.resent or orphans.failed:
            log.warning("session %s: %d row(s) left sending given back (%d never handed to "
                        "WhatsApp, attempt not counted; %d in flight sent again, %d in flight "
                        "failed as delivery unknown or out of attempts)", self.session.name,
                        orphans.back + orphans.resent + orphans.failed, orphans.back,
                        orphans.resent, orphans.failed)

    def _wake(self) -> None:
        if self._waiter is not None:
            self._waiter.wake()

    def _final_shutdown(self) -> None:
        if self._settle is not None:
            self._settle.detach()  # whatever could not be settled: its rows are given back by
            # the next owner (release_orphans)
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self._pool_waker is not None:
            self._pool_waker.stop()
        if self._transport_started:
            try:
                self.transport.stop()
            except Exception:
                log.exception("transport stop failed")
        if self._sink is not None:
            self._sink.stop()
        log.info("gateway stopped (%s): %d sent, %d retried, %d failed",
                 self.stop.reason or "done", self.sent, self.retried, self.failed)
