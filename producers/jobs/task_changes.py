"""Task list changes: what the Daftar Tugas job announces between its full lists.

Per Jakarta day and client, ``task_change_state`` holds what has been announced: the ids of
the task posts (Instagram and TikTok), a fingerprint per amplification link row
(``link_report``, per post and personnel) and the day's tally of changes. At each run the job
compares the posts and links at the slot with that state and gets, per client:

- new Instagram posts and new TikTok posts (``📸 *Tugas Instagram Baru - ...*``,
  ``🎵 *Tugas TikTok Baru - ...*``);
- posts gone from the list (``🗑️ *Perubahan Tugas - ...*``, classified as the old fetch service
  did: ``sync_anomaly`` when 5 or more, or at least half of the posts announced before, went
  missing at once, else ``real_missing``); a fresh Daftar Tugas follows;
- new or changed link rows (``🔗 *Perubahan Link Tugas - ...*``: who, which post, the five
  links; at most :data:`MAX_LINKS` listed, the rest counted).

The tally feeds the ``📊 *Perubahan Hari Ini:*`` section of the full list. The state is written
in the slot's transaction together with the messages, so a restart between two runs neither
repeats nor drops a change: the next run compares with exactly what was committed.

The first run of a day for a client (no state row yet) takes the posts and links it sees as
the baseline and announces nothing by itself: the full list goes out then (nothing was sent that
day). After a deploy, when a list was already enqueued that day (``task_recap_state``), the
baseline is the posts that list held (found by its ``task_list_hash`` among the prefixes of the
posts in upload order), so posts uploaded since are still announced.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from psycopg.rows import dict_row

from outbox.sql import QueryFile

log = logging.getLogger(__name__)

_q = QueryFile("producers", "task_changes.sql")

MESSAGE_TYPE = "task_change"
MAX_LINKS = 20  # link changes listed per message; the rest are counted
CAPTION_CHARS = 80
ANOMALY_COUNT = 5


@dataclass(frozen=True)
class Post:
    platform: str  # ig / tiktok
    post_id: str
    caption: str | None
    created_at: datetime


@dataclass(frozen=True)
class LinkRow:
    shortcode: str
    user_id: str
    person: str
    links: tuple[str | None, str | None, str | None, str | None, str | None]
    fingerprint: str

    @property
    def key(self) -> str:
        return f"{self.shortcode}:{self.user_id}"


@dataclass
class Tally:
    ig_added: int = 0
    tiktok_added: int = 0
    ig_deleted: int = 0
    tiktok_deleted: int = 0
    link_changes: int = 0

    def any(self) -> bool:
        return bool(self.ig_added or self.tiktok_added or self.ig_deleted
                    or self.tiktok_deleted or self.link_changes)


@dataclass
class Announced:
    """One client's row of ``task_change_state``."""

    ig_posts: list[str] = field(default_factory=list)
    tiktok_posts: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)


@dataclass
class Changes:
    """What changed for one client since the state, and the state to write."""

    client_id: str
    new_ig: list[Post] = field(default_factory=list)
    new_tiktok: list[Post] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (platform, id)
    deleted_source: str = ""
    links: list[LinkRow] = field(default_factory=list)
    state: Announced = field(default_factory=Announced)
    first: bool = False  # no state row for the day before this run

    def any(self) -> bool:
        return bool(self.new_ig or self.new_tiktok or self.deleted or self.links)


def list_hash(ig_ids: list[str], tiktok_ids: list[str]) -> str:
    """``task_delivery_recap_at().task_list_hash`` of a list holding these posts in order."""
    return hashlib.md5(f"{','.join(ig_ids)}|{','.join(tiktok_ids)}".encode()).hexdigest()


def read_posts(conn: Any, day: date, as_of: datetime) -> dict[str, list[Post]]:
    found: dict[str, list[Post]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("posts"), {"day": day, "as_of": as_of})
        for row in cur:
            found.setdefault(str(row["client_id"]), []).append(Post(
                str(row["platform"]), str(row["post_id"]), row["caption"], row["created_at"]))
    return found


def read_links(conn: Any, day: date, as_of: datetime) -> dict[str, list[LinkRow]]:
    found: dict[str, list[LinkRow]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("links"), {"day": day, "as_of": as_of})
        for row in cur:
            found.setdefault(str(row["client_id"]), []).append(LinkRow(
                str(row["shortcode"]), str(row["user_id"]),
                str(row["person"] or row["user_id"]),
                (row["instagram_link"], row["facebook_link"], row["twitter_link"],
                 row["tiktok_link"], row["youtube_link"]), str(row["fingerprint"])))
    return found


def read_state(conn: Any, day: date) -> dict[str, Announced]:
    state: dict[str, Announced] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_q("state"), {"day": day})
        for row in cur:
            state[str(row["client_id"])] = Announced(
                list(row["ig_posts"]), list(row["tiktok_posts"]), dict(row["links"]),
                Tally(row["ig_added"], row["tiktok_added"], row["ig_deleted"],
                      row["tiktok_deleted"], row["link_changes"]))
    return state


def last_list_hashes(conn: Any, day: date) -> dict[str, str]:
    """``client_id -> task_list_hash`` of the newest Daftar Tugas enqueued that day."""
    rows = conn.execute(_q("listed_today"), {"day": day}).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def baseline(posts: list[Post], listed_hash: str | None) -> set[str]:
    """The post ids taken as announced on a client's first run of the day (see the module)."""
    if listed_hash is None:
        return {p.post_id for p in posts}
    ordered = sorted(posts, key=lambda p: (p.created_at, p.post_id))
    for cut in range(len(ordered), -1, -1):
        held = ordered[:cut]
        ig = [p.post_id for p in held if p.platform == "ig"]
        tt = [p.post_id for p in held if p.platform == "tiktok"]
        if list_hash(ig, tt) == listed_hash:
            return {p.post_id for p in held}
    return {p.post_id for p in posts}  # no prefix matches: take all as announced


def detect(conn: Any, day: date, as_of: datetime) -> dict[str, Changes]:
    """Per client (with posts now or announced before that day): the changes since the state."""
    posts = read_posts(conn, day, as_of)
    links = read_links(conn, day, as_of)
    state = read_state(conn, day)
    listed = last_list_hashes(conn, day)
    result: dict[str, Changes] = {}
    for client_id in sorted(set(posts) | set(state)):
        now_posts = posts.get(client_id, [])
        now_links = links.get(client_id, [])
        before = state.get(client_id)
        changes = Changes(client_id, first=before is None)
        if before is None:
            known = baseline(now_posts, listed.get(client_id))
            before = Announced(
                [p.post_id for p in now_posts if p.platform == "ig" and p.post_id in known],
                [p.post_id for p in now_posts if p.platform == "tiktok" and p.post_id in known],
                {row.key: row.fingerprint for row in now_links})
        seen_ig, seen_tt = set(before.ig_posts), set(before.tiktok_posts)
        changes.new_ig = [p for p in now_posts if p.platform == "ig" and p.post_id not in seen_ig]
        changes.new_tiktok = [p for p in now_posts
                              if p.platform == "tiktok" and p.post_id not in seen_tt]
        now_ig = {p.post_id for p in now_posts if p.platform == "ig"}
        now_tt = {p.post_id for p in now_posts if p.platform == "tiktok"}
        changes.deleted = ([("ig", i) for i in before.ig_posts if i not in now_ig]
                           + [("tiktok", i) for i in before.tiktok_posts if i not in now_tt])
        if changes.deleted:
            announced = len(before.ig_posts) + len(before.tiktok_posts)
            many = (len(changes.deleted) >= ANOMALY_COUNT
                    or 2 * len(changes.deleted) >= announced)
            changes.deleted_source = "sync_anomaly" if many else "real_missing"
        changes.links = [row for row in now_links if before.links.get(row.key) != row.fingerprint]
        tally = Tally(**vars(before.tally))
        tally.ig_added += len(changes.new_ig)
        tally.tiktok_added += len(changes.new_tiktok)
        tally.ig_deleted += sum(1 for p, _ in changes.deleted if p == "ig")
        tally.tiktok_deleted += sum(1 for p, _ in changes.deleted if p == "tiktok")
        tally.link_changes += len(changes.links)
        changes.state = Announced(
            [p.post_id for p in now_posts if p.platform == "ig"],
            [p.post_id for p in now_posts if p.platform == "tiktok"],
            {**before.links, **{row.key: row.fingerprint for row in now_links}}, tally)
        result[client_id] = changes
    return result


def save(conn: Any, day: date, changes: dict[str, Changes]) -> None:
    """Write every client's new state (in the slot's transaction, with the messages)."""
    for client_id, change in sorted(changes.items()):
        s = change.state
        conn.execute(_q("save"), {
            "day": day, "client_id": client_id, "ig_posts": s.ig_posts,
            "tiktok_posts": s.tiktok_posts, "links": json.dumps(s.links, sort_keys=True),
            **vars(s.tally)})


def forget(conn: Any, before: date) -> None:
    conn.execute(_q("forget"), {"before": before})


# ---------------------------------------------------------------- texts

def caption(text: str | None, limit: int = CAPTION_CHARS) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return "(tanpa caption)"
    return cleaned if len(cleaned) <= limit else cleaned[:limit].rstrip() + "…"


def ig_link(shortcode: str) -> str:
    return f"https://www.instagram.com/p/{shortcode}/"


def tiktok_link(account: str, video_id: str) -> str:
    return f"https://www.tiktok.com/@{account}/video/{video_id}"


def new_ig_text(client_name: str, posts: list[Post]) -> str:
    lines = [f"📸 *Tugas Instagram Baru - {client_name}*",
             f"Terdapat *{len(posts)}* konten Instagram baru yang perlu dikerjakan:", ""]
    for n, post in enumerate(posts, 1):
        lines += [f"{n}. *Post {post.post_id}*", f"   Caption: _{caption(post.caption)}_",
                  f"   Link: {ig_link(post.post_id)}", ""]
    lines.append("_Silakan like dan beri komentar pada konten di atas._")
    return "\n".join(lines)


def new_tiktok_text(client_name: str, account: str, posts: list[Post]) -> str:
    lines = [f"🎵 *Tugas TikTok Baru - {client_name}*",
             f"Terdapat *{len(posts)}* konten TikTok baru yang perlu dikerjakan:", ""]
    for n, post in enumerate(posts, 1):
        lines += [f"{n}. *Video {post.post_id}*", f"   Caption: _{caption(post.caption)}_",
                  f"   Link: {tiktok_link(account, post.post_id)}", ""]
    lines.append("_Silakan beri komentar pada video di atas._")
    return "\n".join(lines)


def deleted_text(client_name: str, deleted: list[tuple[str, str]], source: str) -> str:
    label = {"ig": "Instagram", "tiktok": "TikTok"}
    lines = [f"🗑️ *Perubahan Tugas - {client_name}*",
             f"*{len(deleted)}* konten tidak lagi ada di daftar tugas hari ini "
             f"(source: {source}):"]
    lines += [f"- {label[platform]} {post_id}" for platform, post_id in deleted]
    advice = ("Banyak konten hilang sekaligus: kemungkinan gangguan sinkronisasi data, mohon "
              "cek akun resmi sebelum menindaklanjuti."
              if source == "sync_anomaly" else
              "Konten tersebut sudah tidak ditemukan di akun resmi.")
    lines += ["", f"_{advice} Daftar tugas terbaru menyusul._"]
    return "\n".join(lines)


def links_text(client_name: str, rows: list[LinkRow]) -> str:
    lines = [f"🔗 *Perubahan Link Tugas - {client_name}*", ""]
    for row in rows[:MAX_LINKS]:
        ig, fb, x, tt, yt = (v.strip() if v and v.strip() else "-" for v in row.links)
        lines += [f"*{row.person}*", f"Post: {row.shortcode}",
                  f"Link: IG: {ig}, FB: {fb}, X: {x}, TT: {tt}, YT: {yt}", ""]
    if len(rows) > MAX_LINKS:
        lines += [f"... dan *{len(rows) - MAX_LINKS}* perubahan link lainnya.", ""]
    lines.append("_Link amplifikasi telah diperbarui._")
    return "\n".join(lines)


def today_section(tally: Tally) -> str:
    """The ``📊 *Perubahan Hari Ini:*`` block (empty when nothing changed that day)."""
    if not tally.any():
        return ""
    lines = ["📊 *Perubahan Hari Ini:*"]
    if tally.ig_added:
        lines.append(f"✅ +{tally.ig_added} konten Instagram baru")
    if tally.tiktok_added:
        lines.append(f"✅ +{tally.tiktok_added} konten TikTok baru")
    if tally.ig_deleted:
        lines.append(f"❌ -{tally.ig_deleted} konten Instagram dihapus")
    if tally.tiktok_deleted:
        lines.append(f"❌ -{tally.tiktok_deleted} konten TikTok dihapus")
    if tally.link_changes:
        lines.append(f"🔗 {tally.link_changes} perubahan link amplifikasi")
    return "\n".join(lines) + "\n\n"


DETAIL_MARK = "📝 *Detail Tugas:*"


def with_section(summary: str, tally: Tally) -> str:
    """The Daftar Tugas text with the day's changes before its detail part."""
    section = today_section(tally)
    if not section or DETAIL_MARK not in summary:
        return summary
    head, _, tail = summary.partition(DETAIL_MARK)
    return f"{head}{section}{DETAIL_MARK}{tail}"
