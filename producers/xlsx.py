"""The .xlsx recaps attached to the daily, weekly and monthly reports (openpyxl).

Layout (domain.md §6.5, the old weekly/monthly likes recap), one sheet per satker and platform:

- row 1 (merged across the sheet): ``<SATKER> – Rekap Engagement Instagram`` (or TikTok);
- row 2 (merged): ``Rekap Likes Instagram Periode dd/mm/yyyy - dd/mm/yyyy``;
- rows 3-4: ``No``, ``Pangkat``, ``Nama``, ``Divisi / Satfung`` (each merged over both rows),
  then for every day of the period a merged date cell (``Senin, 16/11/2026``) over
  ``Jumlah Post | Sudah Likes | Belum Likes`` (TikTok: ``Sudah Komentar | Belum Komentar``);
- one row per user (ordered by satfung, then name), 0 on days without a row;
- a ``TOTAL`` row with ``SUM`` formulas under every number column;
- panes frozen at 4 columns × 4 rows, an autofilter over the header and user rows, green fill
  (C6EFCE) on the "Sudah" columns and red (F8CBAD) on the "Belum" columns, ``#,##0`` numbers.

Sheets are named ``IG <satker>`` / ``TT <satker>`` (31 characters at most, unique); a
directorate's workbook has one pair per Polres its audience belongs to. The daily report uses
the same layout over a single day (the old menu-19 daily recap's columns).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from producers import indonesian

GREEN = PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE")
RED = PatternFill("solid", start_color="F8CBAD", end_color="F8CBAD")
HEADER = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NUMBER_FORMAT = "#,##0"
FIXED_COLUMNS = ("No", "Pangkat", "Nama", "Divisi / Satfung")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Platform:
    code: str  # "ig" / "tiktok": the column prefix in report_user_day
    sheet_prefix: str
    title: str
    period_title: str
    done_label: str
    missing_label: str


INSTAGRAM = Platform("ig", "IG", "Rekap Engagement Instagram", "Rekap Likes Instagram",
                     "Sudah Likes", "Belum Likes")
TIKTOK = Platform("tiktok", "TT", "Rekap Engagement TikTok", "Rekap Komentar TikTok",
                  "Sudah Komentar", "Belum Komentar")
PLATFORMS = (INSTAGRAM, TIKTOK)


@dataclass
class UserLine:
    """One person's numbers per day: ``{day: (posts, done)}`` per platform code."""

    user_id: str
    satker_id: str
    satker_name: str
    title: str
    nama: str
    divisi: str
    days: dict[str, dict[date, tuple[int, int]]] = field(default_factory=dict)


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def lines_from_rows(rows: Iterable[dict[str, Any]]) -> list[UserLine]:
    """Fold ``report_user_day`` rows (dicts) into one :class:`UserLine` per user and satker."""
    lines: dict[tuple[str, str], UserLine] = {}
    for row in rows:
        satker = str(row.get("user_client_id") or row.get("client_id") or "-")
        key = (satker, str(row["user_id"]))
        line = lines.get(key)
        if line is None:
            line = UserLine(
                user_id=str(row["user_id"]), satker_id=satker,
                satker_name=str(row.get("user_client_name") or satker),
                title=str(row.get("title") or ""), nama=str(row.get("nama") or ""),
                divisi=str(row.get("divisi") or "-"))
            lines[key] = line
        day = row.get("report_date")
        if isinstance(day, date):
            for platform in PLATFORMS:
                posts = int(row.get(f"{platform.code}_posts") or 0)
                done = int(row.get(f"{platform.code}_done") or 0)
                line.days.setdefault(platform.code, {})[day] = (posts, done)
    return list(lines.values())


def _sheet_name(prefix: str, satker: str, used: set[str]) -> str:
    base = f"{prefix} {satker}"
    for char in "[]:*?/\\":
        base = base.replace(char, " ")
    base = base[:31].strip()
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _satker_order(lines: Sequence[UserLine], first: str | None) -> list[tuple[str, str]]:
    satkers = {(line.satker_id, line.satker_name) for line in lines}
    return sorted(satkers, key=lambda s: (s[0] != first, s[1], s[0]))


def build_workbook(
    lines: Sequence[UserLine],
    start: date,
    end: date,
    *,
    client_id: str | None = None,
    client_name: str | None = None,
    platforms: Sequence[Platform] = PLATFORMS,
) -> bytes:
    """The recap workbook as bytes (one sheet per satker and platform)."""
    workbook = Workbook()
    default = workbook.active
    used: set[str] = set()
    days = days_of(start, end)
    satkers = _satker_order(lines, client_id)
    if not satkers:  # nobody in the audience: still a readable (empty) sheet
        satkers = [(client_id or "-", client_name or client_id or "-")]
    for platform in platforms:
        for satker_id, satker_name in satkers:
            members = [line for line in lines if line.satker_id == satker_id]
            members.sort(key=lambda line: (line.divisi, line.nama, line.user_id))
            sheet = workbook.create_sheet(_sheet_name(platform.sheet_prefix, satker_name, used))
            _fill_sheet(sheet, platform, satker_name, members, days)
    if default is not None:
        workbook.remove(default)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill_sheet(sheet: Worksheet, platform: Platform, satker_name: str,
                members: Sequence[UserLine], days: Sequence[date]) -> None:
    last_col = len(FIXED_COLUMNS) + 3 * len(days)
    last_letter = get_column_letter(last_col)
    sheet["A1"] = f"{satker_name} – {platform.title}"
    sheet["A1"].font = TITLE
    sheet["A2"] = (f"{platform.period_title} Periode {indonesian.date_short(days[0])} - "
                   f"{indonesian.date_short(days[-1])}")
    sheet["A2"].font = BOLD
    sheet.merge_cells(f"A1:{last_letter}1")
    sheet.merge_cells(f"A2:{last_letter}2")
    for col, label in enumerate(FIXED_COLUMNS, start=1):
        cell = sheet.cell(row=3, column=col, value=label)
        sheet.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        cell.font, cell.alignment, cell.fill, cell.border = BOLD, CENTER, HEADER, BOX
    for index, day in enumerate(days):
        col = len(FIXED_COLUMNS) + 1 + 3 * index
        cell = sheet.cell(row=3, column=col,
                          value=f"{indonesian.day_name(day)}, {indonesian.date_short(day)}")
        sheet.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 2)
        cell.font, cell.alignment, cell.fill, cell.border = BOLD, CENTER, HEADER, BOX
        for offset, (label, fill) in enumerate((("Jumlah Post", HEADER),
                                                (platform.done_label, GREEN),
                                                (platform.missing_label, RED))):
            sub = sheet.cell(row=4, column=col + offset, value=label)
            sub.font, sub.alignment, sub.fill, sub.border = BOLD, CENTER, fill, BOX
    row = 5
    for number, line in enumerate(members, start=1):
        per_day = line.days.get(platform.code, {})
        values: list[Any] = [number, line.title, line.nama, line.divisi]
        for day in days:
            posts, done = per_day.get(day, (0, 0))
            values.extend((posts, done, max(posts - done, 0)))
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col, value=value)
            cell.border = BOX
            if col > len(FIXED_COLUMNS):
                cell.number_format = NUMBER_FORMAT
                kind = (col - len(FIXED_COLUMNS) - 1) % 3
                if kind == 1:
                    cell.fill = GREEN
                elif kind == 2:
                    cell.fill = RED
        row += 1
    last_user_row = row - 1
    total = sheet.cell(row=row, column=1, value="TOTAL")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(FIXED_COLUMNS))
    total.font, total.alignment, total.border = BOLD, CENTER, BOX
    for col in range(len(FIXED_COLUMNS) + 1, last_col + 1):
        letter = get_column_letter(col)
        formula: Any = f"=SUM({letter}5:{letter}{last_user_row})" if last_user_row >= 5 else 0
        cell = sheet.cell(row=row, column=col, value=formula)
        cell.font, cell.number_format, cell.border = BOLD, NUMBER_FORMAT, BOX
    sheet.freeze_panes = "E5"
    sheet.auto_filter.ref = f"A4:{last_letter}{max(last_user_row, 4)}"
    widths = {1: 5, 2: 12, 3: 30, 4: 22}
    for col, width in widths.items():
        sheet.column_dimensions[get_column_letter(col)].width = width
    for col in range(len(FIXED_COLUMNS) + 1, last_col + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 11
    sheet.row_dimensions[3].height = 30
    sheet.row_dimensions[4].height = 30


def file_name(kind: str, client_id: str, start: date, end: date) -> str:
    """Indonesian file names: ``Rekap_Harian_<CLIENT>_22_November_2026.xlsx``,
    ``Rekap_Mingguan_<CLIENT>_16_November_2026_sd_22_November_2026.xlsx``,
    ``Rekap_Bulanan_<CLIENT>_November_2026.xlsx``."""
    client = indonesian.file_safe(client_id)
    if kind == "monthly":
        label = indonesian.month_label(start)
        return f"Rekap_Bulanan_{client}_{indonesian.file_safe(label)}.xlsx"
    if kind == "weekly":
        label = f"{indonesian.date_long(start)} sd {indonesian.date_long(end)}"
        return f"Rekap_Mingguan_{client}_{indonesian.file_safe(label)}.xlsx"
    return f"Rekap_Harian_{client}_{indonesian.file_safe(indonesian.date_long(start))}.xlsx"
