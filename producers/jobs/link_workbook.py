"""The monthly amplification workbook (the old ``amplifyExportService``'s layout, openpyxl).

One sheet ``Sheet1``: a header row ``Date | Pangkat Nama | NRP | Satfung | Link Instagram |
Link Facebook | Link Twitter | Link Tiktok | Link Youtube`` and one row per reported
``link_report`` row (per post and personnel), ordered by day; the date is the Jakarta day of the
post (``dd/mm/yyyy``), an empty link is an empty cell. File name ``<client_id>_<Bulan>.xlsx``.
Styles come from :mod:`producers.xlsx` (header fill, bold, box border, the MIME type).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from producers import indonesian, xlsx

COLUMNS = ("Date", "Pangkat Nama", "NRP", "Satfung", "Link Instagram", "Link Facebook",
           "Link Twitter", "Link Tiktok", "Link Youtube")
WIDTHS = (12, 34, 20, 22, 45, 45, 45, 45, 45)
LINK_FIELDS = ("instagram_link", "facebook_link", "twitter_link", "tiktok_link", "youtube_link")
MIME = xlsx.XLSX_MIME


def file_name(client_id: str, month: date) -> str:
    """``BATU_November.xlsx``."""
    return f"{indonesian.file_safe(client_id)}_{indonesian.month_name(month.month)}.xlsx"


def build(rows: Iterable[dict[str, Any]]) -> bytes:
    """The workbook of one client's rows (``month_links`` of producers/sql/link_report.sql)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    for n, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for title in COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill, cell.border = xlsx.BOLD, xlsx.HEADER, xlsx.BOX
        header.append(cell)
    sheet.append(header)
    for row in rows:
        day = row["report_date"]
        sheet.append([indonesian.date_short(day), row["person"], row["user_id"], row["divisi"],
                      *((str(row[f]).strip() or None) if row[f] else None
                        for f in LINK_FIELDS)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
