"""task_delivery_recap: the "Daftar Tugas" of the day's posts per active client to its groups.

Every 30 minutes (``TASK_DELIVERY_RECAP_CRON``) the job reads
``task_delivery_recap_at(<slot>)`` (one row per client with posts that Jakarta day and group
recipient) and sends a row's full list when

- the slot is an hourly slot inside the notification window (``TASK_DELIVERY_WINDOW``,
  default 06:00-17:59, so 06:00 ... 17:00) or one of the mandatory times
  (``TASK_DELIVERY_MANDATORY``, default 17:00); or
- no list was sent that day to that group yet; or
- posts were deleted from the client's list since the last run (the deletion notice first).

Between full lists a change is announced by its own message (type ``task_change``: new
Instagram / TikTok posts, deleted posts, changed amplification links; see
:mod:`producers.jobs.task_changes`, state ``task_change_state``), and the full list carries the
day's tally in its ``📊 *Perubahan Hari Ini:*`` section. A group that gets the full list in a
run gets no separate new-post message in that run (the list holds the posts).

The "last list sent" is the job's own state, ``task_recap_state`` (one row per Jakarta day,
client and group: the list and text of the last message enqueued), read at the start of the run
and written for every message the run enqueues, in the slot's transaction: the state and the
messages commit together. Rows older than ``KEEP_DAYS`` days before the slot's day are deleted.

The dedupe key ``task_delivery_recap:<day>:<client>:<recipient>:<task_list_hash>:<content_hash>``
(``content_hash`` = the text without its minute-precision header line) is the second guard: the
same content is never sent twice to a group that day, whatever the slot (an hourly slot whose
text is identical to one already sent that day sends nothing, and leaves the state as it was).

A list carries the collapse key ``task_delivery_recap:<client_id>:<day>`` (:func:`collapse_key`):
a newer list of the same client to the same group replaces the older one still pending (a list
of another client to the same group is another key, never replaced). The change notices carry
none: each announces only what changed since the one before. Both expire at the end of the
Jakarta day (:mod:`producers.deadlines`), not at the next slot: an hourly slot whose list is
unchanged queues nothing (the dedupe key above), so the pending list is the only copy.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import NewMessage
from outbox.sql import QueryFile
from producers import deadlines
from producers.config import TaskWindow
from producers.job import JobContext, JobResult, JobSpec
from producers.jobs import task_changes
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


def collapse_key(client_id: str, day: str) -> str:
    """A newer list of ``client_id`` for Jakarta ``day`` replaces an older one still pending for
    the same group (the outbox matches the key with the recipient and the session)."""
    return f"{NAME}:{client_id}:{day}"


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


def client_groups(conn: Any, client_ids: list[str]) -> dict[str, tuple[str, str, list[str]]]:
    """``client_id -> (name, TikTok account, group recipients)``; a client without a usable
    group is logged (once per run) and gets an empty list."""
    found: dict[str, tuple[str, str, list[str]]] = {}
    usable: dict[str, bool] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(task_changes._q("clients"), {"clients": client_ids})
        for row in cur:
            client_id = str(row["client_id"])
            groups = found.setdefault(
                client_id, (str(row["nama"]), str(row["tiktok_account"]), []))[2]
            usable[client_id] = usable.get(client_id, False) or bool(row["recipient_valid"])
            if row["recipient"] is not None:
                groups.append(str(row["recipient"]))
    for client_id, ok in sorted(usable.items()):
        if not ok:
            log.warning("%s: client %s has task list changes but no usable group "
                        "(client_group)", NAME, client_id, extra={"job": NAME})
    return found


def change_key(day: date, client_id: str, recipient: str, kind: str, count: int,
               text: str) -> str:
    digest = hashlib.md5(text.encode()).hexdigest()[:16]
    return f"{task_changes.MESSAGE_TYPE}:{day}:{client_id}:{recipient}:{kind}:{count}:{digest}"


def run_recap(ctx: JobContext, window: TaskWindow) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    hourly = ctx.trigger != "notify" and window.hourly_due(slot.timetz().replace(tzinfo=None))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("rows"), {"as_of": slot})
        rows = cur.fetchall()
    day = slot.date()
    expires = deadlines.for_run(conn, NAME, slot, ctx.now)
    change_expires = deadlines.for_run(conn, task_changes.MESSAGE_TYPE, slot, ctx.now)
    previous = last_lists(conn, day)
    changes = task_changes.detect(conn, day, slot)
    changed = [cid for cid, change in changes.items() if change.any()]
    contacts = client_groups(conn, changed) if changed else {}
    by_client: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_client.setdefault(str(row["client_id"]), []).append(row)
    messages: list[NewMessage] = []
    sources: list[dict[str, Any] | None] = []  # the view row of each list message
    unchanged = changes_sent = 0

    def add(message: NewMessage, source: dict[str, Any] | None = None) -> None:
        messages.append(message)
        sources.append(source)

    for client_id in sorted(set(by_client) | set(changed)):
        change = changes.get(client_id)
        deleted = change is not None and bool(change.deleted)
        listed: set[str] = set()
        lists: list[tuple[dict[str, Any], str, str]] = []
        for row in by_client.get(client_id, []):
            recipient = str(row["recipient"])
            never = (client_id, recipient) not in previous
            if not (hourly or never or deleted):
                unchanged += 1
                continue
            text, content_hash = str(row["summary"]), str(row["content_hash"])
            if change is not None:
                text = task_changes.with_section(text, change.state.tally)
                if text != row["summary"]:
                    content_hash = hashlib.md5(
                        (content_hash + task_changes.today_section(change.state.tally))
                        .encode()).hexdigest()
            listed.add(recipient)
            lists.append((row, text, content_hash))
        name, account, groups = contacts.get(client_id, (client_id, client_id.lower(), []))
        if change is not None and change.any():
            tally = change.state.tally
            for group in groups:
                if change.deleted:
                    text = task_changes.deleted_text(name, change.deleted,
                                                     change.deleted_source)
                    add(NewMessage(group, text, task_changes.MESSAGE_TYPE, change_key(
                        day, client_id, group, "deleted",
                        tally.ig_deleted + tally.tiktok_deleted, text),
                        expires_at=change_expires))
        for row, text, content_hash in lists:
            add(NewMessage(
                recipient=str(row["recipient"]), content=text, type=NAME,
                dedupe_key=dedupe_key(str(row["task_date"]), client_id, str(row["recipient"]),
                                      str(row["task_list_hash"]), content_hash),
                collapse_key=collapse_key(client_id, str(row["task_date"])),
                expires_at=expires),
                {**row, "content_hash": content_hash})
        if change is not None and change.any():
            tally = change.state.tally
            for group in groups:
                found: list[tuple[str, int, str]] = []
                if change.new_ig and group not in listed:
                    found.append(("new_ig", tally.ig_added,
                                  task_changes.new_ig_text(name, change.new_ig)))
                if change.new_tiktok and group not in listed:
                    found.append(("new_tiktok", tally.tiktok_added,
                                  task_changes.new_tiktok_text(name, account,
                                                               change.new_tiktok)))
                if change.links:
                    found.append(("links", tally.link_changes,
                                  task_changes.links_text(name, change.links)))
                for kind, count, text in found:
                    changes_sent += 1
                    add(NewMessage(group, text, task_changes.MESSAGE_TYPE,
                                   change_key(day, client_id, group, kind, count, text),
                                   expires_at=change_expires))
    done = enqueue_logged(conn, NAME, messages)
    remember(conn, [source for r in done.results
                    if r.inserted and (source := sources[r.index]) is not None])
    task_changes.save(conn, day, changes)
    conn.execute(_q("forget"), {"before": day - timedelta(days=KEEP_DAYS)})
    task_changes.forget(conn, day - timedelta(days=KEEP_DAYS))
    return done.job_result(f"{'hourly' if hourly else 'changes only'}: {len(rows)} rows, "
                           f"{unchanged} unchanged, {len(changed)} clients changed, "
                           f"{changes_sent} change messages")


def make_job(*, window: TaskWindow | None = None) -> JobSpec:
    chosen = window or TaskWindow()

    def run(ctx: JobContext) -> JobResult:
        return run_recap(ctx, chosen)

    return JobSpec(name=NAME, default_cron="*/30 * * * *", cron_env="TASK_DELIVERY_RECAP_CRON",
                   run=run, grace=timedelta(minutes=20))


JOB = make_job()
