"""daily_report, weekly_report, monthly_report: the report views -> wa_outbox.

Each slot reads one period of its view (the text is built in SQL by the views; the queries
are in ``producers/sql/reports.sql``, one per job, named after it):

- ``daily_report`` (``0 7 * * *``): ``daily_report_view`` for the previous Jakarta day;
- ``weekly_report`` (``0 7 * * 1``): ``weekly_report_view`` for the previous Monday-Sunday;
- ``monthly_report`` (``0 7 1 * *``): ``monthly_report_view`` for the previous month.

The period is derived from the slot (not from the clock), so a backfill of an old slot sends
that slot's period. Every row ``(message_key, recipient, summary)`` becomes one text message
with ``dedupe_key = <type>:<period start>:<message_key>:<recipient>``; rows flagged
``admin_copy`` are also sent once per message to every valid ``ADMIN_WHATSAPP`` number (same key
shape, so an admin who is already a recipient gets it once). After a client's texts, each of
its recipients gets the client's ``.xlsx`` recap (built from ``report_user_day``, see
:mod:`producers.xlsx`) as a document message whose content is a short caption
(key ``<type>:<period start>:xlsx:<client_id>:<recipient>``). Recipients the outbox refuses are
logged (masked) and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import Attachment, NewMessage
from outbox.sql import QueryFile
from producers import indonesian, xlsx
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import canonical, enqueue_logged
from producers.schedule import jakarta

log = logging.getLogger(__name__)

_q = QueryFile("producers", "reports.sql")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def key(self) -> str:
        return self.start.isoformat()


def previous_day(slot_day: date) -> Period:
    day = slot_day - timedelta(days=1)
    return Period(day, day)


def previous_week(slot_day: date) -> Period:
    monday = slot_day - timedelta(days=slot_day.weekday() + 7)
    return Period(monday, monday + timedelta(days=6))


def previous_month(slot_day: date) -> Period:
    last = slot_day.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


@dataclass(frozen=True)
class ReportKind:
    name: str  # job name, message type and the name of its query in reports.sql
    kind: str  # daily / weekly / monthly (file names, captions)
    label: str  # Harian / Mingguan / Bulanan
    cron: str
    cron_env: str
    period: Callable[[date], Period]


DAILY_KIND = ReportKind("daily_report", "daily", "Harian", "0 7 * * *", "DAILY_REPORT_CRON",
                        previous_day)
WEEKLY_KIND = ReportKind("weekly_report", "weekly", "Mingguan", "0 7 * * 1",
                         "WEEKLY_REPORT_CRON", previous_week)
MONTHLY_KIND = ReportKind("monthly_report", "monthly", "Bulanan", "0 7 1 * *",
                          "MONTHLY_REPORT_CRON", previous_month)


def caption(kind: ReportKind, client_name: str, period: Period) -> str:
    if kind.kind == "monthly":
        when = f"Bulan {indonesian.month_label(period.start)}"
    else:
        when = indonesian.period_label(period.start, period.end)
    return f"📎 Rekap {kind.label} Engagement *{client_name}*\n{when}"


def workbooks(conn: Any, clients: dict[str, str], period: Period) -> dict[str, bytes]:
    """``client_id -> .xlsx`` for the given clients (``client_id -> name``) over ``period``.

    ``report_user_day`` is streamed through a server-side cursor (the slot's transaction is
    open) for all clients at once, grouped by client, so only one client's rows are in memory
    at a time.
    """
    built: dict[str, bytes] = {}

    def build(client_id: str, rows: list[dict[str, Any]]) -> None:
        built[client_id] = xlsx.build_workbook(
            xlsx.lines_from_rows(rows), period.start, period.end, client_id=client_id,
            client_name=clients[client_id])

    params = {"start": period.start, "end": period.end}
    current: str | None = None
    rows: list[dict[str, Any]] = []
    with conn.cursor(name="producers_user_days", row_factory=dict_row) as cur:
        cur.itersize = 5000
        cur.execute(_q("user_days"), params)
        for row in cur:
            client_id = str(row["client_id"])
            if client_id != current:
                if current in clients:
                    build(current, rows)
                current, rows = client_id, []
            if client_id in clients:
                rows.append(row)
    if current in clients:
        build(current, rows)
    for client_id in clients:
        if client_id not in built:  # no posts in the whole period: the audience with zeros
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(_q("audience"), {"client": client_id})
                build(client_id, cur.fetchall())
    return built


def run_report(ctx: JobContext, kind: ReportKind, *, attach: bool = True) -> JobResult:
    conn = ctx.conn
    period = kind.period(jakarta(ctx.slot).date())
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q(kind.name), {"start": period.start})
        rows = cur.fetchall()
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    messages: list[NewMessage] = []
    clients: dict[str, tuple[str, list[str]]] = {}  # client_id -> (name, recipients in order)
    admin_messages: dict[str, dict[str, Any]] = {}
    for row in rows:
        client_id, recipient = str(row["client_id"]), str(row["recipient"])
        name, recipients = clients.setdefault(client_id, (str(row["client_name"]), []))
        if recipient not in recipients:
            recipients.append(recipient)
        messages.append(NewMessage(
            recipient=recipient, content=row["summary"], type=kind.name,
            dedupe_key=f"{kind.name}:{period.key}:{row['message_key']}:{recipient}"))
        if row["admin_copy"] and admins:
            admin_messages.setdefault(row["message_key"], row)
    for message_key, row in admin_messages.items():
        client_id = str(row["client_id"])
        for admin in admins:
            messages.append(NewMessage(
                recipient=admin, content=row["summary"], type=kind.name,
                dedupe_key=f"{kind.name}:{period.key}:{message_key}:{admin}"))
            if admin not in clients[client_id][1]:
                clients[client_id][1].append(admin)
    documents = 0
    if attach:
        files = workbooks(conn, {cid: name for cid, (name, _) in clients.items()}, period)
        for client_id, (name, recipients) in clients.items():
            data = files[client_id]
            attachment = Attachment(data, xlsx.file_name(kind.kind, client_id, period.start,
                                                         period.end), xlsx.XLSX_MIME)
            text = caption(kind, name, period)
            for recipient in recipients:
                documents += 1
                messages.append(NewMessage(
                    recipient=recipient, content=text, type=kind.name, attachment=attachment,
                    dedupe_key=f"{kind.name}:{period.key}:xlsx:{client_id}:{recipient}"))
    return enqueue_logged(conn, kind.name, messages).job_result(
        f"period {period.start.isoformat()}..{period.end.isoformat()}: "
        f"{len(rows)} view rows, {len(clients)} clients, {documents} documents, "
        f"{len(admin_messages)} admin copies")


def make_job(kind: ReportKind, *, attach: bool = True) -> JobSpec:
    def run(ctx: JobContext) -> JobResult:
        return run_report(ctx, kind, attach=attach)

    return JobSpec(name=kind.name, default_cron=kind.cron, cron_env=kind.cron_env, run=run,
                   grace=timedelta(hours=6))


DAILY = make_job(DAILY_KIND)
WEEKLY = make_job(WEEKLY_KIND)
MONTHLY = make_job(MONTHLY_KIND)
