"""task_delivery_recap: the "Daftar Tugas" of the day's posts per active client to its groups.

Every 30 minutes (``TASK_DELIVERY_RECAP_CRON``) the job reads
``task_delivery_recap_at(<slot>)`` (one row per client with posts that Jakarta day and group
recipient) and sends a row when

- the client's task list changed since the last list sent that day to that group
  (``task_list_hash`` differs, or nothing was sent yet that day), at any slot; or
- the slot is an hourly slot inside the notification window (``TASK_DELIVERY_WINDOW``,
  default 06:00-17:59, so 06:00 ... 17:00) or one of the mandatory times
  (``TASK_DELIVERY_MANDATORY``, default 17:00).

The "last list sent" is the job's own state, ``task_recap_state`` (one row per Jakarta day,
client and group: the list and text of the last message enqueued), read at the start of the run
and written for every message the run enqueues, in the slot's transaction: the state and the
messages commit together. Rows older than ``KEEP_DAYS`` days before the slot's day are deleted.

The dedupe key ``task_delivery_recap:<day>:<client>:<recipient>:<task_list_hash>:<content_hash>``
(``content_hash`` = the text without its minute-precision header line) is the second guard: the
same content is never sent twice to a group that day, whatever the slot (an hourly slot whose
text is identical to one already sent that day sends nothing, and leaves the state as it was).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import NewMessage
from outbox.sql import QueryFile
from producers.config import TaskWindow
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import enqueue_logged
from producers.schedule import jakarta

log = logging.getLogger(__name__)

NAME = "task_delivery_recap"

_q = QueryFile("producers", "task_delivery_recap.sql")

#: Days of state kept before the slot's day (the outbox keeps finished messages 30 days by
#: default: the state never forgets a day the outbox would still remember).
KEEP_DAYS = 31


def dedupe_key(day: str, client_id: str, recipient: str, list_hash: str, content_hash: str) -> str:
    return f"{NAME}:{day}:{client_id}:{recipient}:{list_hash}:{content_hash}"


def last_lists(conn: Any, day: date) -> dict[tuple[str, str], str]:
    """``(client_id, recipient) -> task_list_hash`` of the last list enqueued on ``day``."""
    rows = conn.execute(_q("last_lists"), {"day": day}).fetchall()
    return {(str(client_id), str(recipient)): str(list_hash)
            for client_id, recipient, list_hash in rows}


def remember(conn: Any, enqueued: list[dict[str, Any]]) -> None:
    """The rows of ``task_delivery_recap_at`` just enqueued become the last lists sent."""
    latest = {(row["task_date"], str(row["client_id"]), str(row["recipient"])): row
              for row in enqueued}
    if not latest:
        return
    rows = list(latest.values())
    conn.execute(_q("remember"), {
        "task_dates": [row["task_date"] for row in rows],
        "client_ids": [str(row["client_id"]) for row in rows],
        "recipients": [str(row["recipient"]) for row in rows],
        "list_hashes": [str(row["task_list_hash"]) for row in rows],
        "content_hashes": [str(row["content_hash"]) for row in rows],
    })


def run_recap(ctx: JobContext, window: TaskWindow) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    hourly = ctx.trigger != "notify" and window.hourly_due(slot.timetz().replace(tzinfo=None))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("rows"), {"as_of": slot})
        rows = cur.fetchall()
    day = slot.date()
    previous = last_lists(conn, day)
    messages: list[NewMessage] = []
    sources: list[dict[str, Any]] = []  # the view row of each message
    unchanged = 0
    for row in rows:
        client_id, recipient = str(row["client_id"]), str(row["recipient"])
        changed = previous.get((client_id, recipient)) != row["task_list_hash"]
        if not (changed or hourly):
            unchanged += 1
            continue
        sources.append(row)
        messages.append(NewMessage(
            recipient=recipient, content=row["summary"], type=NAME,
            dedupe_key=dedupe_key(str(row["task_date"]), client_id, recipient,
                                  str(row["task_list_hash"]), str(row["content_hash"]))))
    done = enqueue_logged(conn, NAME, messages)
    remember(conn, [sources[r.index] for r in done.results if r.inserted])
    conn.execute(_q("forget"), {"before": day - timedelta(days=KEEP_DAYS)})
    return done.job_result(f"{'hourly' if hourly else 'changes only'}: {len(rows)} rows, "
                           f"{unchanged} unchanged")


def make_job(*, window: TaskWindow | None = None) -> JobSpec:
    chosen = window or TaskWindow()

    def run(ctx: JobContext) -> JobResult:
        return run_recap(ctx, chosen)

    return JobSpec(name=NAME, default_cron="*/30 * * * *", cron_env="TASK_DELIVERY_RECAP_CRON",
                   run=run, grace=timedelta(minutes=20))


JOB = make_job()
