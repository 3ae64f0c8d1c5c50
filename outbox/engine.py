"""The outbox engine: enqueue, claim, settle, rescue, cancel, requeue, purge, count.

Every function takes a psycopg connection and runs its statements on it. Claim and settle are
single statements: on an autocommit connection each is its own transaction (no extra BEGIN or
COMMIT round trip); inside a caller's transaction they run in a savepoint. Give the gateway an
autocommit connection so a claim commits before the send. Enqueue joins whatever transaction
the caller has open, so a producer can record its run and insert its messages in one commit.

The delivery contract (see README "Delivery guarantees"): claim commits before the send, the
send happens outside any transaction, and each settle is guarded by the claim token, so a settle
for a lease that was lost changes nothing and says so (``applied=False``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from outbox.errors import InvalidMessage, NotFound
from outbox.sql import QueryFile

log = logging.getLogger(__name__)

Conn = psycopg.Connection[Any]

MESSAGE_CONSTRAINT = "wa_outbox_message_valid"
_MESSAGE_CONSTRAINTS = {
    MESSAGE_CONSTRAINT,
    "wa_outbox_attachment_complete",
    "wa_outbox_max_attempts_valid",
    "wa_outbox_type_fkey",
}


_q = QueryFile("outbox", "outbox.sql")


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer row with the same collapse_key replaced it
    EXPIRED = "expired"  # not handed to WhatsApp by its expires_at


class ExpiredLeasePolicy(StrEnum):
    RESEND = "resend"  # at-least-once: a lost lease is sent again
    HOLD = "hold"  # a lost lease after the send started fails as "delivery unknown"


@dataclass(frozen=True)
class Attachment:
    data: bytes
    name: str
    mime: str | None = None


@dataclass(frozen=True)
class NewMessage:
    """A message to enqueue. Only ``recipient``, ``content`` and ``type`` are required."""

    recipient: str
    content: str
    type: str = "text"
    dedupe_key: str | None = None
    priority: int | None = None  # None: the type's (wa_message_type.priority)
    available_at: datetime | None = None
    session_name: str | None = None
    max_attempts: int | None = None
    attachment: Attachment | None = None
    collapse_key: str | None = None  # a newer row with the same key supersedes this one
    expires_at: datetime | None = None  # not sent by then: expired, never sent late


@dataclass(frozen=True)
class Enqueued:
    """What became of one :class:`NewMessage`.

    ``id`` is set when a row was inserted; ``duplicate`` when its dedupe key already existed;
    ``problem`` when the row was refused (only in ``skip_invalid`` mode).
    """

    index: int
    id: int | None
    dedupe_key: str | None
    duplicate: bool = False
    problem: str | None = None

    @property
    def inserted(self) -> bool:
        return self.id is not None


class ClaimedMessage(NamedTuple):
    """One leased row, as the claim returned it. A named tuple: immutable, and cheap to build
    (a claim of 100 rows builds 100 of them; a frozen dataclass costs four times as much)."""

    id: int
    recipient: str
    content: str
    type: str
    session_name: str
    priority: int
    attempts: int
    max_attempts: int
    claim_token: UUID
    lease_expires_at: datetime
    attachment: Attachment | None = None
    # texts carried in this row's WhatsApp message (coalescing): settled like it
    riders: tuple[ClaimedMessage, ...] = ()

    @property
    def is_document(self) -> bool:
        return self.attachment is not None

    @property
    def rows(self) -> tuple[ClaimedMessage, ...]:
        """This row and the rows its message carries."""
        return (self, *self.riders)

    def __repr__(self) -> str:  # the attachment's bytes stay out of logs
        return (f"ClaimedMessage(id={self.id}, recipient={self.recipient!r}, type={self.type!r}, "
                f"session_name={self.session_name!r}, attempts={self.attempts}/"
                f"{self.max_attempts}, document={self.is_document})")


@dataclass(frozen=True)
class RetryOutcome:
    applied: bool
    status: Status | None = None
    available_at: datetime | None = None
    attempts: int | None = None


@dataclass(frozen=True)
class Backoff:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)


class Sent(NamedTuple):
    """A successful send to settle: the row, its claim, and what WhatsApp answered."""

    id: int
    claim_token: UUID
    wa_message_id: str | None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class StatusCount:
    session_name: str
    status: str
    messages: int
    oldest_pending_at: datetime | None


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Turn the database's refusal of a message into :class:`InvalidMessage`."""
    try:
        yield
    except (psycopg.errors.CheckViolation, psycopg.errors.ForeignKeyViolation) as exc:
        if exc.diag.constraint_name in _MESSAGE_CONSTRAINTS:
            text = exc.diag.message_primary or str(exc)
            if exc.diag.message_detail:
                text = f"{text}: {exc.diag.message_detail}"
            raise InvalidMessage(text) from exc
        raise


@contextmanager
def _atomic(conn: Conn) -> Iterator[None]:
    """One statement is already atomic on an autocommit connection: no BEGIN/COMMIT round
    trips. Inside a caller's transaction, a savepoint keeps a failure from poisoning it."""
    if conn.autocommit:
        yield
    else:
        with conn.transaction():
            yield


# ------------------------------------------------------------------------------ enqueue
def _columns(messages: Sequence[NewMessage]) -> dict[str, list[Any]]:
    return {
        "recipient": [m.recipient for m in messages],
        "content": [m.content for m in messages],
        "type": [m.type for m in messages],
        "dedupe_key": [m.dedupe_key for m in messages],
        "priority": [m.priority for m in messages],
        "available_at": [m.available_at for m in messages],
        "session_name": [m.session_name for m in messages],
        "max_attempts": [m.max_attempts for m in messages],
        "attachment": [m.attachment.data if m.attachment else None for m in messages],
        "attachment_name": [m.attachment.name if m.attachment else None for m in messages],
        "attachment_mime": [m.attachment.mime if m.attachment else None for m in messages],
        "collapse_key": [m.collapse_key for m in messages],
        "expires_at": [m.expires_at for m in messages],
    }


def check_messages(conn: Conn, messages: Sequence[NewMessage]) -> list[str | None]:
    """The database's verdict on each message (``None`` = acceptable), without inserting."""
    if not messages:
        return []
    cols = _columns(messages)
    with conn.cursor() as cur:
        cur.execute(
            _q("check_many"),
            {"recipient": cols["recipient"], "content": cols["content"], "type": cols["type"]},
        )
        return [row[2] for row in cur.fetchall()]


def enqueue_many(
    conn: Conn, messages: Sequence[NewMessage], *, skip_invalid: bool = False
) -> list[Enqueued]:
    """Insert messages in one statement; a duplicate dedupe key is a reported no-op.

    With ``skip_invalid`` the rows the database would refuse are checked first and left out
    (each reported with its problem) instead of failing the whole batch with
    :class:`InvalidMessage`. Runs in the caller's transaction, if any.
    """
    if not messages:
        return []
    results: dict[int, Enqueued] = {}
    to_insert = list(enumerate(messages))
    if skip_invalid:
        problems = check_messages(conn, messages)
        to_insert = [(i, m) for i, m in to_insert if problems[i] is None]
        for i, problem in enumerate(problems):
            if problem is not None:
                results[i] = Enqueued(i, None, messages[i].dedupe_key, problem=problem)
    if to_insert:
        batch = [m for _, m in to_insert]
        with mapped_errors(), conn.cursor() as cur:
            cur.execute(_q("enqueue_many"), _columns(batch))
            inserted_by_key: dict[str, int] = {}
            inserted_plain: list[int] = []
            for row in cur.fetchall():
                if row[1] is None:
                    inserted_plain.append(row[0])
                else:
                    inserted_by_key[row[1]] = row[0]
        # Identity values are drawn in insertion order (ORDER BY ord), so sorted ids line up
        # with the unkeyed messages; keyed rows are matched by their key.
        plain = iter(sorted(inserted_plain))
        seen_keys: set[str] = set()
        for i, message in to_insert:
            key = message.dedupe_key
            if key is None:
                results[i] = Enqueued(i, next(plain), None)
            elif key in inserted_by_key and key not in seen_keys:
                seen_keys.add(key)
                results[i] = Enqueued(i, inserted_by_key[key], key)
            else:
                results[i] = Enqueued(i, None, key, duplicate=True)
    return [results[i] for i in range(len(messages))]


def enqueue(conn: Conn, message: NewMessage) -> Enqueued:
    """Insert one message (raises :class:`InvalidMessage` if the database refuses it)."""
    return enqueue_many(conn, [message])[0]


# ------------------------------------------------------------------------------ claim/settle
def _claimed(rows: list[tuple[Any, ...]], session: str, token: UUID) -> list[ClaimedMessage]:
    # Column order of the claim query's RETURNING list (session and token are the claim's own).
    rows.sort(key=lambda r: (-r[4], r[0]))  # (priority DESC, id): RETURNING has no order
    return [
        ClaimedMessage(msg_id, recipient, content, type_, session, priority, attempts,
                       max_attempts, token, lease_expires_at,
                       None if data is None else Attachment(bytes(data), name, mime))
        for (msg_id, recipient, content, type_, priority, attempts, max_attempts,
             lease_expires_at, data, name, mime) in rows
    ]


#: The rows a gateway's budget reserve is kept for (``WA_RESERVE_PER_HOUR``/``_PER_DAY``): the
#: priority of answers to people who wrote in, forwards and admin alerts (wa_message_type).
RESERVE_PRIORITY = 30
#: The reserve's defaults, each at most a tenth of its cap (:func:`default_reserve`).
DEFAULT_RESERVE_PER_HOUR = 2
DEFAULT_RESERVE_PER_DAY = 10


def default_reserve(default: int, cap: int) -> int:
    """A reserve not set: ``default``, but at most a tenth of the cap (a number warming up at
    5 an hour keeps none)."""
    return min(default, cap // 10)


@lru_cache(maxsize=64)
def _claim_statement(limit: int, recipient_gap: timedelta,
                     max_bytes: int = 2**31 - 1, min_priority: int | None = None,
                     ) -> sql.Composed:
    """The claim for one batch size and recipient gap, both written in as literals: they are
    settings, fixed for a process, and as parameters the server could not keep one generic
    plan (with ``LIMIT $1`` it planned every claim afresh, a fifth of its cost at batch 100).
    ``min_priority``: only rows of at least that priority (the budget reserve)."""
    gap: sql.Composable = sql.SQL("")
    if recipient_gap > timedelta(0):
        gap = sql.SQL(_q("claim_recipient_gap")).format(gap=sql.Literal(recipient_gap))
    if min_priority is not None:
        gap = sql.Composed([gap, sql.SQL(" AND o.priority >= {}").format(
            sql.Literal(min_priority))])
    return sql.SQL(_q("claim")).format(limit=sql.Literal(limit), recipient_gap=gap,
                                       recipient_fifo=sql.SQL(_q("recipient_fifo")),
                                       max_bytes=sql.Literal(max_bytes))


@lru_cache(maxsize=1)
def _next_wake_statement() -> sql.Composed:
    """``next_wake`` with the claim's per-recipient order (the same ``recipient_fifo``)."""
    return sql.SQL(_q("next_wake")).format(recipient_fifo=sql.SQL(_q("recipient_fifo")))


def claim(
    conn: Conn,
    *,
    session: str,
    worker: str,
    limit: int,
    lease: timedelta,
    recipient_gap: timedelta = timedelta(0),
    max_bytes: int = 2**31 - 1,
    min_priority: int | None = None,
) -> list[ClaimedMessage]:
    """Lease up to ``limit`` due rows of ``session`` (one short transaction), oldest first,
    whose attachments add up to at most ``max_bytes`` (the first row always); with
    ``min_priority``, only rows of at least that priority (in the per-recipient order still:
    an older open row of the recipient holds them back).

    All rows of one claim share its ``claim_token``: the token names the lease holder.
    """
    if limit < 1:
        raise ValueError(f"claim limit must be at least 1, not {limit}")
    token = uuid4()
    # Binary results: no text formatting of timestamps on the server, no hex for attachments.
    with _atomic(conn), conn.cursor(binary=True) as cur:
        cur.execute(_claim_statement(limit, recipient_gap, max_bytes, min_priority),
                    {"session": session, "worker": worker, "lease": lease, "token": token})
        rows = cur.fetchall()
    return _claimed(rows, session, token)


#: Between the texts of a coalesced message.
COALESCE_SEPARATOR = "\n\n"


def claim_followers(conn: Conn, head: ClaimedMessage, *, worker: str, lease: timedelta,
                    max_chars: int, max_rows: int = 50) -> ClaimedMessage:
    """Coalescing: ``head`` (a claimed text) with the recipient's next due texts, claimed under
    its token, joined into its content (at most ``max_chars`` characters); ``head`` unchanged
    when none follows. Each carried row keeps its id and is settled like ``head``. Only rows
    on their first attempt travel together, so a row that kills the gateway ends up alone and
    fails alone (as with the chunks of a pacing-off drain)."""
    if head.attachment is not None or head.attempts > 1 or len(head.content) >= max_chars:
        return head  # a retry goes alone (it may be the row that killed the last process)
    with _atomic(conn), conn.cursor(binary=True) as cur:
        cur.execute(_q("claim_followers"), {
            "session": head.session_name, "recipient": head.recipient, "head": head.id,
            "max_rows": max_rows, "max_chars": max_chars, "head_chars": len(head.content),
            "token": head.claim_token, "worker": worker, "lease": lease})
        rows = cur.fetchall()
    if not rows:
        return head
    riders = tuple(sorted(_claimed(rows, head.session_name, head.claim_token),
                          key=lambda m: m.id))
    content = COALESCE_SEPARATOR.join(m.content for m in (head, *riders))
    return head._replace(content=content, riders=riders)


def _one(conn: Conn, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    with _atomic(conn), conn.cursor() as cur:
        cur.execute(_q(name), params)
        return cur.fetchone()


def mark_started(conn: Conn, msg: ClaimedMessage) -> bool:
    """Record that the row is being handed to WhatsApp now (needed by the hold policy)."""
    return _one(conn, "mark_started", {"id": msg.id, "token": msg.claim_token}) is not None


def mark_sent_many(conn: Conn, sent: Sequence[Sent]) -> set[int]:
    """Settle successful sends (one statement per claim); returns the ids whose settle applied."""
    if not sent:
        return set()
    tokens = {s.claim_token for s in sent}
    applied: set[int] = set()
    with _atomic(conn), conn.cursor() as cur:
        for token in tokens:
            group = sent if len(tokens) == 1 else [s for s in sent if s.claim_token == token]
            cur.execute(
                _q("mark_sent_many"),
                {"id": [s.id for s in group], "token": token,
                 "wa_message_id": [s.wa_message_id for s in group],
                 "sent_at": [s.sent_at for s in group]},
            )
            applied.update(row[0] for row in cur.fetchall())
    if len(applied) < len(sent):
        for s in sent:
            if s.id not in applied:
                log.warning("settle refused: lease lost", extra={"outbox_id": s.id})
    return applied


def mark_sent(conn: Conn, msg: ClaimedMessage, wa_message_id: str | None) -> bool:
    """Settle one successful send; ``False`` means the lease was lost and nothing changed."""
    return msg.id in mark_sent_many(conn, [Sent(msg.id, msg.claim_token, wa_message_id)])


def retry_later(
    conn: Conn,
    msg: ClaimedMessage,
    error: str,
    *,
    backoff: Backoff = Backoff(),
    delay: timedelta | None = None,
) -> RetryOutcome:
    """A transient failure: back off and retry, or fail when the attempts are used up."""
    row = _one(conn, "retry_later", {"id": msg.id, "token": msg.claim_token, "error": error,
                                     "delay": delay, "retry_base": backoff.base,
                                     "retry_max": backoff.cap})
    if row is None:
        log.warning("retry refused: lease lost", extra={"outbox_id": msg.id})
        return RetryOutcome(applied=False)
    return RetryOutcome(True, Status(row[1]), row[2], row[3])


def mark_failed(conn: Conn, msg: ClaimedMessage, error: str) -> bool:
    """A permanent failure: the row goes to ``failed`` with the reason."""
    return _one(conn, "mark_failed", {"id": msg.id, "token": msg.claim_token,
                                      "error": error}) is not None


def release(
    conn: Conn, msg: ClaimedMessage, *, delay: timedelta = timedelta(0), reason: str | None = None
) -> bool:
    """Hand a claimed row back unsent; the attempt does not count."""
    return _one(conn, "release", {"id": msg.id, "token": msg.claim_token, "delay": delay,
                                  "reason": reason}) is not None


@dataclass(frozen=True)
class Released:
    to_pending: list[int]
    to_failed: list[int]


def release_expired(
    conn: Conn, *, policy: ExpiredLeasePolicy = ExpiredLeasePolicy.RESEND,
    session: str | None = None,
) -> Released:
    """Return rows whose lease ran out (a crashed or hung worker) to pending, or fail them."""
    with _atomic(conn), conn.cursor() as cur:
        cur.execute(_q("release_expired"), {"policy": str(policy), "session": session})
        rows = cur.fetchall()
    released = Released([r[0] for r in rows if r[1] == "pending"],
                        [r[0] for r in rows if r[1] == "failed"])
    if rows:
        log.warning("expired leases released: %d to pending, %d to failed",
                    len(released.to_pending), len(released.to_failed))
    return released


def expire_due(conn: Conn, *, session: str | None = None) -> list[int]:
    """Rows past their ``expires_at`` and not handed to WhatsApp become ``expired`` (never a
    row ``sending``); their ids. ``session=None``: every session."""
    with _atomic(conn), conn.cursor() as cur:
        cur.execute(_q("expire_due"), {"session": session})
        ids = [int(r[0]) for r in cur.fetchall()]
    if ids:
        log.info("%d message(s) expired unsent (past their expires_at)", len(ids))
    return ids


# ------------------------------------------------------------------------------ operations
def cancel(conn: Conn, msg_id: int) -> bool:
    """Cancel a pending or failed row. ``False`` if it is sending, finished or unknown."""
    return _one(conn, "cancel", {"id": msg_id}) is not None


def requeue_failed(conn: Conn, msg_id: int | None = None) -> list[int]:
    """Put one failed row (or all of them) back to pending with fresh attempts."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_q("requeue_failed"), {"id": msg_id})
        ids = [r[0] for r in cur.fetchall()]
        if ids:
            cur.execute(_q("notify"))
    return ids


def status_of(conn: Conn, msg_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("status_of"), {"id": msg_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no wa_outbox row with id {msg_id}")
    return row


@lru_cache(maxsize=2)
def _purge_statement(name: str) -> sql.Composed:
    """``purge`` / ``purge_preview`` with the shared predicates (which rows are finished and
    old enough; which a complaint still points to) written in once."""
    return sql.SQL(_q(name)).format(finished=sql.SQL(_q("purge_finished")),
                                    linked=sql.SQL(_q("purge_linked")))


@dataclass(frozen=True)
class PurgePreview:
    purgeable: int  # rows purge would delete
    kept_for_complaints: int  # finished and old enough, but a complaint points to them
    oldest: datetime | None  # finished_at of the oldest purgeable row


def purge_preview(conn: Conn, older_than: timedelta) -> PurgePreview:
    """What :func:`purge` would delete now (read-only)."""
    with conn.cursor() as cur:
        cur.execute(_purge_statement("purge_preview"), {"older_than": older_than})
        row = cur.fetchone()
    assert row is not None
    return PurgePreview(int(row[0]), int(row[1]), row[2])


def purge(conn: Conn, older_than: timedelta, *, batch: int = 5000) -> int:
    """Delete finished rows (sent, failed, cancelled) older than ``older_than``, in batches.

    Rows a complaint points to (``complaint_queue.outbox_id``) are kept: deleting one would
    null the link and turn the complaint's delivery state into ``reply_unknown``."""
    if older_than <= timedelta(0):
        raise ValueError("purge needs an age above zero (it would delete what just finished)")
    total = 0
    while True:
        with _atomic(conn), conn.cursor() as cur:
            cur.execute(_purge_statement("purge"), {"older_than": older_than, "batch": batch})
            deleted = cur.rowcount
        total += deleted
        if deleted < batch:
            return total


@dataclass(frozen=True)
class ListFilter:
    """Filters of :func:`list_messages`; ``None`` means any."""

    status: tuple[str, ...] | None = None
    type: str | None = None
    recipient: str | None = None  # any accepted form; normalised like an INSERT
    session: str | None = None
    since: datetime | None = None
    limit: int = 50


def list_messages(conn: Conn, filters: ListFilter = ListFilter()) -> list[dict[str, Any]]:
    """Rows of ``wa_outbox``, newest first (no content, no attachment bytes)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("list_messages"), {
            "status": list(filters.status) if filters.status else None,
            "type": filters.type, "recipient": filters.recipient,
            "session": filters.session, "since": filters.since, "limit": filters.limit})
        return cur.fetchall()


def message(conn: Conn, msg_id: int) -> dict[str, Any]:
    """Every column of one row (the attachment as its size); :class:`NotFound` if unknown."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("message"), {"id": msg_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no wa_outbox row with id {msg_id}")
    row.pop("attachment", None)
    return row


def message_errors(conn: Conn, msg_id: int) -> list[dict[str, Any]]:
    """The row's failed attempts (``at``, ``attempt``, ``became``, ``error``), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("message_errors"), {"id": msg_id})
        return cur.fetchall()


def message_complaints(conn: Conn, msg_id: int) -> list[dict[str, Any]]:
    """The complaints answered by this row, with their ``delivery_state``."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("message_complaints"), {"id": msg_id})
        return cur.fetchall()


@dataclass(frozen=True)
class SessionHealth:
    name: str
    state: str | None  # None: rows wait for it but no gateway ever registered it
    state_detail: str | None
    state_changed_at: datetime | None
    heartbeat_at: datetime | None
    paused_until: datetime | None
    pause_reason: str | None
    jid: str | None
    is_default: bool
    last_sent_at: datetime | None
    due: int  # pending rows whose time has come
    oldest_due_at: datetime | None
    now: datetime
    # while the registered send budget (less the reserve) is used up: when it frees
    budget_free_at: datetime | None = None


def session_health(conn: Conn) -> list[SessionHealth]:
    """Each gateway session (and each session name open rows wait for) with its state,
    heartbeat, pause, last send and due work, by the database's clock."""
    with conn.cursor() as cur:
        cur.execute(_q("session_health"))
        return [SessionHealth(*row) for row in cur.fetchall()]


def counts(conn: Conn) -> list[StatusCount]:
    with conn.cursor() as cur:
        cur.execute(_q("counts"))
        return [StatusCount(*row) for row in cur.fetchall()]


def next_wake(conn: Conn, session: str,
              recipient_gap: timedelta = timedelta(0)) -> tuple[datetime, datetime | None]:
    """``(now, wake_at)``: when a pending row of ``session`` may become claimable, under the
    claim's own rules (FIFO per recipient, the recipient gap), or a lease runs out; ``None``
    when nothing is waiting. Times are the database's."""
    with conn.cursor() as cur:
        cur.execute(_next_wake_statement(), {"session": session,
                                             "recipient_gap": recipient_gap})
        row = cur.fetchone()
    assert row is not None
    return row[0], row[1]


def paired_jids(conn: Conn) -> frozenset[str]:
    """The canonical JIDs (``628...@s.whatsapp.net``) of the WhatsApp accounts the gateway
    sessions are paired with, as the gateways recorded them in ``wa_session.jid``."""
    with conn.cursor() as cur:
        cur.execute(_q("paired_jids"))
        return frozenset(row[0] for row in cur.fetchall())


def register_session(conn: Conn, name: str) -> bool:
    """Record a gateway session; the first one becomes the default. Returns ``is_default``."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_q("lock_sessions"))
        cur.execute(_q("register_session"), {"name": name})
        row = cur.fetchone()
        is_default = bool(row and row[0])
        if is_default:
            cur.execute(_q("adopt_unassigned"), {"name": name})
    return is_default
