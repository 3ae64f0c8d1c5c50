"""Admin alerts: logged always, and enqueued as ``admin_alert`` rows for the admins' WhatsApp.

The dedupe key holds the alert kind, the admin and a time bucket (``WA_ALERT_WINDOW_SECONDS``),
so a flapping connection sends one message per kind per window, not one per flap.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from gateway.config import GatewaySettings
from outbox.engine import Conn, NewMessage, enqueue_many

log = logging.getLogger(__name__)

ALERT_PRIORITY = 100


def alert(conn: Conn, settings: GatewaySettings, kind: str, text: str, *,
          available_at: datetime | None = None, once_key: str | None = None) -> int:
    """Log the alert and enqueue it for each admin; returns how many rows were inserted.
    ``once_key`` replaces the time bucket: the alert goes out once for that key, ever."""
    log.warning("ALERT %s: %s", kind, text, extra={"alert": kind})
    if not settings.admins:
        return 0
    bucket = once_key or str(int(time.time() // settings.alert_window.total_seconds()))
    session = settings.session_name
    messages = [
        NewMessage(
            recipient=admin,
            content=f"[wa-gateway {session}] {text}",
            type="admin_alert",
            dedupe_key=f"wa-alert:{session}:{kind}:{admin}:{bucket}",
            priority=ALERT_PRIORITY,
            available_at=available_at,
            session_name=session,
            max_attempts=3,
        )
        for admin in settings.admins
    ]
    results = enqueue_many(conn, messages, skip_invalid=True)
    for result in results:
        if result.problem:
            log.error("admin number %r refused: %s", settings.admins[result.index],
                      result.problem)
    return sum(1 for r in results if r.inserted)
