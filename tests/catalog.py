"""A comparable snapshot of a PostgreSQL schema, read from pg_catalog.

``snapshot(conn)`` returns ``{kind: {name: definition}}`` for the objects of one schema: the names
are stable across databases (no OIDs) and the definitions are the server's own deparsed text
(``pg_get_indexdef``, ``pg_get_functiondef``, ...), read under pinned session settings
(search_path, TimeZone, DateStyle, ...) so that they do not depend on the caller's session.
``diff(before, after)`` lists the differences in words; ``data_fingerprint`` hashes table
contents, for "the data is exactly as before".

Kinds (every kind is always present, possibly empty):

* ``extension``: installed extensions (database-wide), ``SCHEMA s VERSION v``;
* ``type``: enums, domains, ranges and standalone composite types of the schema;
* ``sequence``: type, start, increment, bounds, cache, cycle and OWNED BY (not the current value);
* ``table`` (relkind r/p): one line per column ``name type [COLLATE c] [NOT NULL] [DEFAULT e]
  [GENERATED ...]``, sorted by column name (so that a table built by ``ADD COLUMN`` equals one
  created in one go), then UNLOGGED / PARTITION BY / PARTITION OF / INHERITS / WITH (options) /
  ROW LEVEL SECURITY lines;
* ``constraint`` (``table.name``), ``index``, ``trigger`` (``table.name``, internal ones left
  out), ``rule`` and ``policy`` (``table.name``);
* ``function``: functions, procedures and aggregates of the schema, keyed by their signature
  ``name(argtypes)``, minus those belonging to an extension;
* ``view`` and ``matview``: the columns in order, then ``AS`` and ``pg_get_viewdef(oid, true)``;
* ``table comments`` (any relation: tables, views, indexes, sequences), ``column comments``
  (``table.column``), ``function comments`` and ``type comments``.

Objects that belong to an extension (pg_depend deptype 'e') are left out of every kind but
``extension``. Privileges, owners and statistics are not compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from difflib import SequenceMatcher
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

Snapshot = dict[str, dict[str, str]]

KINDS: tuple[str, ...] = (
    "extension",
    "type",
    "sequence",
    "table",
    "constraint",
    "index",
    "trigger",
    "rule",
    "policy",
    "function",
    "view",
    "matview",
    "table comments",
    "column comments",
    "function comments",
    "type comments",
)

# Settings that change how pg_get_* and ::text print names and constants.
_PINNED: dict[str, str] = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
    "lc_monetary": "C",
    "standard_conforming_strings": "on",
    "quote_all_identifiers": "off",
}


def _not_extension_member(catalog: str, oid_expr: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
        f" WHERE d.classid = 'pg_catalog.{catalog}'::regclass AND d.objid = {oid_expr}"
        " AND d.deptype = 'e')"
    )


_COLUMNS = f"""
SELECT c.relname, a.attname, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated, a.attidentity,
       CASE WHEN a.attcollation <> t.typcollation THEN
            CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
                 ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
       END
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
  LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
 WHERE c.relnamespace = %(ns)s AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
   AND {_not_extension_member("pg_class", "c.oid")}
 ORDER BY c.relname, a.attnum
"""

_TABLES = f"""
SELECT c.relname, c.relpersistence, pg_get_partkeydef(c.oid), c.relispartition,
       pg_get_expr(c.relpartbound, c.oid),
       (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
          FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid),
       array_to_string(ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o), ', '),
       c.relrowsecurity, c.relforcerowsecurity
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind IN ('r', 'p')
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_VIEWS = f"""
SELECT c.relname, c.relkind, pg_get_viewdef(c.oid, true),
       array_to_string(ARRAY(SELECT o FROM unnest(c.reloptions) o ORDER BY o), ', ')
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind IN ('v', 'm')
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_CONSTRAINTS = f"""
SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = %(ns)s AND {_not_extension_member("pg_class", "c.oid")}
"""

_INDEXES = f"""
SELECT i.relname, c.relname, pg_get_indexdef(i.oid), x.indisvalid
  FROM pg_catalog.pg_index x
  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
 WHERE i.relnamespace = %(ns)s AND {_not_extension_member("pg_class", "c.oid")}
"""

_TRIGGERS = f"""
SELECT c.relname, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled
  FROM pg_catalog.pg_trigger tg
  JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = %(ns)s AND NOT tg.tgisinternal
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_RULES = f"""
SELECT c.relname, r.rulename, pg_get_ruledef(r.oid), r.ev_enabled
  FROM pg_catalog.pg_rewrite r
  JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
 WHERE c.relnamespace = %(ns)s AND r.rulename <> '_RETURN'
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_POLICIES = """
SELECT tablename, policyname,
       concat_ws(' ', 'AS ' || permissive, 'FOR ' || cmd,
                 'TO ' || array_to_string(ARRAY(SELECT r FROM unnest(roles) r ORDER BY r), ', '),
                 'USING (' || qual || ')', 'WITH CHECK (' || with_check || ')')
  FROM pg_catalog.pg_policies
 WHERE schemaname = %(schema)s
"""

_AGGREGATE = """
'AGGREGATE ' || p.oid::regprocedure::text || ' (' || concat_ws(', ',
    'SFUNC = ' || a.aggtransfn::text,
    'STYPE = ' || format_type(a.aggtranstype, NULL),
    CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::text END,
    CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::text END,
    CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END,
    CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = ' || a.aggsortop::regoperator::text END,
    CASE WHEN a.aggkind <> 'n' THEN 'KIND = ' || a.aggkind::text END) || ')'
"""

_FUNCTIONS = f"""
SELECT p.oid::regprocedure::text, p.proname,
       CASE WHEN p.prokind = 'a' THEN {_AGGREGATE} ELSE pg_get_functiondef(p.oid) END,
       obj_description(p.oid, 'pg_proc')
  FROM pg_catalog.pg_proc p
  LEFT JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
 WHERE p.pronamespace = %(ns)s AND {_not_extension_member("pg_proc", "p.oid")}
"""

_SEQUENCES = f"""
SELECT c.relname,
       concat_ws(' ', 'AS ' || format_type(s.seqtypid, NULL), 'START ' || s.seqstart,
                 'INCREMENT ' || s.seqincrement, 'MINVALUE ' || s.seqmin,
                 'MAXVALUE ' || s.seqmax, 'CACHE ' || s.seqcache,
                 CASE WHEN s.seqcycle THEN 'CYCLE' END,
                 'OWNED BY ' || o.owner),
       o.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
  LEFT JOIN LATERAL (
       SELECT t.oid::regclass::text || '.' || quote_ident(att.attname) AS owner, t.relname
         FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
         JOIN pg_catalog.pg_attribute att
           ON att.attrelid = d.refobjid AND att.attnum = d.refobjsubid
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
        LIMIT 1) o ON true
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'S'
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_TYPES = f"""
SELECT t.typname, t.typtype, c.relname,
       CASE t.typtype
         WHEN 'e' THEN 'ENUM (' || (SELECT string_agg(quote_literal(e.enumlabel), ', '
                                                        ORDER BY e.enumsortorder)
                                      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || ')'
         WHEN 'd' THEN concat_ws(' ', 'DOMAIN AS ' || format_type(t.typbasetype, t.typtypmod),
              CASE WHEN t.typcollation <> bt.typcollation
                   THEN 'COLLATE ' || quote_ident(co.collname) END,
              CASE WHEN t.typnotnull THEN 'NOT NULL' END,
              'DEFAULT ' || coalesce(pg_get_expr(t.typdefaultbin, 0), t.typdefault),
              (SELECT string_agg('CONSTRAINT ' || quote_ident(con.conname) || ' '
                                 || pg_get_constraintdef(con.oid), ' ' ORDER BY con.conname)
                 FROM pg_catalog.pg_constraint con WHERE con.contypid = t.oid))
         WHEN 'r' THEN (SELECT 'RANGE (' || concat_ws(', ',
                                   'SUBTYPE = ' || format_type(r.rngsubtype, NULL),
                                   CASE WHEN r.rngsubdiff <> 0
                                        THEN 'SUBTYPE_DIFF = ' || r.rngsubdiff::text END) || ')'
                          FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
         ELSE 'COMPOSITE'
       END,
       obj_description(t.oid, 'pg_type')
  FROM pg_catalog.pg_type t
  LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
  LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
  LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
 WHERE t.typnamespace = %(ns)s
   AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
   AND {_not_extension_member("pg_type", "t.oid")}
"""

_RELATION_COMMENTS = f"""
SELECT c.relname, a.attname, d.description,
       CASE WHEN c.relkind = 'i' THEN (SELECT t.relname FROM pg_catalog.pg_index x
                                         JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
                                        WHERE x.indexrelid = c.oid) END
  FROM pg_catalog.pg_description d
  JOIN pg_catalog.pg_class c ON c.oid = d.objoid
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
 WHERE d.classoid = 'pg_catalog.pg_class'::regclass AND c.relnamespace = %(ns)s
   AND {_not_extension_member("pg_class", "c.oid")}
"""

_EXTENSIONS = """
SELECT e.extname, 'SCHEMA ' || quote_ident(n.nspname) || ' VERSION ' || e.extversion
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
"""


@contextmanager
def _pinned_session(conn: psycopg.Connection[Any], schema: str | None) -> Iterator[None]:
    """Pin the settings that change deparsed text; put the caller's values back afterwards.

    A connection that was idle outside autocommit is rolled back to idle at the end (which also
    undoes the settings), so the caller does not find a transaction it did not open.
    """
    status = conn.info.transaction_status
    wanted = dict(_PINNED)
    if schema is not None:
        wanted["search_path"] = sql.Identifier(schema).as_string(conn)
    saved: dict[str, str] = {}
    try:
        for name, value in wanted.items():
            row = conn.execute(
                "SELECT current_setting(%s), set_config(%s, %s, false)", (name, name, value)
            ).fetchone()
            assert row is not None
            saved[name] = row[0]
        yield
    finally:
        if not conn.autocommit and status == TransactionStatus.IDLE:
            conn.rollback()
        elif conn.info.transaction_status != TransactionStatus.INERROR:
            for name, value in saved.items():
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))


def _column_line(
    name: str, type_: str, notnull: bool, expr: str | None, generated: str, identity: str,
    collation: str | None,
) -> str:
    parts = [name, type_]
    if collation:
        parts.append(f"COLLATE {collation}")
    if notnull:
        parts.append("NOT NULL")
    if expr is not None:
        if generated:
            kind = {"s": "STORED", "v": "VIRTUAL"}.get(generated, generated)
            parts.append(f"GENERATED ALWAYS AS ({expr}) {kind}")
        else:
            parts.append(f"DEFAULT {expr}")
    if identity == "a":
        parts.append("GENERATED ALWAYS AS IDENTITY")
    elif identity == "d":
        parts.append("GENERATED BY DEFAULT AS IDENTITY")
    return " ".join(parts)


def snapshot(
    conn: psycopg.Connection[Any],
    schema: str = "public",
    *,
    exclude: Callable[[str], bool] | None = None,
) -> Snapshot:
    """``{kind: {name: definition}}`` for the objects of ``schema`` (see the module docstring).

    ``exclude(name)`` is asked about each object's own name and, for objects that hang off a
    table (columns, constraints, indexes, triggers, rules, policies, owned sequences, comments),
    about the table's name too; a true answer leaves the object out.
    """

    def skip(*names: str | None) -> bool:
        return exclude is not None and any(n is not None and exclude(n) for n in names)

    result: Snapshot = {kind: {} for kind in KINDS}
    with _pinned_session(conn, schema):
        found = conn.execute(
            "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
        for name, definition in conn.execute(_EXTENSIONS):
            if not skip(name):
                result["extension"][name] = definition
        if found is not None:
            _read_schema(conn, {"ns": found[0], "schema": schema}, result, skip)
    return {kind: dict(sorted(objects.items())) for kind, objects in result.items()}


def _read_schema(
    conn: psycopg.Connection[Any], params: dict[str, Any], result: Snapshot,
    skip: Callable[..., bool],
) -> None:
    columns: dict[str, list[tuple[str, str]]] = defaultdict(list)  # relation -> (name, line)
    for relname, attname, quoted, type_, notnull, expr, generated, identity, coll in (
        conn.execute(_COLUMNS, params)
    ):
        line = _column_line(quoted, type_, notnull, expr, generated, identity, coll)
        columns[relname].append((attname, line))

    for (relname, persistence, partkey, ispartition, bound, parents, options, rls,
         force_rls) in conn.execute(_TABLES, params):
        if skip(relname):
            continue
        lines = [line for _, line in sorted(columns[relname])]
        if persistence == "u":
            lines.append("UNLOGGED")
        if partkey:
            lines.append(f"PARTITION BY {partkey}")
        if ispartition:
            lines.append(f"PARTITION OF {parents} {bound}")
        elif parents:
            lines.append(f"INHERITS ({parents})")
        if options:
            lines.append(f"WITH ({options})")
        if rls:
            lines.append("FORCE ROW LEVEL SECURITY" if force_rls else "ROW LEVEL SECURITY")
        result["table"][relname] = "\n".join(lines)

    for relname, relkind, viewdef, options in conn.execute(_VIEWS, params):
        if skip(relname):
            continue
        lines = [line for _, line in columns[relname]]
        if options:
            lines.append(f"WITH ({options})")
        kind = "view" if relkind == "v" else "matview"
        result[kind][relname] = "\n".join([*lines, "AS", viewdef])

    for relname, conname, definition in conn.execute(_CONSTRAINTS, params):
        if not skip(relname, conname):
            result["constraint"][f"{relname}.{conname}"] = definition

    for indexname, relname, definition, valid in conn.execute(_INDEXES, params):
        if not skip(relname, indexname):
            result["index"][indexname] = definition + ("" if valid else " -- INVALID")

    enabled = {"O": "", "D": " -- DISABLED", "R": " -- ENABLE REPLICA", "A": " -- ENABLE ALWAYS"}
    for relname, name, definition, state in conn.execute(_TRIGGERS, params):
        if not skip(relname, name):
            result["trigger"][f"{relname}.{name}"] = definition + enabled.get(state, state)
    for relname, name, definition, state in conn.execute(_RULES, params):
        if not skip(relname, name):
            result["rule"][f"{relname}.{name}"] = definition + enabled.get(state, state)
    for relname, name, definition in conn.execute(_POLICIES, params):
        if not skip(relname, name):
            result["policy"][f"{relname}.{name}"] = definition

    for signature, name, definition, comment in conn.execute(_FUNCTIONS, params):
        if skip(name):
            continue
        result["function"][signature] = definition
        if comment is not None:
            result["function comments"][signature] = comment

    for name, definition, owner_table in conn.execute(_SEQUENCES, params):
        if not skip(name, owner_table):
            result["sequence"][name] = definition

    for name, typtype, relname, definition, comment in conn.execute(_TYPES, params):
        if skip(name):
            continue
        if typtype == "c":
            attributes = ", ".join(line for _, line in columns[relname])
            definition = f"AS ({attributes})"
        result["type"][name] = definition
        if comment is not None:
            result["type comments"][name] = comment

    for relname, attname, comment, index_table in conn.execute(_RELATION_COMMENTS, params):
        if skip(relname, index_table):
            continue
        if attname is None:
            result["table comments"][relname] = comment
        else:
            result["column comments"][f"{relname}.{attname}"] = comment


def _first_line(text: str, width: int = 160) -> str:
    lines = text.strip().splitlines() or [""]
    first = lines[0].strip()
    if len(first) > width:
        first = first[: width - 1] + "…"
    more = len(lines) - 1
    return first + (f" (+{more} more line{'s' if more > 1 else ''})" if more else "")


def _excerpt(line: str, at: int, width: int = 60) -> str:
    start = max(0, at - width // 3)
    text = line[start : start + width]
    return ("…" if start else "") + text + ("…" if start + width < len(line) else "")


def _describe_change(old: str, new: str) -> str:
    """The first differing hunk of two definitions, line by line, in a few words."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    hunks = [op for op in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()
             if op[0] != "equal"]
    if not hunks:
        return f"whitespace differs: {old!r} -> {new!r}"
    tag, i1, _, j1, _ = hunks[0]
    if tag == "insert":
        text = f"line {j1 + 1} added: {_excerpt(new_lines[j1], 0)!r}"
    elif tag == "delete":
        text = f"line {i1 + 1} removed: {_excerpt(old_lines[i1], 0)!r}"
    else:
        a, b = old_lines[i1], new_lines[j1]
        at = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
        text = f"line {i1 + 1}: {_excerpt(a, at)!r} -> {_excerpt(b, at)!r}"
    more = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in hunks) - 1
    return text + (f" (and {more} more line{'s' if more > 1 else ''})" if more else "")


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """The differences from ``before`` to ``after``, one line each, ``[]`` when identical.

    ``+ kind name: first line of its definition``, ``- kind name``, ``~ kind name: the first
    differing line``; kinds in the order of ``KINDS`` (unknown kinds after), names sorted.
    """
    kinds = [k for k in KINDS if k in before or k in after]
    kinds += sorted((set(before) | set(after)) - set(KINDS))
    changes: list[str] = []
    for kind in kinds:
        old, new = before.get(kind, {}), after.get(kind, {})
        for name in sorted(set(old) | set(new)):
            if name not in new:
                changes.append(f"- {kind} {name}")
            elif name not in old:
                changes.append(f"+ {kind} {name}: {_first_line(new[name])}")
            elif old[name] != new[name]:
                changes.append(f"~ {kind} {name}: {_describe_change(old[name], new[name])}")
    return changes


def data_fingerprint(
    conn: psycopg.Connection[Any], tables: Iterable[str], *, schema: str = "public"
) -> dict[str, str]:
    """Per table, ``"<rows> rows <md5>"`` of its rows as text in a stable order.

    A name may be ``schema.table``; a bare name is looked up in ``schema``. The rows are printed
    under pinned settings (TimeZone, DateStyle, ...) so the caller's session does not matter.
    """
    result: dict[str, str] = {}
    with _pinned_session(conn, None):
        for table in tables:
            qualifier, dot, bare = table.partition(".")
            ident = sql.Identifier(qualifier, bare) if dot else sql.Identifier(schema, table)
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                " FROM {} t"
            ).format(ident)
            row = conn.execute(query).fetchone()
            assert row is not None
            result[table] = f"{row[0]} rows {row[1]}"
    return result
