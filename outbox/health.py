"""Is the pipeline healthy? The verdict behind ``python -m outbox health`` (pure: it judges what
:func:`outbox.engine.session_health` read, so any other front end can reuse it).

Unhealthy when:

- no gateway session is registered at all;
- a session is down: rows wait for a session no gateway ever registered; the session is
  logged out, banned, replaced or needs pairing; it has been in another state than
  ``connected`` longer than the heartbeat threshold; or its heartbeat is older than that (the
  gateway process is not running or hangs);
- the queue is stuck: a session has due messages, the oldest of them waiting longer than the
  stuck threshold, and sent nothing during that time.

A session paused after a rate-limit error is reported but not unhealthy: the pause is the
gateway protecting the number, and it ends by itself. So is a session whose send budget is used
up (``WA_MAX_PER_HOUR``/``WA_MAX_PER_DAY`` less the reserve for answers and alerts): it sends
nothing until the budget frees, by design, and is not stuck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from outbox.engine import SessionHealth
from outbox.logs import JAKARTA

HARD_DOWN_STATES = frozenset({"logged_out", "banned", "replaced", "pairing"})


@dataclass(frozen=True)
class HealthThresholds:
    stuck: timedelta = timedelta(minutes=30)  # OUTBOX_HEALTH_STUCK_MINUTES
    heartbeat: timedelta = timedelta(minutes=3)  # OUTBOX_HEALTH_HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Verdict:
    session: str | None  # None: about the whole pipeline
    healthy: bool
    text: str
    down: bool = False  # the session itself (state, heartbeat, never registered), not its queue
    paused: bool = False


def _wib(at: datetime, now: datetime) -> str:
    """``08.30 WIB``, with the date (``03-12 08.30 WIB``) when it is another Jakarta day."""
    local, today = at.astimezone(JAKARTA), now.astimezone(JAKARTA)
    return local.strftime("%H.%M WIB" if local.date() == today.date() else "%d-%m %H.%M WIB")


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return f"{int(delta.total_seconds())} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def judge(sessions: list[SessionHealth], thresholds: HealthThresholds) -> list[Verdict]:
    """One verdict per session (and one for the pipeline when no session exists)."""
    if not sessions:
        return [Verdict(None, False, "no gateway session is registered: start `python -m "
                                     "gateway` and pair a WhatsApp number")]
    verdicts: list[Verdict] = []
    for s in sessions:
        problems: list[str] = []
        notes: list[str] = []
        paused = False
        if s.state is None:
            problems.append(f"no gateway has registered this session; {s.due} message(s) due")
        else:
            changed = s.now - s.state_changed_at if s.state_changed_at else timedelta(0)
            if s.state in HARD_DOWN_STATES:
                problems.append(f"session {s.state}" + (f" ({s.state_detail})"
                                                          if s.state_detail else ""))
            elif s.state != "connected" and changed > thresholds.heartbeat:
                problems.append(f"session {s.state} for {_minutes(changed)}")
            if s.heartbeat_at is None or s.now - s.heartbeat_at > thresholds.heartbeat:
                since = ("never" if s.heartbeat_at is None
                         else f"{_minutes(s.now - s.heartbeat_at)} ago")
                problems.append(f"no gateway heartbeat (last: {since})")
            if s.paused_until is not None and s.paused_until > s.now:
                paused = True
                notes.append(f"paused for {_minutes(s.paused_until - s.now)}"
                             + (f" ({s.pause_reason})" if s.pause_reason else ""))
        down = bool(problems)
        if s.due and s.oldest_due_at is not None:
            waiting = s.now - s.oldest_due_at
            quiet = s.last_sent_at is None or s.now - s.last_sent_at > thresholds.stuck
            if s.budget_free_at is not None and s.budget_free_at > s.now:
                notes.append(f"{s.due} message(s) due, waiting for the send budget until "
                             f"{_wib(s.budget_free_at, s.now)}")
            elif waiting > thresholds.stuck and quiet:
                problems.append(f"queue stuck: {s.due} message(s) due, the oldest waiting "
                                f"{_minutes(waiting)}, nothing sent in "
                                f"{_minutes(thresholds.stuck)}")
            else:
                notes.append(f"{s.due} message(s) due")
        text = "; ".join(problems + notes) or "ok"
        verdicts.append(Verdict(s.name, not problems, text, down=down, paused=paused))
    return verdicts
