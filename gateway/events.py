"""Events from the transport (state, inbound messages, receipts) and the queue they travel on.

Transport callbacks (neonize calls them on its Go event goroutine) only put items on an
:class:`EventQueue` and return; the sink thread (gateway/sink.py) writes them to the database.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class StateChange:
    """The session's state changed. ``alert`` names an admin alert to raise, if any."""

    state: str  # starting | pairing | connected | disconnected | logged_out | banned | replaced
    detail: str | None = None
    alert: str | None = None
    pause_until: datetime | None = None
    jid: str | None = None


@dataclass(frozen=True)
class QrCode:
    code: str


@dataclass(frozen=True)
class Inbound:
    chat: str
    sender: str
    wa_message_id: str
    text: str
    from_me: bool
    received_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    ids: tuple[str, ...]
    kind: str  # delivered | read
    at: datetime | None


@dataclass(frozen=True)
class JoinedGroups:
    """Every group the session's number is a member of (asked on each connect): the recorded set
    is replaced by this one."""

    groups: tuple[str, ...]


@dataclass(frozen=True)
class GroupMembership:
    """The number joined (``member``) or left / was removed from one group (a group event)."""

    group: str
    member: bool
    detail: str = ""


@dataclass(frozen=True)
class Raw:
    """An event still in its transport's form, translated on the sink thread (not the callback)."""

    translate: Callable[[], list[Event]] = field(repr=False)


Event = StateChange | QrCode | Inbound | Receipt | JoinedGroups | GroupMembership | Raw


class EventQueue:
    """An unbounded ``queue.Queue`` of events plus a hook that wakes the sending loop."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.queue: queue.Queue[Event] = queue.Queue()
        self._wake = wake

    def put(self, event: Event) -> None:
        self.queue.put_nowait(event)

    def state(self, state: str, detail: str | None = None, **kwargs: object) -> None:
        self.put(StateChange(state, detail, **kwargs))  # type: ignore[arg-type]

    def wake(self) -> None:
        if self._wake is not None:
            self._wake()
