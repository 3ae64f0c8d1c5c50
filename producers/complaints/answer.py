"""Compose the standard answer to a parsed complaint from the database
(docs/concepts/complaints.md).

:func:`compose_answer` is called by the ``complaint_response`` job for ``complaint_queue`` rows
without a ``response_template``. It only reads; the caller enqueues :attr:`Answer.text` to
:attr:`Answer.recipient` (else to the complainant) and each :attr:`Answer.forwards` entry to
its recipient, in the transaction that marks the complaint responded.

Order of the checks (the first that applies decides the whole answer):

1. personnel not found by NRP -> "NRP tidak ditemukan";
2. personnel inactive (``status = false``) -> "akun tidak aktif";
3. neither Instagram nor TikTok handle registered -> update-data steps (papiqo.com/claim);
4. otherwise each issue line is classified (:func:`producers.complaints.parser.issue_keys`);
   each known class is answered once, against the period of the most recent recap enqueued
   for the person's client before the complaint (:func:`recap_period`: yesterday after the
   07.00 recap, today up to the slot after a same-day recap):

   - Instagram/TikTok "sudah melaksanakan ... belum terdata":
     no handle registered for that platform -> update-data steps;
     complaint handle differs from the registered one -> comparison + update-data steps;
     the registered handle on every post of the period -> "no recording fault";
     else -> the posts still missing it, by link, with the verification steps;
   - "terabsen kurang" -> the period's Instagram posts still missing the user's like and/or
     link report;
   - "terabsen belum melaksanakan" -> registered handles and the period's like/comment counts;
   - unknown lines -> forwarded to the client's operator(s) for a manual answer.

The answer is addressed to the personnel's registered number (:attr:`Answer.recipient`) when
it is usable; the job then acknowledges the chat the complaint came from in one line.

The RapidAPI profile checks of the old system are not done (no network): their sections
("Hasil pengecekan RapidAPI", account metrics) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from outbox.sql import QueryFile
from producers.complaints.parser import IssueKey, issue_keys, normalize_handle, normalize_nrp
from producers.indonesian import (
    date_long,
    date_with_day,
    datetime_long,
    greeting,
    number,
    time_hm,
)
from producers.schedule import JAKARTA, jakarta

ACTIVITY_START = date(2025, 9, 1)
UPDATE_DATA_LINK = "https://papiqo.com/claim"
MAX_LISTED_POSTS = 50
MAX_TEXT = 60_000
CAPTION_CHARS = 120
# The recaps a person sees in his satker's group (report jobs, producers/jobs/reports.py): the
# 07.00 recap of yesterday and the same-day recaps of today up to their slot.
RECAP_JOBS = ("daily_report", "progress_report", "ditbinmas_progress_report",
              "bidhumas_progress_report")
RECAP_LOOKBACK_DAYS = 3


@dataclass(frozen=True)
class RecapPeriod:
    """The period a complaint is checked against: the most recent recap sent to the client.

    ``upto`` is the same-day recap's cut-off (its slot; only posts uploaded up to it count),
    ``None`` for a whole day. ``job``/``slot`` name the recap run; ``None`` when no recap was
    recorded for the client before the complaint (then the day before the complaint, whole).
    """

    day: date
    upto: datetime | None
    job: str | None = None
    slot: datetime | None = None

    def label(self) -> str:
        """``rekap tanggal Senin, 8 Juni 2026 s.d. 15.20 WIB`` / ``... (00.00–23.59 WIB)``."""
        if self.upto is None:
            return f"rekap tanggal {date_with_day(self.day)} (00.00–23.59 WIB)"
        return f"rekap tanggal {date_with_day(self.day)} s.d. {time_hm(self.upto)} WIB"

    def line(self) -> str:
        if self.slot is None:
            return (f"*Rekap yang dicek*: {self.label()}. Belum ada rekap yang tercatat "
                    "terkirim ke satker Anda sebelum komplain ini; yang dicek data hari "
                    "sebelumnya.")
        return (f"*Rekap yang dicek*: {self.label()}, rekap terakhir yang dikirim ke satker "
                f"Anda sebelum komplain ini ({datetime_long(self.slot)}).")


@dataclass(frozen=True)
class Answer:
    text: str  # the answer to the complainant
    forwards: list[tuple[str, str]] = field(default_factory=list)  # (recipient, text)
    classes: tuple[str, ...] = ()  # what was answered, e.g. ("instagram_recorded",)
    # The personnel's registered number as a canonical JID: the answer goes there privately.
    # None: answer in the chat the complaint came from (personnel not found, no usable number).
    recipient: str | None = None
    no_private_reason: str | None = None  # why not privately (the job logs it)
    acknowledgement: str | None = None  # one line for the chat when the answer goes privately
    period: RecapPeriod | None = None


# ---------------------------------------------------------------------------- formatting
# Numbers and dates come from producers.indonesian, as in the reports' captions and sheets.

def shorten(text: str, limit: int = CAPTION_CHARS) -> str:
    clean = re.sub(r"\s+", " ", text or "").strip()
    if not clean:
        return "(tanpa caption)"
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"


def update_steps(platform_label: str) -> str:
    return "\n".join([
        f"1. Buka tautan berikut: {UPDATE_DATA_LINK}",
        "2. Login menggunakan NRP/NIP dan kata sandi aplikasi Cicero.",
        f"3. Pilih menu *Update Data Personil* kemudian perbarui username {platform_label}.",
        "4. Pastikan username sesuai dengan akun aktif yang dipakai saat tugas, lalu simpan "
        "perubahan.",
        "5. Konfirmasi kepada admin setelah data diperbarui agar dapat sinkron otomatis.",
    ])


def _bare(handle: str | None) -> str | None:
    return handle[1:] if handle else None


# ---------------------------------------------------------------------------- data access
_q = QueryFile("producers", "complaints.sql")


def _one(conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any]) -> Any:
    with conn.cursor() as cur:
        cur.execute(_q(name), params)
        row = cur.fetchone()
    return None if row is None else row[0]


def _rows(conn: psycopg.Connection[Any], name: str,
          params: Mapping[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q(name), params)
        return cur.fetchall()


@dataclass(frozen=True)
class _Platform:
    key: str  # instagram | tiktok
    label: str  # Instagram | TikTok
    verb: str  # memberikan like | memberikan komentar
    action: str  # like | komentar
    menu: str
    count_query: str


_IG = _Platform("instagram", "Instagram", "memberikan like", "like",
                "*Absensi Likes Instagram*", "instagram_liked_count")
_TT = _Platform("tiktok", "TikTok", "memberikan komentar", "komentar",
                "*Absensi Komentar TikTok*", "tiktok_commented_count")


@dataclass
class _Ctx:
    conn: psycopg.Connection[Any]
    complaint: Mapping[str, Any]
    user: dict[str, Any]
    now: datetime
    today: date
    period: RecapPeriod

    @property
    def client_params(self) -> dict[str, Any]:
        return {"client_id": self.user["client_key"] or self.user["client_id"] or "",
                "client_type": self.user["client_type"] or ""}

    def registered(self, platform: _Platform) -> str | None:
        """``@handle`` as the reports match it (cicero_ig_handle / cicero_tiktok_handle)."""
        handle = self.user["ig_handle"] if platform is _IG else self.user["tt_handle"]
        return f"@{handle}" if handle else None

    @property
    def period_params(self) -> dict[str, Any]:
        return {**self.client_params, "day": self.period.day,
                "upto": self.period.upto if self.period.upto is not None else "infinity"}

    def instagram_posts(self) -> list[dict[str, Any]]:
        return _rows(self.conn, "instagram_period", {
            **self.period_params, "handle": _bare(self.registered(_IG)),
            "user_id": self.user["user_id"]})

    def tiktok_videos(self) -> list[dict[str, Any]]:
        return _rows(self.conn, "tiktok_period", {
            **self.period_params, "handle": _bare(self.registered(_TT))})

    def claimed(self, platform: _Platform) -> str | None:
        value = self.complaint.get(platform.key)
        return normalize_handle(value) if value else None

    def activity_count(self, platform: _Platform, handle: str) -> int:
        start = datetime.combine(ACTIVITY_START, datetime.min.time(), JAKARTA)
        return int(_one(self.conn, platform.count_query, {
            **self.client_params, "handle": _bare(handle), "start": start, "until": self.now,
        }) or 0)


# ---------------------------------------------------------------------------- solutions
def _comparison(registered: str | None, claimed: str | None) -> list[str]:
    return [
        "Perbandingan data:",
        f"- Username pada database Cicero: {registered or 'Belum tercatat.'}",
        f"- Username pada pesan komplain: {claimed or 'Tidak dicantumkan.'}",
    ]


def _platform_solution(ctx: _Ctx, platform: _Platform, issue: str) -> tuple[str, str]:
    registered = ctx.registered(platform)
    claimed = ctx.claimed(platform)
    lines = [f"• Kendala: {issue}", ""]
    if registered is None:
        lines += _comparison(None, claimed)
        lines += [
            "",
            f"Username {platform.label} belum terdaftar pada data personel, sehingga "
            f"{platform.action} belum dapat tercatat oleh sistem.",
            "",
            "Langkah tindak lanjut:",
            update_steps(platform.label),
        ]
        return f"{platform.key}_no_handle", "\n".join(lines)
    if claimed is not None and claimed != normalize_handle(registered):
        start_label = date_long(ACTIVITY_START)
        end_label = date_long(ctx.today)
        count = ctx.activity_count(platform, registered)
        lines += _comparison(registered, claimed)
        recorded = (
            f"Akun terdaftar *{registered}* tercatat {platform.verb} pada {number(count)} konten "
            f"{platform.label} dalam periode {start_label} hingga {end_label}."
            if count else
            f"Belum ada {platform.action} dari akun terdaftar *{registered}* yang tercatat "
            f"dalam periode {start_label} hingga {end_label}."
        )
        lines += [
            "",
            f"Username pada pesan komplain berbeda dengan username yang terdaftar. Sistem hanya "
            f"mencatat {platform.action} dari akun yang terdaftar ({registered}).",
            recorded,
            "",
            f"Jika akun yang dipakai saat tugas adalah {claimed}, perbarui data personel:",
            update_steps(platform.label),
            "",
            f"Setelah data diperbarui, ulangi satu {platform.action} pada konten resmi dengan "
            "akun yang bersifat publik, lalu tunggu sinkronisasi ±1 jam sebelum pengecekan ulang.",
        ]
        return f"{platform.key}_handle_mismatch", "\n".join(lines)
    return _period_solution(ctx, platform, registered, claimed, lines)


@dataclass(frozen=True)
class _Item:
    link: str
    caption: str
    done: bool


def _period_items(ctx: _Ctx, platform: _Platform) -> list[_Item]:
    if platform is _IG:
        return [_Item(f"https://www.instagram.com/p/{p['shortcode']}/", p["caption"],
                      bool(p["liked"])) for p in ctx.instagram_posts()]
    return [_Item(v["link"], v["caption"], bool(v["commented"])) for v in ctx.tiktok_videos()]


def _listed(items: Sequence[_Item]) -> list[str]:
    lines: list[str] = []
    for index, item in enumerate(items[:MAX_LISTED_POSTS], start=1):
        lines += [f"{index}. {item.link}", f"   {shorten(item.caption)}"]
    if len(items) > MAX_LISTED_POSTS:
        lines.append(f"… dan {number(len(items) - MAX_LISTED_POSTS)} konten lainnya.")
    return lines


def _period_solution(ctx: _Ctx, platform: _Platform, registered: str, claimed: str | None,
                     lines: list[str]) -> tuple[str, str]:
    """The registered handle against the posts of the recap the person saw: the posts still
    missing his like/comment, by link; "no recording fault" only when his handle is on every
    one of them."""
    period = ctx.period
    items = _period_items(ctx, platform)
    done = [i for i in items if i.done]
    missing = [i for i in items if not i.done]
    lines.append(f"Konten {platform.label} satker Anda pada {period.label()}: "
                 f"{number(len(items))} konten; {platform.action} dari akun *{registered}* "
                 f"tercatat pada {number(len(done))} konten.")
    if not items:
        lines += [
            f"Tidak ada konten {platform.label} satker Anda pada rekap tersebut, sehingga belum "
            f"ada {platform.action} yang perlu tercatat.",
            "Bila yang dimaksud konten lain, kirim tautan konten tersebut beserta tanggal dan "
            "waktu pelaksanaan.",
        ]
        return f"{platform.key}_no_posts", "\n".join(lines)
    if ctx.user["exception"]:
        lines.append("Akun Anda berstatus pengecualian: rekap menghitung seluruh tugas Anda "
                     "sebagai sudah dilaksanakan.")
        return f"{platform.key}_exception", "\n".join(lines)
    if not missing:
        lines += [
            f"Sistem Cicero tidak menemukan gangguan pencatatan: akun *{registered}* tercatat "
            f"{platform.verb} pada semua konten rekap tersebut.",
            "",
            f"Menu dashboard yang perlu dicek: {platform.menu}. Buka menu tersebut di dashboard "
            "Cicero, pilih ulang filter satker/periode lalu tekan tombol *Refresh* untuk memuat "
            "riwayat terbaru.",
            "Bila data tetap belum muncul, kirim tangkapan layar hasil refresh dan hubungi "
            "operator piket untuk pendampingan lebih lanjut.",
        ]
        return f"{platform.key}_recorded", "\n".join(lines)
    lines += [
        "",
        f"Berikut {number(len(missing))} konten yang belum tercatat {platform.action} dari akun "
        f"*{registered}*:",
        *_listed(missing),
        "",
    ]
    lines += _comparison(registered, claimed)
    lines += [
        "",
        "Panduan verifikasi:",
        f"1) Pastikan {platform.action} dilakukan menggunakan akun yang tercatat "
        f"({platform.label}: {registered}) pada konten di atas.",
        f"2) Kirim tautan/URL konten yang sudah diberi {platform.action} beserta tanggal dan "
        "waktu aksi dilakukan.",
        "3) Beri waktu sinkronisasi ±1 jam; jika tetap belum masuk, kirim ulang bukti (tautan + "
        "screenshot aksi) untuk dicek operator.",
        "",
        "Verifikasi lanjutan:",
        f"- Pastikan akun {platform.label} bersifat publik dan username ditulis benar (sering "
        "tertukar karakter `_` dan `.`).",
    ]
    if platform is _TT:
        lines.append("- Tulis komentar berupa teks biasa tanpa emoji atau karakter khusus.")
    lines += [
        "",
        "Eskalasi:",
        "- Jika setelah verifikasi di atas data masih belum terbaca, eskalasi ke operator piket "
        "untuk pengecekan log sistem.",
    ]
    return f"{platform.key}_not_recorded", "\n".join(lines)


def _attendance_solution(ctx: _Ctx, issue: str) -> tuple[str, str]:
    handle = ctx.registered(_IG)
    posts = ctx.instagram_posts()
    exception = bool(ctx.user["exception"])
    label = ctx.period.label()
    lines = [f"• Kendala: {issue}", "",
             f"Tugas Instagram pada {label}: {number(len(posts))} konten."]
    missing = [p for p in posts if not ((p["liked"] or exception) and p["reported"])]
    if not posts:
        lines.append("Tidak ada konten tugas Instagram satker Anda pada rekap tersebut.")
    elif not missing:
        lines.append("Semua tugas pada rekap tersebut (like dan link) sudah tercatat di sistem. "
                     "Jika masih terdapat perbedaan, mohon kirim bukti pengiriman link.")
    else:
        lines.append(f"Berikut {number(len(missing))} tugas pada rekap tersebut yang belum "
                     "tercatat lengkap pada sistem:")
        for index, post in enumerate(missing[:MAX_LISTED_POSTS], start=1):
            gaps = []
            if not (post["liked"] or exception):
                gaps.append("like Instagram")
            if not post["reported"]:
                gaps.append("laporan link")
            lines += [f"{index}. {shorten(post['caption'])}",
                      f"   https://www.instagram.com/p/{post['shortcode']}/",
                      f"   Belum tercatat: {', '.join(gaps)}"]
        if len(missing) > MAX_LISTED_POSTS:
            lines.append(f"… dan {number(len(missing) - MAX_LISTED_POSTS)} konten lainnya.")
    if handle is None:
        lines.append("Catatan: username Instagram belum terdaftar, sehingga like belum dapat "
                     f"tercatat. Perbarui data melalui {UPDATE_DATA_LINK}.")
    lines += [
        "",
        "Silakan lakukan update link melalui menu *Update Tugas* pada aplikasi Cicero setelah "
        "melaksanakan tugas.",
        "Jika seluruh tugas sudah dikerjakan, mohon kirimkan bukti screenshot update link kepada "
        "admin untuk verifikasi.",
    ]
    return "attendance_incomplete", "\n".join(lines)


def _flagged_solution(ctx: _Ctx, issue: str) -> tuple[str, str]:
    ig, tt = ctx.registered(_IG), ctx.registered(_TT)
    lines = [f"• Kendala: {issue}", "", "Status akun yang tercatat:",
             f"- Instagram: {ig or 'Belum tercatat.'}", f"- TikTok: {tt or 'Belum tercatat.'}",
             "", f"Hasil {ctx.period.label()}:"]
    posts = ctx.instagram_posts()
    videos = ctx.tiktok_videos()
    liked = sum(1 for p in posts if p["liked"])
    commented = sum(1 for v in videos if v["commented"])
    lines += [
        f"- Instagram: like tercatat pada {number(liked)} dari {number(len(posts))} konten.",
        f"- TikTok: komentar tercatat pada {number(commented)} dari {number(len(videos))} konten.",
        "",
        "Panduan verifikasi:",
        f"1) Pastikan seluruh aksi dilakukan memakai "
        f"{' / '.join(h for h in (ig, tt) if h) or 'akun'} yang tercatat di Cicero.",
        "2) Kirim tautan konten yang sudah di-like/dikomentari beserta waktu pelaksanaan sebagai "
        "bukti pengecekan.",
        "3) Buka menu Absensi Likes Instagram atau Absensi Komentar TikTok di dashboard Cicero, "
        "pilih ulang satker & periode, lalu tekan *Refresh* untuk memuat data terbaru.",
        "4) Jika status tetap 'belum melaksanakan' setelah refresh ±1 jam, kirim tangkapan layar "
        "aksi dan hasil refresh untuk eskalasi ke operator piket.",
    ]
    return "activity_status", "\n".join(lines)


# ---------------------------------------------------------------------------- the answer
def _reporter_label(user: Mapping[str, Any] | None, complaint: Mapping[str, Any]) -> str:
    if user is not None:
        name = " ".join(p for p in (user.get("title"), user.get("nama")) if p)
        if name.strip():
            return name.strip()
    return str(complaint.get("reporter_name") or "-")


def _issues(complaint: Mapping[str, Any]) -> list[str]:
    raw: Sequence[Any] = complaint.get("issues") or []
    return [str(i).strip() for i in raw if i and str(i).strip()]


def _message(now: datetime, reporter: str, nrp: str, issues: Sequence[str],
             solution: str) -> str:
    kendala = "\n".join(f"- {i}" for i in issues) if issues else "- (rincian kendala tidak ada)"
    text = "\n".join([
        f"{greeting(now)}! Kami menindaklanjuti laporan yang Anda sampaikan.",
        "",
        f"*Pelapor*: {reporter}",
        "",
        f"*NRP/NIP*: {nrp}",
        "",
        "*Kendala*:",
        kendala,
        "",
        "*Solusi/Tindak Lanjut*:",
        solution.strip(),
    ])
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


def _contact(complainant: str) -> str:
    local, _, server = complainant.partition("@")
    if server in ("s.whatsapp.net", "c.us") and local.isdigit():
        return f"wa.me/{local}"
    return complainant


def complaint_time(conn: psycopg.Connection[Any], complaint: Mapping[str, Any],
                   moment: datetime) -> datetime:
    """When the complaint arrived: the inbound message's ``received_at`` (``inbox_id``), else
    the queue row's ``created_at``; never later than ``moment`` (the answering time)."""
    arrived: datetime | None = None
    if complaint.get("inbox_id") is not None:
        arrived = _one(conn, "inbox_received_at", {"id": complaint["inbox_id"]})
    if arrived is None and isinstance(complaint.get("created_at"), datetime):
        arrived = complaint["created_at"]
    return moment if arrived is None else min(arrived, moment)


def recap_period(conn: psycopg.Connection[Any], client_id: str, at: datetime) -> RecapPeriod:
    """The period of the most recent recap enqueued for ``client_id`` at or before ``at``
    (``producer_run`` of the recap jobs, see ``last_recap``): yesterday whole after the 07.00
    recap, today up to the slot after a same-day recap. Without one: the day before ``at``."""
    with conn.cursor() as cur:
        cur.execute(_q("last_recap"), {"jobs": list(RECAP_JOBS), "at": at,
                                       "lookback": RECAP_LOOKBACK_DAYS,
                                       "client_id": client_id})
        found = cur.fetchone()
    if found is None:
        return RecapPeriod(jakarta(at).date() - timedelta(days=1), None)
    job, slot = str(found[0]), jakarta(found[1])
    if job == "daily_report":
        return RecapPeriod(slot.date() - timedelta(days=1), None, job, slot)
    return RecapPeriod(slot.date(), slot, job, slot)


def _acknowledgement(reporter: str, nrp: str) -> str:
    return (f"Komplain {reporter} (NRP/NIP {nrp}) sudah diterima; jawabannya dikirim secara "
            "pribadi ke nomor WhatsApp yang terdaftar di Cicero.")


NO_NUMBER_NOTE = (f"Catatan: nomor WhatsApp personel belum terdaftar atau tidak valid di Cicero, "
                  f"sehingga jawaban ini dikirim ke percakapan ini. Perbarui nomor melalui "
                  f"{UPDATE_DATA_LINK}.")


def compose_answer(conn: psycopg.Connection[Any], complaint: Mapping[str, Any], *,
                   now: datetime | None = None) -> Answer:
    """The standard answer for one ``complaint_queue`` row (a dict of its columns).

    Reads ``id``, ``nrp``, ``reporter_name``, ``polres``, ``instagram``, ``tiktok``, ``issues``,
    ``complainant``, ``inbox_id`` and ``created_at``; only SELECTs. ``now`` (tz-aware, default:
    the current time) gives the greeting and bounds the complaint's arrival time, which picks
    the recap checked (:func:`recap_period`). The answer is addressed to the personnel's
    registered number (:attr:`Answer.recipient`) when it is usable.
    """
    moment = now if now is not None else datetime.now(UTC)
    today = jakarta(moment).date()
    raw_nrp = str(complaint.get("nrp") or "")
    nrp = normalize_nrp(raw_nrp) or raw_nrp.strip()
    issues = _issues(complaint)

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("personnel"), {"nrp": nrp})
        user = cur.fetchone()

    if user is None:
        polres = complaint.get("polres")
        where = f" {polres}" if polres else ""
        solution = "\n".join([
            f"NRP/NIP *{nrp}* tidak ditemukan pada data personel Cicero.",
            "Mohon periksa kembali NRP/NIP pada pesan komplain lalu kirim ulang.",
            f"Jika NRP/NIP sudah benar, hubungi operator satker{where} agar data personel "
            "didaftarkan di Cicero.",
        ])
        return Answer(_message(moment, _reporter_label(None, complaint), nrp, issues, solution),
                      [], ("personnel_not_found",))
    reporter = _reporter_label(user, complaint)
    nrp = str(user["user_id"])
    private = user["whatsapp_jid"]
    address: dict[str, Any] = {
        "recipient": private,
        "no_private_reason": None if private else (
            "no registered number" if not (user["whatsapp"] or "").strip()
            else f"registered number unusable: {user['whatsapp_problem']}"),
        "acknowledgement": _acknowledgement(reporter, nrp) if private else None,
    }
    note = "" if private else "\n\n" + NO_NUMBER_NOTE

    if not user["active"]:
        solution = "\n".join([
            "Akun Cicero personel saat ini *tidak aktif*.",
            "Mohon hubungi operator satker untuk melakukan aktivasi akun sebelum melanjutkan "
            "pelaporan tugas atau komplain.",
            "Setelah akun aktif, silakan kirim ulang komplain bila kendala masih terjadi.",
        ])
        return Answer(_message(moment, reporter, nrp, issues, solution + note), [],
                      ("account_inactive",), **address)
    client_id = str(user["client_key"] or user["client_id"] or "")
    period = recap_period(conn, client_id, complaint_time(conn, complaint, moment))
    ctx = _Ctx(conn, complaint, user, moment, today, period)
    if ctx.registered(_IG) is None and ctx.registered(_TT) is None:
        solution = "\n".join([
            "Belum terdapat username Instagram maupun TikTok pada data personel.",
            "",
            "Langkah tindak lanjut:",
            update_steps("Instagram dan TikTok"),
            "",
            f"Tautan update data personel: {UPDATE_DATA_LINK}",
        ])
        return Answer(_message(moment, reporter, nrp, issues, solution + note), [],
                      ("no_handle",), **address)

    solutions: list[str] = []
    classes: list[str] = []
    handled: set[IssueKey] = set()
    unknown: list[str] = []
    for issue in issues:
        keys = issue_keys(issue)
        if not keys:
            unknown.append(issue)
            continue
        for key in keys:
            if key in handled:
                continue
            handled.add(key)
            if key is IssueKey.INSTAGRAM_NOT_RECORDED:
                cls, text = _platform_solution(ctx, _IG, issue)
            elif key is IssueKey.TIKTOK_NOT_RECORDED:
                cls, text = _platform_solution(ctx, _TT, issue)
            elif key is IssueKey.ATTENDANCE_LESS:
                cls, text = _attendance_solution(ctx, issue)
            else:
                cls, text = _flagged_solution(ctx, issue)
            classes.append(cls)
            solutions.append(text)
    checked = bool(solutions)

    forwards: list[tuple[str, str]] = []
    if unknown:
        classes.append("forwarded")
        client_name = user["client_nama"] or user["client_id"] or "satker"
        operators = [str(r["jid"]) for r in _rows(conn, "valid_recipients",
                                                   {"raw": user["client_operator"]})]
        block = [f"• Kendala: {line}" for line in unknown]
        if operators:
            block.append(f"Kendala di atas belum memiliki solusi otomatis dan telah diteruskan "
                         f"kepada operator {client_name} untuk ditindaklanjuti secara manual.")
            forward = _forward_text(complaint, user, reporter, client_name, unknown)
            forwards = [(jid, forward) for jid in operators]
        else:
            block.append("Kendala di atas belum memiliki solusi otomatis. Operator satker belum "
                         "terdaftar di Cicero; mohon hubungi operator satker Anda secara "
                         "langsung.")
        solutions.append("\n".join(block))
    if not issues:
        classes.append("no_issue")
        solutions.append("\n".join([
            "Pesan komplain belum memuat rincian kendala.",
            "Mohon kirim ulang dengan bagian *Kendala* berisi uraian masalah, misalnya:",
            "Kendala",
            "- Sudah melaksanakan Instagram belum terdata.",
        ]))
    if checked:
        solutions.insert(0, period.line())
    return Answer(_message(moment, reporter, nrp, issues, "\n\n".join(solutions) + note),
                  forwards, tuple(classes), period=period if checked else None, **address)


def _forward_text(complaint: Mapping[str, Any], user: Mapping[str, Any], reporter: str,
                  client_name: str, unknown: Sequence[str]) -> str:
    ig = normalize_handle(user.get("insta")) or "-"
    tt = normalize_handle(user.get("tiktok")) or "-"
    lines = [
        "📨 *Komplain Perlu Tindak Lanjut Manual*",
        f"Komplain #{complaint.get('id') or '-'}",
        f"Pelapor: {reporter} ({user['user_id']})",
        f"Satker: {client_name}",
        f"Kontak pelapor: {_contact(str(complaint.get('complainant') or '-'))}",
        f"Instagram: {ig} | TikTok: {tt}",
        "",
        "🛑 *Kendala yang belum memiliki solusi otomatis*:",
        *[f"- {line}" for line in unknown],
        "",
        "Mohon tuliskan solusi/tindak lanjut dan kirimkan langsung kepada pelapor.",
    ]
    return "\n".join(lines)
