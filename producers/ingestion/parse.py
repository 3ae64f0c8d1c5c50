"""Pure parsing helpers shared by the platforms: safe lookups and handle normalising.

The provider's JSON is untrusted: every lookup tolerates a missing key, a wrong type or a
``null``; a value that cannot be used reads as None, never as something wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

# Instagram: letters, digits, "." and "_", at most 30; TikTok: the same plus up to 24 chars.
_HANDLE = re.compile(r"^[a-z0-9._]{1,30}$")


def dig(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...`` or None as soon as a step does not exist."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def first(value: Any, *paths: tuple[str | int, ...]) -> Any:
    """The first of ``paths`` present (not None, not empty string) in ``value``."""
    for path in paths:
        found = dig(value, *path)
        if found is not None and found != "":
            return found
    return None


def text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def count(value: Any) -> int:
    """A counter: a number (or a numeric string) >= 0, else 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and value == value and 0 <= value < 2**31:
        return int(value)
    return 0


def epoch(value: Any) -> datetime | None:
    """Seconds (or milliseconds when > 1e12) since the epoch as an aware datetime, or None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    if value > 1e12:
        value = value / 1000
    if not 0 < value < 4e9:
        return None
    return datetime.fromtimestamp(value, UTC)


def handle(raw: Any) -> str | None:
    """A handle as Cicero compares them: trimmed, one leading ``@`` dropped, lower case.

    None for anything that is not a plain handle (spaces, a URL, other characters, empty).
    """
    if not isinstance(raw, str):
        return None
    value = raw.strip()
    if value.startswith("@"):
        value = value[1:]
    value = value.lower()
    if not _HANDLE.match(value) or value.strip(".") == "":
        return None
    return value


def as_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None
