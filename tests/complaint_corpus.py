"""Real-shaped WhatsApp complaint messages and what the parser must make of them.

Each case states the expected kind and the parsed fields; ``issues`` (when given) is the exact
list of issue lines, ``keys`` the issue classes of each line in order ("-" = unknown).
"""

from __future__ import annotations

from dataclasses import dataclass

from producers.complaints.parser import MAX_ISSUE_CHARS, MAX_ISSUES


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    kind: str
    nrp: str | None = None
    reporter_name: str | None = None
    polres: str | None = None
    instagram: str | None = None
    tiktok: str | None = None
    issues: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None


IG = "instagram_not_recorded"
TT = "tiktok_not_recorded"
LESS = "attendance_less"
FLAG = "activity_flagged_not_done"

LONG_ISSUE = "Sudah melaksanakan Instagram belum terdata " + "sekali lagi " * 200

CASES: list[Case] = [
    Case("canonical", """Pesan Komplain
NRP    : 75020201
Nama   : BRIPKA BUDI SANTOSO
Polres : LAMONGAN
Username IG : @budi.santoso
Username TikTok : @budi_tt

Kendala
- Sudah melaksanakan Instagram belum terdata.
- Sudah melaksanakan TikTok belum terdata.""",
         "complaint", "75020201", "BRIPKA BUDI SANTOSO", "LAMONGAN", "@budi.santoso", "@budi_tt",
         ("Sudah melaksanakan Instagram belum terdata.",
          "Sudah melaksanakan TikTok belum terdata."), (IG, TT)),
    Case("rincian_kendala", """Pesan Komplain
NRP: 87654321
Nama: AIPDA SARI
Rincian Kendala:
1. Sudah melaksanakan like IG tapi belum terdata""",
         "complaint", "87654321", "AIPDA SARI", issues=(
             "Sudah melaksanakan like IG tapi belum terdata",), keys=(IG,)),
    Case("detail_kendala", "Pesan Komplain\nNRP: 11223344\nDetail Kendala :\n- terabsen kurang",
         "complaint", "11223344", issues=("terabsen kurang",), keys=(LESS,)),
    Case("uraian_kendala_lower", "pesan komplain\nnrp: 11223344\nuraian kendala\n- minta reset",
         "complaint", "11223344", issues=("minta reset",), keys=("-",)),
    Case("keterangan_kendala", "Pesan Komplain\nNRP : 11223344\nKeterangan Kendala\n"
         "• status belum melaksanakan padahal sudah", "complaint", "11223344",
         issues=("status belum melaksanakan padahal sudah",), keys=(FLAG,)),
    Case("deskripsi_kendala", "Pesan Komplain\nNRP : 11223344\nDESKRIPSI KENDALA:\n"
         "● Sudah komen tiktok tp blm terdata", "complaint", "11223344",
         issues=("Sudah komen tiktok tp blm terdata",), keys=(TT,)),
    Case("kendala_yang_dihadapi", "Pesan Komplain\nNRP: 11223344\nKendala yang dihadapi:\n"
         "- Sudah melaksanakan IG dan TikTok belum terdata", "complaint", "11223344",
         issues=("Sudah melaksanakan IG dan TikTok belum terdata",)),
    Case("kendala_yang_dialami", "Pesan Komplain\nNRP: 11223344\nKendala yang dialami\n"
         "- terabsen belum melaksanakan", "complaint", "11223344",
         issues=("terabsen belum melaksanakan",), keys=(FLAG,)),
    Case("kendala_berikut", "Pesan Komplain\nNRP: 11223344\nKendala berikut:\n- a\n- b",
         "complaint", "11223344", issues=("a", "b"), keys=("-", "-")),
    Case("bold_header_and_keys", "*Pesan Komplain*\n*NRP*: 11223344\n*Nama*: BRIPDA ANI\n"
         "*Kendala:*\n* Sudah melaksanakan instagram belum terdata", "complaint", "11223344",
         "BRIPDA ANI", issues=("Sudah melaksanakan instagram belum terdata",), keys=(IG,)),
    Case("fullwidth_colons", "Pesan Komplain\nNRP：75020201\nNama：BRIPKA BUDI\n"
         "Username IG：@Budi.Santoso\nKendala：\n- Sudah melaksanakan IG belum terdata",
         "complaint", "75020201", "BRIPKA BUDI", instagram="@budi.santoso",
         issues=("Sudah melaksanakan IG belum terdata",), keys=(IG,)),
    Case("nrp_nip_key", "Pesan Komplain\nNRP/NIP: 75020201\nKendala\n- x", "complaint",
         "75020201", issues=("x",)),
    Case("nip_18_digits", "Pesan Komplain\nNIP : 198501012010011001\nKendala\n- x",
         "complaint", "198501012010011001"),
    Case("nrp_without_colon", "Pesan Komplain\nNRP 75020201\nKendala\n- x", "complaint",
         "75020201"),
    Case("nrp_with_spaces_and_rank", "Pesan Komplain\nNRP : 7502 0201 (BRIPKA)\nKendala\n- x",
         "complaint", "75020201"),
    Case("numbered_issues", "Pesan Komplain\nNRP: 75020201\nKendala\n"
         "1) Sudah melaksanakan IG belum terdata\n2. terabsen kurang\n3.minta bantuan",
         "complaint", "75020201", issues=(
             "Sudah melaksanakan IG belum terdata", "terabsen kurang", "minta bantuan"),
         keys=(IG, LESS, "-")),
    Case("fields_after_header", "Pesan Komplain\nNRP: 75020201\nKendala\n"
         "- Sudah melaksanakan TikTok belum terdata\nUsername TikTok: @budi.tt\nNama: BUDI",
         "complaint", "75020201", "BUDI", tiktok="@budi.tt",
         issues=("Sudah melaksanakan TikTok belum terdata",), keys=(TT,)),
    Case("instagram_url", "Pesan Komplain\nNRP: 75020201\n"
         "Instagram: https://www.instagram.com/Budi.S?igsh=abc123\n"
         "TikTok : https://www.tiktok.com/@Budi_TT\nKendala\n- x", "complaint", "75020201",
         instagram="@budi.s", tiktok="@budi_tt"),
    Case("akun_ig_and_tt_keys", "Pesan Komplain\nNRP: 75020201\nAkun IG : budi\nTT: @budi2\n"
         "Kendala\n- x", "complaint", "75020201", instagram="@budi", tiktok="@budi2"),
    Case("missing_nrp", "Pesan Komplain\nNama: BRIPKA BUDI\nKendala\n"
         "- Sudah melaksanakan Instagram belum terdata", "missing_nrp", None, "BRIPKA BUDI",
         issues=("Sudah melaksanakan Instagram belum terdata",)),
    Case("nrp_dash", "Pesan Komplain\nNRP: -\nNama: BUDI\nKendala\n- x", "missing_nrp",
         reporter_name="BUDI"),
    Case("nrp_too_short", "Pesan Komplain\nNRP: 123\nKendala\n- x", "missing_nrp"),
    Case("no_marker_header_and_fields", "NRP : 75020201\nNama : BUDI\nKendala :\n"
         "- Sudah melaksanakan IG belum terdata", "complaint", "75020201", "BUDI",
         issues=("Sudah melaksanakan IG belum terdata",)),
    Case("no_marker_no_fields_known_issue", "Kendala:\n- sudah like IG tapi belum terdata",
         "missing_nrp", issues=("sudah like IG tapi belum terdata",), keys=(IG,)),
    Case("preamble", "Selamat pagi komandan, ijin menyampaikan\n\nPesan Komplain\n"
         "NRP: 75020201\nKendala\n- Sudah melaksanakan IG belum terdata", "complaint",
         "75020201", issues=("Sudah melaksanakan IG belum terdata",)),
    Case("noise_crlf_zero_width_emoji", "\ufeffPesan Komplain 🙏\r\nNRP :\u200b 75020201  \r\n"
         "Nama\u00a0: BUDI 👮\r\n\r\nKendala\r\n-   Sudah melaksanakan IG belum terdata 😢  \r\n",
         "complaint", "75020201", "BUDI 👮",
         issues=("Sudah melaksanakan IG belum terdata 😢",), keys=(IG,)),
    Case("very_long", "Pesan Komplain\nNRP: 75020201\nKendala\n" + f"- {LONG_ISSUE}\n"
         + "".join(f"- keluhan nomor {i}\n" for i in range(3000)), "complaint", "75020201"),
    Case("chatter_greeting", "Selamat pagi komandan, ijin melaporkan sudah like semua",
         "not_complaint", issues=()),
    Case("chatter_kendala_word", "Kendala jaringan hari ini, mohon maaf terlambat",
         "not_complaint"),
    Case("chatter_kendala_header_only", "Kendala: sinyal jelek di lokasi", "not_complaint"),
    Case("chatter_recap_forward", "📋 *Rekap Akumulasi Likes Instagram*\n*Polres*: *LAMONGAN*\n"
         "Jumlah Konten: 3\n✅ Melaksanakan lengkap: 10", "not_complaint"),
    Case("chatter_empty", "", "not_complaint"),
    Case("chatter_mentions_komplain", "Pesan komplain saya kemarin belum dibalas ya pak",
         "not_complaint"),
    Case("marker_without_header", "Pesan Komplain\nNRP: 75020201\nNama: BUDI\n"
         "Sudah melaksanakan IG belum terdata", "complaint", "75020201", "BUDI",
         issues=("Sudah melaksanakan IG belum terdata",), keys=(IG,)),
    Case("inline_header_issue", "Pesan Komplain\nNRP: 75020201\n"
         "Kendala: Sudah melaksanakan TikTok belum terdata", "complaint", "75020201",
         issues=("Sudah melaksanakan TikTok belum terdata",), keys=(TT,)),
    Case("ig_label_with_sentence", "Pesan Komplain\nNRP: 75020201\nKendala\n"
         "IG: sudah like tapi belum terdata", "complaint", "75020201", instagram=None,
         issues=("IG: sudah like tapi belum terdata",), keys=(IG,)),
    Case("first_field_wins", "Pesan Komplain\nNRP: 75020201\nNRP: 99999999\nKendala\n- x",
         "complaint", "75020201"),
    Case("polres_variants", "PESAN KOMPLAIN\nNAMA LENGKAP : BRIPTU CICI\nPOLRESTA : SIDOARJO\n"
         "NRP : 91020304\nRINCIAN KENDALA :\n- TERABSEN KURANG", "complaint", "91020304",
         "BRIPTU CICI", "SIDOARJO", issues=("TERABSEN KURANG",), keys=(LESS,)),
    Case("satker_and_ignored_fields", "Pesan Komplain\nNRP: 75020201\nPangkat: BRIPKA\n"
         "Jabatan: BHABINKAMTIBMAS\nSatker: POLRES BATU\nNo HP: 0812345678\nKendala\n"
         "- Sudah melaksanakan IG belum terdata", "complaint", "75020201", polres="POLRES BATU",
         issues=("Sudah melaksanakan IG belum terdata",)),
    Case("emphasised_issue", "Pesan Komplain\nNRP: 75020201\nKendala\n"
         "_Sudah melaksanakan IG belum terdata_", "complaint", "75020201",
         issues=("Sudah melaksanakan IG belum terdata",), keys=(IG,)),
    Case("header_with_trailing_words", "Pesan Komplain\nNRP: 75020201\n"
         "Kendala yang dialami saat ini :\n👉 Sudah melaksanakan IG belum terdata\n"
         "✅ terabsen kurang", "complaint", "75020201",
         issues=("Sudah melaksanakan IG belum terdata", "terabsen kurang"), keys=(IG, LESS)),
    Case("kendala_saya_header", "NRP: 75020201\nNama/Pangkat: BRIPKA BUDI\nKendala saya:\n"
         "▶️ status belum melaksanakan", "complaint", "75020201", "BRIPKA BUDI",
         issues=("status belum melaksanakan",), keys=(FLAG,)),
    Case("tercatat_variant_no_platform", "Pesan Komplain\nNRP: 75020201\nKendala\n"
         "- sudah melaksanakan tapi tidak tercatat", "complaint", "75020201",
         issues=("sudah melaksanakan tapi tidak tercatat",), keys=(FLAG,)),
]

assert MAX_ISSUES < 3000 and len(LONG_ISSUE) > MAX_ISSUE_CHARS
