"""The capacity check (issue 13): every 15 minutes (``CAPACITY_CHECK_CRON``, default
``*/15 * * * *``), project each registered session's queue under its pacing
(:func:`outbox.capacity.capacity`, what ``python -m outbox capacity`` prints) and tell the
admins (``ADMIN_WHATSAPP``) when rows are projected to miss their deadline (``expires_at``) or
the daily budget runs out before the queue drains.

One ``admin_alert`` per session, Jakarta day and reason (``deadline`` / ``budget``) and admin:
dedupe key ``admin_alert:capacity:<session>:<YYYY-MM-DD>:<reason>:<admin>``; later checks of
the same day find the key and send nothing more. Only sessions registered in ``wa_session`` (a
gateway has started for them) are judged, and only their rows are read: before that the
projection is hypothetical (and a session that is down is the gateway's own alert). The
projection's clock is the job's (``ctx.now``), so a simulated day is judged on its own time.
"""

from __future__ import annotations

from datetime import timedelta

from outbox import capacity
from outbox.engine import NewMessage
from producers.job import JobContext, JobResult, JobSpec
from producers.recipients import canonical, enqueue_logged
from producers.schedule import jakarta

NAME = "capacity_check"
ALERT = "admin_alert"


def dedupe_key(session: str, day: str, reason: str, admin: str) -> str:
    return f"{ALERT}:capacity:{session}:{day}:{reason}:{admin}"


def run(ctx: JobContext) -> JobResult:
    conn = ctx.conn
    now = max(ctx.now, ctx.slot)
    registered = [str(r[0]) for r in conn.execute("SELECT name FROM wa_session").fetchall()]
    if not registered:
        return JobResult(detail="no session registered (no gateway has started): nothing to "
                                "judge")
    report = capacity.capacity(conn, now, only=registered)
    alerts = capacity.alert_texts(report)
    problems = ", ".join(f"{session} {reason}" for session, reason, _ in alerts) or "none"
    detail = (f"{len(report.sessions)} session(s), "
              f"{sum(s.open_rows for s in report.sessions)} open row(s); problems: {problems}")
    if not alerts:
        return JobResult(detail=detail)
    admins = canonical(conn, ctx.admin_whatsapp) if ctx.admin_whatsapp else []
    if not admins:
        return JobResult(detail=detail + "; no usable ADMIN_WHATSAPP: nothing sent")
    day = jakarta(now).date().isoformat()
    messages = [NewMessage(recipient=admin, content=text, type=ALERT,
                           dedupe_key=dedupe_key(session, day, reason, admin))
                for session, reason, text in alerts for admin in admins]
    return enqueue_logged(conn, NAME, messages).job_result(detail)


JOB = JobSpec(name=NAME, default_cron="*/15 * * * *", cron_env="CAPACITY_CHECK_CRON", run=run,
              grace=timedelta(minutes=15))
