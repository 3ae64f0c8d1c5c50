"""Named SQL queries kept in ``<package>/sql/*.sql`` files.

A file holds blocks that start with a ``-- name: <query_name>`` line; the text up to the next
such line is the query. Queries are loaded once and looked up by name. No SQL is assembled in
Python except through ``psycopg.sql`` placeholders (``{name}``), which the engine uses for the
claim's batch size and recipient gap: settings written in as literals so the server keeps one
generic plan.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import LiteralString

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a query file into ``{name: sql}``; duplicate names are an error."""
    queries: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = match.group(1)
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        lines = text[match.end():end].strip().splitlines()
        while lines and lines[0].lstrip().startswith("--"):
            lines.pop(0)  # the block's description: kept out of the query sent to the server
        body = "\n".join(lines).strip()
        if not body:
            raise ValueError(f"query {name!r} is empty")
        queries[name] = body
    return queries


@cache
def load_queries(package: str, filename: str) -> dict[str, LiteralString]:
    text = resources.files(package).joinpath("sql", filename).read_text(encoding="utf-8")
    # The text comes from a file shipped with the package, never from input.
    return parse_queries(text)


def query(package: str, filename: str, name: str) -> LiteralString:
    return load_queries(package, filename)[name]


class QueryFile:
    """The named queries of one file: ``Q = QueryFile("outbox", "outbox.sql")``, then
    ``conn.execute(Q("claim"), params)``."""

    def __init__(self, package: str, filename: str) -> None:
        self.package = package
        self.filename = filename

    def __call__(self, name: str) -> LiteralString:
        return load_queries(self.package, self.filename)[name]
