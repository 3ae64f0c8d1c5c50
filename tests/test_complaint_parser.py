"""The complaint parser over a corpus of real-shaped messages (no database)."""

from __future__ import annotations

import time

import pytest

from producers.complaints.parser import (
    MAX_ISSUE_CHARS,
    MAX_ISSUES,
    IssueKey,
    Kind,
    is_gateway_forward,
    issue_keys,
    normalize_handle,
    normalize_nrp,
    parse_complaint,
)
from tests.complaint_corpus import CASES, Case


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    kinds = {c.kind for c in CASES}
    assert kinds == {k.value for k in Kind}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case) -> None:
    parsed = parse_complaint(case.text)
    assert parsed.kind == case.kind
    assert parsed.nrp == case.nrp
    if case.reporter_name is not None:
        assert parsed.reporter_name == case.reporter_name
    if case.polres is not None:
        assert parsed.polres == case.polres
    assert parsed.instagram == case.instagram
    assert parsed.tiktok == case.tiktok
    if case.issues is not None:
        assert parsed.issues == case.issues
    if case.keys is not None:
        got = tuple(
            "-" if not keys else keys[0].value for keys in map(issue_keys, parsed.issues)
        )
        assert got == case.keys


def test_very_long_input_is_capped_and_fast() -> None:
    case = next(c for c in CASES if c.name == "very_long")
    started = time.perf_counter()
    parsed = parse_complaint(case.text * 20)  # ~1.3 MB of text
    elapsed = time.perf_counter() - started
    assert parsed.kind is Kind.COMPLAINT
    assert len(parsed.issues) == MAX_ISSUES
    assert MAX_ISSUE_CHARS - 5 <= len(parsed.issues[0]) <= MAX_ISSUE_CHARS
    assert parsed.issues[0].endswith("…")
    assert all(len(i) <= MAX_ISSUE_CHARS for i in parsed.issues)
    assert elapsed < 2.0


def test_a_line_can_name_both_platforms() -> None:
    assert issue_keys("Sudah melaksanakan IG dan TikTok belum terdata") == (
        IssueKey.INSTAGRAM_NOT_RECORDED, IssueKey.TIKTOK_NOT_RECORDED)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Sudah melaksanakan Instagram belum terdata.", (IssueKey.INSTAGRAM_NOT_RECORDED,)),
        ("sdh like ig tp blm ter-data", (IssueKey.INSTAGRAM_NOT_RECORDED,)),
        ("Sudah komen TT belum tercatat", (IssueKey.TIKTOK_NOT_RECORDED,)),
        ("Sudah melaksanakan tapi terabsen kurang", (IssueKey.ATTENDANCE_LESS,)),
        ("absen kurang padahal lengkap", (IssueKey.ATTENDANCE_LESS,)),
        ("terabsen belum melaksanakan", (IssueKey.ACTIVITY_FLAGGED_NOT_DONE,)),
        ("Status belum melaksanakan", (IssueKey.ACTIVITY_FLAGGED_NOT_DONE,)),
        ("digital belum terdata", ()),  # "ig" inside a word is not Instagram
        ("lupa password aplikasi", ()),
        ("", ()),
    ],
)
def test_issue_keys(line: str, expected: tuple[IssueKey, ...]) -> None:
    assert issue_keys(line) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@Budi.Santoso", "@budi.santoso"),
        (" budi_s ", "@budi_s"),
        ("https://www.instagram.com/budi.s/?igsh=xyz", "@budi.s"),
        ("instagram.com/budi", "@budi"),
        ("https://www.tiktok.com/@Budi_TT?lang=id", "@budi_tt"),
        ("@budi santoso", "@budisantoso"),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_handle(raw: str | None, expected: str | None) -> None:
    assert normalize_handle(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("75020201", "75020201"), ("7502.0201", "75020201"), ("12345", None), ("-", None),
     ("1" * 21, None), (None, None)],
)
def test_normalize_nrp(raw: str | None, expected: str | None) -> None:
    assert normalize_nrp(raw) == expected


def test_gateway_relays_are_recognised() -> None:
    assert is_gateway_forward("wagateway Pesan Komplain\nNRP: 75020201")
    assert is_gateway_forward("  WABOT: rekap")
    assert not is_gateway_forward("Pesan Komplain\nNRP: 75020201")
