"""The adapter between Cicero's tables, as a database has them, and the report views.

Cicero's schema comes in variants (``shared`` facts, restated in docs/): the Cicero_V2 schema
has naive ``timestamp`` post times and no ``original_created_at``, ``source_type``,
``insta_post.like_count`` or ``insta_post_clients``; the fetch service's schema has those and a
``timestamptz`` ``tiktok_post.created_at``; roles may be absent. The report views must read one
shape whatever is underneath, and must never hold a dependency on a Cicero column (a view that
does blocks the Node services' own ``ALTER TABLE``).

So the adapter is a set of SQL functions, ``cicero_*()``, each ``LANGUAGE sql STABLE`` with a
single SELECT: PostgreSQL inlines such a set-returning function into the calling query, so a
report's filters reach the table scan exactly as with a view, yet a function body records no
dependency on the columns it reads. Their signatures are fixed (the contract the views rely
on); their bodies are rendered here from the catalog:

* a column the database lacks reads as NULL (or its documented default, e.g. ``source_type``
  ``'cron_fetch'``); a table it lacks reads as an empty set;
* a post time becomes ``timestamptz``: a ``timestamptz`` column as is, a naive ``timestamp``
  column read as the wall clock of the naive time zone (``CICERO_NAIVE_TIME_ZONE``, default
  UTC: Cicero's contract), i.e. ``created_at AT TIME ZONE 'UTC'``; the Jakarta ``report_date``
  is then ``(created_at AT TIME ZONE 'Asia/Jakarta')::date``. Both are immutable expressions:
  no report depends on the session's TimeZone.

``refresh`` renders and installs the functions and records what they were rendered from in
``cicero_adapter``; ``check`` compares that record with the catalog now (the producers call it
at start). Nothing here alters, indexes or drops a Cicero table.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

NAIVE_TIME_ZONE_VARIABLE = "CICERO_NAIVE_TIME_ZONE"
DEFAULT_NAIVE_TIME_ZONE = "UTC"
SCHEMA = "public"

TIMESTAMPTZ = "timestamp with time zone"
NAIVE = "timestamp without time zone"


@dataclass(frozen=True)
class Column:
    """One output column of an adapter function."""

    name: str
    type: str  # SQL type of the output column (fixed: the contract)
    source: str | None = None  # Cicero column read (default: same name); None = always fallback
    fallback: str = "NULL"  # SQL used when the source column is absent (never for NULLs)
    kind: str = "plain"  # plain | instant (a post time, converted to timestamptz)


@dataclass(frozen=True)
class Function:
    """An adapter function: ``name()`` returning ``columns`` read from ``table``."""

    name: str
    table: str
    columns: tuple[Column, ...]
    required: tuple[str, ...] = ()  # columns without which the function cannot be rendered
    optional_table: bool = False  # an absent table reads as an empty set
    join: str = ""  # extra FROM clause (e.g. roles), rendered only when its tables exist
    join_tables: tuple[str, ...] = ()
    doc: str = ""


def _c(name: str, type_: str, **kw: Any) -> Column:
    return Column(name, type_, **kw)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "cicero_clients", "clients",
        (_c("client_id", "text"), _c("nama", "text"), _c("client_type", "text"),
         _c("client_status", "boolean", fallback="true"),
         _c("client_insta", "text"),
         _c("client_insta_status", "boolean", fallback="true"),
         _c("client_tiktok", "text"),
         _c("client_tiktok_status", "boolean", fallback="true"),
         _c("client_amplify_status", "boolean", fallback="true"),
         _c("client_operator", "text"), _c("client_super", "text"),
         _c("client_group", "text")),
        required=("client_id", "nama"),
        doc="Satker (clients), one row each.",
    ),
    Function(
        "cicero_users", "user",
        (_c("user_id", "text"), _c("nama", "text"), _c("title", "text"), _c("divisi", "text"),
         _c("jabatan", "text"), _c("insta", "text"), _c("tiktok", "text"),
         _c("whatsapp", "text"), _c("client_id", "text"),
         _c("status", "boolean", fallback="true"),
         _c("exception", "boolean", fallback="false"),
         _c("wa_notification_opt_in", "boolean", fallback="false")),
        required=("user_id", "client_id"),
        doc='Personnel ("user"), one row each.',
    ),
    Function(
        "cicero_user_roles", "user_roles",
        (_c("user_id", "text", source="user_id"), _c("role_name", "text", source="role_name")),
        optional_table=True,
        join="JOIN roles r ON r.role_id = t.role_id", join_tables=("roles",),
        required=("user_id", "role_id"),
        doc="(user, role name) pairs; empty where user_roles or roles does not exist.",
    ),
    Function(
        "cicero_insta_posts", "insta_post",
        (_c("shortcode", "text"), _c("client_id", "text"), _c("caption", "text"),
         _c("comment_count", "integer"), _c("like_count", "integer"),
         _c("created_at", "timestamptz", kind="instant"),
         _c("report_date", "date", source="created_at", kind="report_date"),
         _c("original_created_at", "timestamptz", kind="instant"),
         _c("source_type", "text", fallback="'cron_fetch'")),
        required=("shortcode", "client_id", "created_at"),
        doc="Instagram posts; created_at as timestamptz, report_date its Jakarta day.",
    ),
    Function(
        "cicero_insta_post_links", "insta_post_clients",
        (_c("shortcode", "text"), _c("client_id", "text")),
        optional_table=True, required=("shortcode", "client_id"),
        doc="Collaboration links post <-> client (insta_post_clients); empty where absent.",
    ),
    Function(
        "cicero_insta_post_roles", "insta_post_roles",
        (_c("shortcode", "text"), _c("role_name", "text")),
        optional_table=True, required=("shortcode", "role_name"),
        doc="Posts tagged as a directorate's task; empty where insta_post_roles is absent.",
    ),
    Function(
        "cicero_insta_likes", "insta_like",
        (_c("shortcode", "text"), _c("likes", "jsonb")),
        required=("shortcode", "likes"),
        doc="The cumulative like list of a post (JSON array of handles or {username} objects).",
    ),
    Function(
        "cicero_insta_comments", "insta_comment",
        (_c("shortcode", "text"), _c("comments", "jsonb")),
        optional_table=True, required=("shortcode", "comments"),
        doc="The comment list of an Instagram post; empty where insta_comment is absent.",
    ),
    Function(
        "cicero_tiktok_posts", "tiktok_post",
        (_c("video_id", "text"), _c("client_id", "text"), _c("caption", "text"),
         _c("like_count", "integer"), _c("comment_count", "integer"),
         _c("created_at", "timestamptz", kind="instant"),
         _c("report_date", "date", source="created_at", kind="report_date"),
         _c("original_created_at", "timestamptz", kind="instant"),
         _c("source_type", "text", fallback="'cron_fetch'")),
        required=("video_id", "client_id", "created_at"),
        doc="TikTok videos; created_at as timestamptz, report_date its Jakarta day.",
    ),
    Function(
        "cicero_tiktok_post_roles", "tiktok_post_roles",
        (_c("video_id", "text"), _c("role_name", "text")),
        optional_table=True, required=("video_id", "role_name"),
        doc="Videos tagged as a directorate's task; empty where tiktok_post_roles is absent.",
    ),
    Function(
        "cicero_tiktok_comments", "tiktok_comment",
        (_c("video_id", "text"), _c("comments", "jsonb")),
        required=("video_id", "comments"),
        doc="The cumulative commenter list of a video (JSON array of handles).",
    ),
    Function(
        "cicero_link_reports", "link_report",
        (_c("shortcode", "text"), _c("user_id", "text"), _c("instagram_link", "text"),
         _c("facebook_link", "text"), _c("twitter_link", "text"), _c("tiktok_link", "text"),
         _c("youtube_link", "text")),
        optional_table=True, required=("shortcode", "user_id"),
        doc="Amplification links reported per (post, user); empty where link_report is absent.",
    ),
)

#: Cicero tables whose presence makes a database "a Cicero database" (the bootstrap then
#: creates nothing and the required ones must all be there).
CICERO_TABLES = ("clients", "user", "roles", "user_roles", "dashboard_user",
                 "dashboard_user_clients", "insta_post", "insta_post_clients",
                 "insta_post_roles", "insta_like", "insta_comment", "tiktok_post",
                 "tiktok_post_roles", "tiktok_comment", "link_report")

READ_TABLES = tuple(dict.fromkeys(
    [f.table for f in FUNCTIONS] + [t for f in FUNCTIONS for t in f.join_tables]))
REQUIRED_TABLES = tuple(f.table for f in FUNCTIONS if not f.optional_table)

#: Flags the views read as constants (rendered as IMMUTABLE functions, folded at plan time).
FLAGS = ("cicero_has_user_roles",)


class AdapterError(Exception):
    """The Cicero tables cannot be adapted (a required table or column is missing, or a column
    has a type the adapter cannot read)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Catalog:
    """The Cicero tables and columns the adapter reads, as this database has them."""

    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> col -> type

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def type_of(self, table: str, column: str) -> str | None:
        return self.columns.get(table, {}).get(column)

    def as_json(self) -> dict[str, dict[str, str]]:
        return {t: dict(sorted(c.items())) for t, c in sorted(self.columns.items())}


def read_catalog(conn: psycopg.Connection[Any], tables: Sequence[str] = READ_TABLES) -> Catalog:
    """The relevant columns (name -> type) of the Cicero tables present in ``public``."""
    wanted = {f.table: {c.source or c.name for c in f.columns} | set(f.required)
              for f in FUNCTIONS}
    wanted.setdefault("roles", set()).update({"role_id", "role_name"})
    rows = conn.execute(
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                                     AND NOT a.attisdropped
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'f')
              AND c.relname = ANY(%s)""",
        (SCHEMA, list(tables)),
    ).fetchall()
    columns: dict[str, dict[str, str]] = {}
    for table, column, type_ in rows:
        cols = columns.setdefault(table, {})
        if column is not None and column in wanted.get(table, set()):
            cols[column] = type_
    return Catalog(columns)


def present_cicero_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Which of Cicero's tables exist in ``public``."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)
            ORDER BY 1""", (SCHEMA, list(CICERO_TABLES))).fetchall()
    return [r[0] for r in rows]


def problems(catalog: Catalog) -> list[str]:
    """What stops the adapter from being rendered, one line per missing or unreadable object."""
    found: list[str] = []
    for fn in FUNCTIONS:
        if not catalog.has(fn.table):
            if not fn.optional_table:
                found.append(f'table "{fn.table}" is missing')
            continue
        missing = [c for c in fn.required if not catalog.has(fn.table, c)]
        if missing and not fn.optional_table:
            found.extend(f'column "{fn.table}".{c} is missing' for c in missing)
        for col in fn.columns:
            if col.kind != "plain":
                type_ = catalog.type_of(fn.table, col.source or col.name)
                if type_ is not None and type_ not in (TIMESTAMPTZ, NAIVE):
                    found.append(f'column "{fn.table}".{col.source or col.name} has type '
                                 f"{type_}; the adapter reads timestamp or timestamptz")
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _instant(expr: str, type_: str, naive_time_zone: str) -> str:
    if type_ == TIMESTAMPTZ:
        return expr
    return f"({expr} AT TIME ZONE {_literal(naive_time_zone)})"


def _usable(fn: Function, catalog: Catalog) -> bool:
    return (catalog.has(fn.table) and all(catalog.has(fn.table, c) for c in fn.required)
            and all(catalog.has(t) for t in fn.join_tables)
            and (not fn.join_tables or catalog.has("roles", "role_id")))


def _body(fn: Function, catalog: Catalog, naive_time_zone: str) -> str:
    if not _usable(fn, catalog):
        cols = ", ".join(f"NULL::{c.type} AS {c.name}" for c in fn.columns)
        return f"SELECT {cols} WHERE false"
    exprs = []
    for col in fn.columns:
        source = col.source or col.name
        type_ = catalog.type_of(fn.table, source)
        if fn.join_tables and col.name == "role_name":
            exprs.append(f"r.role_name::text AS {col.name}")
            continue
        if type_ is None:
            exprs.append(f"{col.fallback}::{col.type} AS {col.name}")
        elif col.kind == "instant":
            exprs.append(f"{_instant('t.' + source, type_, naive_time_zone)} AS {col.name}")
        elif col.kind == "report_date":
            instant = _instant("t." + source, type_, naive_time_zone)
            exprs.append(f"({instant} AT TIME ZONE 'Asia/Jakarta')::date AS {col.name}")
        else:
            exprs.append(f"t.{source}::{col.type} AS {col.name}")
    table = sql.Identifier(fn.table).as_string(None)
    join = f"\n  {fn.join}" if fn.join else ""
    return ("SELECT " + ",\n       ".join(exprs)  # noqa: S608 (catalog names, quoted)
            + f"\n  FROM public.{table} t{join}")


def render(catalog: Catalog, naive_time_zone: str = DEFAULT_NAIVE_TIME_ZONE) -> str:
    """The SQL creating (or replacing) every adapter function for ``catalog``."""
    found = problems(catalog)
    if found:
        raise AdapterError(found)
    parts = [f"-- Rendered by views/adapter.py for naive time zone {naive_time_zone}."]
    for fn in FUNCTIONS:
        returns = ", ".join(f"{c.name} {c.type}" for c in fn.columns)
        parts.append(
            f"CREATE OR REPLACE FUNCTION {fn.name}()\n"
            f"RETURNS TABLE ({returns})\n"
            f"LANGUAGE sql STABLE PARALLEL SAFE\n"
            f"AS $adapter$\n{_body(fn, catalog, naive_time_zone)}\n$adapter$;\n"
            f"COMMENT ON FUNCTION {fn.name}() IS {_literal('Cicero adapter: ' + fn.doc)};"
        )
    has_roles = "true" if _usable(FUNCTIONS[2], catalog) else "false"
    parts.append(
        "CREATE OR REPLACE FUNCTION cicero_has_user_roles() RETURNS boolean\n"
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $adapter$ SELECT {has_roles} $adapter$;\n"
        "COMMENT ON FUNCTION cicero_has_user_roles() IS "
        "'Cicero adapter: whether user_roles/roles exist (the org recap then counts operators).';"
    )
    return "\n\n".join(parts) + "\n"


def fingerprint(catalog: Catalog, naive_time_zone: str) -> str:
    payload = json.dumps({"catalog": catalog.as_json(), "naive_time_zone": naive_time_zone},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class State:
    """What the installed adapter was rendered from (the ``cicero_adapter`` row)."""

    naive_time_zone: str
    catalog: Catalog
    fingerprint: str


def installed(conn: psycopg.Connection[Any]) -> State | None:
    """The installed adapter's record, or None (not installed, or no cicero_adapter table)."""
    if conn.execute("SELECT to_regclass('public.cicero_adapter')").fetchone() == (None,):
        return None
    row = conn.execute(
        "SELECT naive_time_zone, catalog, fingerprint FROM cicero_adapter").fetchone()
    if row is None:
        return None
    return State(row[0], Catalog(row[1]), row[2])


def configured_naive_time_zone(env: Mapping[str, str] | None = None) -> str | None:
    """``CICERO_NAIVE_TIME_ZONE`` from the environment, or None when unset or empty."""
    value = (os.environ if env is None else env).get(NAIVE_TIME_ZONE_VARIABLE, "").strip()
    return value or None


def validate_time_zone(conn: psycopg.Connection[Any], zone: str) -> str:
    """The zone's canonical name as PostgreSQL knows it, or AdapterError."""
    row = conn.execute("SELECT name FROM pg_timezone_names WHERE lower(name) = lower(%s) "
                       "ORDER BY name = %s DESC LIMIT 1", (zone, zone)).fetchone()
    if row is None:
        raise AdapterError([f"{NAIVE_TIME_ZONE_VARIABLE}={zone!r} is not a time zone PostgreSQL "
                            "knows (use UTC or Asia/Jakarta)"])
    return str(row[0])


def refresh(conn: psycopg.Connection[Any], naive_time_zone: str | None = None) -> State:
    """Render and install the adapter for the catalog now, in the caller's transaction.

    ``naive_time_zone`` None keeps the zone recorded by the previous render (UTC the first
    time), so re-running a migration without the variable never flips it.
    """
    previous = installed(conn)
    zone = naive_time_zone or (previous.naive_time_zone if previous else DEFAULT_NAIVE_TIME_ZONE)
    zone = validate_time_zone(conn, zone)
    catalog = read_catalog(conn)
    conn.execute(render(catalog, zone).encode())
    state = State(zone, catalog, fingerprint(catalog, zone))
    conn.execute(
        """INSERT INTO cicero_adapter (naive_time_zone, catalog, fingerprint)
           VALUES (%s, %s, %s)
           ON CONFLICT (singleton) DO UPDATE
              SET naive_time_zone = EXCLUDED.naive_time_zone, catalog = EXCLUDED.catalog,
                  fingerprint = EXCLUDED.fingerprint, rendered_at = now()""",
        (zone, json.dumps(catalog.as_json()), state.fingerprint))
    return state


def differences(old: Catalog, new: Catalog) -> list[str]:
    """What changed in Cicero's tables between two catalogs, in words."""
    out: list[str] = []
    for table in sorted(set(old.columns) | set(new.columns)):
        if table not in new.columns:
            out.append(f'table "{table}" is gone')
            continue
        if table not in old.columns:
            out.append(f'table "{table}" appeared')
            continue
        before, after = old.columns[table], new.columns[table]
        for col in sorted(set(before) | set(after)):
            if col not in after:
                out.append(f'column "{table}".{col} is gone')
            elif col not in before:
                out.append(f'column "{table}".{col} appeared ({after[col]})')
            elif before[col] != after[col]:
                out.append(f'column "{table}".{col} changed type: {before[col]} -> {after[col]}')
    return out


def check(conn: psycopg.Connection[Any], naive_time_zone: str | None = None) -> list[str]:
    """Why the installed adapter does not match this database (empty when it does).

    ``naive_time_zone`` is the configured zone (None: whatever was rendered is accepted).
    """
    state = installed(conn)
    if state is None:
        return ["the Cicero adapter is not installed"]
    found = differences(state.catalog, read_catalog(conn))
    if naive_time_zone is not None:
        try:
            zone = validate_time_zone(conn, naive_time_zone)
        except AdapterError as exc:
            return [*found, *exc.problems]
        if zone != state.naive_time_zone:
            found.append(f"{NAIVE_TIME_ZONE_VARIABLE} is {zone} but the adapter was rendered "
                         f"for {state.naive_time_zone}")
    return found
