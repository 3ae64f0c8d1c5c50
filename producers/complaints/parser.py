"""Parse a personnel's WhatsApp complaint and classify its issue lines
(docs/concepts/complaints.md).

Pure functions, no database. The accepted format::

    Pesan Komplain
    NRP    : 75020201
    Nama   : BRIPKA BUDI
    Polres : LAMONGAN
    Username IG : @budi
    Username TikTok : @budi.tt

    Kendala
    - Sudah melaksanakan Instagram belum terdata.

Rules (a superset of the old ``parseComplaintMessage``):

- Lines are trimmed; zero-width characters and WhatsApp emphasis markers (``*``, ``_``, ``~``)
  around keys are ignored; the full-width colon ``：`` counts as ``:``.
- Field lines ``key: value`` are recognised anywhere (before or after the issue header) and are
  never issues: NRP / NIP / NRP/NIP / No. NRP (also ``NRP 75020201`` without a colon) -> nrp;
  Nama [lengkap|pelapor|personel] / Pangkat/Nama -> name; Polres / Polresta / Polrestabes /
  Satker / Satuan / Kesatuan -> polres; [Username|Akun|User] IG / Instagram / Insta ->
  instagram; [Username|Akun|User] TikTok / TT -> tiktok. A key must be exactly one of these
  (``Instagram sudah like: belum terdata`` is not a field). A handle field whose value has
  several words is not a field (``IG: sudah like belum terdata`` stays an issue line).
  Pangkat, Jabatan, Satfung, Divisi, No HP/WA lines are known fields that are ignored.
- Issue-section headers: ``Kendala`` (also ``Kendalanya``, ``Kendala saya``),
  ``Rincian|Detail|Uraian|Keterangan|Deskripsi Kendala ...``, ``Kendala yang dihadapi|dialami
  ...``, ``Kendala berikut`` (any case, list prefixes and a trailing colon allowed). Text after
  the header's colon (``Kendala: sudah like ...``) is the first issue.
- Every other non-empty line after the header is an issue; bullets (``-`` ``•`` ``●`` ``*``
  ``▪`` ``>`` ``✅`` ``👉`` ...) and numbering (``1)`` ``2.``) are stripped. With a
  ``Pesan Komplain`` line but no header, the non-field lines after it are the issues.
- At most :data:`MAX_ISSUES` issue lines of at most :data:`MAX_ISSUE_CHARS` characters are kept;
  only the first :data:`MAX_PARSE_CHARS` characters of a message are parsed.

Classification (:attr:`ParsedComplaint.kind`):

- ``complaint``: complaint-shaped and an NRP of 6-20 digits.
- ``missing_nrp``: complaint-shaped but no usable NRP (the sender is asked for it).
- ``not_complaint``: anything else.

"Complaint-shaped" = a ``Pesan Komplain`` marker line, or an issue header together with at
least one labelled field or one recognised issue line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_PARSE_CHARS = 20_000
MAX_ISSUES = 20
MAX_ISSUE_CHARS = 500
NRP_MIN_DIGITS = 6
NRP_MAX_DIGITS = 20


class Kind(StrEnum):
    COMPLAINT = "complaint"
    MISSING_NRP = "missing_nrp"
    NOT_COMPLAINT = "not_complaint"


class IssueKey(StrEnum):
    INSTAGRAM_NOT_RECORDED = "instagram_not_recorded"
    TIKTOK_NOT_RECORDED = "tiktok_not_recorded"
    ATTENDANCE_LESS = "attendance_less"
    ACTIVITY_FLAGGED_NOT_DONE = "activity_flagged_not_done"


@dataclass(frozen=True)
class ParsedComplaint:
    kind: Kind
    nrp: str | None  # digits only
    nrp_raw: str | None  # the value as written (for the "NRP not valid" reply)
    reporter_name: str | None
    polres: str | None
    instagram: str | None  # normalised "@handle"
    tiktok: str | None  # normalised "@handle"
    issues: tuple[str, ...]
    has_marker: bool  # a "Pesan Komplain" line
    has_issue_header: bool
    field_count: int  # labelled fields recognised (nrp, name, polres, instagram, tiktok)


# ---------------------------------------------------------------------------- normalisation
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_LIST_PREFIX = re.compile(
    r"^(?:[•●○◦▪▫■□➤►▶▸➡⁃>*\-–—+✅✔☑👉\ufe0f]+\s*|\d{1,3}\s*(?:\)|\.(?!\d))\s*"
    r"|\(\d{1,3}\)\s*)"
)
_EMPHASIS = re.compile(r"[*_~`]+")
_SPACES = re.compile(r"\s+")


def _clean_line(line: str) -> str:
    line = _INVISIBLE.sub("", line).replace("\u00a0", " ").replace("：", ":")
    return line.strip()


def strip_list_prefix(line: str) -> str:
    """``- x`` / ``• x`` / ``1) x`` / ``2. x`` -> ``x`` (repeated: ``- 1. x`` -> ``x``)."""
    previous = None
    while previous != line:
        previous = line
        line = _LIST_PREFIX.sub("", line, count=1).strip()
    return line


def _key_text(text: str) -> str:
    """A field key or header as a comparable string: no emphasis, single spaces, lower case."""
    return _SPACES.sub(" ", _EMPHASIS.sub(" ", text)).strip().lower()


_URL_HANDLE = re.compile(
    r"(?:https?://)?(?:www\.|m\.|vm\.|vt\.)?(?:instagram\.com|tiktok\.com)/@?([A-Za-z0-9._-]+)",
    re.IGNORECASE,
)
_HANDLE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def normalize_handle(value: str | None) -> str | None:
    """A social handle as ``@handle`` (lower case, ``[a-z0-9._-]`` only) or ``None``.

    Mirrors the old ``normalizeHandleValue``: whitespace collapsed, the handle taken out of an
    ``instagram.com/<h>`` or ``tiktok.com/@<h>`` URL, other characters dropped.
    """
    if value is None:
        return None
    text = _SPACES.sub("", _INVISIBLE.sub("", value))
    match = _URL_HANDLE.search(text)
    if match:
        text = match.group(1)
    handle = _HANDLE_CHARS.sub("", text).lower().strip(".")
    return f"@{handle}" if re.search(r"[a-z0-9]", handle) else None


def normalize_nrp(value: str | None) -> str | None:
    """NRP/NIP as digits only, or ``None`` when it has fewer than 6 or more than 20 digits."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if NRP_MIN_DIGITS <= len(digits) <= NRP_MAX_DIGITS:
        return digits
    return None


# ---------------------------------------------------------------------------- fields
_FIELD_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nrp", re.compile(r"(?:no\.?\s*|nomor\s+)?(?:nrp|nip)(?:\s*/\s*(?:nrp|nip))?"
                       r"(?:\s+personel)?")),
    ("name", re.compile(r"(?:pangkat\s*/\s*)?nama(?:\s+(?:lengkap|pelapor|personel|personil))?"
                        r"(?:\s*/\s*pangkat)?")),
    ("polres", re.compile(r"polres(?:ta|tabes)?|satker|satuan(?:\s+kerja)?|kesatuan")),
    ("instagram", re.compile(r"(?:(?:nama\s+)?(?:user\s*name|user|akun)\s+)?(?:ig|instagram|insta)"
                             r"(?:\s+(?:user\s*name|username|akun))?")),
    ("tiktok", re.compile(r"(?:(?:nama\s+)?(?:user\s*name|user|akun)\s+)?(?:tiktok|tik\s+tok|tt)"
                          r"(?:\s+(?:user\s*name|username|akun))?")),
    ("ignored", re.compile(r"pangkat|jabatan|satfung|divisi|no\.?\s*(?:hp|wa|telp|telepon)"
                           r"|(?:nomor\s+)?(?:whatsapp|wa|hp)|email|tanggal|tgl|jam|waktu")),
)
_NRP_NO_COLON = re.compile(
    r"^(?:no\.?\s*)?(?:nrp|nip)(?:\s*/\s*(?:nrp|nip))?\s*[.=#]?\s*(\d[\d\s.]*)$", re.IGNORECASE
)
_SEPARATOR = re.compile(r"\s*[:=]\s*")
_DIGIT_RUN = re.compile(r"\d(?:[\d .-]*\d)?")


def parse_field(line: str) -> tuple[str, str] | None:
    """``("nrp", "75020201")`` for a labelled field line, else ``None``."""
    content = strip_list_prefix(line)
    parts = _SEPARATOR.split(content, maxsplit=1)
    if len(parts) == 2:
        key = _key_text(parts[0])
        value = parts[1].strip().strip("*_~").strip()
        for field, pattern in _FIELD_KEYS:
            if pattern.fullmatch(key):
                if field in ("instagram", "tiktok") and len(value.split()) > 1:
                    first = value.split()[0]
                    if not (first.startswith("@") or ".com/" in first.lower()):
                        return None  # "IG: sudah like tapi belum terdata" is an issue line
                    value = first
                if field == "nrp":
                    run = _DIGIT_RUN.search(value)
                    value = run.group(0) if run else value
                return field, value
        return None
    match = _NRP_NO_COLON.match(_EMPHASIS.sub("", content).strip())
    if match:
        return "nrp", match.group(1).strip()
    return None


# ---------------------------------------------------------------------------- headers
_ISSUE_HEADER = re.compile(
    r"(?:rincian|detail|detil|uraian|keterangan|deskripsi)\s+kendala\b.*"
    r"|kendala(?:nya)?\s+yang\s+(?:saya\s+|kami\s+)?(?:dihadapi|dialami|hadapi|alami)\b.*"
    r"|kendala(?:nya)?(?:\s+(?:berikut|saya|kami))?"
)
_MARKER = re.compile(r"(?:pesan\s+)?(?:komplain|complain|komplin)\b.*")


def parse_issue_header(line: str) -> tuple[bool, str]:
    """``(True, rest)`` when the line is an issue-section header (``rest`` = text after ``:``)."""
    content = strip_list_prefix(line)
    head, sep, rest = content.partition(":")
    if _ISSUE_HEADER.fullmatch(_key_text(head).rstrip(" .")):
        return True, rest.strip() if sep else ""
    return False, ""


def is_marker(line: str) -> bool:
    """A ``Pesan Komplain`` line (at most five words, e.g. ``PESAN KOMPLAIN CICERO:``)."""
    text = _key_text(strip_list_prefix(line)).rstrip(" :.!")
    return bool(_MARKER.fullmatch(text)) and len(text.split()) <= 5 and (
        text.startswith("pesan") or len(text.split()) <= 2
    )


# ---------------------------------------------------------------------------- issue keys
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_IG = re.compile(r"\b(?:instagram|insta|ig)\b")
_TT = re.compile(r"\b(?:tiktok|tik tok|tt)\b")
_EXECUTED = re.compile(
    r"\b(?:sudah|sdh|udah|telah|sudh)\s+(?:saya\s+)?(?:melaksanakan|laksanakan|dilaksanakan|"
    r"like|likes|melike|me like|ngelike|komen|komentar|berkomentar|mengomentari)\b"
)
_NOT_RECORDED = re.compile(
    r"\b(?:belum|blm|tidak|tdk|gak|ga|nggak|tak)\s+(?:ter\s?data|tercatat|terekam|terabsen|"
    r"terbaca|masuk|muncul|terhitung)\b"
)
_LESS = re.compile(r"\b(?:terabsen|absen|absensi|absensinya|tercatat)\s+(?:masih\s+)?kurang\b")
_FLAGGED = re.compile(
    r"\b(?:terabsen[si]?|status(?:nya)?|tercatat|dianggap|terdata)\s+(?:masih\s+)?"
    r"(?:belum|blm)\s+(?:melaksanakan|laksanakan|mengerjakan)\b"
)


def issue_keys(line: str) -> tuple[IssueKey, ...]:
    """The known issue classes a complaint line names (empty: an unknown issue).

    Keyword rules of the old ``detectKnownIssueKey`` (after punctuation is stripped), with word
    boundaries and a few more spellings; a line naming both platforms yields both keys, and an
    "executed but not recorded" line naming no platform counts as ``activity_flagged_not_done``.
    """
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", line.lower())).strip()
    if not text:
        return ()
    executed = bool(_EXECUTED.search(text))
    not_recorded = bool(_NOT_RECORDED.search(text))
    keys: list[IssueKey] = []
    if executed and not_recorded:
        if _IG.search(text):
            keys.append(IssueKey.INSTAGRAM_NOT_RECORDED)
        if _TT.search(text):
            keys.append(IssueKey.TIKTOK_NOT_RECORDED)
    if _LESS.search(text):
        keys.append(IssueKey.ATTENDANCE_LESS)
    if not keys and (_FLAGGED.search(text) or (executed and not_recorded)):
        keys.append(IssueKey.ACTIVITY_FLAGGED_NOT_DONE)
    return tuple(keys)


# ---------------------------------------------------------------------------- the parser
def _issue_text(line: str) -> str:
    text = strip_list_prefix(line)
    text = _SPACES.sub(" ", text).strip().strip("*_~").strip()
    if len(text) > MAX_ISSUE_CHARS:
        text = text[: MAX_ISSUE_CHARS - 1].rstrip() + "…"
    return text


def parse_complaint(text: str | None) -> ParsedComplaint:
    """Parse and classify one message text (see the module docstring for the rules)."""
    body = unicodedata.normalize("NFKC", (text or "")[:MAX_PARSE_CHARS])
    lines = [_clean_line(raw) for raw in body.splitlines()]
    fields: dict[str, str] = {}
    issues: list[str] = []
    after_marker: list[str] = []
    has_marker = has_header = False
    field_count = 0
    in_issues = False
    for line in lines:
        if not line:
            continue
        if not has_marker and not in_issues and is_marker(line):
            has_marker = True
            continue
        header, rest = parse_issue_header(line)
        if header:
            has_header = in_issues = True
            if rest and parse_field(rest) is None:
                issues.append(_issue_text(rest))
            continue
        field = parse_field(line)
        if field is not None:
            name, value = field
            if name != "ignored":
                field_count += 1
                if value and name not in fields:
                    fields[name] = value
            continue
        if in_issues:
            issues.append(_issue_text(line))
        elif has_marker:
            after_marker.append(_issue_text(line))
    if not has_header:
        issues = after_marker
    issues = [i for i in issues if i][:MAX_ISSUES]

    nrp_raw = fields.get("nrp")
    nrp = normalize_nrp(nrp_raw)
    shaped = has_marker or (
        has_header and (field_count > 0 or any(issue_keys(i) for i in issues))
    )
    if not shaped:
        kind = Kind.NOT_COMPLAINT
    elif nrp is None:
        kind = Kind.MISSING_NRP
    else:
        kind = Kind.COMPLAINT
    return ParsedComplaint(
        kind=kind,
        nrp=nrp,
        nrp_raw=nrp_raw,
        reporter_name=_plain(fields.get("name")),
        polres=_plain(fields.get("polres")),
        instagram=normalize_handle(fields.get("instagram")),
        tiktok=normalize_handle(fields.get("tiktok")),
        issues=tuple(issues),
        has_marker=has_marker,
        has_issue_header=has_header,
        field_count=field_count,
    )


def _plain(value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", value).strip()[:200]
    return value or None


def is_gateway_forward(text: str | None) -> bool:
    """Texts the gateway itself relays (``wagateway ...``, ``wabot ...``) are never complaints."""
    return bool(re.match(r"\s*(?:wagateway|wabot)\b", text or "", re.IGNORECASE))
