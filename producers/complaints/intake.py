"""The ``complaint_intake`` producer job: new ``wa_inbox`` rows -> ``complaint_queue`` rows.

Runs every minute (``COMPLAINT_INTAKE_CRON``, default ``* * * * *``) and whenever a row is
inserted into ``wa_inbox`` (NOTIFY ``wa_inbox``). Each run claims unprocessed inbox rows with
``FOR UPDATE SKIP LOCKED`` (so concurrent runs never take the same row) in batches of
:data:`BATCH` until none are left (at most :data:`MAX_PER_RUN`), and handles each row in its own
savepoint on the scheduler's transaction:

- from the gateway's own number (the account of any paired session, recorded by the gateway in
  ``wa_session.jid``), sent by us (``from_me``), a ``wagateway``/``wabot`` relay, a status
  broadcast, or not a complaint -> left alone;
- a complaint with an NRP -> one ``complaint_queue`` row (``response_template`` NULL: the
  ``complaint_response`` job composes the standard answer); ``complaint_queue.inbox_id`` is
  unique, so a message becomes at most one complaint;
- complaint-shaped but without a usable NRP -> a ``complaint_response`` reply asking for it;
- and in every case ``wa_inbox.processed_at`` / ``process_result`` are set in the same
  transaction. A row whose handling raises is rolled back to its savepoint and marked processed
  with ``error: ...`` (it is never retried automatically and never blocks the rows behind it;
  the message stays in ``wa_inbox``).

Replies go to the inbox ``chat`` (a group complaint is answered in the group); when the chat is
not a valid recipient (e.g. a ``@lid`` id) the ``sender`` is used if it is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from outbox.engine import NewMessage, enqueue_many, paired_jids
from outbox.sql import QueryFile
from producers.complaints.parser import Kind, is_gateway_forward, parse_complaint
from producers.job import JobContext, JobResult, JobSpec

log = logging.getLogger(__name__)

BATCH = 200
MAX_PER_RUN = 5000
REPLY_TYPE = "complaint_response"

NRP_REQUEST = "\n".join([
    "Format NRP/NIP tidak ditemukan atau tidak valid pada pesan komplain.",
    "Mohon periksa kembali dan kirim ulang pesan komplain lengkap dengan NRP/NIP, contoh:",
    "",
    "Pesan Komplain",
    "NRP    : 75020201",
    "Nama   : Nama Pelapor",
    "Polres : Satuan",
    "Username IG : @username",
    "Username TikTok : @username",
    "",
    "Kendala",
    "- Sudah melaksanakan Instagram belum terdata.",
])


_q = QueryFile("producers", "complaints.sql")


@dataclass
class Tally:
    complaints: int = 0
    nrp_requests: int = 0
    ignored: int = 0
    errors: int = 0

    def detail(self) -> str:
        return (f"complaints={self.complaints} nrp_requests={self.nrp_requests} "
                f"ignored={self.ignored} errors={self.errors}")


# A personal JID with a device part (628...:12@s.whatsapp.net, 628....0:12@...): its number.
_DEVICE_JID = re.compile(r"^([0-9]+)[.:][0-9.:]*@s\.whatsapp\.net$")


def own_numbers(conn: psycopg.Connection[Any]) -> frozenset[str]:
    """The gateway's own numbers: the accounts of the paired sessions, as canonical JIDs."""
    return paired_jids(conn)


def sender_jid(row: dict[str, Any]) -> str | None:
    """The sender's canonical JID (``wa_jid``, from the claim), or the number part of a JID
    with a device part, which ``wa_jid`` does not take."""
    if row.get("sender_jid") is not None:
        return str(row["sender_jid"])
    match = _DEVICE_JID.match((row.get("sender") or "").lower())
    return f"{match.group(1)}@s.whatsapp.net" if match else None


def ignore_reason(row: dict[str, Any], own: frozenset[str]) -> str | None:
    """Why an inbox row is not a candidate at all (before parsing), or ``None``."""
    if row["from_me"]:
        return "from_me"
    if own and sender_jid(row) in own:
        return "own number"
    chat = (row["chat"] or "").lower()
    if chat.startswith("status@") or chat.endswith("@broadcast"):
        return "status broadcast"
    if is_gateway_forward(row["text"]):
        return "gateway relay"
    return None


def _reply_to(conn: psycopg.Connection[Any], row: dict[str, Any]) -> str:
    with conn.cursor() as cur:
        cur.execute(_q("recipient_ok"), {"chat": row["chat"], "sender": row["sender"]})
        found = cur.fetchone()
    chat_ok, sender_ok = found if found else (False, False)
    if not chat_ok and sender_ok:
        return str(row["sender"])
    return str(row["chat"])


def handle_row(conn: psycopg.Connection[Any], row: dict[str, Any],
               own: frozenset[str]) -> tuple[str, str]:
    """Act on one claimed inbox row; returns ``(outcome, process_result)``.

    ``outcome`` is ``complaint``, ``nrp_request``, ``ignored`` or ``error``.
    """
    reason = ignore_reason(row, own)
    if reason is not None:
        return "ignored", f"ignored: {reason}"
    parsed = parse_complaint(row["text"])
    if parsed.kind is Kind.NOT_COMPLAINT:
        return "ignored", "ignored: not a complaint"
    recipient = _reply_to(conn, row)
    if parsed.kind is Kind.MISSING_NRP:
        result = enqueue_many(
            conn,
            [NewMessage(recipient=recipient, content=NRP_REQUEST, type=REPLY_TYPE,
                        session_name=row["session_name"],
                        dedupe_key=f"complaint-nrp-request:{row['id']}")],
            skip_invalid=True,
        )[0]
        if result.problem is not None:
            return "error", f"error: NRP request refused: {result.problem}"
        if result.id is None:
            return "nrp_request", "nrp_requested (duplicate)"
        return "nrp_request", f"nrp_requested outbox {result.id}"
    with conn.cursor() as cur:
        cur.execute(_q("insert_complaint"), {
            "complainant": recipient,
            "session_name": row["session_name"],
            "inbox_id": row["id"],
            "nrp": parsed.nrp,
            "reporter_name": parsed.reporter_name,
            "polres": parsed.polres,
            "instagram": parsed.instagram,
            "tiktok": parsed.tiktok,
            "issues": list(parsed.issues),
            "raw_text": row["text"],
        })
        inserted = cur.fetchone()
        if inserted is None:  # already a complaint (inbox row re-opened by hand)
            cur.execute(_q("complaint_of_inbox"), {"inbox_id": row["id"]})
            existing = cur.fetchone()
            return "ignored", f"complaint {existing[0] if existing else '?'} (already queued)"
    return "complaint", f"complaint {inserted[0]}"


def _mark(conn: psycopg.Connection[Any], inbox_id: int, result: str) -> None:
    with conn.cursor() as cur:
        cur.execute(_q("mark_inbox"), {"id": inbox_id, "result": result[:2000]})


def process_inbox(conn: psycopg.Connection[Any], *, batch: int = BATCH,
                  max_rows: int = MAX_PER_RUN) -> Tally:
    """Claim and handle unprocessed inbox rows on ``conn`` (the caller commits)."""
    own = own_numbers(conn)
    tally = Tally()
    done = 0
    while done < max_rows:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(_q("claim_inbox"), {"limit": min(batch, max_rows - done)})
            rows = cur.fetchall()
        if not rows:
            break
        for row in rows:
            done += 1
            try:
                with conn.transaction():
                    outcome, result = handle_row(conn, row, own)
                    _mark(conn, row["id"], result)
            except Exception as exc:  # one bad row must never block the rows behind it
                if isinstance(exc, psycopg.OperationalError):
                    raise  # the connection is gone: nothing can be marked
                log.exception("complaint intake failed on wa_inbox row %s", row["id"])
                outcome = "error"
                _mark(conn, row["id"], f"error: {type(exc).__name__}: {exc}")
            if outcome == "complaint":
                tally.complaints += 1
            elif outcome == "nrp_request":
                tally.nrp_requests += 1
            elif outcome == "error":
                tally.errors += 1
            else:
                tally.ignored += 1
        if len(rows) < batch:
            break
    return tally


def run(ctx: JobContext) -> JobResult:
    tally = process_inbox(ctx.conn)
    busy = bool(tally.complaints or tally.nrp_requests or tally.errors or tally.ignored)
    return JobResult(enqueued=tally.nrp_requests, skipped=tally.errors,
                     detail=tally.detail() if busy else None)


JOB = JobSpec(
    name="complaint_intake",
    default_cron="* * * * *",
    cron_env="COMPLAINT_INTAKE_CRON",
    run=run,
    wake_channel="wa_inbox",
)
