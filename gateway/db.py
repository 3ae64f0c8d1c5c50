"""The gateway's own statements (gateway/sql/gateway.sql), one small function each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from gateway.events import Inbound, Receipt
from outbox.engine import ClaimedMessage, Conn, Sent
from outbox.sql import QueryFile

_q = QueryFile("gateway", "gateway.sql")


def _row(conn: Conn, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    with conn.cursor() as cur:
        cur.execute(_q(name), params)
        return cur.fetchone()


def try_session_lock(conn: Conn, session: str) -> bool:
    row = _row(conn, "try_session_lock", {"session": session})
    return bool(row and row[0])


def session_lock_holder(conn: Conn, session: str) -> str:
    row = _row(conn, "session_lock_holder", {"session": session})
    if row is None:
        return "an unknown process"
    pid, app, addr, started = row
    where = f" from {addr}" if addr else ""
    since = started.isoformat(timespec="seconds")
    return f"{app or 'a client'} (server pid {pid}{where}, connected since {since})"


def session_lock_pid(conn: Conn, session: str) -> int | None:
    """The server pid of the connection holding the session lock, if any."""
    row = _row(conn, "session_lock_pid", {"session": session})
    return None if row is None else int(row[0])


def take_over(conn: Conn, session: str, stale: timedelta) -> list[int]:
    """Terminate the session lock holder's connection if the session's heartbeat is older than
    ``stale``; the pids terminated (none when the heartbeat is fresh)."""
    with conn.cursor() as cur:
        cur.execute(_q("take_over"), {"session": session, "stale": stale})
        return [int(r[0]) for r in cur.fetchall()]


def heartbeat_age(conn: Conn, session: str) -> float | None:
    row = _row(conn, "heartbeat_age", {"session": session})
    return None if row is None or row[0] is None else float(row[0])


def set_state(conn: Conn, session: str, state: str, detail: str | None = None, *,
              lock_pid: int | None = None) -> bool:
    """Record the state; with ``lock_pid`` only while that backend holds the session lock
    (``False`` when the fence refused it)."""
    return _row(conn, "set_state", {"session": session, "state": state, "detail": detail,
                                    "lock_pid": lock_pid}) is not None


def set_jid(conn: Conn, session: str, jid: str) -> None:
    with conn.cursor() as cur:
        cur.execute(_q("set_jid"), {"session": session, "jid": jid})


def heartbeat(conn: Conn, session: str, *, lock_pid: int | None = None) -> bool:
    """Beat; with ``lock_pid`` only while that backend holds the session lock."""
    return _row(conn, "heartbeat", {"session": session, "lock_pid": lock_pid}) is not None


def start_sends(conn: Conn, msgs: Sequence[ClaimedMessage], *, lease: timedelta,
                lock_pid: int, settle: Sequence[Sent] = ()) -> set[int]:
    """Settle ``settle`` (earlier sends, any claim), then start the chunk ``msgs`` (rows of one
    claim, in claim order): its first row is marked in flight (it stands for the chunk, see
    ``release_orphans``) and its lease renewed, only while the session lock is held by
    ``lock_pid``. The ids that may be sent: the chunk's rows still leased by their claim;
    none when the fence refused or the first row's lease was lost (``settle`` is settled all
    the same). One statement, one commit, one row written besides the settles."""
    if not msgs:
        return set()
    with conn.cursor() as cur:
        cur.execute(_q("start_send"), {
            "id": [m.id for m in msgs], "token": [m.claim_token for m in msgs],
            "session": msgs[0].session_name, "lease": lease, "lock_pid": lock_pid,
            "sent_id": [s.id for s in settle], "sent_token": [s.claim_token for s in settle],
            "wa_message_id": [s.wa_message_id for s in settle],
            "sent_at": [s.sent_at for s in settle]})
        return {int(row[0]) for row in cur.fetchall()}


def start_send(conn: Conn, msg: ClaimedMessage, *, lease: timedelta, lock_pid: int,
               settle: Sequence[Sent] = ()) -> bool:
    """:func:`start_sends` for one row: ``False``, do not send it."""
    return msg.id in start_sends(conn, [msg], lease=lease, lock_pid=lock_pid, settle=settle)


def renew_lease(conn: Conn, token: UUID, lease: timedelta) -> int:
    """Renew the lease of a claim's rows still being worked on; how many."""
    with conn.cursor() as cur:
        cur.execute(_q("renew_lease"), {"token": token, "lease": lease})
        return len(cur.fetchall())


@dataclass(frozen=True)
class Orphans:
    back: int  # never handed to WhatsApp: pending again, attempt not counted
    resent: int  # in flight (delivery unknown) under the resend policy: pending, attempt counted
    failed: int  # in flight under the hold policy, or attempts used up


def release_orphans(conn: Conn, session: str, *, policy: str, why: str) -> Orphans:
    """Give back every row of ``session`` still ``sending`` (call it holding the lock)."""
    with conn.cursor() as cur:
        cur.execute(_q("release_orphans"), {"session": session, "policy": policy, "why": why})
        rows = cur.fetchall()
    failed = sum(1 for r in rows if r[1] == "failed")
    resent = sum(1 for r in rows if r[1] == "pending" and r[3])
    return Orphans(back=len(rows) - failed - resent, resent=resent, failed=failed)


def pause(conn: Conn, session: str, length: timedelta, reason: str) -> datetime | None:
    """Pause sending for the session; returns the end of the pause."""
    row = _row(conn, "pause", {"session": session, "pause": max(length, timedelta(0)),
                               "reason": reason})
    return None if row is None else row[0]


@dataclass(frozen=True)
class PauseState:
    paused_until: datetime | None
    reason: str | None
    now: datetime


def pause_state(conn: Conn, session: str) -> PauseState | None:
    row = _row(conn, "pause_state", {"session": session})
    return None if row is None else PauseState(*row)


def store_inbound(conn: Conn, session: str, messages: list[Inbound]) -> int:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_q("store_inbound"), {
            "session": session,
            "chat": [m.chat for m in messages],
            "sender": [m.sender for m in messages],
            "wa_message_id": [m.wa_message_id for m in messages],
            "text": [m.text for m in messages],
            "from_me": [m.from_me for m in messages],
            "received_at": [m.received_at for m in messages],
        })
        return len(cur.fetchall())


def store_receipt(conn: Conn, session: str, receipt: Receipt) -> int:
    name = "receipt_read" if receipt.kind == "read" else "receipt_delivered"
    with conn.cursor() as cur:
        cur.execute(_q(name), {"session": session, "ids": list(receipt.ids), "at": receipt.at})
        return len(cur.fetchall())


def purge_retention(conn: Conn, *, sent: timedelta | None, failed: timedelta | None,
                    batch: int = 5000, max_batches: int = 20) -> int:
    """The scheduled purge: finished rows past their status's age (``None`` keeps the status),
    in batches (at most ``max_batches`` per call: the send loop runs it, the rest waits for the
    next call); then the pacing history older than 48 hours. The rows deleted."""
    total = 0
    if sent is not None or failed is not None:
        never = timedelta(days=365_000)
        for _ in range(max_batches):
            with conn.cursor() as cur:
                cur.execute(_q("purge_retention"), {"sent": sent or never,
                                                    "failed": failed or never, "batch": batch})
                total += cur.rowcount
                if cur.rowcount < batch:
                    break
    with conn.cursor() as cur:
        cur.execute(_q("purge_send_log"))
    return total


@dataclass(frozen=True)
class Unserved:
    session: str
    waiting: int
    oldest_id: int
    oldest_due: datetime


def unserved_sessions(conn: Conn, session: str, after: timedelta) -> list[Unserved]:
    """Other sessions with messages due longer than ``after`` that no gateway serves."""
    with conn.cursor() as cur:
        cur.execute(_q("unserved_sessions"), {"session": session, "after": after})
        return [Unserved(*row) for row in cur.fetchall()]
