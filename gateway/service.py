"""The sending loop: one process, one WhatsApp session.

Each turn: housekeeping (expired leases, heartbeat), then nothing while the session is not
connected or is paused, then pacing (derived from ``sent_at`` in the database), then a claim
(one row with pacing on, a batch with pacing off), the sends outside any transaction, and the
settles. Between turns the loop sleeps on the LISTEN socket (NOTIFY wakes it in milliseconds),
a self-pipe (signals and session state changes) and a timer: the next ``available_at`` (pushed
back by the per-recipient gap), the next expiring lease, and the ``WA_GATEWAY_POLL_CRON`` poll.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from gateway import db
from gateway.alerts import alert
from gateway.config import GatewaySettings, Pacing, next_poll
from gateway.events import EventQueue, StateChange
from gateway.sending import Failure, SendError, Transport, classify, validate
from gateway.sink import Sink
from gateway.transport import make_transport
from outbox import engine
from outbox.db import check_schema, connect, listen
from outbox.engine import Backoff, ClaimedMessage, ExpiredLeasePolicy, Sent
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag
from outbox.logs import mask_phone
from outbox.notify import NotifyWaiter

log = logging.getLogger(__name__)

CHANNEL = "wa_outbox"
# An unexpected exception (not a WhatsApp error) is retried once; on a later attempt the row is
# treated as poison and fails.
POISON_ATTEMPTS = 2
_HOUSEKEEPING_SECONDS = 1.0
_QUIET_STATES = {"logged_out", "banned", "replaced", "pairing"}


class Pacer:
    """Global pacing: a random gap after the session's last send, hourly and daily budgets.

    Everything is derived from ``sent_at`` in the database, so a restart does not reset it; the
    random gap is drawn once per send (a restart draws a new one, never below the minimum).
    """

    def __init__(self, pacing: Pacing, rng: random.Random | None = None) -> None:
        self.pacing = pacing
        self.rng = rng or random.Random()
        self.gap = self._draw()

    def _draw(self) -> timedelta:
        low = self.pacing.gap_min.total_seconds()
        high = self.pacing.gap_max.total_seconds()
        return timedelta(seconds=self.rng.uniform(low, high))

    def delay(self, conn: engine.Conn, session: str) -> tuple[float, str]:
        """Seconds to wait before the next send, and why (``ok``, ``gap``, ``hourly cap``...)."""
        if not self.pacing.enabled:
            return 0.0, "ok"
        w = db.pacing_window(conn, session, self.pacing.max_per_hour, self.pacing.max_per_day)
        ready, reason = w.now, "ok"
        for at, why in ((w.last_sent_at + self.gap if w.last_sent_at else None, "gap"),
                        (w.hour_free_at, "hourly cap"), (w.day_free_at, "daily cap")):
            if at is not None and at > ready:
                ready, reason = at, why
        return (ready - w.now).total_seconds(), reason

    def sent(self) -> None:
        self.gap = self._draw()


class Settler:
    """Commits the settles of a batch on its own connection while the loop claims and sends the
    next one (pacing off only). ``wait()`` is called before anything that needs them committed:
    any sleep, an empty claim, a failure, a release, shutdown."""

    def __init__(self, url: str, application_name: str) -> None:
        self._conn = connect(url, application_name=application_name)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wa-settle")
        self._futures: list[Future[set[int]]] = []

    def submit(self, sent: list[Sent]) -> None:
        self._reap(block=False)
        self._futures.append(self._pool.submit(engine.mark_sent_many, self._conn, sent))

    def busy(self) -> bool:
        return bool(self._futures)

    def wait(self) -> None:
        self._reap(block=True)

    def _reap(self, *, block: bool) -> None:
        keep: list[Future[set[int]]] = []
        for future in self._futures:
            if block or future.done():
                future.result()  # re-raises a failed settle (the loop then stops: exit 1)
            else:
                keep.append(future)
        self._futures = keep

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
            self._conn.close()


class Gateway:
    def __init__(self, settings: GatewaySettings, transport: Transport | None = None, *,
                 once: bool = False, stop: StopFlag | None = None) -> None:
        self.settings = settings
        self.transport = transport if transport is not None else make_transport(settings)
        self.once = once
        self.stop = stop or StopFlag()
        self.session = settings.session_name
        self.policy = ExpiredLeasePolicy(settings.outbox.expired_lease_policy)
        self.backoff = Backoff(settings.outbox.retry_base, settings.outbox.retry_max)
        self.pacer = Pacer(settings.pacing)
        self.worker = settings.worker_id
        self.session_state = "starting"
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self._pending: list[Sent] = []
        self._halt = False
        self._waiter: NotifyWaiter | None = None
        self._last_housekeeping = 0.0
        self._last_heartbeat = 0.0
        self._not_ready_since: float | None = None
        self._disconnect_alerted = False
        self._conn: psycopg.Connection[Any] | None = None
        self._paused: db.PauseState | None = None
        self._settler: Settler | None = None
        self._pause_stale = True
        self.started = threading.Event()
        # The fake transports record each send themselves (a log line, a JSON line).
        self._send_log_level = logging.INFO if self.transport.name == "neonize" else logging.DEBUG

    # ------------------------------------------------------------------ control
    def request_stop(self, reason: str = "stop requested") -> None:
        self.stop.set(reason)
        if self._waiter is not None:
            self._waiter.wake()

    def _on_state(self, change: StateChange) -> None:
        self.session_state = change.state
        self._pause_stale = True

    def _pause_state(self, conn: engine.Conn) -> db.PauseState | None:
        """The session's pause, read again each second and after every state change."""
        if self._pause_stale:
            self._paused = db.pause_state(conn, self.session)
            self._pause_stale = False
        return self._paused

    # ------------------------------------------------------------------ run
    def run(self) -> int:
        url = self.settings.database_url
        app = f"wa-gateway:{self.session}:{self.worker}"
        listen_conn = connect(url, application_name=app)
        try:
            check_schema(listen_conn)
            if not db.try_session_lock(listen_conn, self.session):
                holder = db.session_lock_holder(listen_conn, self.session)
                print(f"gateway: session {self.session!r} is already served by another gateway "
                      f"process: {holder}. One process per WhatsApp session; stop that one "
                      "first (or set another WA_SESSION_NAME).", file=sys.stderr, flush=True)
                return ExitCode.SESSION_TAKEN
            listen(listen_conn, CHANNEL)
            conn = self._conn = connect(url, application_name=app + ":main")
            try:
                return self._serve(listen_conn, conn)
            finally:
                conn.close()
        finally:
            listen_conn.close()

    def _serve(self, listen_conn: psycopg.Connection[Any], conn: psycopg.Connection[Any]) -> int:
        is_default = engine.register_session(conn, self.session)
        db.set_state(conn, self.session, "starting", f"gateway {self.worker} starting")
        if not self.settings.pacing.enabled:
            self._settler = Settler(self.settings.database_url,
                                    f"wa-gateway:{self.session}:{self.worker}:settle")
        waiter = self._waiter = NotifyWaiter(listen_conn)
        waiter.install_signal_wakeup()
        events = EventQueue(wake=waiter.wake)
        sink = Sink(self.settings, events, on_state=self._on_state)
        sink.start()
        log.info(
            "gateway started: session %s%s, transport %s, pacing %s, %s", self.session,
            " (default)" if is_default else "", self.transport.name,
            "on" if self.settings.pacing.enabled else "off",
            "draining once" if self.once else f"poll {self.settings.poll_cron!r}",
        )
        code = ExitCode.CRASHED
        try:
            self.transport.start(events)
            self.started.set()
            code = self._loop(conn, waiter)
        except Exception:
            log.exception("gateway stopped by an unexpected error")
            code = ExitCode.CRASHED
        finally:
            self.started.set()
            self._shutdown(conn, sink)
            waiter.close()
            self._waiter = None
        log.info("gateway stopped (%s): %d sent, %d retried, %d failed",
                 self.stop.reason or "done", self.sent, self.retried, self.failed)
        return code

    def _shutdown(self, conn: psycopg.Connection[Any], sink: Sink) -> None:
        try:
            self._flush(conn)
        except Exception:
            log.exception("could not settle the last sends (their leases will expire)")
        if self._settler is not None:
            try:
                self._settler.close()
            except Exception:
                log.exception("could not settle the last sends (their leases will expire)")
            self._settler = None
        try:
            self.transport.stop()
        except Exception:
            log.exception("transport stop failed")
        sink.stop()
        try:
            if not conn.closed:
                db.set_state(conn, self.session, "offline", f"gateway {self.worker} stopped")
        except psycopg.Error:
            log.warning("could not record the stopped state")

    # ------------------------------------------------------------------ loop
    def _loop(self, conn: psycopg.Connection[Any], waiter: NotifyWaiter) -> ExitCode:
        pacing = self.settings.pacing
        while not self.stop.is_set():
            self._housekeeping(conn)
            if not self._ready(conn):
                limit = self.settings.ready_timeout.total_seconds()
                if self.once and self._not_ready_for() > limit:
                    log.error("the WhatsApp session is not connected after %.0f s; nothing sent "
                              "(pair it first with `make run-gateway`)",
                              self.settings.ready_timeout.total_seconds())
                    return ExitCode.CRASHED
                self._flush(conn)
                waiter.wait(1.0)
                continue
            paused = self._pause_state(conn)
            if paused is not None and paused.paused_until is not None:
                if self.once:
                    log.warning("session paused until %s (%s): nothing more sent",
                                paused.paused_until.isoformat(), paused.reason)
                    return ExitCode.OK
                remaining = (paused.paused_until - paused.now).total_seconds()
                self._flush(conn)
                waiter.wait(min(remaining, self.settings.heartbeat.total_seconds()))
                self._pause_stale = True
                continue
            if pacing.enabled:
                seconds, reason = self.pacer.delay(conn, self.session)
                if seconds > 0:
                    if self.once and reason != "gap":
                        log.warning("pacing: %s reached; nothing more sent now", reason)
                        return ExitCode.OK
                    log.debug("pacing: waiting %.1f s (%s)", seconds, reason)
                    waiter.wait(min(seconds, self.settings.heartbeat.total_seconds()))
                    continue
                batch = engine.claim(conn, session=self.session, worker=self.worker, limit=1,
                                     lease=self.settings.outbox.lease,
                                     recipient_gap=pacing.recipient_gap)
            else:
                batch = engine.claim(conn, session=self.session, worker=self.worker,
                                     limit=self.settings.claim_batch,
                                     lease=self.settings.outbox.lease)
            if not batch:
                if self._settler is not None and self._settler.busy():
                    self._settler.wait()  # unsettled rows hold their recipients' next rows
                    continue
                if self.once:
                    return ExitCode.OK
                self._idle_wait(conn, waiter)
                continue
            self._send_batch(conn, batch)
        return ExitCode.OK

    def _ready(self, conn: engine.Conn) -> bool:
        if self.transport.ready():
            if self._not_ready_since is not None:
                log.info("session %s connected: sending resumes", self.session)
                if self._disconnect_alerted:
                    alert(conn, self.settings, "reconnected",
                          f"session {self.session} is connected again; sending resumes")
            self._not_ready_since = None
            self._disconnect_alerted = False
            return True
        now = time.monotonic()
        if self._not_ready_since is None:
            self._not_ready_since = now
            log.warning("session %s is not connected: not claiming", self.session)
        limit = self.settings.disconnect_alert.total_seconds()
        if (not self.once and not self._disconnect_alerted
                and now - self._not_ready_since > limit
                and self.session_state not in _QUIET_STATES):
            self._disconnect_alerted = True
            alert(conn, self.settings, "disconnected",
                  f"session {self.session} not connected for {limit / 60:.0f} minute(s) "
                  f"({self.session_state}); messages wait in the outbox")
        return False

    def _not_ready_for(self) -> float:
        return 0.0 if self._not_ready_since is None else time.monotonic() - self._not_ready_since

    def _housekeeping(self, conn: engine.Conn) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < _HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = now
        self._pause_stale = True
        if self._waiter is not None:
            # also while busy sending: if the LISTEN connection, which holds the session lock,
            # is gone, this raises and the process exits (1) instead of running on without it
            self._waiter.drain()
        engine.release_expired(conn, policy=self.policy, session=self.session)
        if now - self._last_heartbeat >= self.settings.heartbeat.total_seconds():
            self._last_heartbeat = now
            db.heartbeat(conn, self.session)

    def _idle_wait(self, conn: engine.Conn, waiter: NotifyWaiter) -> None:
        if waiter.drain():
            return  # a NOTIFY came in while we were busy: claim again at once
        now, wake_at = engine.next_wake(conn, self.session,
                                            self.settings.pacing.recipient_gap)
        timeout = (next_poll(self.settings.poll_cron, now) - now).total_seconds()
        if wake_at is not None:
            due = (wake_at - now).total_seconds()
            timeout = min(timeout, due + 0.005 if due > 0 else 0.5)
        timeout = min(timeout, self.settings.heartbeat.total_seconds())
        waiter.wait(timeout)

    # ------------------------------------------------------------------ sending
    def _send_batch(self, conn: engine.Conn, batch: list[ClaimedMessage]) -> None:
        self._halt = False
        for index, msg in enumerate(batch):
            if self.stop.is_set() or self._halt:
                self._flush(conn)
                for rest in batch[index:]:
                    engine.release(conn, rest)
                log.info("released %d claimed row(s) unsent", len(batch) - index)
                break
            self._process(conn, msg)
        # A full batch (bulk drain): its settle is committed while the next batch is claimed
        # and sent. A partial one drained what was due: settle now, one thread hop fewer.
        self._flush(conn, wait=len(batch) < self.settings.claim_batch)

    def _process(self, conn: engine.Conn, msg: ClaimedMessage) -> None:
        if self.policy is ExpiredLeasePolicy.HOLD and not engine.mark_started(conn, msg):
            log.warning("lease lost before the send; skipped", extra={"outbox_id": msg.id})
            return
        try:
            validate(msg)
            result = self.transport.send(msg)
        except Exception as exc:
            error = classify(exc)
            if not isinstance(exc, SendError):
                log.error("unexpected error sending row %d: %s", msg.id, error.reason,
                          exc_info=exc, extra={"outbox_id": msg.id})
                if msg.attempts >= POISON_ATTEMPTS and error.failure is Failure.TRANSIENT:
                    # it crashed the sender again: a poison row, failed so that the recipient's
                    # later rows (held back by the per-recipient order) go on
                    error = SendError(Failure.PERMANENT, f"poison row: the sender crashed on "
                                      f"attempt {msg.attempts}: {error.reason}")
            self._flush(conn)
            self._settle_failure(conn, msg, error)
            return
        self.sent += 1
        log.log(self._send_log_level, "sent %s to %s", msg.type, mask_phone(msg.recipient),
                extra={"outbox_id": msg.id, "wa_message_id": result.wa_message_id,
                       "attempt": msg.attempts})
        self._pending.append(Sent(msg.id, msg.claim_token, result.wa_message_id, result.sent_at))
        if self.settings.pacing.enabled:
            self._flush(conn)
            self.pacer.sent()

    def _flush(self, conn: engine.Conn, *, wait: bool = True) -> None:
        """Settle the buffered sends; ``wait=False`` lets the settle thread commit them."""
        self.transport.flush()
        if self._pending:
            pending, self._pending = self._pending, []
            if self._settler is None:
                engine.mark_sent_many(conn, pending)
            else:
                self._settler.submit(pending)
        if wait and self._settler is not None:
            self._settler.wait()

    def _settle_failure(self, conn: engine.Conn, msg: ClaimedMessage, error: SendError) -> None:
        extra = {"outbox_id": msg.id, "attempt": msg.attempts, "failure": str(error.failure)}
        if error.failure is Failure.PERMANENT:
            self.failed += 1
            engine.mark_failed(conn, msg, error.reason)
            log.warning("row %d failed permanently: %s", msg.id, error.reason, extra=extra)
        elif error.failure is Failure.PAUSE:
            self._halt = True
            length = error.pause_for or self.settings.rate_limit_pause
            engine.release(conn, msg, delay=length, reason=error.reason)
            until = db.pause(conn, self.session, length, error.reason)
            self._pause_stale = True
            alert(conn, self.settings, "rate_limit",
                  f"WhatsApp throttles session {self.session} ({error.reason}); sending paused "
                  f"until {until.isoformat() if until else '?'}", available_at=until)
        elif error.failure is Failure.NOT_READY:
            self._halt = True
            engine.release(conn, msg, reason=error.reason)
            log.warning("row %d given back: session not ready (%s)", msg.id, error.reason,
                        extra=extra)
        elif error.failure is Failure.AMBIGUOUS and self.policy is ExpiredLeasePolicy.HOLD:
            self.failed += 1
            engine.mark_failed(conn, msg, "delivery unknown: " + error.reason
                               + "; check with the recipient, then retry or cancel")
            log.warning("row %d: delivery unknown (%s)", msg.id, error.reason, extra=extra)
        else:  # transient, or ambiguous under the resend policy
            outcome = engine.retry_later(conn, msg, error.reason, backoff=self.backoff)
            if outcome.status is engine.Status.FAILED:
                self.failed += 1
                log.warning("row %d failed: attempts exhausted (%s)", msg.id, error.reason,
                            extra=extra)
            else:
                self.retried += 1
                log.warning("row %d will be retried at %s: %s", msg.id,
                            outcome.available_at.astimezone(UTC).isoformat()
                            if isinstance(outcome.available_at, datetime) else "?",
                            error.reason, extra=extra)
