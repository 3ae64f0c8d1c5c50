"""The status page on a real uvicorn server on 127.0.0.1 (a free port), in a thread, and the rows
the page tests put in the database."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import uvicorn

from outbox import engine
from outbox.web.app import create_app
from outbox.web.settings import WebSettings
from tests.gateway_helpers import wait_for


@contextmanager
def serve(settings: WebSettings) -> Iterator[str]:
    """Serve the page for ``settings``; yields its base URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web",
                              daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: server.started, timeout=15), "the web server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        assert not thread.is_alive(), "the web server did not stop"


TOKEN = "s3cret-token-for-the-tests"
PHONE = "081234567890"
JID = "6281234567890@s.whatsapp.net"
QR = "2@Qm9ndXMgcGFpcmluZyByZWYgZm9yIHRlc3Rz,dGVzdC1ub2lzZS1rZXk=,aWRlbnRpdHkta2V5,YWR2LXNlY3JldA=="


def basic(token: str = TOKEN, user: str = "operator") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def session_row(conn: psycopg.Connection[Any], name: str = "main", *, state: str = "connected",
                jid: str | None = JID, qr: str | None = None) -> None:
    engine.register_session(conn, name)
    conn.execute("UPDATE wa_session SET state = %s, jid = %s, pairing_qr = %s, "
                 "pairing_qr_at = CASE WHEN %s::text IS NULL THEN NULL ELSE now() END, "
                 "heartbeat_at = now() WHERE name = %s", (state, jid, qr, qr, name))


def insert(conn: psycopg.Connection[Any], content: str = "Selamat pagi", *,
           type_: str = "daily_report", status: str = "pending", error: str | None = None,
           session: str = "main") -> int:
    row = conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type, session_name) VALUES (%s, %s, %s, %s) "
        "RETURNING id", (PHONE, content, type_, session)).fetchone()
    assert row is not None
    msg_id: int = row[0]
    if status == "failed":
        conn.execute("UPDATE wa_outbox SET status = 'failed', finished_at = now(), attempts = 5, "
                     "last_error = %s WHERE id = %s", (error or "no LID found for " + JID, msg_id))
    elif status == "sent":
        conn.execute("UPDATE wa_outbox SET status = 'sent', sent_at = now(), finished_at = now(),"
                     " send_started_at = now() - interval '2 seconds', attempts = 1,"
                     " created_at = now() - interval '90 seconds' WHERE id = %s", (msg_id,))
    return msg_id


def status_of(conn: psycopg.Connection[Any], msg_id: int) -> str:
    row = conn.execute("SELECT status FROM wa_outbox WHERE id = %s", (msg_id,)).fetchone()
    assert row is not None
    value: str = row[0]
    return value
