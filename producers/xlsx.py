"""The .xlsx recaps attached to the daily, weekly and monthly reports (openpyxl).

Layout (the old services' weekly/monthly likes recap; docs/concepts/reports.md), one sheet per
satker and platform:

- row 1 (merged across the sheet): ``<SATKER> – Rekap Engagement Instagram`` (or TikTok);
- row 2 (merged): ``Rekap Likes Instagram Periode dd/mm/yyyy - dd/mm/yyyy``;
- rows 3-4: ``No``, ``Pangkat``, ``Nama``, ``Divisi / Satfung`` (each merged over both rows),
  then for every day of the period a merged date cell (``Senin, 16/11/2026``) over
  ``Jumlah Post | Sudah Likes | Belum Likes`` (TikTok: ``Sudah Komentar | Belum Komentar``);
- one row per user (ordered by satfung, then name), 0 on days without a row;
- a ``TOTAL`` row (merged label) with ``SUM`` formulas under every number column, ``#,##0``;
- panes frozen at 4 columns × 4 rows, an autofilter over the header and user rows, green fill
  (C6EFCE) on the "Sudah" columns and red (F8CBAD) on the "Belum" columns (the header cells
  directly, the user cells through a conditional format over the column range).

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
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter

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
    """The recap workbook as bytes (one sheet per satker and platform).

    Written in openpyxl's write-only (streaming) mode: user rows are plain values and the
    green/red column fills are conditional-format ranges, so a directorate's month (thousands
    of users x 93 columns) does not pay openpyxl's per-cell style cost.
    """
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    days = days_of(start, end)
    satkers = _satker_order(lines, client_id)
    if not satkers:  # nobody in the audience: still a readable (empty) sheet
        satkers = [(client_id or "-", client_name or client_id or "-")]
    by_satker: dict[str, list[UserLine]] = {}
    for line in lines:
        by_satker.setdefault(line.satker_id, []).append(line)
    for platform in platforms:
        for satker_id, satker_name in satkers:
            members = sorted(by_satker.get(satker_id, []),
                             key=lambda line: (line.divisi, line.nama, line.user_id))
            sheet = workbook.create_sheet(_sheet_name(platform.sheet_prefix, satker_name, used))
            _fill_sheet(sheet, platform, satker_name, members, days)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _styled(sheet: Any, value: Any, *, font: Font | None = BOLD, fill: PatternFill | None = None,
            alignment: Alignment | None = CENTER, number_format: str | None = None) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    cell.border = BOX
    return cell


def _fill_sheet(sheet: Any, platform: Platform, satker_name: str,
                members: Sequence[UserLine], days: Sequence[date]) -> None:
    fixed = len(FIXED_COLUMNS)
    last_col = fixed + 3 * len(days)
    last_letter = get_column_letter(last_col)
    first_user_row, total_row = 5, 5 + len(members)
    last_user_row = total_row - 1
    # widths, frozen panes, filter and merges are declared before the rows are streamed
    for col, width in {1: 5, 2: 12, 3: 30, 4: 22}.items():
        sheet.column_dimensions[get_column_letter(col)].width = width
    for col in range(fixed + 1, last_col + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 11
    sheet.freeze_panes = "E5"
    sheet.auto_filter.ref = f"A4:{last_letter}{max(last_user_row, 4)}"
    merges = [f"A1:{last_letter}1", f"A2:{last_letter}2",
              *(f"{get_column_letter(c)}3:{get_column_letter(c)}4" for c in range(1, fixed + 1)),
              *(f"{get_column_letter(fixed + 1 + 3 * i)}3:{get_column_letter(fixed + 3 + 3 * i)}3"
                for i in range(len(days))),
              f"A{total_row}:{get_column_letter(fixed)}{total_row}"]
    for ref in merges:
        sheet.merged_cells.add(ref)
    if members:
        for kind, fill in ((1, GREEN), (2, RED)):
            ranges = " ".join(
                f"{get_column_letter(fixed + 1 + 3 * i + kind)}{first_user_row}:"
                f"{get_column_letter(fixed + 1 + 3 * i + kind)}{last_user_row}"
                for i in range(len(days)))
            rule = Rule(type="expression", formula=["TRUE"], dxf=DifferentialStyle(fill=fill))
            sheet.conditional_formatting.add(ranges, rule)
    sheet.append([_styled(sheet, f"{satker_name} – {platform.title}", font=TITLE,
                          alignment=None)])
    sheet.append([_styled(sheet, f"{platform.period_title} Periode "
                                 f"{indonesian.date_short(days[0])} - "
                                 f"{indonesian.date_short(days[-1])}", alignment=None)])
    row3: list[Any] = [_styled(sheet, label, fill=HEADER) for label in FIXED_COLUMNS]
    row4: list[Any] = [_styled(sheet, None, fill=HEADER) for _ in FIXED_COLUMNS]
    for day in days:
        row3.append(_styled(sheet, f"{indonesian.day_name(day)}, {indonesian.date_short(day)}",
                            fill=HEADER))
        row3.extend(_styled(sheet, None, fill=HEADER) for _ in range(2))
        row4.extend((_styled(sheet, "Jumlah Post", fill=HEADER),
                     _styled(sheet, platform.done_label, fill=GREEN),
                     _styled(sheet, platform.missing_label, fill=RED)))
    sheet.append(row3)
    sheet.append(row4)
    for number, line in enumerate(members, start=1):
        per_day = line.days.get(platform.code, {})
        values: list[Any] = [number, line.title, line.nama, line.divisi]
        for day in days:
            posts, done = per_day.get(day, (0, 0))
            values.extend((posts, done, max(posts - done, 0)))
        sheet.append(values)
    total: list[Any] = [_styled(sheet, "TOTAL")]
    total.extend(_styled(sheet, None) for _ in range(fixed - 1))
    for col in range(fixed + 1, last_col + 1):
        letter = get_column_letter(col)
        formula: Any = (f"=SUM({letter}{first_user_row}:{letter}{last_user_row})"
                        if members else 0)
        total.append(_styled(sheet, formula, alignment=None, number_format=NUMBER_FORMAT))
    sheet.append(total)


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
