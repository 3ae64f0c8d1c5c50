"""personal_reminder: a personal reminder to opted-in personnel who have not done today's tasks.

At ``PERSONAL_REMINDER_CRON`` (default ``5,35 17 * * *``, 17:05 and 17:35) the job reads, per
opted-in person (``"user".wa_notification_opt_in``; a database without that column has nobody
opted in: the adapter reads it as false) of an active client's audience with task posts that
day, which posts he has not liked (Instagram) or commented on (TikTok) yet. Exception users get
none. The state is ``personal_reminder_state`` (per Jakarta day, personal chat and client, the
last stage enqueued, as the old reminder state table), written in the slot's transaction:

- not done, no stage yet: the first reminder (stage ``initial``), listing the missing posts;
- not done, after ``initial``: the follow-up (stage ``followup1``); after that nothing more;
- done after a reminder: one thank-you (stage ``completed``) and no reminder again that day;
- done and never reminded: nothing.

An opted-in person without a usable personal number (empty, invalid, or a group id) is left out;
how many is logged once per run. Dedupe key
``personal_reminder:<day>:<chat>:<client_id>:<stage>``.

Each message carries the collapse key ``personal_reminder:<day>:<client_id>`` (the chat is the
recipient): a follow-up replaces the first reminder still pending, a thank-you replaces a
reminder still pending (nobody is reminded of what he has done). It expires at the end of the
Jakarta day (:mod:`producers.deadlines`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import NewMessage
from outbox.sql import QueryFile
from producers import deadlines
from producers.indonesian import greeting
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import enqueue_logged
from producers.schedule import jakarta

log = logging.getLogger(__name__)

NAME = "personal_reminder"
KEEP_DAYS = 31
_q = QueryFile("producers", "personal_reminder.sql")

NEXT_STAGE = {None: "initial", "initial": "followup1"}


@dataclass
class Person:
    client_id: str
    client_name: str
    tiktok_account: str
    user_id: str
    person: str
    insta: str | None
    tiktok: str | None
    chat: str | None
    problem: str | None
    missing_ig: list[str] = field(default_factory=list)
    missing_tiktok: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not (self.missing_ig or self.missing_tiktok)


def reminder_text(p: Person, stage: str, moment: datetime) -> str:
    title = "Pengingat engagement harian" if stage == "initial" else \
        "Pengingat engagement harian (ulang)"
    lines = [f"{greeting(moment)}, Bapak/Ibu {p.person}", "",
             f"👋 *{title} - {p.client_name}*",
             "Tugas berikut belum tercatat dilaksanakan hari ini:"]
    if p.missing_ig:
        lines += ["", f"📸 Instagram, like dan komentar ({len(p.missing_ig)} konten):"]
        lines += [f"{n}. https://www.instagram.com/p/{code}/"
                  for n, code in enumerate(p.missing_ig, 1)]
    if p.missing_tiktok:
        lines += ["", f"🎵 TikTok, komentar ({len(p.missing_tiktok)} konten):"]
        lines += [f"{n}. https://www.tiktok.com/@{p.tiktok_account}/video/{vid}"
                  for n, vid in enumerate(p.missing_tiktok, 1)]
    ig = f"@{p.insta}" if p.insta else "belum diisi"
    tt = f"@{p.tiktok}" if p.tiktok else "belum diisi"
    lines += ["", "Tips:",
              f"1. Gunakan akun yang terdaftar di Cicero (Instagram {ig}, TikTok {tt}).",
              "2. Data diperbarui berkala: tunggu sekitar 1 jam setelah melaksanakan tugas.",
              "", "Balas *notifwa#off* untuk berhenti menerima pengingat ini."]
    return "\n".join(lines)


def thanks_text(p: Person, moment: datetime) -> str:
    return (f"{greeting(moment)}, Bapak/Ibu {p.person}\n\n"
            f"Terimakasih, Tugas Likes dan komentar hari ini ({p.client_name}) sudah "
            "dilaksanakan semua.")


def read_people(conn: Any, day: date, as_of: datetime) -> list[Person]:
    people: dict[tuple[str, str], Person] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("tasks"), {"day": day, "as_of": as_of})
        for row in cur:
            key = (str(row["client_id"]), str(row["user_id"]))
            person = people.get(key)
            if person is None:
                person = people[key] = Person(
                    key[0], str(row["client_name"]), str(row["tiktok_account"]), key[1],
                    str(row["person"]) or key[1], row["insta"], row["tiktok"], row["chat"],
                    row["problem"])
            if not row["done"]:
                target = person.missing_ig if row["kind"] == "ig" else person.missing_tiktok
                target.append(str(row["post_id"]))
    return list(people.values())


def run_reminders(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    day = slot.date()
    people = read_people(conn, day, slot)
    expires = deadlines.for_run(conn, NAME, slot, ctx.now)
    state = {(str(r[0]), str(r[1])): (r[2], bool(r[3]))
             for r in conn.execute(_q("state"), {"day": day}).fetchall()}
    unusable: list[str] = []
    messages: list[NewMessage] = []
    updates: list[tuple[Person, str, str, bool]] = []  # (person, chat, stage, complete)
    seen: set[tuple[str, str]] = set()
    for p in people:
        chat = p.chat
        if chat is None or chat.endswith("@g.us"):
            unusable.append(p.user_id)
            continue
        if (chat, p.client_id) in seen:  # two people sharing one number: the first one
            continue
        seen.add((chat, p.client_id))
        last, complete = state.get((chat, p.client_id), (None, False))
        if complete:
            continue
        if p.done:
            if last is None:
                continue
            stage, text = "completed", thanks_text(p, slot)
        else:
            next_stage = NEXT_STAGE.get(last)
            if next_stage is None:
                continue
            stage, text = next_stage, reminder_text(p, next_stage, slot)
        messages.append(NewMessage(
            recipient=chat, content=text, type=NAME,
            dedupe_key=f"{NAME}:{day.isoformat()}:{chat}:{p.client_id}:{stage}",
            collapse_key=f"{NAME}:{day.isoformat()}:{p.client_id}", expires_at=expires))
        updates.append((p, chat, stage, stage == "completed"))
    if unusable:
        log.warning("%s: %d opted-in personnel without a usable WhatsApp number left out "
                    "(e.g. user %s)", NAME, len(unusable), unusable[0], extra={"job": NAME})
    done = enqueue_logged(conn, NAME, messages)
    for outcome in done.results:
        if outcome.inserted:
            p, chat, stage, complete = updates[outcome.index]
            conn.execute(_q("save"), {"day": day, "chat": chat, "client_id": p.client_id,
                                      "user_id": p.user_id, "stage": stage,
                                      "complete": complete})
    conn.execute(_q("forget"), {"before": day - timedelta(days=KEEP_DAYS)})
    return done.job_result(f"{len(people)} opted-in people with tasks, {len(unusable)} "
                           "without a usable number")


JOB = JobSpec(name=NAME, default_cron="5,35 17 * * *", cron_env="PERSONAL_REMINDER_CRON",
              run=run_reminders, grace=timedelta(minutes=25))
