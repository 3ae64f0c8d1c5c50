"""Sleep until a NOTIFY, a wake-up or a timeout: the one waiting primitive of both processes.

The gateway sleeps on its LISTEN connection between turns (``wa_outbox``); the producers'
scheduler sleeps on its own until the next slot or a job's wake channel (``wa_inbox``). Both use
:class:`NotifyWaiter`: one ``select`` on the LISTEN socket and a self-pipe, which
:meth:`~NotifyWaiter.wake` (another thread) and, once :meth:`~NotifyWaiter.install_signal_wakeup`
was called, any signal (SIGTERM) write to. The LISTEN socket is always watched, so a lost
connection is noticed at once, whatever the wait: :meth:`~NotifyWaiter.wait` returns early and
it (or the next call, when the server's last message and the end of the connection came apart)
raises :class:`psycopg.OperationalError`, as :meth:`~NotifyWaiter.drain` does.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from types import TracebackType
from typing import Any

import psycopg


class NotifyWaiter:
    """Waits on one LISTEN connection (autocommit, LISTEN already issued, used for nothing else
    while waiting). Returns the channels that notified."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._old_wakeup: int | None = None
        self._closed = False
        # Notifications psycopg already read (e.g. in the reply to LISTEN) wait in its backlog.
        self._pending = {n.channel for n in conn.notifies(timeout=0)}

    def install_signal_wakeup(self) -> None:
        """Wake on any signal (SIGTERM) too; only possible from the main thread (a no-op
        elsewhere)."""
        if threading.current_thread() is threading.main_thread():
            self._old_wakeup = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)

    def wake(self) -> None:
        """End the current (or next) :meth:`wait` early; safe from any thread."""
        if self._closed:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._w, b"x")

    def wait(self, seconds: float) -> set[str]:
        """Sleep up to ``seconds``; the channels that notified (empty after a wake-up or the
        timeout)."""
        if self._pending:
            return self.drain()
        fds = [self._r, self.conn.fileno()]
        try:
            ready, _, _ = select.select(fds, [], [], max(0.0, seconds))
        except InterruptedError:
            ready = []
        if self._r in ready:
            with contextlib.suppress(BlockingIOError, OSError):
                while os.read(self._r, 512):
                    pass
        return self.drain()

    def drain(self) -> set[str]:
        """The channels of the notifications the socket holds now, without waiting. Raises
        :class:`psycopg.OperationalError` when the connection is gone."""
        pgconn = self.conn.pgconn
        pgconn.consume_input()
        if select.select([pgconn.socket], [], [], 0)[0]:
            # More already: notifications that came meanwhile, or the end of a session the
            # server terminated (its FATAL message came first): this read raises at once.
            pgconn.consume_input()
        channels, self._pending = self._pending, set()
        while (notify := pgconn.notifies()) is not None:
            channels.add(notify.relname.decode())
        return channels

    def close(self) -> None:
        """Restore the previous signal wake-up and close the pipe (not the connection)."""
        if self._closed:
            return
        self._closed = True
        if self._old_wakeup is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            self._old_wakeup = None
        os.close(self._r)
        os.close(self._w)

    def __enter__(self) -> NotifyWaiter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
