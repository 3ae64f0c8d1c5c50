"""The pairing QR code in the database, for the status page (``python -m outbox web``).

The event sink calls :func:`store_qr` when neonize issues a QR code, and :func:`clear_qr` when
the pairing succeeds or the session connects, so the page never shows a code that can no
longer be scanned. The SQL is in gateway/sql/pairing.sql.
"""

from __future__ import annotations

from outbox.engine import Conn
from outbox.sql import QueryFile

_q = QueryFile("gateway", "pairing.sql")


def store_qr(conn: Conn, session: str, code: str) -> None:
    """Record ``code`` as the session's current pairing QR (replacing the previous one)."""
    with conn.cursor() as cur:
        cur.execute(_q("store_qr"), {"session": session, "code": code})


def clear_qr(conn: Conn, session: str) -> None:
    """Forget the session's pairing QR (paired, connected or logged in again)."""
    with conn.cursor() as cur:
        cur.execute(_q("clear_qr"), {"session": session})
