"""Writes into Cicero's tables, as this database has them (never altering them).

Only columns that exist are written (the catalog is read once per run). Time columns follow
the adapter's contract (views/adapter.py): a ``timestamptz`` column receives the instant, a
naive ``timestamp`` column the wall clock of the naive time zone the adapter was rendered for
(``CICERO_NAIVE_TIME_ZONE``, default UTC), i.e. ``instant AT TIME ZONE <zone>``.

Likes and comments are merged, never shrunk: a stored name (legacy ``{username}`` objects
included) is kept, new names are appended. Every statement runs in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from producers.ingestion.instagram import InstaPost
from producers.ingestion.tiktok import Video
from views.adapter import DEFAULT_NAIVE_TIME_ZONE, NAIVE, TIMESTAMPTZ, installed

Conn = psycopg.Connection[Any]

TABLES = ("clients", "user", "insta_post", "insta_post_clients", "insta_like", "insta_comment",
          "insta_like_audit", "tiktok_post", "tiktok_comment", "tiktok_comment_audit")
AUDIT_WINDOW = "30 minutes"


@dataclass(frozen=True)
class Tables:
    """Columns (name -> type) of the Cicero tables ingestion writes, and the naive zone."""

    columns: dict[str, dict[str, str]]
    naive_zone: str

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def time_value(self, table: str, column: str, param: str) -> sql.Composable:
        """SQL for the instant ``%(param)s`` as ``table.column`` stores it."""
        placeholder = sql.Placeholder(param)
        if self.columns[table][column] == NAIVE:
            return sql.SQL("({}::timestamptz AT TIME ZONE {})").format(
                placeholder, sql.Literal(self.naive_zone))
        return sql.SQL("{}::timestamptz").format(placeholder)

    def now_value(self, table: str, column: str) -> sql.Composable:
        if self.columns[table][column] == NAIVE:
            return sql.SQL("(now() AT TIME ZONE {})").format(sql.Literal(self.naive_zone))
        return sql.SQL("now()")


def read_tables(conn: Conn) -> Tables:
    rows = conn.execute(
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)""",
        (list(TABLES),)).fetchall()
    columns: dict[str, dict[str, str]] = {}
    for table, column, type_ in rows:
        columns.setdefault(table, {})[column] = type_
    state = installed(conn)
    zone = state.naive_time_zone if state is not None else DEFAULT_NAIVE_TIME_ZONE
    return Tables(columns, zone)


# ---------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Client:
    client_id: str
    client_type: str
    insta: str | None  # the account to fetch, or None (Instagram skipped)
    tiktok: str | None
    tiktok_secuid: str | None


def clients(conn: Conn, t: Tables) -> list[Client]:
    """Active clients with an Instagram or TikTok account to fetch, in client_id order."""
    c = t.columns["clients"]

    def col(name: str, fallback: str) -> sql.Composable:
        return sql.Identifier(name) if name in c else sql.SQL(fallback)

    query = sql.SQL(
        """SELECT client_id, coalesce({type}::text, ''), client_insta::text, client_tiktok::text,
                  {secuid}, coalesce({status}, true), coalesce({insta_status}, true),
                  coalesce({amplify}, true), coalesce({tiktok_status}, true)
             FROM clients ORDER BY client_id""").format(
        type=col("client_type", "NULL"), secuid=col("tiktok_secuid", "NULL::text"),
        status=col("client_status", "true"), insta_status=col("client_insta_status", "true"),
        amplify=col("client_amplify_status", "true"),
        tiktok_status=col("client_tiktok_status", "true"))
    found: list[Client] = []
    for cid, ctype, insta, tiktok, secuid, status, ig_on, amplify, tt_on in conn.execute(query):
        if not status:
            continue
        ig = insta.strip() if insta and insta.strip() and ig_on else None
        # (client_insta_status OR client_amplify_status) selects the client; the per-client run
        # skips Instagram when client_insta_status is false: only ig_on matters here.
        del amplify
        tt = tiktok.strip() if tiktok and tiktok.strip() and tt_on else None
        if ig or tt:
            found.append(Client(str(cid), str(ctype), ig, tt, secuid or None))
    return found


def exception_handles(conn: Conn, t: Tables) -> tuple[list[str], list[str]]:
    """The raw Instagram and TikTok handles of every user with ``exception = true``."""
    if not t.has("user", "exception"):
        return [], []
    cols = t.columns["user"]
    ig = sql.Identifier("insta") if "insta" in cols else sql.SQL("NULL")
    tt = sql.Identifier("tiktok") if "tiktok" in cols else sql.SQL("NULL")
    rows = conn.execute(sql.SQL('SELECT {}::text, {}::text FROM "user" WHERE exception IS TRUE'
                                ).format(ig, tt)).fetchall()
    return [r[0] for r in rows if r[0]], [r[1] for r in rows if r[1]]


def today_shortcodes(conn: Conn, t: Tables, client_id: str, day_start: datetime,
                     day_end: datetime) -> list[str]:
    """Today's Instagram posts of a client: linked through insta_post_clients, or the
    client's ``manual_input`` rows (and, without the link table, the client's own rows)."""
    created = t.time_value("insta_post", "created_at", "start")
    created_end = t.time_value("insta_post", "created_at", "end")
    parts = []
    if t.has("insta_post_clients"):
        parts.append(sql.SQL(
            "SELECT p.shortcode FROM insta_post p JOIN insta_post_clients l "
            "ON l.shortcode = p.shortcode WHERE l.client_id = %(client)s"))
    if t.has("insta_post", "source_type") and t.has("insta_post_clients"):
        parts.append(sql.SQL("SELECT p.shortcode FROM insta_post p WHERE p.client_id = "
                             "%(client)s AND p.source_type = 'manual_input'"))
    else:
        parts.append(sql.SQL("SELECT p.shortcode FROM insta_post p WHERE p.client_id = "
                             "%(client)s"))
    query = sql.SQL(
        "SELECT DISTINCT s.shortcode FROM ({}) s JOIN insta_post p USING (shortcode) "
        "WHERE p.created_at >= {} AND p.created_at < {} ORDER BY 1").format(
        sql.SQL(" UNION ").join(parts), created, created_end)
    rows = conn.execute(query, {"client": client_id, "start": day_start, "end": day_end})
    return [r[0] for r in rows]


def today_videos(conn: Conn, t: Tables, client_id: str, day_start: datetime,
                 day_end: datetime) -> list[str]:
    query = sql.SQL("SELECT video_id FROM tiktok_post WHERE client_id = %(client)s "
                    "AND created_at >= {} AND created_at < {} ORDER BY 1").format(
        t.time_value("tiktok_post", "created_at", "start"),
        t.time_value("tiktok_post", "created_at", "end"))
    return [r[0] for r in conn.execute(query, {"client": client_id, "start": day_start,
                                               "end": day_end})]


# ---------------------------------------------------------------------------- posts


def upsert_insta_posts(conn: Conn, t: Tables, client_id: str, posts: Sequence[InstaPost]
                       ) -> tuple[int, int]:
    """Insert or update the posts (and their client links); returns (new, updated)."""
    if not posts:
        return 0, 0
    cols = t.columns["insta_post"]
    values: dict[str, sql.Composable] = {
        "shortcode": sql.Placeholder("shortcode"), "client_id": sql.Placeholder("client"),
        "caption": sql.Placeholder("caption"),
        "comment_count": sql.Placeholder("comment_count"),
        "like_count": sql.Placeholder("like_count"),
        "thumbnail_url": sql.Placeholder("thumbnail_url"),
        "is_video": sql.Placeholder("is_video"), "video_url": sql.Placeholder("video_url"),
        "image_url": sql.Placeholder("image_url"),
        "images_url": sql.SQL("{}::jsonb").format(sql.Placeholder("images_url")),
        "is_carousel": sql.Placeholder("is_carousel"),
    }
    if "images_url" in cols and cols["images_url"] not in ("jsonb", "json"):
        values["images_url"] = sql.Placeholder("images_url")
    if "source_type" in cols:
        values["source_type"] = sql.SQL("'cron_fetch'")
    values["created_at"] = t.time_value("insta_post", "created_at", "taken_at")
    if cols.get("original_created_at") in (TIMESTAMPTZ, NAIVE):
        values["original_created_at"] = t.time_value("insta_post", "original_created_at",
                                                      "taken_at")
    names = [n for n in values if n in cols]
    updated = [n for n in names if n not in ("shortcode", "client_id", "source_type",
                                             "created_at", "original_created_at")]
    query = _upsert("insta_post", "shortcode", names, updated, values)
    new = 0
    with conn.cursor() as cur:
        for post in posts:
            params = {**post.__dict__, "client": client_id}
            row = cur.execute(query, params).fetchone()
            new += bool(row and row[0])
            if t.has("insta_post_clients"):
                cur.execute("INSERT INTO insta_post_clients (shortcode, client_id) "
                            "VALUES (%s, %s) ON CONFLICT DO NOTHING",
                            (post.shortcode, client_id))
    return new, len(posts) - new


def _upsert(table: str, key: str, names: list[str], updated: list[str],
            values: dict[str, sql.Composable]) -> sql.Composed:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET <updated>`` over the columns ``names`` (the
    ones this database has); RETURNING whether the row is new."""
    return sql.SQL(
        "INSERT INTO {table} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE "
        "SET {sets} RETURNING (xmax = 0)").format(
        table=sql.Identifier(table), key=sql.Identifier(key),
        cols=sql.SQL(", ").join(map(sql.Identifier, names)),
        vals=sql.SQL(", ").join(values[n] for n in names),
        sets=sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(
            sql.Identifier(n), sql.Identifier(n)) for n in updated))


def upsert_videos(conn: Conn, t: Tables, client_id: str, videos: Sequence[Video]
                  ) -> tuple[int, int]:
    if not videos:
        return 0, 0
    cols = t.columns["tiktok_post"]
    values: dict[str, sql.Composable] = {
        "video_id": sql.Placeholder("video_id"), "client_id": sql.Placeholder("client"),
        "caption": sql.Placeholder("caption"), "like_count": sql.Placeholder("like_count"),
        "comment_count": sql.Placeholder("comment_count"),
        "created_at": t.time_value("tiktok_post", "created_at", "created_at"),
    }
    if "source_type" in cols:
        values["source_type"] = sql.SQL("'cron_fetch'")
    names = [n for n in values if n in cols]
    updated = [n for n in names if n in ("caption", "like_count", "comment_count")]
    query = _upsert("tiktok_post", "video_id", names, updated, values)
    new = 0
    with conn.cursor() as cur:
        for video in videos:
            row = cur.execute(query, {**video.__dict__, "client": client_id}).fetchone()
            new += bool(row and row[0])
    return new, len(videos) - new


def save_secuid(conn: Conn, t: Tables, client_id: str, sec_uid: str) -> None:
    if t.has("clients", "tiktok_secuid"):
        conn.execute("UPDATE clients SET tiktok_secuid = %s WHERE client_id = %s "
                     "AND tiktok_secuid IS DISTINCT FROM %s", (sec_uid, client_id, sec_uid))


# ---------------------------------------------------------------------------- merges


def _merge(conn: Conn, t: Tables, table: str, key: str, list_col: str, key_value: str,
           names: Iterable[str], audit: str) -> int:
    """Merge ``names`` into ``table.list_col``; return how many were added."""
    payload = json.dumps(sorted(set(names)))
    ident = sql.Identifier
    merged = sql.SQL(
        """WITH old AS (SELECT {list} AS v FROM {table} WHERE {key} = %(key)s FOR UPDATE),
                known AS (SELECT lower(coalesce(e ->> 'username', e #>> '{{}}')) AS n
                            FROM old, jsonb_array_elements(
                                 CASE jsonb_typeof(old.v) WHEN 'array' THEN old.v
                                      ELSE '[]'::jsonb END) e),
                added AS (SELECT coalesce(jsonb_agg(x ORDER BY x), '[]'::jsonb) AS v
                            FROM jsonb_array_elements(%(names)s::jsonb) x
                           WHERE lower(x #>> '{{}}') NOT IN (SELECT n FROM known
                                                            WHERE n IS NOT NULL))
         SELECT (SELECT CASE jsonb_typeof(v) WHEN 'array' THEN v ELSE '[]'::jsonb END
                   FROM old), added.v, jsonb_array_length(added.v), EXISTS (SELECT 1 FROM old)
           FROM added""").format(list=ident(list_col), table=ident(table), key=ident(key))
    row = conn.execute(merged, {"key": key_value, "names": payload}).fetchone()
    assert row is not None
    old, added, n_added, exists = row
    updated_at = t.now_value(table, "updated_at") if t.has(table, "updated_at") else None
    if not exists:
        cols = [ident(key), ident(list_col)]
        vals: list[sql.Composable] = [sql.Placeholder("key"), sql.SQL("%(list)s::jsonb")]
        if updated_at is not None:
            cols.append(ident("updated_at"))
            vals.append(updated_at)
        conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            ident(table), sql.SQL(", ").join(cols), sql.SQL(", ").join(vals)),
            {"key": key_value, "list": json.dumps(added)})
    else:
        sets = [sql.SQL("{} = %(list)s::jsonb").format(ident(list_col))]
        if updated_at is not None:
            sets.append(sql.SQL("updated_at = {}").format(updated_at))
        if n_added or updated_at is not None:
            conn.execute(sql.SQL("UPDATE {} SET {} WHERE {} = %(key)s").format(
                ident(table), sql.SQL(", ").join(sets), ident(key)),
                {"key": key_value, "list": json.dumps((old or []) + added)})
    if t.has(audit):
        conn.execute(sql.SQL(
            "INSERT INTO {} ({}, usernames, snapshot_window_start, snapshot_window_end) "
            "VALUES (%(key)s, %(names)s::jsonb, now() - interval {}, now())").format(
            ident(audit), ident(key), sql.Literal(AUDIT_WINDOW)),
            {"key": key_value, "names": payload})
    return int(n_added)


def merge_likes(conn: Conn, t: Tables, shortcode: str, names: Iterable[str]) -> int:
    return _merge(conn, t, "insta_like", "shortcode", "likes", shortcode, names,
                  "insta_like_audit")


def merge_comments(conn: Conn, t: Tables, video_id: str, names: Iterable[str]) -> int:
    return _merge(conn, t, "tiktok_comment", "video_id", "comments", video_id, names,
                  "tiktok_comment_audit")


# ---------------------------------------------------------------------------- deletion


def insta_deletion_candidates(conn: Conn, t: Tables, client_id: str, fetched: set[str],
                              day_start: datetime, day_end: datetime) -> tuple[list[str], int]:
    """(today's own cron_fetch posts of the client that the fetch no longer returned,
    how many own cron_fetch posts of today there are)."""
    source = (sql.SQL("AND source_type = 'cron_fetch'") if t.has("insta_post", "source_type")
              else sql.SQL(""))
    rows = conn.execute(sql.SQL(
        "SELECT shortcode FROM insta_post WHERE client_id = %(client)s {} "
        "AND created_at >= {} AND created_at < {}").format(
        source, t.time_value("insta_post", "created_at", "start"),
        t.time_value("insta_post", "created_at", "end")),
        {"client": client_id, "start": day_start, "end": day_end}).fetchall()
    own = [r[0] for r in rows]
    return sorted(code for code in own if code not in fetched), len(own)


def delete_insta_posts(conn: Conn, t: Tables, client_id: str, shortcodes: list[str]) -> int:
    """Unlink the posts from the client; delete a post (likes, comments, audit) once orphaned."""
    if not shortcodes:
        return 0
    orphans = shortcodes
    if t.has("insta_post_clients"):
        conn.execute("DELETE FROM insta_post_clients WHERE client_id = %s "
                     "AND shortcode = ANY(%s)", (client_id, shortcodes))
        orphans = [r[0] for r in conn.execute(
            "SELECT s FROM unnest(%s::text[]) s WHERE NOT EXISTS "
            "(SELECT 1 FROM insta_post_clients l WHERE l.shortcode = s)", (shortcodes,))]
    for table in ("insta_like_audit", "insta_like", "insta_comment"):
        if t.has(table):
            conn.execute(sql.SQL("DELETE FROM {} WHERE shortcode = ANY(%s)").format(
                sql.Identifier(table)), (orphans,))
    conn.execute("DELETE FROM insta_post WHERE shortcode = ANY(%s)", (orphans,))
    return len(shortcodes)


def video_deletion_candidates(conn: Conn, t: Tables, client_id: str, fetched: set[str],
                              day_start: datetime, day_end: datetime) -> tuple[list[str], int]:
    source = (sql.SQL("AND source_type = 'cron_fetch'") if t.has("tiktok_post", "source_type")
              else sql.SQL(""))
    rows = conn.execute(sql.SQL(
        "SELECT video_id FROM tiktok_post WHERE client_id = %(client)s {} "
        "AND created_at >= {} AND created_at < {}").format(
        source, t.time_value("tiktok_post", "created_at", "start"),
        t.time_value("tiktok_post", "created_at", "end")),
        {"client": client_id, "start": day_start, "end": day_end}).fetchall()
    own = [r[0] for r in rows]
    return sorted(v for v in own if v not in fetched), len(own)


def delete_videos(conn: Conn, t: Tables, video_ids: list[str]) -> int:
    if not video_ids:
        return 0
    for table in ("tiktok_comment_audit", "tiktok_comment"):
        if t.has(table):
            conn.execute(sql.SQL("DELETE FROM {} WHERE video_id = ANY(%s)").format(
                sql.Identifier(table)), (video_ids,))
    conn.execute("DELETE FROM tiktok_post WHERE video_id = ANY(%s)", (video_ids,))
    return len(video_ids)
