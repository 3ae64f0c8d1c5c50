"""Settling: carrying out what :func:`gateway.outcome.decide` decided, and counting it.

Successful sends are buffered and settled together at each settle point: by the statement
that starts the next chunk (pacing off), and before any sleep, an empty claim, a failure, a
release, and at shutdown; with pacing on, after every send. With pacing off a
:class:`Settler` thread commits a full batch's settles on its own connection while the loop
claims the next batch and starts its first chunk: the rows sent but not settled are at most
that batch and the current chunk.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from gateway.outcome import Action, Fail, PauseSession, ReleaseUnattempted, Retry, Sent
from gateway.sending import Transport
from gateway.session import Session
from outbox import engine
from outbox.db import connect
from outbox.engine import Backoff, ClaimedMessage, Conn

log = logging.getLogger(__name__)


class Settler:
    """Commits the settles of a batch on its own connection while the loop claims and sends the
    next one (pacing off only). ``wait()`` is called before anything that needs them committed:
    any sleep, an empty claim, a failure, a release, shutdown."""

    def __init__(self, url: str, application_name: str) -> None:
        self._conn = connect(url, application_name=application_name)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wa-settle")
        self._futures: list[Future[set[int]]] = []
        # batches whose commit failed (the database went away): settled again after reconnecting
        self.unsettled: list[engine.Sent] = []

    def _commit(self, sent: list[engine.Sent]) -> set[int]:
        try:
            return engine.mark_sent_many(self._conn, sent)
        except BaseException:
            self.unsettled.extend(sent)
            raise

    def submit(self, sent: list[engine.Sent]) -> None:
        self._reap(block=False)
        self._futures.append(self._pool.submit(self._commit, sent))

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
            self.abandon()

    def abandon(self) -> None:
        """Stop the thread without raising (the database is gone); what it could not commit
        stays in :attr:`unsettled`."""
        self._pool.shutdown(wait=True)
        self._futures = []
        self._conn.close()


class Settlements:
    """The loop's settle points, on its connection (or the :class:`Settler`'s)."""

    def __init__(self, conn: Conn, transport: Transport, session: Session, backoff: Backoff,
                 settler: Settler | None = None) -> None:
        self.conn = conn
        self.transport = transport
        self.session = session
        self.backoff = backoff
        self.settler = settler
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self._pending: list[engine.Sent] = []

    def busy(self) -> bool:
        """Settles still being committed by the settle thread (they hold their recipients'
        next rows back)."""
        return self.settler is not None and self.settler.busy()

    def wait(self) -> None:
        """Wait until the settle thread committed what it was given."""
        if self.settler is not None:
            self.settler.wait()

    def attach(self, conn: Conn, settler: Settler | None) -> None:
        """A new connection (and settle thread) after a reconnection; the sends that could not
        be settled before the database went away are buffered again (settled by the next
        flush, before anything else is done with the session's rows)."""
        old = self.settler
        if old is not None:
            old.abandon()
            self._pending[:0] = old.unsettled
        self.conn = conn
        self.settler = settler

    def detach(self) -> None:
        """The database went away: keep what is unsettled, drop the settle thread."""
        if self.settler is not None:
            self.settler.abandon()
            self._pending[:0] = self.settler.unsettled
            self.settler.unsettled = []

    def take(self) -> list[engine.Sent]:
        """The buffered sends, handed to the caller to settle with its next statement (the
        send loop's ``start_send``, which settles each under its own claim token). What the
        settle thread has in hand (the previous full batch) is other rows: it goes on."""
        if not self._pending:
            return []
        self.transport.flush()  # the fake transports write their send log here
        pending, self._pending = self._pending, []
        return pending

    def give_back(self, sent: list[engine.Sent]) -> None:
        """``take`` was not settled after all (the statement failed): buffer them again."""
        self._pending[:0] = sent

    @property
    def unsettled(self) -> int:
        return len(self._pending)

    def flush(self, *, wait: bool = True) -> None:
        """Settle the buffered sends on the loop's connection (after whatever the settle thread
        holds); ``wait=False`` hands them to the settle thread instead."""
        self.transport.flush()
        if self._pending and not wait and self.settler is not None:
            pending, self._pending = self._pending, []
            self.settler.submit(pending)
            return
        self.wait()
        if self._pending:
            engine.mark_sent_many(self.conn, self._pending)  # raises: they stay buffered
            self._pending = []

    def release(self, rows: list[ClaimedMessage]) -> None:
        """Give claimed rows back unsent (stop requested, batch halted)."""
        self.flush()
        for msg in rows:
            for row in msg.rows:
                engine.release(self.conn, row)

    def apply(self, msg: ClaimedMessage, action: Action) -> None:
        """Carry out ``action`` for ``msg`` and the texts its message carried (coalescing:
        the same outcome for each, they were one WhatsApp message); a successful send is only
        buffered."""
        for row in msg.rows:
            self._apply(row, action)

    def _apply(self, msg: ClaimedMessage, action: Action) -> None:
        if isinstance(action, Sent):
            self.sent += 1
            self._pending.append(engine.Sent(msg.id, msg.claim_token, action.wa_message_id,
                                             action.sent_at))
            return
        self.flush()
        extra = {"outbox_id": msg.id, "attempt": msg.attempts, "failure": str(action.failure)}
        if isinstance(action, Fail):
            self.failed += 1
            engine.mark_failed(self.conn, msg, action.reason)
            if action.delivery_unknown:
                log.warning("row %d: delivery unknown (%s)", msg.id, action.cause, extra=extra)
            else:
                log.warning("row %d failed permanently: %s", msg.id, action.reason, extra=extra)
        elif isinstance(action, PauseSession):
            engine.release(self.conn, msg, delay=action.pause_for, reason=action.reason)
            self.session.pause(self.conn, action.pause_for, action.reason)
        elif isinstance(action, ReleaseUnattempted):
            engine.release(self.conn, msg, reason=action.reason)
            log.warning("row %d given back: session not ready (%s)", msg.id, action.reason,
                        extra=extra)
        else:
            self._retry(msg, action, extra)

    def _retry(self, msg: ClaimedMessage, action: Retry, extra: dict[str, object]) -> None:
        outcome = engine.retry_later(self.conn, msg, action.reason, backoff=self.backoff,
                                     delay=action.delay)
        if outcome.status is engine.Status.FAILED:
            self.failed += 1
            log.warning("row %d failed: attempts exhausted (%s)", msg.id, action.reason,
                        extra=extra)
        else:
            self.retried += 1
            log.warning("row %d will be retried at %s: %s", msg.id,
                        outcome.available_at.astimezone(UTC).isoformat()
                        if isinstance(outcome.available_at, datetime) else "?",
                        action.reason, extra=extra)

    def close(self) -> None:
        """Settle what is buffered and stop the settle thread (shutdown)."""
        try:
            self.flush()
        except Exception:
            log.exception("could not settle the last sends (their leases will expire)")
        if self.settler is not None:
            try:
                self.settler.close()
            except Exception:
                log.exception("could not settle the last sends (their leases will expire)")
            self.settler = None
