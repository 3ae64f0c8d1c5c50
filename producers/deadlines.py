"""When a queued message stops being worth sending: the ``expires_at`` of each message type.

One table, :data:`RULES`, for every type the producers queue (docs/concepts/reports.md
shows it with the collapse keys). A row not handed to WhatsApp by its ``expires_at`` becomes
``expired`` instead of arriving late. Every deadline is a Jakarta wall-clock time computed in
Asia/Jakarta explicitly (never the host's or the session's time zone):

- ``END_OF_DAY``: midnight (00.00 WIB) after the slot's Jakarta day. The same-day recaps
  ("today so far"), the task list and its change notices, the reminders, the 07:00 recaps.
- ``END_OF_NEXT_DAY``: midnight after the day following the slot: the two jobs whose slot is
  late in the evening and whose content stays useful the next morning (the 22:00 admin summary,
  the 23:00 monthly amplification workbook).
- ``None``: no deadline (complaint answers and forwards, alerts: late is better than never).

A deadline is measured from the **slot**, so a run that catches up a missed slot keeps the
slot's deadline. A deadline less than :data:`MIN_LEAD` after the run's own time (a manual
backfill of an old slot, a catch-up just before midnight) would be refused by the outbox
(``expires_at`` must be in the future at INSERT) or leave no time to send: such a run's
deadline is measured from the run's time instead (the same rule, applied to ``now``), so an
operator's backfill is still delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from producers.schedule import JAKARTA, day_bounds, jakarta

Rule = Callable[[datetime], datetime]

#: A deadline closer than this to the run's own time is measured from the run instead.
MIN_LEAD = timedelta(minutes=10)


def end_of_day(moment: datetime) -> datetime:
    """00.00 WIB after the Jakarta day of ``moment``."""
    return day_bounds(jakarta(moment))[1]


def end_of_next_day(moment: datetime) -> datetime:
    """00.00 WIB at the end of the Jakarta day after the one of ``moment``."""
    return end_of_day(end_of_day(moment))


END_OF_DAY: Rule = end_of_day
END_OF_NEXT_DAY: Rule = end_of_next_day

#: message type -> rule (``None``: never expires). A type missing here never expires.
RULES: dict[str, Rule | None] = {
    # the task list and its change notices: today's tasks
    "task_delivery_recap": END_OF_DAY,
    "task_change": END_OF_DAY,
    # same-day recaps ("today up to the slot")
    "progress_report": END_OF_DAY,
    "ditbinmas_progress_report": END_OF_DAY,
    "bidhumas_progress_report": END_OF_DAY,
    "link_report": END_OF_DAY,
    "personal_reminder": END_OF_DAY,
    # the 07:00 recaps and the other once-a-day messages
    "daily_report": END_OF_DAY,
    "weekly_report": END_OF_DAY,
    "monthly_report": END_OF_DAY,
    "username_recap": END_OF_DAY,
    "amplify_daily_report": END_OF_DAY,
    "amplify_monthly_report": END_OF_NEXT_DAY,
    "admin_daily_summary": END_OF_NEXT_DAY,
    # answers and alerts: no deadline
    "complaint_response": None,
    "complaint_forward": None,
    "admin_alert": None,
}


def expires_at(message_type: str, slot: datetime, now: datetime) -> datetime | None:
    """The ``expires_at`` of a message of ``message_type`` queued by the run of ``slot`` at
    ``now`` (both tz-aware), in Asia/Jakarta; ``None`` when the type never expires."""
    rule = RULES.get(message_type)
    if rule is None:
        return None
    deadline = rule(jakarta(slot))
    now = jakarta(now)
    if deadline - now < MIN_LEAD:
        deadline = rule(now)
        if deadline - now < MIN_LEAD:  # a run in the last minutes of a day: the next one
            deadline = rule(now + MIN_LEAD)
    return deadline.astimezone(JAKARTA)


def run_clock(conn: Any, now: datetime) -> datetime:
    """The later of the run's clock and the database's transaction time: the outbox compares
    ``expires_at`` with the database's ``now()`` at INSERT, and a test or a simulation may run
    a job with an injected clock in the past."""
    row = conn.execute("SELECT now()").fetchone()
    database = jakarta(row[0]) if row else jakarta(now)
    return max(jakarta(now), database)


def for_run(conn: Any, message_type: str, slot: datetime, now: datetime) -> datetime | None:
    """:func:`expires_at` for a run on ``conn`` (its clock from :func:`run_clock`)."""
    if RULES.get(message_type) is None:
        return None
    return expires_at(message_type, slot, run_clock(conn, now))
