"""Recipient helpers shared by the jobs: ADMIN_WHATSAPP, and enqueueing with the rows the
outbox refuses logged (masked) and counted.

The database is the one judge of a recipient (``wa_parse_recipient``, the same check the
``wa_outbox`` trigger applies), so admin numbers are canonicalised there: two spellings of one
number become one JID (and one dedupe key), and an invalid entry is logged and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from outbox.engine import Enqueued, NewMessage, enqueue_many
from outbox.logs import mask_phone
from outbox.sql import QueryFile
from producers.job import JobResult

log = logging.getLogger(__name__)

_q = QueryFile("producers", "recipients.sql")


def canonical(conn: psycopg.Connection[Any], raw: Sequence[str],
              what: str = "ADMIN_WHATSAPP") -> list[str]:
    """The valid entries of ``raw`` as canonical JIDs, in order, without duplicates."""
    if not raw:
        return []
    rows = conn.execute(_q("canonical"), {"raw": list(raw)}).fetchall()
    result: list[str] = []
    for _raw, jid, problem in rows:
        if problem is not None:
            log.warning("%s entry skipped: %s", what, problem)
        elif jid not in result:
            result.append(jid)
    return result


def log_refused(job: str, messages: Sequence[NewMessage], results: Sequence[Enqueued]) -> int:
    """Log the refused messages, one warning per recipient (masked); return how many."""
    refused: dict[str, tuple[str, int]] = {}
    for outcome in results:
        if outcome.problem is not None:
            recipient = messages[outcome.index].recipient
            problem, count = refused.get(recipient, (outcome.problem, 0))
            refused[recipient] = (problem, count + 1)
    for recipient, (problem, count) in refused.items():
        log.warning("%s: recipient %s skipped (%d message(s)): %s", job, mask_phone(recipient),
                    count, problem, extra={"job": job})
    return sum(count for _, count in refused.values())


@dataclass(frozen=True)
class Enqueueing:
    """What :func:`enqueue_logged` did: the outbox's answer per message, and the counts."""

    results: list[Enqueued]
    enqueued: int
    duplicates: int
    refused: int

    def job_result(self, detail: str) -> JobResult:
        return JobResult(enqueued=self.enqueued, duplicates=self.duplicates,
                         skipped=self.refused, detail=detail)


def enqueue_logged(conn: psycopg.Connection[Any], job: str,
                   messages: Sequence[NewMessage]) -> Enqueueing:
    """Enqueue ``messages`` in the caller's transaction; rows the outbox refuses are left out
    and logged (:func:`log_refused`), duplicates (dedupe key already there) are counted."""
    results = enqueue_many(conn, messages, skip_invalid=True)
    return Enqueueing(results, enqueued=sum(r.inserted for r in results),
                      duplicates=sum(r.duplicate for r in results),
                      refused=log_refused(job, messages, results))
