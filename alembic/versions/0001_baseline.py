"""Baseline: the outbox, the Cicero adapter and the report views, on any Cicero database.

Squashes the pre-release revisions 0001-0006 (never applied to a production database). The SQL
is a frozen copy under ``sql/0001_baseline/`` (this revision means the same thing forever);
the current state lives in ``outbox/schema/*.sql`` and ``views/*.sql``, and a test compares a
migrated database with them. The whole upgrade runs in the one transaction ``outbox.migrate``
opens: it succeeds entirely or leaves the database exactly as it was.

What it does, in order:

1. Looks before it touches anything, and refuses with a message naming the object when:
   the database holds some of Cicero's tables but lacks one the reports need (it never creates
   Cicero tables next to existing ones); or an object with one of our names exists that is not
   the refactor skeleton's ``wa_outbox`` / ``complaint_queue``.
2. Sets the skeleton's tables aside: ``wa_outbox`` -> ``wa_outbox_skeleton`` and
   ``complaint_queue`` -> ``complaint_queue_skeleton`` (with their sequences and indexes), so
   every row they hold stays where it is.
3. On an EMPTY database only (none of Cicero's tables), creates the Cicero tables for
   development (``cicero_bootstrap.sql``), listed in ``cicero_bootstrap_table``.
4. Creates our tables, functions and triggers, renders the Cicero adapter for this database's
   catalog (``views.adapter``: the one part rendered rather than frozen; its signatures are
   fixed), then the report views in layer order.
5. Imports the skeleton's pending rows as pending messages / complaints (``dedupe_key``
   ``skeleton:wa_outbox:<old id>``); a row the outbox refuses stays in the skeleton table and
   is listed in the log.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from alembic import op

from views import adapter

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("outbox.migrate")

SQL = Path(__file__).resolve().parent / "sql" / "0001_baseline"
SCHEMA_FILES = ("10_recipients.sql", "20_outbox.sql", "30_inbox.sql", "40_complaints.sql",
                "50_producer_run.sql", "60_cicero_adapter.sql")

#: Tables of ours. A database may hold the refactor skeleton's wa_outbox / complaint_queue
#: (set aside and imported); any other table of these names stops the upgrade.
OUR_TABLES = ("wa_message_type", "wa_session", "wa_outbox", "wa_inbox", "complaint_queue",
              "producer_run", "cicero_bootstrap_table", "cicero_adapter")
SKELETON_COLUMNS = {
    "wa_outbox": ({"recipient", "content"},
                  {"id", "recipient", "content", "type", "status", "created_at", "sent_at"}),
    "complaint_queue": ({"complainant", "response_template"},
                        {"id", "complainant", "response_template", "status", "created_at",
                         "responded_at"}),
}
SKELETON_SUFFIX = "_skeleton"


class MigrationRefused(Exception):
    """The database is not one this migration can upgrade; nothing was changed."""


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def _columns(conn: Any, table: str) -> set[str] | None:
    rows = conn.execute(
        """SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped""",
        (f'public."{table}"',)).fetchall()
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                          (f'public."{table}"',)).fetchone()[0]
    return {r[0] for r in rows} if exists else None


def _preflight(conn: Any) -> tuple[list[str], bool]:
    """(skeleton tables to set aside, whether to bootstrap Cicero), or MigrationRefused."""
    problems: list[str] = []
    cicero = adapter.present_cicero_tables(conn)
    if cicero:
        missing = adapter.problems(adapter.read_catalog(conn))
        if missing:
            problems.append(
                "this database holds Cicero tables (" + ", ".join(cicero) + ") but the reports "
                "cannot read them: " + "; ".join(missing) + ". Cicero's tables are never "
                "created or altered next to existing ones: check that DATABASE_URL names the "
                "Cicero database, or create the missing table with the Cicero service's own "
                "schema")
    for kind, name in _foreign_objects(conn):
        problems.append(f"a {kind} named {name} already exists but was not created by this "
                        "project's migrations: rename or drop it (it would be replaced or "
                        "would block the upgrade), then migrate again")
    skeleton: list[str] = []
    for table in OUR_TABLES:
        cols = _columns(conn, table)
        if cols is None:
            continue
        shape = SKELETON_COLUMNS.get(table)
        if shape is not None and shape[0] <= cols <= shape[1]:
            if _columns(conn, table + SKELETON_SUFFIX) is not None:
                problems.append(f'both "{table}" and "{table}{SKELETON_SUFFIX}" exist: the '
                                f'skeleton table cannot be set aside; rename one of them')
            else:
                skeleton.append(table)
            continue
        problems.append(
            f'a table "{table}" already exists but was not created by this project\'s '
            f"migrations (columns: {', '.join(sorted(cols))}); it is not the refactor "
            "skeleton's either. Rename or drop it (after saving its rows), then migrate again")
    if problems:
        raise MigrationRefused("\n".join(problems))
    return skeleton, not cicero


def _owned(conn: Any, table: str) -> list[tuple[str, str]]:
    """The sequences and indexes that belong to ``table`` (they move with a rename)."""
    rows: list[tuple[str, str]] = conn.execute(
        """SELECT c.relname, c.relkind FROM pg_class c
             JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i')
            WHERE d.refobjid = to_regclass(%s) AND c.relkind = 'S'
           UNION
           SELECT i.relname, i.relkind FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = to_regclass(%s)""",
        (f'public."{table}"', f'public."{table}"')).fetchall()
    return rows


def _our_routines_and_views() -> list[tuple[str, str]]:
    """(kind, name) of every function and view this revision creates."""
    texts = [(SQL / name).read_text(encoding="utf-8") for name in SCHEMA_FILES]
    texts += [path.read_text(encoding="utf-8") for path in _views()]
    found = [("function", f.name) for f in adapter.FUNCTIONS]
    found += [("function", flag) for flag in adapter.FLAGS]
    for text in texts:
        found += [("function", n) for n in _created(text, "FUNCTION")]
        found += [("view", n) for n in _created(text, "VIEW")]
    return found


def _foreign_objects(conn: Any) -> list[tuple[str, str]]:
    """Functions and views with our names that exist before the baseline ran."""
    wanted = _our_routines_and_views()
    rows = conn.execute(
        """SELECT 'function', p.proname FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proname = ANY(%(functions)s)
           UNION
           SELECT 'view', c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relname = ANY(%(views)s)
           ORDER BY 1, 2""",
        {"functions": [n for k, n in wanted if k == "function"],
         "views": [n for k, n in wanted if k == "view"]}).fetchall()
    return [(kind, name) for kind, name in rows]


def _rename(conn: Any, old: str, new: str) -> None:
    """Rename a table and the sequences/indexes named after it (``old_id_seq`` -> ``new_id_seq``)."""
    owned = _owned(conn, old)
    conn.execute(f'ALTER TABLE public."{old}" RENAME TO "{new}"')
    for name, kind in owned:
        if name.startswith(old):
            what = "SEQUENCE" if kind == "S" else "INDEX"
            conn.execute(f'ALTER {what} public."{name}" RENAME TO "{new + name[len(old):]}"')


def _set_aside(conn: Any, table: str) -> int:
    """Rename the skeleton table and its sequences/indexes out of the way; its row count."""
    new = table + SKELETON_SUFFIX
    _rename(conn, table, new)
    rows: int = conn.execute(f'SELECT count(*) FROM public."{new}"').fetchone()[0]
    log.info('set aside the refactor skeleton\'s "%s" as "%s" (%d row(s) kept there)',
             table, new, rows)
    return rows


def _bootstrap_cicero(conn: Any) -> None:
    text = (SQL / "cicero_bootstrap.sql").read_text(encoding="utf-8")
    conn.execute(text.encode())
    created = re.findall(r'^CREATE TABLE ("?\w+"?)', text, flags=re.MULTILINE)
    for position, name in enumerate(created):
        conn.execute("INSERT INTO cicero_bootstrap_table (table_name, position) VALUES (%s, %s)",
                     (name.strip('"'), position))
    log.info("empty database: created the Cicero tables for development (%s)",
             ", ".join(n.strip('"') for n in created))


def _views() -> list[Path]:
    def layer(path: Path) -> tuple[int, str]:
        match = re.match(r"-- layer: (\d+)", path.read_text(encoding="utf-8"))
        if match is None:
            raise RuntimeError(f"{path.name} has no '-- layer: N' header")
        return int(match.group(1)), path.stem

    return sorted((SQL / "views").glob("*.sql"), key=layer)


def _import_skeleton_outbox(conn: Any, zone: str) -> None:
    # The skeleton's pending rows (status 'pending' or NULL), with their type as ours: a type
    # we lack but could hold is added to wa_message_type, any other becomes 'text'.
    pending = """SELECT s.id, s.recipient, s.content, s.created_at,
                        CASE WHEN s.type ~ '^[a-z][a-z0-9_]{0,63}$' THEN s.type
                             ELSE 'text' END AS type
                   FROM wa_outbox_skeleton s
                  WHERE coalesce(lower(btrim(s.status)), 'pending') = 'pending'"""
    conn.execute("INSERT INTO wa_message_type (type, description) "
                 "SELECT DISTINCT p.type, 'Imported from the refactor skeleton''s wa_outbox' "
                 "FROM (" + pending + ") p ON CONFLICT (type) DO NOTHING")
    rows = conn.execute(
        "SELECT p.id, p.recipient, p.content, p.type, p.created_at AT TIME ZONE %s, c.problem "
        "FROM (" + pending + ") p "
        "CROSS JOIN LATERAL wa_check_message(p.recipient, p.content, p.type) c ORDER BY p.id",
        (zone,)).fetchall()
    good = [r for r in rows if r[5] is None]
    bad = [r for r in rows if r[5] is not None]
    for old_id, recipient, content, type_, created_at, _ in good:
        conn.execute(
            """INSERT INTO wa_outbox (recipient, content, type, created_at, dedupe_key)
               VALUES (%s, %s, %s, coalesce(%s, now()), %s)""",
            (recipient, content, type_, created_at, f"skeleton:wa_outbox:{old_id}"))
    log.info("imported %d pending message(s) of the skeleton's wa_outbox as pending messages "
             "(dedupe_key skeleton:wa_outbox:<old id>)", len(good))
    for old_id, *_rest, problem in bad:
        log.warning("wa_outbox_skeleton id %s not imported (it stays there): %s", old_id, problem)


def _import_skeleton_complaints(conn: Any, zone: str) -> None:
    done = conn.execute(
        """INSERT INTO complaint_queue (complainant, response_template, created_at)
           SELECT s.complainant, s.response_template,
                  coalesce(s.created_at AT TIME ZONE %s, now())
             FROM complaint_queue_skeleton s
            WHERE coalesce(lower(btrim(s.status)), 'pending') = 'pending'
            ORDER BY s.id""", (zone,))
    log.info("imported %d pending complaint(s) of the skeleton's complaint_queue",
             done.rowcount)


def upgrade() -> None:
    conn = _conn()
    skeleton, bootstrap = _preflight(conn)
    for table in skeleton:
        _set_aside(conn, table)
    for name in SCHEMA_FILES:
        _run_file(conn, SQL / name)
    if bootstrap:
        _bootstrap_cicero(conn)
    # Rendered again by outbox.migrate at the end of every upgrade (this one reports it).
    state = adapter.refresh(conn, adapter.configured_naive_time_zone())
    for path in _views():
        _run_file(conn, path)
    if "wa_outbox" in skeleton:
        _import_skeleton_outbox(conn, state.naive_time_zone)
    if "complaint_queue" in skeleton:
        _import_skeleton_complaints(conn, state.naive_time_zone)


def _run_file(conn: Any, path: Path) -> None:
    """Execute one frozen SQL file; a failure names the file (the server's message often
    names no object, e.g. 'cannot change return type of existing function')."""
    try:
        conn.execute(path.read_text(encoding="utf-8").encode())
    except Exception as exc:
        diag = getattr(exc, "diag", None)
        what = (diag.message_primary if diag is not None else None) or str(exc)
        hint = f" ({diag.message_hint})" if diag is not None and diag.message_hint else ""
        raise MigrationRefused(f"{path.relative_to(SQL.parent.parent)}: {what}{hint}") from exc


def _created(text: str, kind: str) -> list[str]:
    pattern = rf"^CREATE (?:OR REPLACE )?{kind} (\w+)"
    return re.findall(pattern, text, flags=re.MULTILINE)


def downgrade() -> None:
    conn = _conn()
    for path in reversed(_views()):
        text = path.read_text(encoding="utf-8")
        for name in reversed(_created(text, "VIEW")):
            conn.execute(f"DROP VIEW IF EXISTS {name}")
        for name in reversed(_created(text, "FUNCTION")):
            conn.execute(f"DROP FUNCTION IF EXISTS {name}")
    for fn in adapter.FUNCTIONS:
        conn.execute(f"DROP FUNCTION IF EXISTS {fn.name}()")
    for flag in adapter.FLAGS:
        conn.execute(f"DROP FUNCTION IF EXISTS {flag}()")
    created = [r[0] for r in conn.execute(
        "SELECT table_name FROM cicero_bootstrap_table ORDER BY position DESC").fetchall()]
    for name in reversed(SCHEMA_FILES):
        text = (SQL / name).read_text(encoding="utf-8")
        for view in reversed(_created(text, "VIEW")):
            conn.execute(f"DROP VIEW IF EXISTS {view}")
        for table in reversed(_created(text, "TABLE")):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        for function in reversed(_created(text, "FUNCTION")):
            conn.execute(f"DROP FUNCTION IF EXISTS {function}")
    for name in created:
        conn.execute(f'DROP TABLE IF EXISTS public."{name}"')
    for table in SKELETON_COLUMNS:
        if _columns(conn, table + SKELETON_SUFFIX) is not None:
            _rename(conn, table + SKELETON_SUFFIX, table)  # undo _set_aside


