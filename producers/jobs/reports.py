"""daily_report, weekly_report, monthly_report: the report views -> wa_outbox.

Each slot reads one period of its view (the text is built in SQL by the views; the queries
are in ``producers/sql/reports.sql``, one per job, named after it):

- ``daily_report`` (``0 7 * * *``): ``daily_report_view`` for the previous Jakarta day;
- ``weekly_report`` (``0 7 * * 1``): ``weekly_report_view`` for the previous Monday-Sunday;
- ``monthly_report`` (``0 7 1 * *``): ``monthly_report_view`` for the previous month.

The period is derived from the slot (not from the clock), so a backfill of an old slot sends
that slot's period. Who receives a client's messages is data: ``report_routing`` (report kind x
client or client type -> audiences group / operator / super / admins / fixed number, attachment
yes or no; docs/concepts/reports.md#who-gets-what), read at each run; a recipient reached
through two audiences gets each message once. Every ``(message_key, summary)`` of the view
becomes one text message per routed recipient with
``dedupe_key = <type>:<period start>:<message_key>:<recipient>``; a text longer than WhatsApp
accepts is cut at line ends into parts (``<message_key>#1``, ``#2``, ...). After a client's
texts, each recipient routed with ``attachment`` gets the client's ``.xlsx`` recap (built from
``report_user_day``, see :mod:`producers.xlsx`) as a document message whose content is a short
caption (key ``<type>:<period start>:xlsx:<client_id>:<recipient>``). When the client's last
text fits in a caption (:data:`MAX_CAPTION`; with that short caption after it when there is
room), it travels as the document's caption instead of as a message of its own: one send
instead of two (:func:`merged_caption`). Recipients the outbox refuses are logged (masked)
and skipped; a routed audience with no usable value is logged once per client.

Delivery (docs/concepts/reports.md): every row gets the ``expires_at`` of
:mod:`producers.deadlines` for its type; the same-day recaps also carry a ``collapse_key``
(``same_day_recap:<Jakarta day>:<message_key>``, ``...:xlsx:<client_id>`` for the workbook), so
a later slot's recap of the same client (also one of another same-day kind, e.g. the Ditbinmas
group's 18.10 recap after its 15.20 one) replaces the older one still pending for that
recipient. The 07:00 recaps carry none: one period, one report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row

from outbox.engine import Attachment, NewMessage
from outbox.sql import QueryFile
from producers import deadlines, indonesian, xlsx
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


def same_day(slot_day: date) -> Period:
    return Period(slot_day, slot_day)


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
    query: str = ""  # the query in reports.sql, when not the job's name
    upto: bool = False  # same-day: only posts uploaded up to the slot (outbox.report_upto)
    grace: timedelta = timedelta(hours=6)

    def period_key(self, period: Period, slot: datetime) -> str:
        """The period part of the dedupe keys: the day, plus the slot's HHMM when same-day."""
        return f"{period.key}T{slot:%H%M}" if self.upto else period.key


DAILY_KIND = ReportKind("daily_report", "daily", "Harian", "0 7 * * *", "DAILY_REPORT_CRON",
                        previous_day)
WEEKLY_KIND = ReportKind("weekly_report", "weekly", "Mingguan", "0 7 * * 1",
                         "WEEKLY_REPORT_CRON", previous_week)
MONTHLY_KIND = ReportKind("monthly_report", "monthly", "Bulanan", "0 7 1 * *",
                          "MONTHLY_REPORT_CRON", previous_month)
# The same-day recaps of the old services (today up to the slot, "data s.d. 15.20 WIB"): the
# org recap at 15:20, 18:20, 20:20 (and the Ditbinmas group at 15:20, its super admins at 18:20,
# through report_routing.at_time), the Ditbinmas group at 18:10, BIDHUMAS at 15:45, 20:15 and
# 22:15 (its cron has three more slots, which report_routing routes nowhere: they send nothing).
PROGRESS_KIND = ReportKind("progress_report", "daily", "Harian", "20 15,18,20 * * *",
                           "PROGRESS_REPORT_CRON", same_day, query="daily_report", upto=True,
                           grace=timedelta(minutes=60))
DITBINMAS_PROGRESS_KIND = ReportKind(
    "ditbinmas_progress_report", "daily", "Harian", "10 18 * * *",
    "DITBINMAS_PROGRESS_REPORT_CRON", same_day, query="daily_report", upto=True,
    grace=timedelta(minutes=60))
BIDHUMAS_PROGRESS_KIND = ReportKind(
    "bidhumas_progress_report", "daily", "Harian", "15,45 15,20,22 * * *",
    "BIDHUMAS_PROGRESS_REPORT_CRON", same_day, query="daily_report", upto=True,
    grace=timedelta(minutes=60))


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


MAX_TEXT = 60000  # WhatsApp accepts at most 65536 characters (wa_outbox refuses longer)

#: The longest caption a document is sent with, counted in UTF-16 code units
#: (:func:`caption_length`). Neither neonize (``build_document_message`` passes the caption
#: through) nor whatsmeow (``DocumentMessage.caption`` is a plain protobuf string) checks a
#: length, and WhatsApp publishes no limit for the multi-device protocol; the one published
#: limit for a media caption is the WhatsApp Business Platform's 1,024 characters (Cloud API,
#: image and document messages), the conservative choice: a longer text is sent as a message
#: of its own before the document, as before. See docs/concepts/reports.md.
MAX_CAPTION = 1024


def caption_length(text: str) -> int:
    """``text``'s length as WhatsApp's clients count it: UTF-16 code units (an emoji outside
    the Basic Multilingual Plane, such as 📎, counts 2); never less than ``len(text)``."""
    return len(text.encode("utf-16-le")) // 2


def merged_caption(text: str, file_caption: str, limit: int | None = None) -> str | None:
    """The caption of a document carrying ``text``: the text, a blank line and the document's
    own caption when all of it fits in ``limit`` (default :data:`MAX_CAPTION`), else the text
    alone when it fits (the file's name still says what it is), else ``None``: then the text
    goes first, as a message of its own, and the document keeps its short caption."""
    limit = MAX_CAPTION if limit is None else limit
    combined = f"{text}\n\n{file_caption}"
    if caption_length(combined) <= limit:
        return combined
    return text if caption_length(text) <= limit else None


def part_suffix(n: int, total: int) -> str:
    """The collapse-key suffix of part ``n`` of ``total``: none for a single text; ``#2/3``
    otherwise, so a part supersedes the same part of an equally split newer text only (a
    newer text split differently supersedes nothing: both arrive whole, never a mix)."""
    return "" if total == 1 else f"#{n}/{total}"


def text_parts(summary: str, limit: int = MAX_TEXT) -> list[str]:
    """``summary`` as is when it fits, else cut at line ends into parts of at most ``limit``
    characters (a province's directorate recap with its name lists can pass WhatsApp's limit);
    ``"\n".join(parts) == summary``."""
    if len(summary) <= limit:
        return [summary]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in summary.split("\n"):
        while len(line) > limit:  # one overlong line: cut it hard
            parts.extend(["\n".join(current)] if current else [])
            current, size = [], 0
            parts.append(line[:limit])
            line = line[limit:]
        if current and size + 1 + len(line) > limit:
            parts.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    parts.append("\n".join(current))
    return parts


@dataclass
class Route:
    """One client's recipients of one report kind, in sending order (``report_routing``)."""

    recipients: list[str]
    attach: dict[str, bool]


def routes(conn: Any, kind: str, client_ids: list[str], admins: list[str],
           at: str = "07:00") -> dict[str, Route]:
    """``client_id -> Route`` for ``kind`` (``report_routing``); each recipient once, with the
    attachment if any of its audiences has it. A routed audience without one usable value is
    logged once per client and audience; invalid values stay in the list (the outbox refuses
    them and :func:`enqueue_logged` logs them)."""
    result: dict[str, Route] = {cid: Route([], {}) for cid in client_ids}
    usable: dict[tuple[str, str], bool] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("routes"), {"kind": kind, "clients": client_ids, "admins": admins,
                                   "at": at})
        for row in cur:
            client_id, audience = str(row["client_id"]), str(row["audience"])
            key = (client_id, audience)
            usable[key] = usable.get(key, False) or bool(row["recipient_valid"])
            recipient = row["recipient"]
            if recipient is None:
                continue
            route = result[client_id]
            if recipient not in route.attach:
                route.recipients.append(recipient)
                route.attach[recipient] = False
            route.attach[recipient] = route.attach[recipient] or bool(row["attachment"])
    for (client_id, audience), ok in usable.items():
        if not ok:
            log.warning("%s: client %s has no usable recipient for audience %s (%s)", kind,
                        client_id, audience, AUDIENCE_FIELDS[audience],
                        extra={"job": kind})
    return result


AUDIENCE_FIELDS = {"group": "client_group", "operator": "client_operator",
                   "super": "client_super", "admins": "ADMIN_WHATSAPP",
                   "fixed": "report_routing.recipient"}


def run_report(ctx: JobContext, kind: ReportKind, *, attach: bool = True) -> JobResult:
    conn = ctx.conn
    slot = jakarta(ctx.slot)
    period = kind.period(slot.date())
    at = f"{slot:%H:%M}"
    key = kind.period_key(period, slot)
    routed_at = conn.execute(_q("routed_at"), {"kind": kind.name, "at": at}).fetchone()
    if not (routed_at and routed_at[0]):
        return JobResult(detail=f"no report_routing row for {kind.name} at {at}")
    if kind.upto:  # the views see only the posts uploaded up to the slot
        conn.execute("SELECT set_config('outbox.report_upto', %s, true)", (slot.isoformat(),))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q(kind.query or kind.name), {"start": period.start})
        rows = cur.fetchall()
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    # the view gives each message once per client recipient; the routing decides who gets it
    names: dict[str, str] = {}
    texts: dict[str, list[tuple[str, str]]] = {}  # client_id -> [(message_key, summary)]
    for row in rows:
        client_id, message_key = str(row["client_id"]), str(row["message_key"])
        names.setdefault(client_id, str(row["client_name"]))
        mine = texts.setdefault(client_id, [])
        if not any(k == message_key for k, _ in mine):
            mine.append((message_key, str(row["summary"])))
    routed = routes(conn, kind.name, list(names), admins, at)
    expires = deadlines.for_run(conn, kind.name, slot, ctx.now)
    day = slot.date().isoformat()

    def collapse(what: str) -> str | None:
        return f"same_day_recap:{day}:{what}" if kind.upto else None

    wanted = {cid: names[cid] for cid, route in routed.items() if any(route.attach.values())}
    files = workbooks(conn, wanted, period) if attach and wanted else {}
    messages: list[NewMessage] = []
    documents = merged = 0
    for client_id, mine in texts.items():
        split = [(message_key, text_parts(summary)) for message_key, summary in mine]
        route = routed[client_id]
        attachment = None
        if client_id in files:
            attachment = Attachment(files[client_id], xlsx.file_name(
                kind.kind, client_id, period.start, period.end), xlsx.XLSX_MIME)
        file_caption = caption(kind, names[client_id], period)
        for recipient in route.recipients:
            with_file = attachment is not None and route.attach[recipient]
            carried: str | None = None  # the last text, when it travels as the caption
            for index, (message_key, parts) in enumerate(split):
                if with_file and index == len(split) - 1 and len(parts) == 1:
                    carried = merged_caption(parts[0], file_caption)
                    if carried is not None:
                        merged += 1
                        continue
                for n, part in enumerate(parts, 1):
                    suffix = f"#{n}" if len(parts) > 1 else ""
                    messages.append(NewMessage(
                        recipient=recipient, content=part, type=kind.name,
                        dedupe_key=f"{kind.name}:{key}:{message_key}{suffix}:{recipient}",
                        collapse_key=collapse(message_key + part_suffix(n, len(parts))),
                        expires_at=expires))
            if with_file and attachment is not None:
                documents += 1
                messages.append(NewMessage(
                    recipient=recipient, content=carried or file_caption, type=kind.name,
                    attachment=attachment,
                    dedupe_key=f"{kind.name}:{key}:xlsx:{client_id}:{recipient}",
                    collapse_key=collapse(f"xlsx:{client_id}"), expires_at=expires))
    return enqueue_logged(conn, kind.name, messages).job_result(
        f"period {period.start.isoformat()}..{period.end.isoformat()}: "
        f"{len(rows)} view rows, {len(names)} clients, "
        f"{sum(len(r.recipients) for r in routed.values())} routed recipients, "
        f"{documents} documents ({merged} with the text as caption)")


def make_job(kind: ReportKind, *, attach: bool = True) -> JobSpec:
    def run(ctx: JobContext) -> JobResult:
        return run_report(ctx, kind, attach=attach)

    return JobSpec(name=kind.name, default_cron=kind.cron, cron_env=kind.cron_env, run=run,
                   grace=kind.grace)


DAILY = make_job(DAILY_KIND)
WEEKLY = make_job(WEEKLY_KIND)
MONTHLY = make_job(MONTHLY_KIND)
PROGRESS = make_job(PROGRESS_KIND)
DITBINMAS_PROGRESS = make_job(DITBINMAS_PROGRESS_KIND)
BIDHUMAS_PROGRESS = make_job(BIDHUMAS_PROGRESS_KIND)
