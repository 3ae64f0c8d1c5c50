"""The admin digest: the producers' failures and a daily summary, to ``ADMIN_WHATSAPP``.

- ``admin_alert`` (``*/15 * * * *``, ``ADMIN_ALERT_CRON``): the producer runs recorded as
  ``failed`` for slots of the last two hours, one message per job, error kind (the exception's
  class) and Jakarta hour of the slot, whatever the number of failures (dedupe key
  ``admin_alert:producer:<job>:<kind>:<YYYYMMDDTHH>:<admin>``): a job failing every minute
  gives one message an hour, not sixty. The count in it is the count when it was sent.
- ``admin_daily_summary`` (``0 22 * * *``, ``ADMIN_DAILY_SUMMARY_CRON``: the configurable time):
  the day so far: producer runs per job and status, messages created that day per type (sent,
  failed and how many of those because a lease expired, cancelled, superseded by a newer
  message with the same collapse key, expired unsent at their deadline, still open) with the
  day's superseded and expired totals, the WhatsApp sessions' states, and anything stuck (due
  for more than an hour, or sending for more than 10 minutes). Dedupe key
  ``admin_daily_summary:<day>:<admin>``; it expires at the end of the next Jakarta day
  (:mod:`producers.deadlines`), an alert never.

Without a usable ``ADMIN_WHATSAPP`` both send nothing (and say so in the run's detail).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from outbox.engine import NewMessage
from outbox.sql import QueryFile
from producers import deadlines, indonesian
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import canonical, enqueue_logged
from producers.schedule import JAKARTA, jakarta

ALERT = "admin_alert"
SUMMARY = "admin_daily_summary"
LOOKBACK = timedelta(hours=2)
_q = QueryFile("producers", "admin_digest.sql")


def alert_text(job: str, kind: str, hour: datetime, failures: int, last_slot: datetime,
               detail: str) -> str:
    end = hour + timedelta(minutes=59)
    return "\n".join([
        f"⚠️ *Job producer gagal: {job}*",
        f"Jenis kesalahan: {kind}",
        f"Jam: {hour:%H.%M}-{end:%H.%M} WIB ({indonesian.date_with_day(hour)})",
        f"Jumlah kegagalan: {indonesian.number(failures)} (terakhir slot "
        f"{indonesian.time_hm(last_slot)} WIB)",
        f"Pesan: {detail[:500]}",
        "",
        "_Kegagalan berikutnya dari job dan jenis yang sama dalam jam ini tidak dikirim lagi._"])


def run_alerts(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    if not admins:
        return JobResult(detail="no usable ADMIN_WHATSAPP: nothing to send")
    upto = max(jakarta(ctx.now), jakarta(ctx.slot))
    rows = conn.execute(_q("failures"), {"since": upto - LOOKBACK, "upto": upto}).fetchall()
    messages: list[NewMessage] = []
    for job, kind, hour, failures, last_slot, detail in rows:
        hour_at = hour.replace(tzinfo=JAKARTA)  # a Jakarta wall-clock hour
        text = alert_text(job, kind, hour_at, failures, jakarta(last_slot), detail)
        for admin in admins:
            messages.append(NewMessage(
                recipient=admin, content=text, type=ALERT,
                dedupe_key=f"{ALERT}:producer:{job}:{kind}:{hour_at:%Y%m%dT%H}:{admin}"))
    return enqueue_logged(conn, ALERT, messages).job_result(
        f"{len(rows)} (job, error kind, hour) groups of failures")


def summary_text(conn: Any, start: datetime, upto: datetime) -> str:
    n = indonesian.number
    lines = [f"📊 *Ringkasan Harian Outbox* - {indonesian.date_with_day(start)} "
             f"(s.d. {indonesian.time_hm(upto)} WIB)", "", "*Job producer:*"]
    runs: dict[str, dict[str, int]] = {}
    for job, status, count in conn.execute(_q("runs"), {"start": start, "upto": upto}):
        runs.setdefault(job, {})[status] = count
    labels = {"done": "selesai", "failed": "gagal", "skipped": "terlewat"}
    for job, counts in runs.items():
        lines.append(f"- {job}: " + ", ".join(
            f"{n(counts[s])} {labels.get(s, s)}" for s in ("done", "failed", "skipped")
            if counts.get(s)))
    if not runs:
        lines.append("- tidak ada")
    lines += ["", "*Pesan hari ini per jenis* (terkirim / gagal (lease kedaluwarsa) / "
              "dibatalkan / digantikan / lewat tenggat / belum terkirim):"]
    messages = conn.execute(_q("messages"), {"start": start, "upto": upto}).fetchall()
    for type_, sent, failed, lease, cancelled, superseded, expired, open_ in messages:
        lines.append(f"- {type_}: {n(sent)} / {n(failed)} ({n(lease)}) / {n(cancelled)} / "
                     f"{n(superseded)} / {n(expired)} / {n(open_)}")
    if not messages:
        lines.append("- tidak ada")
    superseded_total = sum(row[5] for row in messages)
    expired_total = sum(row[6] for row in messages)
    lines.append(f"Digantikan versi yang lebih baru: {n(superseded_total)} pesan; lewat "
                 f"tenggat (tidak dikirim): {n(expired_total)} pesan")
    lines += ["", "*Sesi WhatsApp:*"]
    sessions = conn.execute(_q("sessions")).fetchall()
    for name, state, changed, paused in sessions:
        since = jakarta(changed)
        when = (indonesian.time_hm(since) if since.date() == start.date()
                else f"{indonesian.date_long(since)} {indonesian.time_hm(since)}")
        pause = (f", dijeda s.d. {indonesian.time_hm(paused)} WIB"
                 if paused is not None and paused > upto else "")
        lines.append(f"- {name}: {state} (sejak {when} WIB{pause})")
    if not sessions:
        lines.append("- belum ada sesi")
    stuck = conn.execute(_q("stuck"), {"upto": upto}).fetchone()
    waiting, oldest, sending = stuck if stuck else (0, None, 0)
    lines += ["", "*Tertahan:*"]
    if waiting and oldest is not None:
        lines.append(f"- {n(waiting)} pesan menunggu lebih dari 1 jam (tertua "
                     f"{indonesian.time_hm(oldest)} WIB)")
    if sending:
        lines.append(f"- {n(sending)} pesan sedang dikirim lebih dari 10 menit")
    if not (waiting or sending):
        lines.append("- tidak ada")
    return "\n".join(lines)


def run_summary(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    if not admins:
        return JobResult(detail="no usable ADMIN_WHATSAPP: nothing to send")
    upto = jakarta(ctx.slot)
    start = upto.replace(hour=0, minute=0, second=0, microsecond=0)
    text = summary_text(conn, start, upto)
    expires = deadlines.for_run(conn, SUMMARY, upto, ctx.now)
    messages = [NewMessage(recipient=admin, content=text, type=SUMMARY,
                           dedupe_key=f"{SUMMARY}:{start.date().isoformat()}:{admin}",
                           expires_at=expires)
                for admin in admins]
    return enqueue_logged(conn, SUMMARY, messages).job_result(
        f"summary of {start.date().isoformat()}")


ALERT_JOB = JobSpec(name=ALERT, default_cron="*/15 * * * *", cron_env="ADMIN_ALERT_CRON",
                    run=run_alerts, grace=timedelta(minutes=30))
SUMMARY_JOB = JobSpec(name=SUMMARY, default_cron="0 22 * * *",
                      cron_env="ADMIN_DAILY_SUMMARY_CRON", run=run_summary,
                      grace=timedelta(hours=2))
