"""Cron slots in Asia/Jakarta: the only module that talks to croniter.

A *slot* is a scheduled time produced by a job's cron expression, evaluated in Asia/Jakarta
(WIB, UTC+7, no DST). Slots are computed from the cron, never from ``now()``: the scheduler asks
"which slots fall in (after, upto]?" and runs those, so two processes (or a restarted one) agree
on the exact same slot values, which is what the ``producer_run (job, slot)`` key relies on.

Only five-field expressions (minute hour day month weekday) are accepted; croniter's optional
sixth "seconds" field and ``@reboot`` are refused so a slot is always a whole minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from outbox.config import cron_problem as cron_problem  # one cron rule for every program

JAKARTA = ZoneInfo("Asia/Jakarta")


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` if it carries a time zone; naive datetimes are a programming error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")
    return value


def jakarta(value: datetime) -> datetime:
    """The same instant expressed in Asia/Jakarta."""
    return require_aware(value).astimezone(JAKARTA)


class Cron:
    """A validated cron expression evaluated in Asia/Jakarta."""

    def __init__(self, expression: str) -> None:
        problem = cron_problem(expression)
        if problem is not None:
            raise ValueError(problem)
        self.expression = expression.strip()

    def __repr__(self) -> str:
        return f"Cron({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cron) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)

    def _iter(self, start: datetime) -> croniter:
        return croniter(self.expression, jakarta(start))

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after ``moment``."""
        value: datetime = self._iter(moment).get_next(datetime)
        return jakarta(value)

    def latest(self, moment: datetime) -> datetime:
        """The last slot at or before ``moment``."""
        moment = jakarta(moment)
        if self.is_slot(moment):
            return moment.replace(second=0, microsecond=0)
        value: datetime = self._iter(moment).get_prev(datetime)
        return jakarta(value)

    def is_slot(self, moment: datetime) -> bool:
        """Whether ``moment`` (to the second) is one of this cron's slots."""
        moment = jakarta(moment)
        if moment.second or moment.microsecond:
            return False
        return bool(croniter.match(self.expression, moment))

    def slots(self, after: datetime, upto: datetime) -> Iterator[datetime]:
        """Every slot ``s`` with ``after < s <= upto``, oldest first."""
        upto = jakarta(upto)
        iterator = self._iter(after)
        while True:
            value = jakarta(iterator.get_next(datetime))
            if value > upto:
                return
            yield value


def parse_local(text: str) -> datetime:
    """``"YYYY-MM-DD HH:MM"`` (or with a ``T``) read as Asia/Jakarta wall time.

    A value carrying its own offset (``2026-11-23T07:00+07:00``) is accepted and converted.
    """
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=JAKARTA)
    return jakarta(value)


def minute_floor(moment: datetime) -> datetime:
    return jakarta(moment).replace(second=0, microsecond=0)


def day_bounds(day_start: datetime) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of the Jakarta day containing ``day_start``."""
    start = jakarta(day_start).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)
