"""The .xlsx recaps as printed: converted to PDF by LibreOffice (headless), read back with
poppler's pdfinfo / pdftotext (`.ci/run` installs both when missing).

The people come from the sample province of tests/dev/sample_data.py (a directorate and 39
Polres, 33 to ~370 people each): a Polres's daily, weekly and monthly workbooks (the largest
Polres) and a directorate's weekly workbook over three of its satkers (the directorate itself,
the largest and the smallest Polres). Converting the directorate's whole province (80 sheets)
takes about a minute of CPU, so the test keeps three satkers: the layout is per sheet.

What is checked, page by page: A4 in the expected orientation; one page wide (every person's
row - number, rank, name, satfung and every number of the period - is one text line of one
page, on a page of that person's sheet); the header labels and the page header on every page;
the TOTAL row's computed numbers printed; and a page count close to the rows' own need.
"""

from __future__ import annotations

import html
import math
import random
import re
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from producers import xlsx
from tests.dev import sample_data

PROVINCE = sample_data._build_province(1, seed=0)
NAMES = {client_id: name for client_id, name, _ in PROVINCE.clients}
A4 = (841.89, 595.3)  # points, landscape
BODY_BOX = 14.05  # points: the box of an 11 pt Calibri/Carlito word printed at 100 %
FOOTER = re.compile(r"Halaman (\d+)")


@dataclass(frozen=True)
class Case:
    name: str
    client_id: str
    satkers: tuple[str, ...]
    start: date
    days: int

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)


LARGEST = max((c for c, _, _ in PROVINCE.clients[1:]), key=lambda c: len(PROVINCE.by_client[c]))
SMALLEST = min((c for c, _, _ in PROVINCE.clients[1:]), key=lambda c: len(PROVINCE.by_client[c]))
DIRECTORATE = PROVINCE.directorate_id
CASES = [
    Case("polres_daily", LARGEST, (LARGEST,), date(2026, 11, 22), 1),
    Case("polres_weekly", LARGEST, (LARGEST,), date(2026, 11, 16), 7),
    Case("polres_monthly", LARGEST, (LARGEST,), date(2026, 11, 1), 30),
    Case("directorate_weekly", DIRECTORATE, (DIRECTORATE, LARGEST, SMALLEST),
         date(2026, 11, 16), 7),
]


def report_rows(case: Case) -> list[dict[str, Any]]:
    """``report_user_day``-shaped rows: per satker and day 0-12 Instagram and 0-6 TikTok posts
    (some days none), each person doing each task with their sample diligence."""
    rnd = random.Random(f"print:{case.name}")
    rows = []
    for satker in case.satkers:
        for offset in range(case.days):
            day = case.start + timedelta(days=offset)
            ig, tiktok = rnd.choice([0, 4, 10, 12]), rnd.choice([0, 2, 5, 6])
            for user in PROVINCE.by_client[satker]:
                if not user.active:
                    continue
                rows.append({
                    "report_date": day, "client_id": case.client_id, "user_id": user.user_id,
                    "user_client_id": satker, "user_client_name": NAMES[satker],
                    "title": user.title, "nama": user.nama, "divisi": user.divisi,
                    "ig_posts": ig, "tiktok_posts": tiktok,
                    "ig_done": sum(rnd.random() < user.diligence for _ in range(ig)),
                    "tiktok_done": sum(rnd.random() < user.diligence for _ in range(tiktok))})
    return rows


@dataclass
class Sheet:
    """What one printed sheet must show: its page-header title, the people's lines and the
    TOTAL line, as whitespace-separated tokens."""

    title: str
    lines: list[str]
    total: str


def expected_sheets(case: Case, rows: Sequence[dict[str, Any]]) -> list[Sheet]:
    """Computed here from the rows, independently of producers.xlsx (same order: satfung,
    name, id; the client's own satker first, then by name)."""
    days = [case.start + timedelta(days=i) for i in range(case.days)]
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        person = people.setdefault(row["user_id"], {**row, "per_day": {}})
        person["per_day"][row["report_date"]] = row
    satkers = sorted(case.satkers, key=lambda s: (s != case.client_id, NAMES[s], s))
    sheets = []
    for code, title in (("ig", "Rekap Engagement Instagram"),
                        ("tiktok", "Rekap Engagement TikTok")):
        for satker in satkers:
            members = sorted((p for p in people.values() if p["user_client_id"] == satker),
                             key=lambda p: (p["divisi"] or "-", p["nama"], p["user_id"]))
            lines, sums = [], [0] * (3 * case.days + (3 if case.days > 1 else 0))
            for number, person in enumerate(members, start=1):
                numbers = []
                for day in days:
                    row = person["per_day"][day]
                    posts, done = row[f"{code}_posts"], row[f"{code}_done"]
                    numbers += [posts, done, posts - done]
                if case.days > 1:
                    numbers += [sum(numbers[k::3]) for k in range(3)]
                sums = [a + b for a, b in zip(sums, numbers, strict=True)]
                lines.append(" ".join([str(number), person["title"], person["nama"],
                                       person["divisi"] or "-", *map(str, numbers)]))
            sheets.append(Sheet(f"{NAMES[satker]} – {title}", lines,
                                " ".join(["TOTAL", *map(str, sums)])))
    return sheets


@dataclass
class Printed:
    pages: list[list[str]]  # the text lines of each page, top to bottom
    sizes: list[tuple[float, float]]  # points
    heights: list[float]  # each page's median word height, points


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')


def read_pdf(path: Path) -> Printed:
    """Every page's words with their boxes (``pdftotext -bbox``), put back into lines: words
    whose vertical middles are within half a word's height are one line, left to right. (The
    plain ``-layout`` text mixes up the digits of neighbouring narrow columns at a month's
    scale.)"""
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    xhtml = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout
    pages, sizes, heights = [], [], []
    for chunk in xhtml.split("<page ")[1:]:
        size = PAGE.match("<page " + chunk)
        assert size is not None
        sizes.append((float(size.group(1)), float(size.group(2))))
        words = sorted(((float(y0) + float(y1)) / 2, float(y1) - float(y0), float(x0),
                        html.unescape(text)) for x0, y0, y1, text in WORD.findall(chunk))
        lines: list[list[tuple[float, str]]] = []
        middle = -1e9
        for mid, height, x, text in words:
            if not lines or mid - middle > height / 2:
                lines.append([])
                middle = mid
            lines[-1].append((x, text))
        pages.append([" ".join(text for _, text in sorted(line)) for line in lines])
        heights.append(statistics.median(height for _, height, _, _ in words))
    assert len(pages) == count
    return Printed(pages, sizes, heights)


def tokens(line: str) -> str:
    """A printed line as single-space separated tokens, thousands separators dropped
    (LibreOffice prints ``#,##0`` in its own locale)."""
    return " ".join(re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", word) for word in line.split())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, list[Sheet],
                                                                          Printed]]:
    folder = tmp_path_factory.mktemp("print")
    expected: dict[str, tuple[Case, list[Sheet]]] = {}
    files = []
    for case in CASES:
        rows = report_rows(case)
        data = xlsx.build_workbook(xlsx.lines_from_rows(rows), case.start, case.end,
                                   client_id=case.client_id, client_name=NAMES[case.client_id])
        path = folder / f"{case.name}.xlsx"
        path.write_bytes(data)
        files.append(str(path))
        expected[case.name] = (case, expected_sheets(case, rows))
    # a profile of its own: a LibreOffice already running for the same user would take the job
    profile = (folder / "profile").as_uri()
    subprocess.run(["libreoffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), *files],
                   check=True, capture_output=True, timeout=240)
    return {name: (case, sheets, read_pdf(folder / f"{name}.pdf"))
            for name, (case, sheets) in expected.items()}


def pages_of(sheet: Sheet, printed: Printed) -> list[int]:
    """The pages whose page header names the sheet (its first text line)."""
    return [i for i, page in enumerate(printed.pages)
            if page and tokens(page[0]).startswith(tokens(sheet.title))]


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_names_and_numbers_share_a_page(
        printed: dict[str, tuple[Case, list[Sheet], Printed]], name: str) -> None:
    _, sheets, pdf = printed[name]
    lines_per_page = [{tokens(line) for line in page} for page in pdf.pages]
    seen: list[int] = []
    for sheet in sheets:
        pages = pages_of(sheet, pdf)
        assert pages, sheet.title
        assert pages == list(range(pages[0], pages[-1] + 1))  # a sheet's pages follow each other
        seen += pages
        for line in [*sheet.lines, sheet.total]:
            found = [i for i in pages if line in lines_per_page[i]]
            # the whole row (number, rank, name, satfung, every number of the period) is one
            # printed line of one page of this sheet
            assert len(found) == 1, f"{sheet.title}: {line!r} printed on pages {found}"
        # every page of the sheet carries people, not a strip of columns cut off to the right
        for i in pages:
            assert any(line in lines_per_page[i] for line in sheet.lines), (sheet.title, i)
    assert sorted(seen) == list(range(len(pdf.pages)))  # no page belongs to no sheet


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_pages_are_a4_with_the_header_on_each(
        printed: dict[str, tuple[Case, list[Sheet], Printed]], name: str) -> None:
    case, sheets, pdf = printed[name]
    landscape = case.days > 1
    for width, height in pdf.sizes:
        size = (width, height) if landscape else (height, width)
        assert size == pytest.approx(A4, abs=1)
    for sheet in sheets:
        pages = pages_of(sheet, pdf)
        for number, i in enumerate(pages, start=1):
            text = tokens(" ".join(pdf.pages[i]))
            assert "No Pangkat Nama Divisi / Satfung" in text and "Sudah" in text  # rows 3-4
            assert f"Periode {case.start:%d/%m/%Y} - {case.end:%d/%m/%Y}" in text
            footer = FOOTER.search(text)
            assert footer and int(footer.group(1)) == number, (sheet.title, i)


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_page_count_follows_the_rows(
        printed: dict[str, tuple[Case, list[Sheet], Printed]], name: str) -> None:
    """One page wide, so a sheet takes as many pages as its rows (people and TOTAL) need at
    the rows a full page holds, and the scale stays where it was measured."""
    case, sheets, pdf = printed[name]
    lines_per_page = [{tokens(line) for line in page} for page in pdf.pages]
    for sheet in sheets:
        pages = pages_of(sheet, pdf)
        per_page = [sum(line in lines_per_page[i] for line in sheet.lines) for i in pages]
        full = max(per_page)  # rows on a full page
        assert len(pages) == math.ceil((len(sheet.lines) + 1) / full) or (
            len(pages) == math.ceil(len(sheet.lines) / full)), (sheet.title, per_page)
    assert len(pdf.pages) == sum(len(pages_of(sheet, pdf)) for sheet in sheets)
    # the scale the page width forces, from the words' height: a day prints at full size, a
    # week at about half (Calibri 11 -> ~5.5 pt), a month at under a third (~3 pt)
    scale = statistics.median(pdf.heights) / BODY_BOX
    low, high = {1: (0.95, 1.05), 7: (0.45, 0.65), 30: (0.25, 0.4)}[case.days]
    assert low <= scale <= high, scale
