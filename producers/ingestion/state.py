"""The ingestion job's memory between runs: the table ``ingestion_state``
(outbox/schema/80_ingestion_state.sql).

Per client and platform (``instagram``, ``tiktok``):

- ``raw_count``: the items the provider returned at the last complete post fetch; the deletion
  sync refuses to delete when today's count fell by 60 % or more against it. Written in the
  client's own write transaction, so it moves together with the posts it describes.
- ``carried_since``: the client waits for the next run because a run's time budget ran out
  before it started; such clients go first (oldest mark first). Written once at the end of a
  run: the marks of that run replace the previous ones.

Kept in the database, so a restart of the producers process (or a second process taking the
next run) forgets neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import psycopg

Conn = psycopg.Connection[Any]
Platform = Literal["instagram", "tiktok"]


def carried(conn: Conn) -> list[str]:
    """The clients the previous runs left for this one, oldest mark first."""
    rows = conn.execute(
        "SELECT client_id FROM ingestion_state WHERE carried_since IS NOT NULL "
        "GROUP BY client_id ORDER BY min(carried_since), client_id").fetchall()
    return [r[0] for r in rows]


def remember_carried(conn: Conn, clients: Iterable[tuple[str, Iterable[Platform]]],
                     slot: datetime) -> None:
    """The clients this run left for the next one (with the platforms they have) become the
    only ones marked; a client already marked keeps its older mark."""
    ids: list[str] = []
    platforms: list[str] = []
    for client_id, kinds in clients:
        for kind in kinds:
            ids.append(client_id)
            platforms.append(kind)
    with conn.transaction():
        conn.execute(
            "UPDATE ingestion_state SET carried_since = NULL, updated_at = now() "
            "WHERE carried_since IS NOT NULL AND NOT (client_id = ANY(%s::text[]))", (ids,))
        if ids:
            conn.execute(
                """INSERT INTO ingestion_state (client_id, platform, carried_since)
                   SELECT n.client_id, n.platform, %(slot)s
                     FROM unnest(%(ids)s::text[], %(platforms)s::text[])
                          AS n (client_id, platform)
                    ORDER BY n.client_id, n.platform
                   ON CONFLICT (client_id, platform) DO UPDATE
                      SET carried_since = coalesce(ingestion_state.carried_since,
                                                   EXCLUDED.carried_since),
                          updated_at = now()""",
                {"slot": slot, "ids": ids, "platforms": platforms})


def previous_count(conn: Conn, client_id: str, platform: Platform) -> int | None:
    row = conn.execute("SELECT raw_count FROM ingestion_state WHERE client_id = %s "
                       "AND platform = %s", (client_id, platform)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def save_count(conn: Conn, client_id: str, platform: Platform, raw_count: int,
               slot: datetime) -> None:
    conn.execute(
        """INSERT INTO ingestion_state (client_id, platform, raw_count, raw_counted_at)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (client_id, platform) DO UPDATE
              SET raw_count = EXCLUDED.raw_count, raw_counted_at = EXCLUDED.raw_counted_at,
                  updated_at = now()""", (client_id, platform, raw_count, slot))
