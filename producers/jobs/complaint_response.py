"""complaint_response: pending ``complaint_queue`` rows become outbox messages.

Every 5 minutes (``COMPLAINT_RESPONSE_CRON``), up to ``COMPLAINT_RESPONSE_BATCH`` pending rows,
oldest first, are locked (``FOR UPDATE SKIP LOCKED``) and answered in the slot's transaction:

- ``response_template`` set: that text is sent as given to ``complainant``;
- ``response_template`` NULL (a parsed complaint): the answer comes from
  ``producers.complaints.answer.compose_answer`` (imported lazily; while it is not installed
  such rows stay pending and a warning is logged), plus its forwards to the client operators
  (type ``complaint_forward``). The answer goes privately to the personnel's registered
  ``"user".whatsapp`` (``Answer.recipient``); when that is not the chat the complaint came from
  (a group, another number), the chat gets a one-line acknowledgement (key
  ``complaint:<id>:ack``). Without a usable registered number the answer goes to the chat and
  a warning names the complaint.

The reply is inserted with ``dedupe_key = complaint:<id>`` and the row is marked
``responded`` with ``outbox_id`` pointing at it, in the same transaction, so the complaint's
delivery state is read through that link (view ``complaint_delivery``: a reply that failed
shows ``reply_failed``, not ``answered``). A refused recipient marks the row ``invalid`` with
the reason in ``last_error``. Each complaint runs in its own savepoint: one bad row never blocks
the batch (it keeps ``pending`` with ``last_error`` set and is retried at the next slot).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import NewMessage, enqueue_many
from outbox.logs import mask_phone
from outbox.sql import QueryFile
from producers.job import JobContext, JobResult, JobSpec

log = logging.getLogger(__name__)

NAME = "complaint_response"
FORWARD_TYPE = "complaint_forward"
Composer = Callable[..., Any]


_q = QueryFile("producers", "complaint_response.sql")


def reply_key(complaint_id: int) -> str:
    return f"complaint:{complaint_id}"


def forward_key(complaint_id: int, index: int) -> str:
    return f"complaint:{complaint_id}:forward:{index}"


def ack_key(complaint_id: int) -> str:
    return f"complaint:{complaint_id}:ack"


def load_composer() -> Composer | None:
    """``compose_answer`` from the complaints package, or ``None`` while it is not there."""
    try:
        module = importlib.import_module("producers.complaints.answer")
    except ImportError as exc:
        log.debug("producers.complaints.answer not importable: %s", exc)
        return None
    composer = getattr(module, "compose_answer", None)
    return composer if callable(composer) else None


def make_job(*, batch: int = 50, composer: Callable[[], Composer | None] = load_composer,
             cron: str = "*/5 * * * *") -> JobSpec:
    def run(ctx: JobContext) -> JobResult:
        return respond(ctx, batch=batch, composer=composer())

    return JobSpec(name=NAME, default_cron=cron, cron_env="COMPLAINT_RESPONSE_CRON", run=run,
                   grace=timedelta(minutes=4))


class _Counts:
    def __init__(self) -> None:
        self.enqueued = self.duplicates = self.responded = self.invalid = 0
        self.waiting = self.errors = 0


def respond(ctx: JobContext, *, batch: int, composer: Composer | None) -> JobResult:
    conn = ctx.conn
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("pending"), {"limit": batch})
        rows = cur.fetchall()
    counts = _Counts()
    for row in rows:
        if row["response_template"] is None and composer is None:
            counts.waiting += 1
            continue
        try:
            with conn.transaction():  # a savepoint per complaint
                _answer_one(ctx, row, composer, counts)
        except Exception as exc:
            if conn.broken or conn.closed:
                raise
            counts.errors += 1
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("complaint %s not answered (stays pending): %s", row["id"], error,
                        extra={"job": NAME, "complaint_id": row["id"]})
            conn.execute(_q("note_error"), {"id": row["id"], "error": error})
    if counts.waiting:
        log.warning("%d parsed complaint(s) wait for producers.complaints.answer.compose_answer "
                    "(not installed); they stay pending", counts.waiting, extra={"job": NAME})
    detail = (f"responded={counts.responded} invalid={counts.invalid} "
              f"waiting={counts.waiting} errors={counts.errors}")
    return JobResult(enqueued=counts.enqueued, duplicates=counts.duplicates,
                     skipped=counts.invalid + counts.errors, detail=detail)


def _answer_one(ctx: JobContext, row: dict[str, Any], composer: Composer | None,
                counts: _Counts) -> None:
    conn = ctx.conn
    complaint_id = int(row["id"])
    forwards: list[tuple[str, str]] = []
    recipient = str(row["complainant"])
    acknowledgement: str | None = None
    if row["response_template"] is not None:
        text = str(row["response_template"])
    else:
        assert composer is not None
        answer = composer(conn, row, now=ctx.now)
        text = str(answer.text)
        forwards = [(str(r), str(t)) for r, t in answer.forwards]
        private = getattr(answer, "recipient", None)
        if private:
            # privately to the registered number; the chat it came from (a group, another
            # number) gets one line saying so
            recipient = str(private)
            chat = conn.execute(_q("canonical_jid"), {"raw": row["complainant"]}).fetchone()
            if chat is None or chat[0] != recipient:
                acknowledgement = getattr(answer, "acknowledgement", None)
        elif getattr(answer, "no_private_reason", None):
            log.warning("complaint %s: answered in the chat, not privately: %s", complaint_id,
                        answer.no_private_reason, extra={"job": NAME, "complaint_id": complaint_id})
    session = row.get("session_name")
    reply = NewMessage(recipient=recipient, content=text, type=NAME,
                       session_name=session, dedupe_key=reply_key(complaint_id))
    result = enqueue_many(conn, [reply], skip_invalid=True)[0]
    if result.problem is not None:
        counts.invalid += 1
        log.warning("complaint %s: reply refused, marked invalid: %s", complaint_id,
                    result.problem, extra={"job": NAME, "complaint_id": complaint_id})
        conn.execute(_q("mark_invalid"), {"id": complaint_id, "error": result.problem})
        return
    outbox_id = result.id
    if result.duplicate:
        counts.duplicates += 1
        found = conn.execute(_q("outbox_id_by_key"), {"key": reply_key(complaint_id)}).fetchone()
        outbox_id = None if found is None else int(found[0])
    else:
        counts.enqueued += 1
    if acknowledgement:
        ack = NewMessage(recipient=row["complainant"], content=acknowledgement, type=NAME,
                         session_name=session, dedupe_key=ack_key(complaint_id))
        for outcome in enqueue_many(conn, [ack], skip_invalid=True):
            if outcome.problem is not None:
                log.warning("complaint %s: acknowledgement to %s refused: %s", complaint_id,
                            mask_phone(str(row["complainant"])), outcome.problem,
                            extra={"job": NAME})
            elif outcome.duplicate:
                counts.duplicates += 1
            else:
                counts.enqueued += 1
    if forwards:
        messages = [NewMessage(recipient=r, content=t, type=FORWARD_TYPE, session_name=session,
                               dedupe_key=forward_key(complaint_id, i))
                    for i, (r, t) in enumerate(forwards, start=1)]
        for outcome in enqueue_many(conn, messages, skip_invalid=True):
            if outcome.problem is not None:
                log.warning("complaint %s: forward to %s refused: %s", complaint_id,
                            mask_phone(messages[outcome.index].recipient), outcome.problem,
                            extra={"job": NAME})
            elif outcome.duplicate:
                counts.duplicates += 1
            else:
                counts.enqueued += 1
    conn.execute(_q("mark_responded"), {"id": complaint_id, "now": ctx.now,
                                         "outbox_id": outbox_id})
    counts.responded += 1


JOB = make_job()
