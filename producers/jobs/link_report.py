"""The amplification link recaps (``link_report``): who reported their re-share links.

Personnel re-share each official Instagram post and report the links (``link_report``, five
platforms per post and person). Three jobs, each routed through ``report_routing``:

- ``link_report`` (``5 15,18,21 * * *``, ``LINK_REPORT_CRON``): per client with amplification
  on and Instagram task posts today up to the slot, the recap of its audience: ✅ Sudah (a link
  reported for every post), ⚠️ Belum Lengkap (for some), ❌ Belum (none); exception users count
  as done (the old rule). Default audience: the admins, the operator, the super admins, the group.
- ``amplify_daily_report`` (``7 21 * * *``, ``AMPLIFY_DAILY_REPORT_CRON``): the same recap of the
  whole day as the operator's daily report (default audience: the operator).
- ``amplify_monthly_report`` (``0 23 28-31 * *``, ``AMPLIFY_MONTHLY_REPORT_CRON``): on the last
  day of the month only, per client the month's link rows as ``<client_id>_<Bulan>.xlsx``
  (:mod:`producers.jobs.link_workbook`) to the routes with ``attachment`` (default: the
  operator); a client without any link that month gets none.

The recap text is built here (one message per client; a text over WhatsApp's limit is cut at
line ends into parts, keys ``#2``, ``#3``...). Dedupe keys:
``<job>:<day>T<HHMM>:<client_id>:<recipient>`` (``link_report``), ``<job>:<day>:...``
(daily), ``<job>:<YYYY-MM>:xlsx:<client_id>:<recipient>`` (monthly). ``link_report`` rows
pointing at a post that no longer exists are counted and logged once per run.

The ``link_report`` recap ("today so far") carries the collapse key
``link_report:<day>:<client_id>`` (a part ``#2/3``...): the 18.05 recap replaces the 15.05 one
of the same client still pending for that recipient. Deadlines: :mod:`producers.deadlines`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import Attachment, NewMessage
from outbox.sql import QueryFile
from producers import deadlines, indonesian
from producers.indonesian import greeting
from producers.job import JobContext, JobResult, JobSpec
from producers.jobs import link_workbook
from producers.jobs.reports import part_suffix, routes, text_parts
from producers.recipients import canonical, enqueue_logged
from producers.schedule import jakarta

log = logging.getLogger(__name__)

_q = QueryFile("producers", "link_report.sql")



@dataclass(frozen=True)
class LinkKind:
    name: str
    cron: str
    cron_env: str
    title: str
    upto_slot: bool  # the posts up to the slot (recap) or the whole day (daily report)


RECAP = LinkKind("link_report", "5 15,18,21 * * *", "LINK_REPORT_CRON",
                 "Mohon ijin melaporkan Pelaksanaan Tugas Amplifikasi", True)
DAILY = LinkKind("amplify_daily_report", "7 21 * * *", "AMPLIFY_DAILY_REPORT_CRON",
                 "Mohon ijin melaporkan Laporan Harian Tugas Amplifikasi", False)


@dataclass
class Person:
    person: str
    divisi: str
    done: int
    links: int
    exception: bool


@dataclass
class ClientRecap:
    client_id: str
    name: str
    posts: int
    shortcodes: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


def status(person: Person, posts: int) -> str:
    """``sudah`` / ``kurang`` / ``belum`` (exception users are always ``sudah``)."""
    if person.exception or person.done >= posts:
        return "sudah"
    return "kurang" if person.done > 0 else "belum"


def recap_text(kind: LinkKind, recap: ClientRecap, moment: datetime) -> str:
    buckets: dict[str, list[Person]] = {"sudah": [], "kurang": [], "belum": []}
    for person in recap.people:
        buckets[status(person, recap.posts)].append(person)
    lines = [f"{greeting(moment)},", "",
             f"{kind.title} *{recap.name}* pada hari:",
             f"Hari: {indonesian.day_name(moment)}",
             f"Tanggal: {indonesian.date_long(moment)}",
             f"Pukul: {indonesian.time_hm(moment)} WIB", "",
             f"Jumlah konten resmi hari ini: *{indonesian.number(recap.posts)}*"]
    lines += [f"{n}. https://www.instagram.com/p/{code}/"
              for n, code in enumerate(recap.shortcodes, 1)]
    lines += ["",
              f"Jumlah personel pelaksana: *{indonesian.number(len(recap.people))}*",
              f"Jumlah link amplifikasi (5 platform): "
              f"*{indonesian.number(sum(p.links for p in recap.people))}*"]
    for key, label in (("sudah", "✅ *Sudah"), ("kurang", "⚠️ *Belum Lengkap"),
                       ("belum", "❌ *Belum")):
        members = buckets[key]
        lines += ["", f"{label} ({indonesian.number(len(members))} pers):*"]
        if not members:
            lines.append("-")
        for p in members:
            lines.append(f"- {p.divisi} – {p.person} (Sudah: {p.done} Tugas / "
                         f"Belum: {max(recap.posts - p.done, 0)} Tugas / "
                         f"Total Link: {p.links} Link)")
    lines += ["", "Terima kasih."]
    return "\n".join(lines)


def log_orphans(conn: Any, job: str) -> int:
    row = conn.execute(_q("orphans")).fetchone()
    count, example = (int(row[0]), row[1]) if row else (0, None)
    if count:
        log.warning("%s: %d link_report row(s) point at a post that no longer exists "
                    "(e.g. shortcode %s); left out", job, count, example, extra={"job": job})
    return count


def read_recaps(conn: Any, day: date, as_of: datetime) -> dict[str, ClientRecap]:
    recaps: dict[str, ClientRecap] = {}
    params = {"day": day, "as_of": as_of}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("people"), params)
        for row in cur:
            client_id = str(row["client_id"])
            recap = recaps.setdefault(client_id, ClientRecap(
                client_id, str(row["client_name"]), int(row["posts"])))
            recap.people.append(Person(str(row["person"]) or str(row["user_id"]),
                                       str(row["divisi"]), int(row["done"]), int(row["links"]),
                                       bool(row["exception"])))
        cur.execute(_q("posts"), params)
        for row in cur:
            if str(row["client_id"]) in recaps:
                recaps[str(row["client_id"])].shortcodes.append(str(row["shortcode"]))
    return recaps


def run_recap(ctx: JobContext, kind: LinkKind) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    day = slot.date()
    as_of = slot if kind.upto_slot else datetime.combine(
        day + timedelta(days=1), datetime.min.time(), slot.tzinfo) - timedelta(microseconds=1)
    orphans = log_orphans(conn, kind.name)
    recaps = read_recaps(conn, day, as_of)
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    routed = routes(conn, kind.name, sorted(recaps), admins, f"{slot:%H:%M}") if recaps else {}
    period = f"{day.isoformat()}T{slot:%H%M}" if kind.upto_slot else day.isoformat()
    expires = deadlines.for_run(conn, kind.name, slot, ctx.now)
    messages: list[NewMessage] = []
    for client_id, recap in sorted(recaps.items()):
        parts = text_parts(recap_text(kind, recap, slot))
        for recipient in routed[client_id].recipients:
            for n, part in enumerate(parts, 1):
                suffix = f"#{n}" if n > 1 else ""
                collapse = (f"{kind.name}:{day.isoformat()}:{client_id}"
                            f"{part_suffix(n, len(parts))}" if kind.upto_slot else None)
                messages.append(NewMessage(
                    recipient=recipient, content=part, type=kind.name,
                    dedupe_key=f"{kind.name}:{period}:{client_id}:{recipient}{suffix}",
                    collapse_key=collapse, expires_at=expires))
    return enqueue_logged(conn, kind.name, messages).job_result(
        f"{day.isoformat()}: {len(recaps)} clients with posts, "
        f"{sum(len(r.recipients) for r in routed.values())} routed recipients, "
        f"{orphans} orphan link rows")


def last_day_of_month(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


MONTHLY_NAME = "amplify_monthly_report"


def run_monthly(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    day = slot.date()
    if not last_day_of_month(day):
        return JobResult(detail=f"{day.isoformat()} is not the last day of the month")
    start = day.replace(day=1)
    orphans = log_orphans(conn, MONTHLY_NAME)
    names = {str(r[0]): str(r[1]) for r in conn.execute(_q("amplify_clients")).fetchall()}
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    routed = routes(conn, MONTHLY_NAME, sorted(names), admins, f"{slot:%H:%M}") if names else {}
    wanted = {cid for cid, route in routed.items() if any(route.attach.values())}
    rows: dict[str, list[dict[str, Any]]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("month_links"), {"start": start, "end": day})
        for row in cur:
            if str(row["client_id"]) in wanted:
                rows.setdefault(str(row["client_id"]), []).append(row)
    expires = deadlines.for_run(conn, MONTHLY_NAME, slot, ctx.now)
    messages: list[NewMessage] = []
    for client_id in sorted(rows):
        attachment = Attachment(link_workbook.build(rows[client_id]),
                                link_workbook.file_name(client_id, start), link_workbook.MIME)
        caption = (f"📎 Rekap Link Amplifikasi *{names[client_id]}*\n"
                   f"Bulan {indonesian.month_label(start)}: "
                   f"{indonesian.number(len(rows[client_id]))} laporan link")
        route = routed[client_id]
        for recipient in route.recipients:
            if route.attach[recipient]:
                messages.append(NewMessage(
                    recipient=recipient, content=caption, type=MONTHLY_NAME,
                    attachment=attachment, expires_at=expires,
                    dedupe_key=f"{MONTHLY_NAME}:{start:%Y-%m}:xlsx:{client_id}:{recipient}"))
    return enqueue_logged(conn, MONTHLY_NAME, messages).job_result(
        f"{start:%Y-%m}: {len(wanted)} clients routed, {len(rows)} with links, "
        f"{orphans} orphan link rows")


def make_job(kind: LinkKind) -> JobSpec:
    def run(ctx: JobContext) -> JobResult:
        return run_recap(ctx, kind)

    return JobSpec(name=kind.name, default_cron=kind.cron, cron_env=kind.cron_env, run=run,
                   grace=timedelta(minutes=60))


LINK_REPORT = make_job(RECAP)
AMPLIFY_DAILY = make_job(DAILY)
AMPLIFY_MONTHLY = JobSpec(name=MONTHLY_NAME, default_cron="0 23 28-31 * *",
                          cron_env="AMPLIFY_MONTHLY_REPORT_CRON", run=run_monthly,
                          grace=timedelta(minutes=50))
