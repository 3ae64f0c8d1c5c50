"""Deterministic, realistic Cicero sample data, loaded with COPY.

One province = one Cicero deployment: the directorate DITBINMAS plus 39 Polres (East Java
names), about 160 active personnel per satker (every one also holds the directorate's role, so
a DITBINMAS post targets the whole province), and per satker per day 10 Instagram + 5 TikTok
posts with cumulative like / comment lists at roughly 80 % coverage. Like the real fetcher, the
handles of the province's exception users are injected into every list (see
docs/concepts/reports.md), lists
also hold outsiders' handles, a few legacy ``{"username": ...}`` objects and mixed-case
variants. Some users have no handle, some are inactive; some client contact columns hold
several values and some hold invalid ones.

Same arguments, same data: everything is drawn from ``random.Random`` seeded with the seed,
the province and (for posts) the day, so the days of a province are independent of how many
days are generated in one call.

Any Cicero schema: this project's bootstrap (migration 0001, timestamptz everywhere) or an
install as found in the wild (docs/operations/cicero-database.md: Cicero_V2 without
``insta_post.source_type`` / ``original_created_at`` / ``like_count`` and with naive
``created_at`` columns, or the fetch cronjob's variant). The catalog is read once; columns and
tables that are absent are not written, and the same logical data lands in each. Every
timestamp is sent as a UTC value, so a naive ``timestamp`` column receives the UTC wall clock
(the Cicero contract) and a ``timestamptz`` column the same instant, whatever the session's
TimeZone.

    python -m tests.dev.sample_data --provinces 1 --date 2026-11-22 --days 7 --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

JAKARTA = ZoneInfo("Asia/Jakarta")

# The 39 Polres / Polresta / Polrestabes / KP3 of the Ditbinmas Jatim roster:
# (client id, display name, DSP personnel count).
POLRES: list[tuple[str, str, int]] = [
    ("BANGKALAN", "POLRES BANGKALAN", 171),
    ("BANYUWANGI", "POLRESTA BANYUWANGI", 236),
    ("BATU", "POLRES BATU", 95),
    ("BLITAR", "POLRES BLITAR", 162),
    ("BLITAR_KOTA", "POLRES BLITAR KOTA", 118),
    ("BOJONEGORO", "POLRES BOJONEGORO", 214),
    ("BONDOWOSO", "POLRES BONDOWOSO", 150),
    ("GRESIK", "POLRES GRESIK", 189),
    ("JEMBER", "POLRES JEMBER", 232),
    ("JOMBANG", "POLRES JOMBANG", 176),
    ("KEDIRI", "POLRES KEDIRI", 198),
    ("KEDIRI_KOTA", "POLRES KEDIRI KOTA", 104),
    ("LAMONGAN", "POLRES LAMONGAN", 335),
    ("LUMAJANG", "POLRES LUMAJANG", 167),
    ("MADIUN", "POLRES MADIUN", 149),
    ("MADIUN_KOTA", "POLRES MADIUN KOTA", 97),
    ("MAGETAN", "POLRES MAGETAN", 131),
    ("MALANG", "POLRES MALANG", 248),
    ("MALANG_KOTA", "POLRESTA MALANG KOTA", 186),
    ("MOJOKERTO", "POLRES MOJOKERTO", 177),
    ("MOJOKERTO_KOTA", "POLRES MOJOKERTO KOTA", 88),
    ("NGANJUK", "POLRES NGANJUK", 168),
    ("NGAWI", "POLRES NGAWI", 152),
    ("PACITAN", "POLRES PACITAN", 121),
    ("PAMEKASAN", "POLRES PAMEKASAN", 140),
    ("PASURUAN", "POLRES PASURUAN", 184),
    ("PASURUAN_KOTA", "POLRES PASURUAN KOTA", 112),
    ("PONOROGO", "POLRES PONOROGO", 158),
    ("PROBOLINGGO", "POLRES PROBOLINGGO", 163),
    ("PROBOLINGGO_KOTA", "POLRES PROBOLINGGO KOTA", 101),
    ("SAMPANG", "POLRES SAMPANG", 133),
    ("SIDOARJO", "POLRESTA SIDOARJO", 259),
    ("SITUBONDO", "POLRES SITUBONDO", 139),
    ("SUMENEP", "POLRES SUMENEP", 165),
    ("SURABAYA", "POLRESTABES SURABAYA", 301),
    ("TANJUNG_PERAK", "KP3 TANJUNG PERAK", 33),
    ("TRENGGALEK", "POLRES TRENGGALEK", 126),
    ("TUBAN", "POLRES TUBAN", 170),
    ("TULUNGAGUNG", "POLRES TULUNGAGUNG", 181),
]
DIRECTORATE = ("DITBINMAS", "DIREKTORAT BINMAS", 102)

FIRST_NAMES = [
    "AGUS", "BUDI", "DEDI", "EKO", "FAJAR", "HADI", "IWAN", "JOKO", "KURNIAWAN", "LUKMAN",
    "MUHAMMAD", "NUR", "RIZKY", "SLAMET", "TEGUH", "WAHYU", "YUDI", "ANDI", "BAMBANG", "DWI",
    "HERU", "IMAM", "SUGENG", "TRI", "ARIF", "HENDRA", "RUDI", "SITI", "SRI", "DEWI", "RINA",
    "ANI", "YULI", "NOVI", "FITRI", "LINDA", "INDAH", "PUTRI", "RATNA", "WULAN", "ADITYA",
    "BAYU", "DIMAS", "GILANG", "RANGGA",
]
LAST_NAMES = [
    "SANTOSO", "WIBOWO", "SAPUTRA", "HIDAYAT", "PRASETYO", "SETIAWAN", "NUGROHO", "KURNIAWAN",
    "GUNAWAN", "SUSANTO", "HARTONO", "PURNOMO", "WIJAYA", "RAHMAN", "HAKIM", "SUBAGYO",
    "MULYONO", "SUPRIYADI", "FIRMANSYAH", "RAMADHAN", "PRATAMA", "HANDOKO", "SURYADI",
    "LESTARI", "WAHYUNI", "RAHAYU", "ANGGRAINI", "MAULANA", "SYAHPUTRA", "ARDIANSYAH",
]
# (pangkat, weight): mostly bintara, some perwira, a few civil servants.
RANKS: list[tuple[str, int]] = [
    ("AKBP", 1), ("KOMPOL", 2), ("AKP", 4), ("IPTU", 6), ("IPDA", 8), ("AIPTU", 12),
    ("AIPDA", 12), ("BRIPKA", 16), ("BRIGADIR", 14), ("BRIPTU", 12), ("BRIPDA", 10),
    ("PENATA", 1), ("PENGATUR", 1), ("PPPK", 1),
]
DIVISIONS = [
    "BAG OPS", "BAG SDM", "BAG REN", "SAT BINMAS", "SAT LANTAS", "SAT RESKRIM", "SAT SAMAPTA",
    "SAT INTELKAM", "SAT RESNARKOBA", "SI HUMAS", "SI PROPAM", "SPKT",
]
POLSEK_NAMES = [
    "KOTA", "UTARA", "SELATAN", "TIMUR", "BARAT", "KIDUL", "WETAN", "KULON", "TENGAH", "BARU",
]
CAPTIONS = [
    "Kapolres bersama Forkopimda melaksanakan patroli skala besar demi menjaga kamtibmas",
    "Bhabinkamtibmas menyambangi warga untuk menyampaikan pesan kamtibmas",
    "Sat Lantas mengimbau pengendara untuk selalu menggunakan helm SNI",
    "Jumat Curhat: Polri mendengar keluhan masyarakat",
    "Polri peduli, bakti sosial untuk warga terdampak banjir",
    "Operasi Zebra 2026: tertib berlalu lintas, selamat sampai tujuan",
    "Sinergi TNI-Polri menjaga situasi tetap aman dan kondusif",
    "Ungkap kasus narkoba, Satresnarkoba amankan tersangka dan barang bukti",
    "Pengamanan ibadah Minggu berjalan aman dan lancar",
    "Polisi Sahabat Anak: sosialisasi keselamatan di sekolah dasar",
]
B64 = string.ascii_letters + string.digits + "-_"

# The tables written (the first six must exist), and the tables analysed once loaded: the
# catalog is read for all of them.
REQUIRED_TABLES = ("clients", "user", "insta_post", "insta_like", "tiktok_post", "tiktok_comment")
OPTIONAL_TABLES = ("roles", "user_roles")  # absent on some installs: no role is written then
ANALYZED_TABLES = ("clients", "user", "user_roles", "roles", "insta_post", "insta_like",
                   "tiktok_post", "tiktok_comment", "insta_post_roles")
# Columns written only where they exist (docs/operations/cicero-database.md); every other
# column written must exist.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "insta_post": frozenset({"like_count", "source_type", "original_created_at"}),
    "tiktok_post": frozenset({"original_created_at"}),
}

_CATALOG_SQL = """
SELECT t.name, a.attname::text
  FROM unnest(%(tables)s::text[]) AS t(name)
  JOIN pg_attribute a ON a.attrelid = to_regclass(quote_ident(t.name))
 WHERE a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass
class Stats:
    provinces: int = 0
    days: int = 0
    clients: int = 0
    users: int = 0
    active_users: int = 0
    exception_users: int = 0
    users_without_instagram: int = 0
    ig_posts: int = 0
    tiktok_posts: int = 0
    like_entries: int = 0
    comment_entries: int = 0
    seconds: float = 0.0
    client_ids: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.provinces} province(s), {self.clients} clients, {self.users} users "
                f"({self.active_users} active, {self.exception_users} exception), "
                f"{self.days} day(s): {self.ig_posts} IG + {self.tiktok_posts} TikTok posts, "
                f"{self.like_entries} likes, {self.comment_entries} comments "
                f"in {self.seconds:.1f} s")

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["client_ids"] = len(self.client_ids)
        return out


@dataclass(frozen=True)
class _User:
    user_id: str
    client_id: str
    nama: str
    title: str
    divisi: str
    jabatan: str
    whatsapp: str
    insta: str | None  # as stored in "user".insta (may have '@', mixed case)
    tiktok: str | None
    ig_key: str | None  # the handle as the fetcher stores it in like lists (lower, no '@')
    tt_key: str | None
    active: bool
    exception: bool
    diligence: float  # probability of doing one task


@dataclass
class _Province:
    index: int
    directorate_id: str
    clients: list[tuple[str, str, int]]  # (client_id, nama, personnel) - directorate first
    users: list[_User]
    by_client: dict[str, list[_User]]


@dataclass(frozen=True)
class _Catalog:
    """The columns of the tables this module touches, as found (search_path applies)."""

    columns: dict[str, frozenset[str]]

    @classmethod
    def read(cls, cur: psycopg.Cursor[Any]) -> _Catalog:
        names = sorted({*REQUIRED_TABLES, *OPTIONAL_TABLES, *ANALYZED_TABLES})
        found: dict[str, set[str]] = {}
        for table, column in cur.execute(_CATALOG_SQL, {"tables": names}).fetchall():
            found.setdefault(table, set()).add(column)
        missing = [t for t in REQUIRED_TABLES if t not in found]
        if missing:
            raise RuntimeError("no Cicero schema here: missing table(s) "
                               + ", ".join(missing))
        return cls({table: frozenset(cols) for table, cols in found.items()})

    def has(self, table: str) -> bool:
        return table in self.columns

    def copy(self, cur: psycopg.Cursor[Any], table: str, columns: Sequence[str],
             rows: Iterable[Sequence[Any]]) -> None:
        """COPY ``rows`` (one value per name in ``columns``) into the columns that exist."""
        present = self.columns[table]
        absent = [c for c in columns if c not in present]
        required = [c for c in absent if c not in OPTIONAL_COLUMNS.get(table, frozenset())]
        if required:
            raise RuntimeError(f"table {table} has no column(s) {', '.join(required)}")
        keep = [i for i, c in enumerate(columns) if c in present]
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(columns[i]) for i in keep))
        with cur.copy(stmt) as cp:
            for row in rows:
                cp.write_row([row[i] for i in keep])


def _utc(when: datetime) -> datetime:
    """The instant in UTC (offset +00).

    psycopg sends an aware datetime with its offset, and PostgreSQL silently drops the offset
    when it parses a value for a naive ``timestamp`` column: only a UTC value stores the UTC
    wall clock there. A ``timestamptz`` column gets the same instant either way.
    """
    return when.astimezone(UTC)


def _suffix(province: int) -> str:
    return "" if province == 1 else f"_{province:02d}"


def _phone(rnd: random.Random) -> str:
    return "08" + rnd.choice("1125") + "".join(rnd.choice(string.digits) for _ in range(9))


def _group_id(rnd: random.Random) -> str:
    return "120363" + "".join(rnd.choice(string.digits) for _ in range(12))


def _contacts(rnd: random.Random, position: int) -> tuple[str, str, str]:
    """(client_group, client_operator, client_super) with realistic variety and mistakes."""
    group = _group_id(rnd) + "@g.us"
    if position % 9 == 3:
        group = _group_id(rnd)  # bare id: fixable (@g.us appended)
    if position % 7 == 5:
        group += ", " + _group_id(rnd) + "@g.us"  # two groups
    if position % 17 == 8:
        group += ";https://chat.whatsapp.com/invite/AbCdEfGh"  # invite link: not a group id
    operator = _phone(rnd)
    if position % 4 == 1:
        operator += "," + _phone(rnd)  # several operators
    if position % 13 == 6:
        operator = "62" + _phone(rnd)[1:] + ";\n" + "+62 " + _phone(rnd)[1:4] + "-" + "1234-5678"
    if position % 11 == 10:
        operator += ",12345"  # too short: invalid, skipped by the outbox check
    sup = "62" + _phone(rnd)[1:]
    if position % 10 == 2:
        sup += "\n" + _phone(rnd)
    if position % 19 == 7:
        sup = "belum ada"  # junk text: invalid
    return group, operator, sup


def _handle(rnd: random.Random, first: str, last: str, n: int) -> str:
    base = rnd.choice(
        [f"{first}.{last}", f"{first}_{last}", f"{first}{n % 100}", f"{last}.{first}"]
    )
    return base.lower() + rnd.choice(["", "", str(n % 1000), "_official", ".id"])


def _build_province(province: int, seed: int) -> _Province:
    rnd = random.Random(f"cicero:{seed}:province:{province}")
    sfx = _suffix(province)
    directorate_id = DIRECTORATE[0] + sfx
    clients = [(directorate_id, DIRECTORATE[1] + (f" {province}" if province > 1 else ""),
                DIRECTORATE[2])]
    for cid, nama, dsp in POLRES:
        clients.append((cid + sfx, nama + (f" {province}" if province > 1 else ""), dsp))
    users: list[_User] = []
    by_client: dict[str, list[_User]] = {}
    rank_names = [r for r, _ in RANKS]
    rank_weights = [w for _, w in RANKS]
    serial = 0
    for cid, _nama, dsp in clients:
        by_client[cid] = []
        count = max(20, int(dsp * rnd.uniform(0.85, 1.1)))
        base = cid.removesuffix(sfx).replace("_", " ")
        polsek = [f"POLSEK {base} {p}" for p in rnd.sample(POLSEK_NAMES, 3)]
        kasat_given: set[str] = set()
        for _ in range(count):
            serial += 1
            first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
            title = rnd.choices(rank_names, rank_weights)[0]
            divisi = rnd.choice(DIVISIONS + polsek) if rnd.random() >= 0.02 else ""
            if divisi.startswith("SAT") and divisi not in kasat_given:
                kasat_given.add(divisi)
                jabatan = "KASAT " + divisi[4:]
                title = rnd.choice(["AKP", "KOMPOL"])
            elif rnd.random() < 0.08:
                jabatan = "KANIT " + rnd.choice(["BINMAS", "SAMAPTA", "RESKRIM", "LANTAS"])
            else:
                jabatan = rnd.choice(["BA " + (divisi or "POLRES"), "BHABINKAMTIBMAS", "ANGGOTA"])
            ig = _handle(rnd, first, last, serial)
            tt = ig if rnd.random() < 0.6 else _handle(rnd, first, last, serial + 7)
            no_ig = rnd.random() < 0.05
            no_tt = rnd.random() < 0.08
            # As typed by the personnel: '@', capitals, blanks (matching normalises).
            stored_ig = None if no_ig else rnd.choice([ig, ig, "@" + ig, ig.capitalize(),
                                                       " @" + ig.upper() + " "])
            stored_tt = None if no_tt else rnd.choice([tt, "@" + tt, tt.upper()])
            profile = rnd.random()
            diligence = 0.97 if profile < 0.55 else (0.8 if profile < 0.8 else
                                                     (0.35 if profile < 0.93 else 0.0))
            user = _User(
                user_id=f"{79 + province:02d}{serial:06d}",  # NRP-like, 8 digits
                client_id=cid,
                nama=f"{first} {last}",
                title=title,
                divisi=divisi,
                jabatan=jabatan,
                whatsapp="62" + _phone(rnd)[1:],
                insta=stored_ig,
                tiktok=stored_tt,
                ig_key=None if no_ig else ig,
                tt_key=None if no_tt else tt,
                active=rnd.random() >= 0.03,
                exception=rnd.random() < 0.0015,
                diligence=diligence,
            )
            users.append(user)
            by_client[cid].append(user)
    return _Province(province, directorate_id, clients, users, by_client)


def _shortcode(rnd: random.Random) -> str:
    return "".join(rnd.choice(B64) for _ in range(11))


def _post_times(rnd: random.Random, day: date, n: int) -> list[datetime]:
    start = datetime(day.year, day.month, day.day, 5, 30, tzinfo=JAKARTA)
    minutes = sorted(rnd.sample(range(17 * 60), n))
    return [start + timedelta(minutes=m, seconds=rnd.randrange(60)) for m in minutes]


def generate(conn: psycopg.Connection[Any], *, provinces: int = 1, start: date | None = None,
             days: int = 1, seed: int = 0) -> Stats:
    """Insert ``provinces`` provinces of clients/users and ``days`` days of posts from ``start``.

    The database must hold the Cicero tables (this project's migration 0001, or a Cicero_V2 /
    fetch-cronjob install as found in the wild) and none of the generated ids. Optional columns
    and tables that are absent are skipped (see ``OPTIONAL_COLUMNS``, ``OPTIONAL_TABLES``); the
    generated data is the same in every variant. Runs in the connection's transaction
    (committed here when the connection is not autocommit).
    """
    if provinces < 1 or days < 0:
        raise ValueError("provinces must be >= 1 and days >= 0")
    start = start or date(2026, 11, 16)
    began = time.perf_counter()
    stats = Stats(provinces=provinces, days=days)
    provs = [_build_province(p, seed) for p in range(1, provinces + 1)]
    with conn.cursor() as cur:
        catalog = _Catalog.read(cur)
        _load_people(cur, catalog, provs, seed, stats)
        for prov in provs:
            for offset in range(days):
                _load_day(cur, catalog, prov, start + timedelta(days=offset), seed, stats)
        cur.execute(sql.SQL("; ").join(
            sql.SQL("ANALYZE {}").format(sql.Identifier(table))
            for table in ANALYZED_TABLES if catalog.has(table)))
    if not conn.autocommit:
        conn.commit()
    stats.seconds = time.perf_counter() - began
    return stats


def _load_people(cur: psycopg.Cursor[Any], catalog: _Catalog, provs: Sequence[_Province],
                 seed: int, stats: Stats) -> None:
    rnd = random.Random(f"cicero:{seed}:contacts")
    client_rows: list[tuple[Any, ...]] = []
    position = 0
    for prov in provs:
        regional = "JATIM" if prov.index == 1 else f"PROV{prov.index:02d}"
        for cid, nama, _dsp in prov.clients:
            position += 1
            group, operator, sup = _contacts(rnd, position)
            is_dir = cid == prov.directorate_id
            handle = nama.lower().replace(" ", "")[:24]
            client_rows.append((
                cid, nama, "direktorat" if is_dir else "org",
                position % 23 != 11,  # one in 23 clients inactive
                "@" + handle if position % 2 else handle, True,
                handle + "_tiktok", position % 29 != 13, True,
                operator, sup, group, regional, None, "direktorat" if is_dir else "satker",
            ))
            stats.client_ids.append(cid)
    catalog.copy(cur, "clients", (
        "client_id", "nama", "client_type", "client_status", "client_insta",
        "client_insta_status", "client_tiktok", "client_tiktok_status", "client_amplify_status",
        "client_operator", "client_super", "client_group", "regional_id", "parent_client_id",
        "client_level"), client_rows)
    stats.clients = len(client_rows)

    catalog.copy(cur, "user", (
        "user_id", "nama", "title", "divisi", "jabatan", "insta", "tiktok", "whatsapp",
        "client_id", "status", "exception"), (
        (u.user_id, u.nama, u.title, u.divisi, u.jabatan, u.insta, u.tiktok, u.whatsapp,
         u.client_id, u.active, u.exception) for prov in provs for u in prov.users))
    if catalog.has("roles"):
        cur.execute("INSERT INTO roles (role_name) VALUES ('operator') "
                    "ON CONFLICT (role_name) DO NOTHING")
        for prov in provs:
            cur.execute("INSERT INTO roles (role_name) VALUES (%s) "
                        "ON CONFLICT (role_name) DO NOTHING", (prov.directorate_id.lower(),))
        if catalog.has("user_roles"):
            role_ids = dict(cur.execute("SELECT role_name, role_id FROM roles").fetchall())
            catalog.copy(cur, "user_roles", ("user_id", "role_id"), (
                (u.user_id, role)
                for prov in provs
                for u in prov.users
                for role in (role_ids["operator"], role_ids[prov.directorate_id.lower()])))
    for prov in provs:
        stats.users += len(prov.users)
        stats.active_users += sum(u.active for u in prov.users)
        stats.exception_users += sum(u.exception for u in prov.users)
        stats.users_without_instagram += sum(u.ig_key is None for u in prov.users)


def _load_day(cur: psycopg.Cursor[Any], catalog: _Catalog, prov: _Province, day: date,
              seed: int, stats: Stats) -> None:
    rnd = random.Random(f"cicero:{seed}:day:{prov.index}:{day.isoformat()}")
    exc_ig = [u.ig_key for u in prov.users if u.exception and u.ig_key]
    exc_tt = [u.tt_key for u in prov.users if u.exception and u.tt_key]
    ig_posts: list[tuple[Any, ...]] = []
    ig_likes: list[tuple[Any, ...]] = []
    tt_posts: list[tuple[Any, ...]] = []
    tt_comments: list[tuple[Any, ...]] = []
    # Audience of a post: the client's users; a directorate post: the whole province.
    for cid, _nama, _dsp in prov.clients:
        audience = prov.users if cid == prov.directorate_id else prov.by_client[cid]
        mood = rnd.uniform(0.85, 1.05)  # some days everybody is busier
        for when in _post_times(rnd, day, 10):
            sc = _shortcode(rnd)
            likes: list[Any] = []
            for u in audience:
                if u.ig_key and rnd.random() < u.diligence * mood:
                    likes.append(u.ig_key)
            likes.extend(exc_ig)
            likes.extend(f"warga_{rnd.randrange(10**6)}" for _ in range(rnd.randrange(3, 25)))
            rnd.shuffle(likes)
            for i in range(min(3, len(likes))):  # a few legacy object entries
                if rnd.random() < 0.3:
                    likes[i] = {"username": likes[i]}
            # Every value is drawn whether or not its column exists: same data everywhere.
            ig_posts.append((sc, cid, rnd.choice(CAPTIONS), rnd.randrange(0, 40), len(likes),
                             "cron_fetch" if rnd.random() < 0.95 else "manual_input",
                             _utc(when), _utc(when + timedelta(minutes=rnd.randrange(2, 30)))))
            ig_likes.append((sc, json.dumps(likes), _utc(when + timedelta(hours=3))))
            stats.like_entries += len(likes)
        for when in _post_times(rnd, day, 5):
            vid = str(7_300_000_000_000_000_000 + rnd.randrange(10**18))
            comments: list[Any] = []
            for u in audience:
                if u.tt_key and rnd.random() < u.diligence * mood * 0.9:
                    comments.append("@" + u.tt_key)
            comments.extend("@" + h for h in exc_tt)
            comments.extend(f"@user{rnd.randrange(10**8)}" for _ in range(rnd.randrange(2, 15)))
            rnd.shuffle(comments)
            tt_posts.append((vid, cid, rnd.choice(CAPTIONS), rnd.randrange(50, 5000),
                             len(comments), _utc(when),
                             _utc(when + timedelta(minutes=rnd.randrange(2, 30)))))
            tt_comments.append((vid, json.dumps(comments), _utc(when + timedelta(hours=3))))
            stats.comment_entries += len(comments)
    catalog.copy(cur, "insta_post", (
        "shortcode", "client_id", "caption", "comment_count", "like_count", "source_type",
        "original_created_at", "created_at"), ig_posts)
    catalog.copy(cur, "insta_like", ("shortcode", "likes", "updated_at"), ig_likes)
    catalog.copy(cur, "tiktok_post", (
        "video_id", "client_id", "caption", "like_count", "comment_count",
        "original_created_at", "created_at"), tt_posts)
    catalog.copy(cur, "tiktok_comment", ("video_id", "comments", "updated_at"), tt_comments)
    stats.ig_posts += len(ig_posts)
    stats.tiktok_posts += len(tt_posts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.dev.sample_data",
                                     description="Load deterministic Cicero sample data.")
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 16),
                        help="first day of posts (Jakarta), YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    with psycopg.connect(args.database_url) as conn:
        stats = generate(conn, provinces=args.provinces, start=args.date, days=args.days,
                         seed=args.seed)
    print(json.dumps(stats.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
