"""The Cicero databases this project must run on, as they are found in the wild (SQL fixtures).

- ``v2``: Cicero_V2 ``sql/schema.sql``: naive ``created_at`` on insta_post and tiktok_post, no
  ``source_type`` / ``original_created_at`` / ``like_count``, no ``insta_post_clients``.
- ``cf``: the fetch cronjob's schema and migrations: like ``v2`` plus those columns and table,
  ``tiktok_post.created_at`` timestamptz (insta_post.created_at stays naive).
- ``skeleton``: the refactor skeleton's ``wa_outbox`` and ``complaint_queue`` (seed 004), which
  an install may hold next to either variant: ``load(conn, "v2", "skeleton")``.

Each file says in its header which facts it re-creates (docs/operations/cicero-database.md,
docs/operations/cicero-database.md). They are deliberately not this project's bootstrap
(alembic 0001), which uses timestamptz everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

VARIANTS = ("v2", "cf")
NAMES = (*VARIANTS, "skeleton")
_HERE = Path(__file__).resolve().parent


def ddl(name: str) -> str:
    """The SQL text of one fixture: ``"v2"``, ``"cf"`` or ``"skeleton"``."""
    if name not in NAMES:
        raise ValueError(f"unknown Cicero variant {name!r}; expected one of {', '.join(NAMES)}")
    return (_HERE / f"{name}.sql").read_text(encoding="utf-8")


def load(conn: psycopg.Connection[Any], *names: str) -> None:
    """Run the given fixtures in order on ``conn``, e.g. ``load(conn, "v2", "skeleton")``.

    Each file is sent as one multi-statement query in the connection's transaction: on an
    autocommit connection every file commits on its own, otherwise the caller commits.
    """
    texts = [ddl(name) for name in names]  # every name is checked before anything runs
    for text in texts:
        conn.execute(text.encode())
