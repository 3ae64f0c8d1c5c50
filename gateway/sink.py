"""The event sink thread: writes transport events to PostgreSQL.

Inbound messages go to ``wa_inbox`` (``ON CONFLICT DO NOTHING``: a redelivery is stored once);
receipts set ``delivered_at``/``read_at``; state changes update ``wa_session``, pause the session
and raise admin alerts; the groups the number is in go to ``wa_group_member`` (the pool of
numbers: the whole set on each connect, one group per group event). A database outage never
drops an event: the sink keeps it, reconnects and tries again.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from gateway import db, pairing, pool
from gateway.alerts import alert
from gateway.config import GatewaySettings
from gateway.events import (
    Event,
    EventQueue,
    GroupMembership,
    Inbound,
    JoinedGroups,
    QrCode,
    Raw,
    Receipt,
    StateChange,
)
from outbox.db import connect
from outbox.logs import mask_phone

log = logging.getLogger(__name__)

_BATCH = 500


def render_qr(code: str) -> None:
    """Print the pairing QR in the terminal (and log the code itself)."""
    try:
        import segno

        segno.make_qr(code).terminal(out=sys.stdout, compact=True)
    except Exception:
        log.exception("cannot render the QR code")
    print("Scan with WhatsApp > Linked devices > Link a device", flush=True)
    log.warning("pairing QR code issued", extra={"qr": code})


class Sink:
    def __init__(self, settings: GatewaySettings, events: EventQueue,
                 on_state: Callable[[StateChange], None] | None = None,
                 fence: Callable[[], int | None] | None = None) -> None:
        self.settings = settings
        self.events = events
        self.on_state = on_state
        # the backend holding the session lock for this process (None: not held now); state
        # changes are recorded only while it holds it (a fenced process writes no state)
        self.fence = fence
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wa-sink", daemon=True)
        self._conn: psycopg.Connection[Any] | None = None
        self.stored = 0
        self.failed_batches = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Write what is queued (up to ``timeout``), then end the thread."""
        self._stop.set()
        self._thread.join(timeout)
        if self._conn is not None and not self._thread.is_alive():
            self._conn.close()

    # ------------------------------------------------------------------ loop
    def _run(self) -> None:
        while True:
            try:
                first = self.events.queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            batch = [first]
            while len(batch) < _BATCH:
                try:
                    batch.append(self.events.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle_batch(batch)
            except Exception:
                log.exception("event sink: an event could not be handled (logged here)")

    def _expand(self, batch: list[Event]) -> list[Event]:
        out: list[Event] = []
        for item in batch:
            if isinstance(item, Raw):
                try:
                    out.extend(item.translate())
                except Exception:
                    log.exception("cannot decode a WhatsApp event")
            else:
                out.append(item)
        return out

    def _handle_batch(self, batch: list[Event]) -> None:
        items = self._expand(batch)
        inbound = [e for e in items if isinstance(e, Inbound)]
        if inbound:
            self._with_db(lambda conn: self._store_inbound(conn, inbound))
        for item in items:
            if isinstance(item, Receipt):
                self._with_db(lambda conn, r=item: self._receipt(conn, r))  # type: ignore[misc]
            elif isinstance(item, StateChange):
                self._with_db(lambda conn, s=item: self._state(conn, s))  # type: ignore[misc]
            elif isinstance(item, QrCode):
                render_qr(item.code)
                self._with_db(lambda conn, q=item: self._qr(conn, q))  # type: ignore[misc]
            elif isinstance(item, JoinedGroups):
                self._with_db(lambda conn, g=item: self._groups(conn, g))  # type: ignore[misc]
            elif isinstance(item, GroupMembership):
                self._with_db(lambda conn, m=item: self._membership(conn, m))  # type: ignore[misc]

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.settings.database_url,
                                 application_name=f"wa-gateway-sink:{self.settings.session_name}")
        return self._conn

    def _with_db(self, work: Callable[[psycopg.Connection[Any]], None]) -> None:
        """Run ``work`` until it succeeds; only a refusal of the data itself gives up."""
        delay = 0.5
        while True:
            try:
                work(self._connection())
                return
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.error("event sink: database unavailable (%s); retrying in %.1f s", exc, delay)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
            except psycopg.Error:
                self.failed_batches += 1
                log.exception("event sink: the database refused an event; it is logged here")
                return

    # ------------------------------------------------------------------ writers
    def _store_inbound(self, conn: psycopg.Connection[Any], inbound: list[Inbound]) -> None:
        try:
            stored = db.store_inbound(conn, self.settings.session_name, inbound)
        except psycopg.DataError:
            # e.g. a NUL character: store a cleaned copy rather than lose the message
            cleaned = [Inbound(m.chat.replace("\x00", ""), m.sender.replace("\x00", ""),
                               m.wa_message_id.replace("\x00", ""), m.text.replace("\x00", ""),
                               m.from_me, m.received_at) for m in inbound]
            stored = db.store_inbound(conn, self.settings.session_name, cleaned)
        self.stored += stored
        if stored:
            log.info("stored %d incoming message(s)", stored)

    def _qr(self, conn: psycopg.Connection[Any], qr: QrCode) -> None:
        """The state and the code in one transaction: the status page draws it from there."""
        with conn.transaction():
            db.set_state(conn, self.settings.session_name, "pairing", "waiting for the QR scan")
            pairing.store_qr(conn, self.settings.session_name, qr.code)

    def _groups(self, conn: psycopg.Connection[Any], groups: JoinedGroups) -> None:
        session = self.settings.session_name
        lock_pid = None if self.fence is None else (self.fence() or -1)
        done = pool.record_groups(conn, session, groups.groups, lock_pid=lock_pid)
        if done is None:
            log.warning("session %s: its groups were not recorded: this process does not hold "
                        "the session lock", session)
            return
        log.info("session %s: member of %d group(s), recorded (%d no longer)", session,
                 len(groups.groups), done[0])

    def _membership(self, conn: psycopg.Connection[Any], change: GroupMembership) -> None:
        session = self.settings.session_name
        changed = pool.record_membership(conn, session, change.group, change.member)
        if changed:
            log.info("session %s: %s %s", session, change.detail
                     or ("joined" if change.member else "left"), change.group)

    def _receipt(self, conn: psycopg.Connection[Any], receipt: Receipt) -> None:
        db.store_receipt(conn, self.settings.session_name, receipt)

    def _state(self, conn: psycopg.Connection[Any], change: StateChange) -> None:
        session = self.settings.session_name
        level = (logging.INFO if change.state in ("starting", "connected", "pairing")
                 and not change.alert else logging.WARNING)
        log.log(level, "session %s: %s (%s)", session, change.state, change.detail or "")
        # One transaction: whoever sees the new state (an operator, a monitor, the test suite)
        # also sees its pause and its admin alert, and a crash between them cannot record the
        # state but lose the alert (a restart would not raise it again).
        with conn.transaction():
            lock_pid = None if self.fence is None else (self.fence() or -1)
            if not db.set_state(conn, session, change.state, change.detail, lock_pid=lock_pid):
                log.warning("session %s: state %s not recorded: this process does not hold "
                            "the session lock", session, change.state)
                if self.on_state is not None:
                    self.on_state(change)
                return
            if change.jid:
                db.set_jid(conn, session, change.jid)
            if change.jid or change.state == "connected":
                pairing.clear_qr(conn, session)  # paired: the page stops showing the code
            available_at = None
            if change.pause_until is not None:
                available_at = db.pause(conn, session,
                                        change.pause_until - datetime.now(UTC),
                                        change.detail or change.state)
            if change.alert:
                text = change.detail or change.state
                if change.jid:
                    text = text.replace(change.jid, mask_phone(change.jid))
                self._alert(conn, change.alert, text, available_at)
        if self.on_state is not None:
            self.on_state(change)
        self.events.wake()

    def _alert(self, conn: psycopg.Connection[Any], kind: str, text: str,
               available_at: datetime | None) -> None:
        """The alert in a savepoint: should the database refuse it, the state change it belongs
        to is still recorded (the alert is in the log either way)."""
        try:
            with conn.transaction():
                alert(conn, self.settings, kind, text, available_at=available_at)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise  # the connection is gone: the whole change is tried again
        except psycopg.Error:
            log.exception("event sink: the %s alert could not be enqueued", kind)
