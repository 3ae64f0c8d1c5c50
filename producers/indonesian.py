"""Indonesian (id-ID) labels for .xlsx sheets, captions, file names and complaint answers.

Reproduces what the old Node code got from ``Intl`` with locale ``id-ID``:
day names Minggu … Sabtu, month names Januari … Desember, ``1.234`` (dot thousands), times
``08.30`` (dot separator). Every function takes a date or a tz-aware datetime; datetimes are
shown in Asia/Jakarta.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from producers.schedule import jakarta

# Python's weekday(): Monday = 0.
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                "Des")


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return jakarta(value).date()
    return value


def day_name(value: date | datetime) -> str:
    """``Senin`` … ``Minggu``."""
    return DAYS[_day(value).weekday()]


def month_name(month: int) -> str:
    """``1`` → ``Januari``."""
    return MONTHS[month - 1]


def number(value: int | float) -> str:
    """``1234567`` → ``1.234.567`` (id-ID grouping; decimals with a comma, at most 2)."""
    if isinstance(value, float) and not value.is_integer():
        whole, _, frac = f"{abs(value):.2f}".partition(".")
        frac = frac.rstrip("0")
        sign = "-" if value < 0 else ""
        return f"{sign}{int(whole):,}".replace(",", ".") + (f",{frac}" if frac else "")
    return f"{int(value):,}".replace(",", ".")


def percent(part: int, whole: int) -> str:
    """``3, 4`` → ``75%``; ``1, 3`` → ``33,3%`` (as the views' ``id_percent``); none → ``0%``."""
    if whole <= 0:
        return "0%"
    return number(round(part * 100 / whole, 1)) + "%"


def time_hm(moment: datetime) -> str:
    """``08.30`` (Jakarta wall time)."""
    return jakarta(moment).strftime("%H.%M")


def date_long(value: date | datetime) -> str:
    """``17 Februari 2026``."""
    d = _day(value)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def date_with_day(value: date | datetime) -> str:
    """``Selasa, 17 Februari 2026``."""
    return f"{day_name(value)}, {date_long(value)}"


def date_short(value: date | datetime) -> str:
    """``17/02/2026`` (the dd/mm/yyyy of the old Excel period rows)."""
    return _day(value).strftime("%d/%m/%Y")


def datetime_long(moment: datetime) -> str:
    """``Selasa, 17 Februari 2026 pukul 08.30 WIB``."""
    return f"{date_with_day(moment)} pukul {time_hm(moment)} WIB"


def month_label(value: date | datetime) -> str:
    """``November 2026``."""
    d = _day(value)
    return f"{MONTHS[d.month - 1]} {d.year}"


def period_label(start: date, end: date) -> str:
    """``Senin, 16 November 2026 s.d. Minggu, 22 November 2026`` (one day: just that day)."""
    if start == end:
        return date_with_day(start)
    return f"{date_with_day(start)} s.d. {date_with_day(end)}"


def file_safe(text: str) -> str:
    """``POLRES BATU / Kota`` → ``POLRES_BATU_Kota`` (letters, digits, ``-`` and ``_`` only)."""
    cleaned = re.sub(r"[^0-9A-Za-z-]+", "_", text).strip("_")
    return cleaned or "rekap"


def greeting(moment: datetime) -> str:
    """The greeting for the Jakarta hour: ``Selamat pagi`` (04-10), ``siang`` (10-15),
    ``sore`` (15-18), else ``malam``."""
    hour = jakarta(moment).hour
    if 4 <= hour < 10:
        return "Selamat pagi"
    if 10 <= hour < 15:
        return "Selamat siang"
    if 15 <= hour < 18:
        return "Selamat sore"
    return "Selamat malam"
