"""The sending loop: one turn after another until a stop is requested.

Each turn: housekeeping (expired leases, heartbeat, once a second), then nothing while the
session is not connected or is paused (:mod:`gateway.session`), then pacing
(:mod:`gateway.pacing`), then a claim (one row with pacing on, a batch with pacing off), the
sends outside any transaction, and what each outcome does to its row (:mod:`gateway.outcome`,
carried out by :mod:`gateway.settle`). Between turns the loop sleeps on the LISTEN socket (NOTIFY
wakes it in milliseconds), a self-pipe (signals and session state changes) and a timer: the next
``available_at`` (pushed back by the per-recipient gap), the next expiring lease, and the
``WA_GATEWAY_POLL_CRON`` poll.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway import db
from gateway.alerts import alert
from gateway.config import GatewaySettings, next_poll
from gateway.outcome import Action, Sent, decide
from gateway.pacing import Pacer
from gateway.sending import SendError, SendResult, Transport, validate
from gateway.session import LockLost, Session
from gateway.settle import Settlements
from gateway.watchdog import Watchdog
from outbox import engine
from outbox.engine import ClaimedMessage, Conn, ExpiredLeasePolicy
from outbox.exitcodes import ExitCode
from outbox.lifecycle import StopFlag
from outbox.logs import mask_phone
from outbox.notify import NotifyWaiter

log = logging.getLogger(__name__)

_HOUSEKEEPING_SECONDS = 1.0
# With pacing off one statement settles the sends before it, marks a chunk of rows in flight and
# checks the fence. A chunk lasts at most this long: a send whose chunk started earlier starts a
# new one first. So the rows of the current chunk sent but not settled are at most those of the
# last 50 ms (besides the previous full batch, which the settle thread is committing), and a
# process frozen past the takeover threshold sends nothing more when it resumes. A fast drain
# (10,000 sends a second) is not slowed.
CHUNK_SECONDS = 0.05
_WIB = ZoneInfo("Asia/Jakarta")
# While only the budgets' reserve is left and no answer or alert is claimable, look again this
# often: a NOTIFY brings a new one at once, but one held back by its recipient's gap becomes
# claimable without any (two cheap queries a poll).
_RESERVE_POLL_SECONDS = 5.0


def wib(at: datetime) -> str:
    """An operator-facing time: ``2026-12-01 08.30 WIB``."""
    return at.astimezone(_WIB).strftime("%Y-%m-%d %H.%M WIB")


class SendLoop:
    def __init__(self, settings: GatewaySettings, conn: Conn, transport: Transport,
                 session: Session, pacer: Pacer, settle: Settlements, waiter: NotifyWaiter,
                 stop: StopFlag, *, once: bool = False, watchdog: Watchdog | None = None) -> None:
        self.settings = settings
        self.conn = conn
        self.transport = transport
        self.session = session
        self.pacer = pacer
        self.settle = settle
        self.waiter = waiter
        self.stop = stop
        self.once = once
        self.policy = ExpiredLeasePolicy(settings.outbox.expired_lease_policy)
        self.watchdog = watchdog
        self._renewed_at = 0.0
        self._purged_at: float | None = None
        self._unserved_at = 0.0
        self._last_housekeeping = 0.0
        # The fake transports record each send themselves (a log line, a JSON line).
        self._send_log_level = logging.INFO if transport.name == "neonize" else logging.DEBUG

    def run(self) -> ExitCode:
        conn, waiter, heartbeat = self.conn, self.waiter, self.settings.heartbeat.total_seconds()
        while not self.stop.is_set():
            if self.watchdog is not None:
                self.watchdog.progress()
            self._housekeeping()
            if not self.session.ready(conn):
                limit = self.settings.ready_timeout.total_seconds()
                if self.once and self.session.not_ready_for() > limit:
                    log.error("the WhatsApp session is not connected after %.0f s; nothing sent "
                              "(pair it first with `make run-gateway`)", limit)
                    return ExitCode.CRASHED
                self.settle.flush()
                waiter.wait(1.0)
                continue
            paused = self.session.paused(conn)
            if paused is not None and paused.paused_until is not None:
                if self.once:
                    log.warning("session paused until %s (%s): nothing more sent",
                                paused.paused_until.isoformat(), paused.reason)
                    return ExitCode.OK
                remaining = (paused.paused_until - paused.now).total_seconds()
                self.settle.flush()
                waiter.wait(min(remaining, heartbeat))
                self.session.recheck_pause()
                continue
            seconds, reason = self.pacer.delay(conn)
            if seconds > 0:
                if self.once and reason != "gap":
                    log.warning("pacing: %s reached; nothing more sent now", reason)
                    return ExitCode.OK
                log.debug("pacing: waiting %.1f s (%s)", seconds, reason)
                waiter.wait(min(seconds, heartbeat))
                continue
            batch = self.pacer.claim(conn, worker=self.settings.worker_id,
                                     lease=self.settings.outbox.lease)
            if not batch:
                if self.settle.busy() or self.settle.unsettled:
                    self.settle.flush()  # unsettled rows hold their recipients' next rows
                    continue
                if self.pacer.reserve_wait is not None:
                    # only the budgets' reserve is left and no answer or alert is due: the
                    # rest waits until the budget frees (a NOTIFY brings a new answer sooner)
                    if self.once:
                        log.warning("pacing: only the reserve for answers and alerts is left "
                                    "(WA_RESERVE_PER_HOUR/_PER_DAY); nothing more sent now")
                        return ExitCode.OK
                    wait = self.pacer.reserve_wait
                    log.debug("pacing: waiting %.1f s (reserve)", wait)
                    waiter.wait(min(wait + 0.005, heartbeat, _RESERVE_POLL_SECONDS))
                    continue
                if self.once:
                    return ExitCode.OK
                self._idle_wait()
                continue
            self._send_batch(batch)
        return ExitCode.OK

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < _HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = now
        # also while busy sending: if the LISTEN connection, which holds the session lock, is
        # gone, this raises and the process exits (1) instead of running on without it
        self.waiter.drain()
        engine.release_expired(self.conn, policy=self.policy, session=self.session.name)
        engine.expire_due(self.conn, session=self.session.name)  # past expires_at: expired
        self.session.heartbeat(self.conn)
        self._purge(now)
        self._unserved(now)

    def _unserved(self, now: float) -> None:
        """Once a minute: alert (once per stall) about messages due on a session nobody
        serves (WA_UNSERVED_ALERT_SECONDS)."""
        after = self.settings.unserved_alert
        if after <= timedelta(0) or self.once or now - self._unserved_at < 60.0:
            return
        self._unserved_at = now
        for stall in db.unserved_sessions(self.conn, self.session.name, after):
            alert(self.conn, self.settings, "unserved",
                  f"{stall.waiting} message(s) for session {stall.session} wait, the oldest "
                  f"due since {wib(stall.oldest_due)}, and no gateway serves that session "
                  "(start its gateway, or correct the messages' session_name)",
                  once_key=f"{stall.session}:{stall.oldest_id}")

    def _purge(self, now: float) -> None:
        """The scheduled purge (WA_PURGE_EVERY_HOURS): at start, then every so often."""
        every = self.settings.purge_every.total_seconds()
        if every <= 0 or self.once or (self._purged_at is not None
                                       and now - self._purged_at < every):
            return
        self._purged_at = now
        sent, failed = self.settings.retention_sent, self.settings.retention_failed
        deleted = db.purge_retention(self.conn, sent=sent or None, failed=failed or None)
        if deleted:
            log.info("purge: %d finished message(s) deleted (sent older than %s, failed or "
                     "cancelled older than %s)", deleted,
                     f"{sent.days} days" if sent else "never",
                     f"{failed.days} days" if failed else "never")

    def _idle_wait(self) -> None:
        if self.waiter.drain():
            return  # a NOTIFY came in while we were busy: claim again at once
        now, wake_at = self.pacer.next_wake(self.conn)
        timeout = (next_poll(self.settings.poll_cron, now) - now).total_seconds()
        if wake_at is not None:
            due = (wake_at - now).total_seconds()
            timeout = min(timeout, due + 0.005 if due > 0 else 0.5)
        timeout = min(timeout, self.settings.heartbeat.total_seconds())
        self.waiter.wait(timeout)

    def _send_batch(self, batch: list[ClaimedMessage]) -> None:
        self._renewed_at = time.monotonic()
        lease = self.settings.outbox.lease
        started: set[int] = set()
        fenced_at = 0.0
        halted = False
        for index, msg in enumerate(batch):
            if self.stop.is_set():
                self._give_back(batch[index:])
                halted = True
                break
            if time.monotonic() - self._renewed_at > lease.total_seconds() / 3:
                # a long batch: the rows still to be sent keep their lease (nobody takes back
                # rows this process is still working on)
                db.renew_lease(self.conn, msg.claim_token, lease)
                self._renewed_at = time.monotonic()
            if msg.id not in started or time.monotonic() - fenced_at > CHUNK_SECONDS:
                # the fence, checked before every chunk (one row with pacing on), and a new
                # chunk once this one is older than CHUNK_SECONDS
                started = self._start(self.chunk(batch, index))
                fenced_at = time.monotonic()
                if msg.id not in started:
                    log.warning("lease lost before the send; skipped", extra={"outbox_id": msg.id})
                    continue
            action = self._process(msg)
            if action.halts_batch:  # halted: the session is throttled or not connected
                if index + 1 < len(batch):
                    self._give_back(batch[index + 1:])
                halted = True
                break
            if not isinstance(action, Sent):
                # its settle settled the chunk's sends (and their mark): the next send starts
                # a new chunk, so the rows still to be sent are marked again
                started = set()
        # A full batch (bulk drain): its settle is committed by the settle thread while the
        # next batch is claimed and its first chunk started. Anything else is settled now.
        self.settle.flush(wait=halted or len(batch) < self.settings.claim_batch)

    def chunk(self, batch: list[ClaimedMessage], index: int) -> list[ClaimedMessage]:
        """The rows from ``batch[index]`` that one statement marks in flight (and fences).

        One row with pacing on, under the ``hold`` policy (a crash would fail every row of the
        chunk as "delivery unknown", sent or not) and for a row on its second attempt or later
        (a row that may have killed the previous process is sent alone, so a poison row fails
        alone); with pacing off, else, the first-attempt rows that follow, at most the batch
        (``WA_CLAIM_BATCH``): a crash repeats at most those (and the previous full batch, if
        its settle was not committed yet). Only the first row is written
        (``start_send``); ``release_orphans`` counts the claim's other first-attempt rows with
        it."""
        first = batch[index]
        if (self.pacer.enabled or self.policy is ExpiredLeasePolicy.HOLD
                or first.attempts > 1):
            return [first]
        end = index + 1
        while end < len(batch) and batch[end].attempts <= 1:
            end += 1
        return batch[index:end]

    def _start(self, chunk: list[ClaimedMessage]) -> set[int]:
        """Settle the buffered sends and mark ``chunk`` in flight, fenced: the ids that may be
        sent. Raises :class:`LockLost` when this process no longer holds the session lock."""
        lock_pid = self.session.lock_pid
        if lock_pid is None:
            raise LockLost(f"session {self.session.name}: the session lock is not held")
        done = self.settle.take()
        try:
            started = db.start_sends(self.conn, chunk, lease=self.settings.outbox.lease,
                                     lock_pid=lock_pid, settle=done)
        except BaseException:
            self.settle.give_back(done)
            raise
        if not started and db.session_lock_pid(self.conn, self.session.name) != lock_pid:
            raise LockLost(f"session {self.session.name}: this process no longer holds the "
                           "session lock; nothing more is sent")
        return started

    def _give_back(self, rows: list[ClaimedMessage]) -> None:
        self.settle.release(rows)
        log.info("released %d claimed row(s) unsent", len(rows))

    def _process(self, msg: ClaimedMessage) -> Action:
        """Send one row (its chunk marked in flight) and settle what came of it; what was
        decided (``halts_batch``: stop the batch)."""
        result: SendResult | BaseException
        watchdog = self.watchdog
        for rider in msg.riders:  # coalesced texts: in flight with the row that carries them
            engine.mark_started(self.conn, rider)
        try:
            validate(msg)
            if watchdog is not None:
                watchdog.send_started(f"row {msg.id}")
            try:
                result = self.transport.send(msg)
            finally:
                if watchdog is not None:
                    watchdog.send_ended()
        except Exception as exc:
            if not isinstance(exc, SendError):
                log.error("unexpected error sending row %d: %s", msg.id,
                          f"{type(exc).__name__}: {exc}", exc_info=exc,
                          extra={"outbox_id": msg.id})
            result = exc
        else:
            if log.isEnabledFor(self._send_log_level):  # a bulk drain skips building the line
                log.log(self._send_log_level, "sent %s to %s%s", msg.type,
                        mask_phone(msg.recipient),
                        f" (carrying {len(msg.riders)} more text(s): "
                        f"{', '.join(str(r.id) for r in msg.riders)})" if msg.riders else "",
                        extra={"outbox_id": msg.id, "wa_message_id": result.wa_message_id,
                               "attempt": msg.attempts})
        action = decide(msg, result, policy=self.policy,
                        rate_limit_pause=self.settings.rate_limit_pause)
        self.settle.apply(msg, action)
        if isinstance(result, SendResult) and self.pacer.enabled:
            self.settle.flush()
            self.pacer.sent()
        return action
