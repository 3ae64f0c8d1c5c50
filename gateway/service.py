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
* gateway/alerts.py: admin alerts.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import psycopg

from gateway.config import GatewaySettings
from gateway.events import EventQueue
from gateway.loop import SendLoop
from gateway.pacing import Pacer
from gateway.sending import Transport
from gateway.session import Session
from gateway.settle import Settlements, Settler
from gateway.sink import Sink
from gateway.transport import make_transport
from outbox.db import check_schema, connect, listen
from outbox.engine import Backoff
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag
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
        url = self.settings.database_url
        app = f"wa-gateway:{self.session.name}:{self.settings.worker_id}"
        listen_conn = connect(url, application_name=app)
        try:
            check_schema(listen_conn)
            holder = self.session.lock(listen_conn)
            if holder is not None:
                print(f"gateway: session {self.session.name!r} is already served by another "
                      f"gateway process: {holder}. One process per WhatsApp session; stop that "
                      "one first (or set another WA_SESSION_NAME).", file=sys.stderr, flush=True)
                return ExitCode.SESSION_TAKEN
            listen(listen_conn, CHANNEL)
            conn = connect(url, application_name=app + ":main")
            try:
                return self._serve(listen_conn, conn)
            finally:
                conn.close()
        finally:
            listen_conn.close()

    def _serve(self, listen_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> int:
        settings, session = self.settings, self.session
        is_default = session.register(conn)
        settler = None
        if not settings.pacing.enabled:
            settler = Settler(settings.database_url,
                              f"wa-gateway:{session.name}:{settings.worker_id}:settle")
        settle = self._settle = Settlements(
            conn, self.transport, session,
            Backoff(settings.outbox.retry_base, settings.outbox.retry_max), settler)
        waiter = self._waiter = NotifyWaiter(listen_conn)
        waiter.install_signal_wakeup()
        events = EventQueue(wake=waiter.wake)
        sink = Sink(settings, events, on_state=session.on_state)
        sink.start()
        pacer = Pacer(settings.pacing, session.name, claim_batch=settings.claim_batch)
        loop = SendLoop(settings, conn, self.transport, session, pacer, settle, waiter,
                        self.stop, once=self.once)
        log.info(
            "gateway started: session %s%s, transport %s, pacing %s, %s", session.name,
            " (default)" if is_default else "", self.transport.name,
            "on" if settings.pacing.enabled else "off",
            "draining once" if self.once else f"poll {settings.poll_cron!r}",
        )
        code = ExitCode.CRASHED
        try:
            self.transport.start(events)
            self.started.set()
            code = loop.run()
        except Exception:
            log.exception("gateway stopped by an unexpected error")
            code = ExitCode.CRASHED
        finally:
            self.started.set()
            self._shutdown(conn, settle, sink)
            waiter.close()
            self._waiter = None
        log.info("gateway stopped (%s): %d sent, %d retried, %d failed",
                 self.stop.reason or "done", self.sent, self.retried, self.failed)
        return code

    def _shutdown(self, conn: psycopg.Connection[Any], settle: Settlements, sink: Sink) -> None:
        settle.close()
        try:
            self.transport.stop()
        except Exception:
            log.exception("transport stop failed")
        sink.stop()
        try:
            if not conn.closed:
                self.session.stopped(conn)
        except psycopg.Error:
            log.warning("could not record the stopped state")
