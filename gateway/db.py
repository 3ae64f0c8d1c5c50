"""The gateway's own statements (gateway/sql/gateway.sql), one small function each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.events import Inbound, Receipt
from outbox.engine import Conn
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


def set_state(conn: Conn, session: str, state: str, detail: str | None = None) -> None:
    _row(conn, "set_state", {"session": session, "state": state, "detail": detail})


def set_jid(conn: Conn, session: str, jid: str) -> None:
    with conn.cursor() as cur:
        cur.execute(_q("set_jid"), {"session": session, "jid": jid})


def heartbeat(conn: Conn, session: str) -> None:
    with conn.cursor() as cur:
        cur.execute(_q("heartbeat"), {"session": session})


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
