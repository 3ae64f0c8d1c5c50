"""The .xlsx recaps attached to the daily, weekly and monthly reports (openpyxl).

Layout (the old services' weekly/monthly likes recap; docs/concepts/reports.md), one sheet per
satker and platform:

- row 1 (merged across the sheet): ``<SATKER> – Rekap Engagement Instagram`` (or TikTok);
- row 2 (merged): ``Rekap Likes Instagram Periode dd/mm/yyyy - dd/mm/yyyy``;
- rows 3-4: ``No``, ``Pangkat``, ``Nama``, ``Divisi / Satfung`` (each merged over both rows),
  then for every day of the period a merged date cell (``Senin, 16/11/2026``) over
  ``Jumlah Post | Sudah Likes | Belum Likes`` (TikTok: ``Sudah Komentar | Belum Komentar``);
  a period of more than one day ends with a ``Total`` cell over the same three labels (the
  person's totals over the period);
- one row per user (ordered by satfung, then name), 0 on days without a row;
- a ``TOTAL`` row (merged label) under every number column, ``#,##0``;
- panes frozen at 4 columns × 4 rows, an autofilter over the header and user rows, green fill
  (C6EFCE) on the "Sudah" columns and red (F8CBAD) on the "Belum" columns (the header cells
  directly, the user cells through a conditional format over the column range).

Every number is written as a value, the totals included (no formulas): openpyxl cannot store a
formula's cached result, so a viewer that does not recalculate (a phone's preview, a PDF
conversion) would show empty TOTAL cells.

Printing (tests/test_xlsx_print.py converts to PDF with LibreOffice): A4, landscape (portrait
for a single day, whose 7 columns fit it at full size), scaled to one page wide and as many
pages tall as needed, rows 3-4 repeated on every page, the satker and period in the page header,
``Halaman n`` (from 1 on each sheet) in the footer, grid lines printed. Header rows have explicit
heights for the wrapped labels; past a week the day columns are narrow and their labels turned
upright. Pangkat, Nama and Divisi / Satfung are as wide as their longest text (within bounds; a
longer text wraps) so nothing is cut off on paper.

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
from openpyxl.worksheet.worksheet import Worksheet

from producers import indonesian

GREEN = PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE")
RED = PatternFill("solid", start_color="F8CBAD", end_color="F8CBAD")
HEADER = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
BOLD = Font(name="Calibri", bold=True)  # the workbook's default face (no serif fallback)
TITLE = Font(name="Calibri", bold=True, size=13)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
ROTATED = Alignment(horizontal="center", vertical="center", wrap_text=True, text_rotation=90)
SHRINK = Alignment(shrink_to_fit=True)
NUMBER_FORMAT = "#,##0"
FIXED_COLUMNS = ("No", "Pangkat", "Nama", "Divisi / Satfung")
# "No" and the fitted widths of Pangkat, Nama, Divisi / Satfung: (least, most) in characters;
# a longer text than the most wraps in its cell (a taller row) instead of being cut on paper
NO_WIDTH = 5
TEXT_WIDTHS = ((9, 14), (16, 34), (16, 34))
CAPITALS = 1.2  # a capital letter is about 1.2 digit widths (the unit of a column width) wide
WRAP = Alignment(vertical="top", wrap_text=True)
HEADER_ROWS = (3, 4)
FIRST_PERSON_ROW = 5
DAY_WIDTH = 8  # "Komentar" (the longest word of a wrapped label) in bold
WIDE_DAYS = 7  # more days than a week: narrow day columns, labels turned 90 degrees
NARROW_DAY_WIDTH = 4.5  # three digits; the rotated labels wrap on two lines
ROTATED_LABEL_HEIGHT = 78  # points: "Jumlah Post", "Sudah Likes" upright on one line
TOTAL_WIDTH = 9
# A4 margins in inches (openpyxl's unit): 1 cm at the sides, 1.5 cm top and bottom, the page
# header and footer 0.8 cm from the edge.
MARGIN_SIDE = 0.4
MARGIN_TOP = 0.6
MARGIN_HEADER = 0.3
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


@dataclass(frozen=True)
class _Grid:
    """Where things are on one sheet: 4 fixed columns, 3 per day, then (for more than one day)
    3 per-person total columns; the header on rows 3-4, people from row 5, then ``TOTAL``."""

    days: Sequence[date]
    people: int

    @property
    def with_totals(self) -> bool:
        return len(self.days) > 1

    @property
    def number_columns(self) -> int:
        return 3 * (len(self.days) + (1 if self.with_totals else 0))

    @property
    def last_col(self) -> int:
        return len(FIXED_COLUMNS) + self.number_columns

    @property
    def total_row(self) -> int:
        return FIRST_PERSON_ROW + self.people

    def block_start(self, index: int) -> int:
        """First column of the ``index``-th triple (days, then the per-person totals)."""
        return len(FIXED_COLUMNS) + 1 + 3 * index

    @property
    def blocks(self) -> int:
        return self.number_columns // 3


def _needs(text: str) -> float:
    """The column width ``text`` needs (Calibri 11, mostly capitals), padding included."""
    return len(text) * CAPITALS + 1


def _text_widths(members: Sequence[UserLine]) -> tuple[float, ...]:
    """Pangkat, Nama and Divisi / Satfung as wide as their longest text, within bounds."""
    columns = ([m.title for m in members], [m.nama for m in members],
               [m.divisi for m in members])
    return tuple(min(most, max([least, *map(_needs, texts)]))
                 for texts, (least, most) in zip(columns, TEXT_WIDTHS, strict=True))


def _wrapped(sheet: Any, text: str) -> Any:
    cell = WriteOnlyCell(sheet, value=text)
    cell.alignment = WRAP
    return cell


def _page_setup(sheet: Any, satker_name: str, platform: Platform, period: str,
                single_day: bool) -> None:
    """A4 landscape (portrait for a single day), one page wide and as many tall as needed, the
    header rows (3-4) on every page, the satker, platform and period in the page header and
    ``Halaman n`` (from 1 on each sheet) in the footer."""
    # a single day (7 columns) fits a portrait page at full size, with more rows per page
    sheet.page_setup.orientation = "portrait" if single_day else "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = MARGIN_SIDE
    sheet.page_margins.top = sheet.page_margins.bottom = MARGIN_TOP
    sheet.page_margins.header = sheet.page_margins.footer = MARGIN_HEADER
    sheet.print_options.gridLines = True  # people rows carry no borders of their own
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{HEADER_ROWS[0]}:{HEADER_ROWS[1]}"
    header = sheet.oddHeader
    header.left.text = _header_text(f"{satker_name} – {platform.title}")
    header.right.text = _header_text(period)
    header.left.size = header.right.size = 9
    sheet.page_setup.firstPageNumber = 1  # numbered per sheet (LibreOffice counts on)
    sheet.page_setup.useFirstPageNumber = True
    sheet.oddFooter.center.text = "Halaman &P"
    sheet.oddFooter.center.size = 9


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # '&' starts a header/footer code


def _column_fills(sheet: Any, grid: _Grid, days: int, last_user_row: int) -> None:
    """Green "Sudah" and red "Belum" people cells, the per-person totals in bold: conditional
    formats over column ranges (one rule per look, so viewers that apply a single rule per
    cell still show it)."""
    def column(col: int) -> str:
        letter = get_column_letter(col)
        return f"{letter}{FIRST_PERSON_ROW}:{letter}{last_user_row}"

    looks: list[tuple[list[str], DifferentialStyle]] = [
        ([column(grid.block_start(i) + 1) for i in range(days)], DifferentialStyle(fill=GREEN)),
        ([column(grid.block_start(i) + 2) for i in range(days)], DifferentialStyle(fill=RED)),
    ]
    if grid.with_totals:
        first = grid.block_start(days)
        looks += [([column(first)], DifferentialStyle(font=BOLD)),
                  ([column(first + 1)], DifferentialStyle(font=BOLD, fill=GREEN)),
                  ([column(first + 2)], DifferentialStyle(font=BOLD, fill=RED))]
    for ranges, style in looks:
        sheet.conditional_formatting.add(
            " ".join(ranges), Rule(type="expression", formula=["TRUE"], dxf=style))


def _fill_sheet(sheet: Any, platform: Platform, satker_name: str,
                members: Sequence[UserLine], days: Sequence[date]) -> None:
    fixed = len(FIXED_COLUMNS)
    grid = _Grid(days, len(members))
    last_letter = get_column_letter(grid.last_col)
    total_row = grid.total_row
    last_user_row = total_row - 1
    monthly = len(days) > WIDE_DAYS
    period = (f"{platform.period_title} Periode {indonesian.date_short(days[0])} - "
              f"{indonesian.date_short(days[-1])}")
    # widths, heights, frozen panes, filter, merges and print setup are declared before the
    # rows are streamed (write-only mode)
    text_widths = _text_widths(members)
    for col, width in enumerate((NO_WIDTH, *text_widths), start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    day_width = NARROW_DAY_WIDTH if monthly else DAY_WIDTH
    for col in range(fixed + 1, grid.last_col + 1):
        in_totals = grid.with_totals and col >= grid.block_start(len(days))
        sheet.column_dimensions[get_column_letter(col)].width = (
            TOTAL_WIDTH if in_totals else day_width)
    sheet.row_dimensions[1].height = 21
    sheet.row_dimensions[HEADER_ROWS[0]].height = 32
    sheet.row_dimensions[HEADER_ROWS[1]].height = ROTATED_LABEL_HEIGHT if monthly else 32
    sheet.freeze_panes = f"{get_column_letter(fixed + 1)}{FIRST_PERSON_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROWS[1]}:{last_letter}{max(last_user_row, HEADER_ROWS[1])}"
    merges = [f"A1:{last_letter}1", f"A2:{last_letter}2",
              *(f"{get_column_letter(c)}3:{get_column_letter(c)}4" for c in range(1, fixed + 1)),
              *(f"{get_column_letter(grid.block_start(i))}3:"
                f"{get_column_letter(grid.block_start(i) + 2)}3" for i in range(grid.blocks)),
              f"A{total_row}:{get_column_letter(fixed)}{total_row}"]
    for ref in merges:
        sheet.merged_cells.add(ref)
    _page_setup(sheet, satker_name, platform, period, single_day=len(days) == 1)
    if members:
        _column_fills(sheet, grid, len(days), last_user_row)
    sheet.append([_styled(sheet, f"{satker_name} – {platform.title}", font=TITLE,
                          alignment=None)])
    sheet.append([_styled(sheet, period, alignment=None)])
    row3: list[Any] = [_styled(sheet, text, fill=HEADER) for text in FIXED_COLUMNS]
    row4: list[Any] = [_styled(sheet, None, fill=HEADER) for _ in FIXED_COLUMNS]
    headings = [f"{indonesian.day_name(day)}, {indonesian.date_short(day)}" for day in days]
    if grid.with_totals:
        headings.append("Total")
    for index, heading in enumerate(headings):
        row3.append(_styled(sheet, heading, fill=HEADER))
        row3.extend(_styled(sheet, None, fill=HEADER) for _ in range(2))
        label = ROTATED if monthly and index < len(days) else CENTER
        row4.extend((_styled(sheet, "Jumlah Post", fill=HEADER, alignment=label),
                     _styled(sheet, platform.done_label, fill=GREEN, alignment=label),
                     _styled(sheet, platform.missing_label, fill=RED, alignment=label)))
    sheet.append(row3)
    sheet.append(row4)
    # The numbers are written as values, the TOTAL row and the per-person totals included:
    # openpyxl cannot store a formula's cached result, and a viewer that does not recalculate
    # (a phone's preview, a PDF export) would show an empty cell for a bare =SUM().
    sums = [0] * grid.number_columns
    for number, line in enumerate(members, start=1):
        per_day = line.days.get(platform.code, {})
        values: list[Any] = [number, *(
            _wrapped(sheet, text) if _needs(text) > width else text
            for text, width in zip((line.title, line.nama, line.divisi), text_widths,
                                   strict=True))]
        numbers: list[int] = []
        for day in days:
            posts, done = per_day.get(day, (0, 0))
            numbers.extend((posts, done, max(posts - done, 0)))
        if grid.with_totals:
            numbers.extend(sum(numbers[k::3]) for k in range(3))
        for k, value in enumerate(numbers):
            sums[k] += value
        values.extend(numbers)
        sheet.append(values)
    total: list[Any] = [_styled(sheet, "TOTAL")]
    total.extend(_styled(sheet, None) for _ in range(fixed - 1))
    # a month's day columns hold three digits: a larger sum shrinks rather than print as ###
    total.extend(_styled(sheet, value, alignment=SHRINK if monthly else None,
                         number_format=NUMBER_FORMAT) for value in sums)
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
