"""The .xlsx recap layout (docs/concepts/reports.md), read back with openpyxl."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook

from producers import xlsx


def rows_for(day: date, satker: str, name: str, users: list[tuple[str, str, int, int]],
             posts: int) -> list[dict[str, object]]:
    return [{"report_date": day, "client_id": "DITBINMAS", "user_id": uid,
             "user_client_id": satker, "user_client_name": name, "title": "BRIPKA",
             "nama": nama, "divisi": "SAT BINMAS", "ig_posts": posts, "ig_done": done,
             "tiktok_posts": 1, "tiktok_done": tdone}
            for uid, nama, done, tdone in users]


def test_weekly_layout() -> None:
    start = date(2026, 11, 16)
    rows = []
    for offset in (0, 2):  # posts on Monday and Wednesday only
        day = start + timedelta(days=offset)
        rows += rows_for(day, "BATU", "POLRES BATU", [("1", "ANDI", 2, 1), ("2", "BUDI", 0, 0)],
                         posts=2)
        rows += rows_for(day, "MALANG", "POLRES MALANG", [("3", "CICI", 1, 1)], posts=2)
    data = xlsx.build_workbook(xlsx.lines_from_rows(rows), start, start + timedelta(days=6),
                               client_id="DITBINMAS", client_name="DIREKTORAT BINMAS")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["IG POLRES BATU", "IG POLRES MALANG", "TT POLRES BATU",
                               "TT POLRES MALANG"]
    sheet = book["IG POLRES BATU"]
    assert sheet["A1"].value == "POLRES BATU – Rekap Engagement Instagram"
    assert sheet["A2"].value == "Rekap Likes Instagram Periode 16/11/2026 - 22/11/2026"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    last = "AB"  # 4 fixed columns + 7 days x 3 + the person's totals x 3
    assert {f"A1:{last}1", f"A2:{last}2", "A3:A4", "D3:D4", "E3:G3", "W3:Y3", "Z3:AB3"} <= merged
    assert [sheet.cell(3, c).value for c in (1, 2, 3, 4, 5)] == [
        "No", "Pangkat", "Nama", "Divisi / Satfung", "Senin, 16/11/2026"]
    assert [sheet.cell(4, c).value for c in (5, 6, 7)] == ["Jumlah Post", "Sudah Likes",
                                                           "Belum Likes"]
    assert sheet["Z3"].value == "Total"
    assert [sheet.cell(4, c).value for c in (26, 27, 28)] == ["Jumlah Post", "Sudah Likes",
                                                              "Belum Likes"]
    assert [sheet.cell(5, c).value for c in range(1, 8)] == [1, "BRIPKA", "ANDI", "SAT BINMAS",
                                                             2, 2, 0]
    assert [sheet.cell(6, c).value for c in (3, 5, 6, 7, 8)] == ["BUDI", 2, 0, 2, 0]  # Tuesday 0
    # per-person totals over the week (Monday and Wednesday), then the TOTAL row: plain numbers
    assert [sheet.cell(5, c).value for c in (26, 27, 28)] == [4, 4, 0]
    assert [sheet.cell(6, c).value for c in (26, 27, 28)] == [4, 0, 4]
    assert sheet["A7"].value == "TOTAL"
    assert [sheet.cell(7, c).value for c in range(5, 11)] == [4, 2, 2, 0, 0, 0]
    assert [sheet.cell(7, c).value for c in (26, 27, 28)] == [8, 4, 4]
    values = [sheet.cell(r, c).value for r in range(1, 8) for c in range(1, 29)]
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)  # no formulas
    assert sheet.freeze_panes == "E5"
    assert sheet.auto_filter.ref == f"A4:{last}6"
    assert sheet["F4"].fill.start_color.rgb.endswith("C6EFCE")
    assert sheet["G4"].fill.start_color.rgb.endswith("F8CBAD")
    assert sheet["AA4"].fill.start_color.rgb.endswith("C6EFCE")
    looks = {str(rng.sqref): rule.dxf for rng in sheet.conditional_formatting
             for rule in rng.rules}
    green = [ref for ref, dxf in looks.items()
             if dxf.fill is not None and dxf.fill.bgColor.rgb.endswith("C6EFCE")]
    red = [ref for ref, dxf in looks.items()
           if dxf.fill is not None and dxf.fill.bgColor.rgb.endswith("F8CBAD")]
    days_green = next(ref for ref in green if ref.startswith("F5:F6"))
    assert len(days_green.split()) == 7
    assert next(ref for ref in red if ref.startswith("G5:G6")).split()[-1] == "Y5:Y6"
    assert looks["AA5:AA6"].font.b and looks["AB5:AB6"].font.b and looks["Z5:Z6"].font.b
    assert "AA5:AA6" in green and "AB5:AB6" in red
    assert sheet["E7"].number_format == "#,##0"
    assert sheet.row_dimensions[3].height == sheet.row_dimensions[4].height == 32
    assert sheet["E4"].alignment.wrap_text
    tiktok = book["TT POLRES BATU"]
    assert tiktok["F4"].value == "Sudah Komentar"
    assert tiktok["A2"].value.startswith("Rekap Komentar TikTok Periode")


def test_the_own_satker_comes_first_and_names_stay_unique() -> None:
    day = date(2026, 11, 22)
    long_name = "POLRES PELABUHAN TANJUNG PERAK SURABAYA"
    rows = (rows_for(day, "A", long_name, [("1", "X", 1, 1)], 1)
            + rows_for(day, "B", long_name + " II", [("2", "Y", 1, 1)], 1)
            + rows_for(day, "DITBINMAS", "DIREKTORAT BINMAS", [("3", "Z", 1, 1)], 1))
    data = xlsx.build_workbook(xlsx.lines_from_rows(rows), day, day, client_id="DITBINMAS",
                               platforms=[xlsx.INSTAGRAM])
    names = load_workbook(io.BytesIO(data)).sheetnames
    assert names[0] == "IG DIREKTORAT BINMAS"
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)


def test_an_empty_audience_still_gives_a_sheet() -> None:
    day = date(2026, 11, 22)
    data = xlsx.build_workbook([], day, day, client_id="BATU", client_name="POLRES BATU")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["IG POLRES BATU", "TT POLRES BATU"]
    sheet = book["IG POLRES BATU"]
    assert sheet["A5"].value == "TOTAL"
    assert [sheet.cell(5, c).value for c in (5, 6, 7)] == [0, 0, 0]


def test_file_names_are_indonesian() -> None:
    assert xlsx.file_name("daily", "POLRES BATU", date(2026, 11, 22), date(2026, 11, 22)) == (
        "Rekap_Harian_POLRES_BATU_22_November_2026.xlsx")
    assert xlsx.file_name("weekly", "BATU", date(2026, 11, 16), date(2026, 11, 22)) == (
        "Rekap_Mingguan_BATU_16_November_2026_sd_22_November_2026.xlsx")
    assert xlsx.file_name("monthly", "BATU", date(2026, 8, 1), date(2026, 8, 31)) == (
        "Rekap_Bulanan_BATU_Agustus_2026.xlsx")


def test_every_sheet_is_set_up_for_a4_printing() -> None:
    start = date(2026, 11, 1)
    rows = rows_for(start, "BATU", "POLRES BATU & CO", [("1", "ANDI", 2, 1)], posts=2)
    for days, orientation in ((1, "portrait"), (7, "landscape"), (30, "landscape")):
        data = xlsx.build_workbook(xlsx.lines_from_rows(rows), start,
                                   start + timedelta(days=days - 1), client_id="BATU")
        book = load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            setup = sheet.page_setup
            assert setup.orientation == orientation
            assert str(setup.paperSize) == "9"  # A4
            assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
            fit = sheet.sheet_properties.pageSetUpPr
            assert fit is not None and fit.fitToPage
            assert sheet.print_title_rows == "$3:$4"
            assert sheet.print_options.gridLines
            margins = sheet.page_margins
            assert 0.3 <= margins.left == margins.right <= 0.6
            assert margins.header < margins.top <= 0.8
            header, footer = sheet.oddHeader, sheet.oddFooter
            assert header is not None and footer is not None
            assert footer.center.text == "Halaman &P"
            assert (setup.firstPageNumber, setup.useFirstPageNumber) == (1, True)
            assert "POLRES BATU && CO" in str(header.left.text)  # '&' escaped
            assert str(header.right.text).endswith(
                f"{start:%d/%m/%Y} - {start + timedelta(days=days - 1):%d/%m/%Y}")
            labels = sheet["E4"].alignment
            assert labels.textRotation == (90 if days > 7 else 0)
            assert sheet.row_dimensions[4].height == (78 if days > 7 else 32)
            has_totals = days > 1
            assert sheet.max_column == 4 + 3 * days + (3 if has_totals else 0)
            if has_totals:
                assert sheet.cell(3, 5 + 3 * days).value == "Total"
                assert [sheet.cell(5, 5 + 3 * days + k).value for k in range(3)] == (
                    [2, 2, 0] if sheet.title.startswith("IG") else [1, 1, 0])


def test_text_columns_fit_their_longest_text_and_wrap_beyond() -> None:
    day = date(2026, 11, 22)
    long_name = "MUHAMMAD RIZKY RAMADHAN SYAHPUTRA WIBOWO"  # 40 characters
    rows = (rows_for(day, "BATU", "POLRES BATU", [("1", "ANDI", 1, 1)], 1)
            + rows_for(day, "BATU", "POLRES BATU", [("2", long_name, 1, 1)], 1))
    rows[0]["divisi"] = "POLSEK BATU SELATAN"
    data = xlsx.build_workbook(xlsx.lines_from_rows(rows), day, day, client_id="BATU",
                               platforms=[xlsx.INSTAGRAM])
    sheet = load_workbook(io.BytesIO(data))["IG POLRES BATU"]
    widths = {c: sheet.column_dimensions[c].width for c in "BCD"}
    assert widths["B"] == 9  # "BRIPKA" needs less than the least width
    assert widths["C"] == 34  # the most: the long name wraps
    assert widths["D"] == len("POLSEK BATU SELATAN") * 1.2 + 1
    andi, other = (sheet.cell(r, 3) for r in (5, 6))
    assert (andi.value, other.value) == ("ANDI", long_name)
    assert other.alignment.wrap_text and not andi.alignment.wrap_text
    assert not sheet.cell(5, 4).alignment.wrap_text
