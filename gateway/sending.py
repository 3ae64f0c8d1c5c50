"""The transport port: what a send returns, how it fails, and the check a row passes first.

A transport sends one claimed row. It raises :class:`SendError` (or any exception carrying
whatsmeow's error text); :func:`classify` turns the text into a :class:`Failure` class, from
which :func:`gateway.outcome.decide` decides what becomes of the row. Both the fake transports
(gateway/transport.py) and the neonize one (gateway/wa.py) build on this module; wa.py never
imports transport.py, whose :func:`~gateway.transport.make_transport` picks one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gateway.events import EventQueue
from outbox.engine import ClaimedMessage


class Failure(StrEnum):
    TRANSIENT = "transient"  # retry with backoff (the attempt counts)
    PERMANENT = "permanent"  # failed at once with the reason
    PAUSE = "pause"  # the session is throttled: give the row back, pause the whole session
    AMBIGUOUS = "ambiguous"  # may have been delivered: the expired-lease policy decides
    NOT_READY = "not_ready"  # the session is not connected: give the row back, uncounted


@dataclass(frozen=True)
class SendResult:
    wa_message_id: str | None
    sent_at: datetime | None = None


class SendError(Exception):
    """A send failed; ``failure`` says what to do with the row."""

    def __init__(self, failure: Failure, reason: str, pause_for: timedelta | None = None) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        self.pause_for = pause_for


# Substrings of whatsmeow/neonize error texts (shared/whatsapp.md §1.17), first match wins.
CLASSIFICATION: tuple[tuple[str, Failure], ...] = (
    ("rate-overlimit", Failure.PAUSE),
    ("status 429", Failure.PAUSE),
    ("temporary ban", Failure.PAUSE),
    ("temporarily banned", Failure.PAUSE),
    ("timed out waiting for message send response", Failure.AMBIGUOUS),
    ("websocket disconnected before message send returned response", Failure.AMBIGUOUS),
    ("client is nil", Failure.NOT_READY),
    ("websocket not connected", Failure.NOT_READY),
    ("the store doesn't contain a device jid", Failure.NOT_READY),
    ("not logged in", Failure.NOT_READY),
    ("no lid found", Failure.PERMANENT),
    ("failed to get user info", Failure.PERMANENT),
    ("server returned error 463", Failure.PERMANENT),
    ("can't send message to unknown server", Failure.PERMANENT),
    ("must be a user jid with no device part", Failure.PERMANENT),
    ("not participating in that group", Failure.PERMANENT),
    ("that group does not exist", Failure.PERMANENT),
    ("invalid jid", Failure.PERMANENT),
    ("not on whatsapp", Failure.PERMANENT),
    ("failed to refresh media connections", Failure.TRANSIENT),
    ("timeout", Failure.TRANSIENT),
    ("timed out", Failure.TRANSIENT),
    ("connection", Failure.TRANSIENT),
)


def classify_text(text: str) -> Failure:
    lowered = text.lower()
    for needle, failure in CLASSIFICATION:
        if needle in lowered:
            return failure
    return Failure.TRANSIENT


def classify(exc: BaseException) -> SendError:
    """Any exception from a send, as a :class:`SendError`."""
    if isinstance(exc, SendError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    return SendError(classify_text(str(exc)), text)


class Transport(Protocol):
    name: str

    def start(self, events: EventQueue) -> None:
        """Begin connecting; events (state changes, inbound messages, receipts) go to ``events``."""

    def ready(self) -> bool:
        """Connected and logged in: rows may be claimed."""

    def send(self, msg: ClaimedMessage) -> SendResult:
        """Send one row (raises on failure)."""

    def flush(self) -> None:
        """Make what was sent so far visible (called at each settle point)."""

    def stop(self) -> None:
        """Disconnect (never called while a send is in progress)."""


@runtime_checkable
class GroupsQuery(Protocol):
    """The joined-groups query of a transport (the pool of numbers, docs/concepts/pool.md).

    Every transport of the project has it (the neonize one asks WhatsApp, the fake ones read
    ``WA_FAKE_GROUPS``) and reports the answer itself as a :class:`~gateway.events.JoinedGroups`
    event on each connect; it is a protocol of its own so that a transport without it (a test's)
    still is a :class:`Transport`: its groups are then unknown."""

    def joined_groups(self) -> tuple[str, ...] | None:
        """The JIDs (``...@g.us``) of the groups the session's number is a member of, or
        ``None`` when that cannot be known now (not connected, not configured, an error)."""


def validate(msg: ClaimedMessage) -> None:
    """Reject a malformed row before it reaches the transport (permanent failure)."""
    local, _, server = msg.recipient.partition("@")
    if server not in ("s.whatsapp.net", "g.us") or not local.replace("-", "").isdigit():
        raise SendError(Failure.PERMANENT, f"invalid JID {msg.recipient!r}")
    if not msg.content.strip():
        raise SendError(Failure.PERMANENT, "malformed row: empty content")
    if msg.attachment is not None and (not msg.attachment.name or not msg.attachment.data):
        raise SendError(Failure.PERMANENT, "malformed row: attachment without name or data")
