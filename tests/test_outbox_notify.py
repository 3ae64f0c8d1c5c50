"""outbox.notify.NotifyWaiter: the wait-for-NOTIFY helper of the gateway and the scheduler."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from outbox.db import connect, listen
from outbox.notify import NotifyWaiter

Conn = psycopg.Connection[Any]


def test_wait_returns_the_channels_that_notified(db_url: str, conn: Conn) -> None:
    listener = connect(db_url, application_name="test-notify")
    listen(listener, "wa_outbox", "wa_inbox")
    with listener, NotifyWaiter(listener) as waiter:
        started = time.monotonic()
        assert waiter.wait(0.1) == set()  # the timeout
        assert time.monotonic() - started >= 0.09
        conn.execute("NOTIFY wa_inbox")
        conn.execute("NOTIFY wa_inbox")
        conn.execute("NOTIFY wa_outbox")
        time.sleep(0.1)
        assert waiter.wait(5) == {"wa_inbox", "wa_outbox"}
        assert waiter.drain() == set()


def test_a_notification_psycopg_already_read_is_not_lost(db_url: str, conn: Conn) -> None:
    listener = connect(db_url, application_name="test-notify")
    listen(listener, "wa_inbox")
    conn.execute("NOTIFY wa_inbox")
    time.sleep(0.1)
    listener.execute("SELECT 1")  # reads the notification into psycopg's backlog
    with listener, NotifyWaiter(listener) as waiter:
        assert waiter.wait(0) == {"wa_inbox"}


def test_wake_ends_a_wait_early_from_another_thread(db_url: str) -> None:
    listener = connect(db_url, application_name="test-notify")
    listen(listener, "wa_outbox")
    with listener, NotifyWaiter(listener) as waiter:
        timer = threading.Timer(0.1, waiter.wake)
        timer.start()
        started = time.monotonic()
        assert waiter.wait(10) == set()
        assert time.monotonic() - started < 5
        timer.join()


def test_a_lost_connection_raises_at_once(db_url: str, conn: Conn) -> None:
    listener = connect(db_url, application_name="test-notify-lost")
    listen(listener, "wa_outbox")
    with listener, NotifyWaiter(listener) as waiter:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'test-notify-lost'")
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):  # noqa: PT012
            # the server's FATAL message may come in one read and the end of the connection in
            # the next: a wait or two, each returning at once, never the 10 s
            for _ in range(3):
                waiter.wait(10)
        assert time.monotonic() - started < 5
