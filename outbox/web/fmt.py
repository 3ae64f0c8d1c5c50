"""How the page writes times and numbers: Jakarta time with ``WIB``, ``08.30``, ``1.234``."""

from __future__ import annotations

from datetime import datetime, timedelta

from outbox.logs import JAKARTA


def wib(value: datetime | None) -> str:
    """``02-12-2026 08.30 WIB`` (``–`` for nothing)."""
    if value is None:
        return "–"
    return value.astimezone(JAKARTA).strftime("%d-%m-%Y %H.%M WIB")


def num(value: int | float | None) -> str:
    """``1.234`` (Indonesian thousands separator)."""
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def age(value: timedelta | float | None) -> str:
    """A duration in the largest two units: ``2 d 3 h``, ``5 min 20 s``."""
    if value is None:
        return "–"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    if seconds < 0:
        seconds = 0
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def ago(value: datetime | None, now: datetime) -> str:
    """``08.30 WIB (5 min 20 s ago)``."""
    if value is None:
        return "–"
    return f"{wib(value)} ({age(now - value)} ago)"
