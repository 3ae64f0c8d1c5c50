"""username_recap: who has not filled in an Instagram / TikTok username, per client (06:45).

At ``USERNAME_RECAP_CRON`` (default ``45 6 * * *``) every active client's audience
(``report_audience``) is counted: total personnel, how many have an Instagram / a TikTok
handle and how many not, then the people missing one, grouped by satfung, each with what is
missing. Routed by ``report_routing`` (kind ``username_recap``; default: the group of every org
client); a client with no usable group is logged once per run by the routing. Dedupe key
``username_recap:<day>:<client_id>:<recipient>`` (``#2``... for the parts of a long text).

A status, not a period's report: it carries the collapse key ``username_recap:<client_id>``
(a part ``#2/3``...), so a newer count of the same client replaces an older one still pending
for that recipient; it expires at the end of its Jakarta day (:mod:`producers.deadlines`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg.rows import dict_row

from outbox.engine import NewMessage
from outbox.sql import QueryFile
from producers import deadlines, indonesian
from producers.indonesian import greeting
from producers.job import JobContext, JobResult, JobSpec
from producers.jobs.reports import part_suffix, routes, text_parts
from producers.recipients import canonical, enqueue_logged
from producers.schedule import jakarta

log = logging.getLogger(__name__)

NAME = "username_recap"
_q = QueryFile("producers", "username_recap.sql")


@dataclass
class Person:
    person: str
    divisi: str
    has_insta: bool
    has_tiktok: bool


@dataclass
class Client:
    client_id: str
    name: str
    people: list[Person] = field(default_factory=list)


def recap_text(client: Client, moment: datetime) -> str:
    people = client.people
    no_ig = [p for p in people if not p.has_insta]
    no_tt = [p for p in people if not p.has_tiktok]
    n = indonesian.number
    lines = [f"{greeting(moment)},", "",
             f"Mohon ijin Komandan, rekap kelengkapan username personel *{client.name}*",
             f"{indonesian.date_with_day(moment)} pukul {indonesian.time_hm(moment)} WIB", "",
             f"Jumlah Total Personil: *{n(len(people))}*",
             f"✅ Sudah mengisi Instagram: *{n(len(people) - len(no_ig))}*",
             f"✅ Sudah mengisi TikTok: *{n(len(people) - len(no_tt))}*",
             f"❌ Belum mengisi Instagram: *{n(len(no_ig))}*",
             f"❌ Belum mengisi TikTok: *{n(len(no_tt))}*", ""]
    missing = [p for p in people if not (p.has_insta and p.has_tiktok)]
    if not missing:
        lines += ["✅ Semua personel sudah mengisi username Instagram dan TikTok.", "",
                  "Terimakasih."]
        return "\n".join(lines)
    lines.append(f"*Belum mengisi username ({n(len(missing))} pers):*")
    divisions: dict[str, list[Person]] = {}
    for person in missing:
        divisions.setdefault(person.divisi, []).append(person)
    for divisi, members in divisions.items():
        lines.append(f"*{divisi}* ({n(len(members))} pers):")
        for p in members:
            what = ", ".join(label for label, has in (("Instagram", p.has_insta),
                                                      ("TikTok", p.has_tiktok)) if not has)
            lines.append(f"- {p.person} ({what})")
    lines += ["", "Mohon personel tersebut segera melengkapi data melalui",
              "https://papiqo.com/claim, menu *Update Data Personil*.", "", "Terimakasih."]
    return "\n".join(lines)


def run_recap(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    clients: dict[str, Client] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("people"))
        for row in cur:
            client_id = str(row["client_id"])
            client = clients.setdefault(client_id, Client(client_id, str(row["client_name"])))
            client.people.append(Person(str(row["person"]) or str(row["user_id"]),
                                        str(row["divisi"]), bool(row["has_insta"]),
                                        bool(row["has_tiktok"])))
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    routed = routes(conn, NAME, sorted(clients), admins, f"{slot:%H:%M}") if clients else {}
    expires = deadlines.for_run(conn, NAME, slot, ctx.now)
    messages: list[NewMessage] = []
    for client_id, client in sorted(clients.items()):
        recipients = routed[client_id].recipients
        if not recipients:
            continue
        parts = text_parts(recap_text(client, slot))
        for recipient in recipients:
            for n, part in enumerate(parts, 1):
                messages.append(NewMessage(
                    recipient=recipient, content=part, type=NAME,
                    dedupe_key=f"{NAME}:{slot.date().isoformat()}:{client_id}:{recipient}"
                               + (f"#{n}" if n > 1 else ""),
                    collapse_key=f"{NAME}:{client_id}{part_suffix(n, len(parts))}",
                    expires_at=expires))
    return enqueue_logged(conn, NAME, messages).job_result(
        f"{len(clients)} clients, {sum(1 for r in routed.values() if r.recipients)} routed")


JOB = JobSpec(name=NAME, default_cron="45 6 * * *", cron_env="USERNAME_RECAP_CRON",
              run=run_recap, grace=timedelta(minutes=60))
