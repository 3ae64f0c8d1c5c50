"""``python -m outbox doctor``: what this database is, as the migrations and the reports see it.

Read-only. Works on a database that is not migrated yet (that is when it helps most): it says
which Cicero variant it finds (column types, optional tables and columns), whether the
migration would accept it, the adapter's state, the naive-time setting, the revision, and
warns when the data contradicts the naive-time setting:

* recent naive ``created_at`` values that, read in the configured zone, lie in the future
  (a server writing Jakarta wall time read as UTC puts them ~7 h ahead);
* naive ``created_at`` values earlier than the row's ``original_created_at`` (a post is never
  stored before it was published; ~7 h earlier means Jakarta was configured for UTC data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from views import adapter

#: How many of the newest rows the data checks look at (a bounded top-N, no full sort).
SAMPLE = 1000
FUTURE_TOLERANCE_MINUTES = 10
EARLIER_TOLERANCE_MINUTES = 60


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, label: str, value: object) -> None:
        self.lines.append(f"{label + ':':<34} {value}")

    def text(self) -> str:
        out = list(self.lines)
        out += [f"WARNING: {w}" for w in self.warnings] or ["no warnings"]
        return "\n".join(out)


def _one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _revision(conn: psycopg.Connection[Any]) -> str | None:
    if _one(conn, "SELECT to_regclass('public.alembic_version')") is None:
        return None
    value = _one(conn, "SELECT version_num FROM alembic_version")
    return None if value is None else str(value)


def diagnose(conn: psycopg.Connection[Any], naive_time_zone: str | None) -> Report:
    """Everything ``doctor`` prints, computed on ``conn`` (read-only)."""
    from outbox.migrate import head_revision

    report = Report()
    report.add("server", _one(conn, "SHOW server_version"))
    report.add("server TimeZone", f"{_one(conn, 'SHOW TimeZone')} (no report depends on it)")
    revision, head = _revision(conn), head_revision()
    report.add("schema revision", f"{revision or 'none (not migrated)'} (this code: {head})")
    if revision != head:
        report.warnings.append("the schema is not at this code's revision: run "
                               "`python -m outbox migrate`")

    present = adapter.present_cicero_tables(conn)
    bootstrapped: set[str] = set()
    if _one(conn, "SELECT to_regclass('public.cicero_bootstrap_table')") is not None:
        bootstrapped = {r[0] for r in conn.execute(
            "SELECT table_name FROM cicero_bootstrap_table")}
    report.add("Cicero tables", ", ".join(
        t + (" (created by this project)" if t in bootstrapped else "") for t in present)
        or "none (an empty database: the migration creates them for development)")
    catalog = adapter.read_catalog(conn)
    for table, column in (("insta_post", "created_at"), ("insta_post", "original_created_at"),
                          ("insta_post", "source_type"), ("insta_post", "like_count"),
                          ("tiktok_post", "created_at"), ("tiktok_post", "original_created_at"),
                          ("tiktok_post", "source_type")):
        report.add(f"  {table}.{column}", catalog.type_of(table, column) or "absent")
    for table in ("insta_post_clients", "user_roles", "insta_post_roles", "tiktok_post_roles",
                  "link_report"):
        report.add(f"  {table}", "present" if catalog.has(table) or table in present
                   else "absent")
    if present:
        for problem in adapter.problems(catalog):
            report.warnings.append(f"the reports cannot read this database: {problem}")

    state = adapter.installed(conn)
    configured = naive_time_zone
    report.add(adapter.NAIVE_TIME_ZONE_VARIABLE,
               configured or "unset (keeps the rendered zone; UTC at first render)")
    if state is None:
        report.add("adapter", "not installed (`python -m outbox migrate` renders it)")
        zone = configured or adapter.DEFAULT_NAIVE_TIME_ZONE
    else:
        rendered_at = _one(conn, "SELECT rendered_at FROM cicero_adapter")
        report.add("adapter", f"rendered {rendered_at:%Y-%m-%d %H:%M %Z}, naive timestamps "
                              f"read as {state.naive_time_zone}")
        mismatch = adapter.check(conn, configured)
        report.add("adapter matches the catalog", "yes" if not mismatch else "NO")
        report.warnings.extend(f"adapter out of date: {m} (run `python -m outbox migrate`)"
                               for m in mismatch)
        zone = state.naive_time_zone
    for table in ("wa_outbox_skeleton", "complaint_queue_skeleton"):
        if _one(conn, "SELECT to_regclass(%s)", (f"public.{table}",)) is not None:
            rows = _one(conn, f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed name)
            report.add(f"set aside: {table}", f"{rows} row(s) (the refactor skeleton's)")
    report.warnings.extend(_data_warnings(conn, catalog, zone))
    return report


def _data_warnings(conn: psycopg.Connection[Any], catalog: adapter.Catalog,
                   zone: str) -> list[str]:
    """Evidence in the newest rows that naive post times are not in ``zone``'s wall clock."""
    found: list[str] = []
    for table in ("insta_post", "tiktok_post"):
        if catalog.type_of(table, "created_at") != adapter.NAIVE:
            continue
        with_original = catalog.type_of(table, "original_created_at") is not None
        original = "original_created_at" if with_original else "NULL::timestamptz"
        row = conn.execute(
            f"""SELECT count(*) FILTER (WHERE at > now() + make_interval(mins => %s)),
                       round(extract(epoch FROM max(at) - now()) / 3600.0, 1),
                       count(*) FILTER (WHERE at < orig - make_interval(mins => %s)),
                       round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP
                             (ORDER BY extract(epoch FROM orig - at)) * interval '1 second')
                             / 3600.0, 1),
                       count(orig), count(*)
                  FROM (SELECT created_at AT TIME ZONE %s AS at, {original} AS orig
                          FROM {table} ORDER BY created_at DESC LIMIT %s) s""",  # noqa: S608
            (FUTURE_TOLERANCE_MINUTES, EARLIER_TOLERANCE_MINUTES, zone, SAMPLE)).fetchone()
        assert row is not None
        future, ahead_h, earlier, median_behind_h, with_orig, total = row
        if future:
            found.append(
                f"{table}: {future} of the newest {total} created_at values lie in the future "
                f"(up to {ahead_h} h) when read as {zone} wall time: the server probably writes "
                "another zone's wall clock into this naive column (Asia/Jakarta puts them 7 h "
                f"ahead); check and set {adapter.NAIVE_TIME_ZONE_VARIABLE}, then migrate")
        if earlier and with_orig and earlier * 10 >= with_orig:
            found.append(
                f"{table}: {earlier} of {with_orig} recent created_at values, read as {zone} "
                f"wall time, are earlier than their original_created_at (median {median_behind_h}"
                " h): a post cannot be stored before it was published; check "
                f"{adapter.NAIVE_TIME_ZONE_VARIABLE}")
    return found
