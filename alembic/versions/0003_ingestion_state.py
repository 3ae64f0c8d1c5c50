"""Ingestion state: the ingestion job keeps its memory between runs in a table of its own.

Until this revision the ingestion job (producers/ingestion) kept two things in the memory of
the producers process: the clients a run left for the next one when its time budget ran out,
and each client's previous raw item count, which the deletion sync's "dropped by 60 %" rule
compares against. A restart forgot both (and a second process never knew them). It now reads
and writes ``ingestion_state`` (per client and platform). The SQL is a frozen copy under
``sql/0003_ingestion_state/``; the current state of the table lives in
``outbox/schema/80_ingestion_state.sql``.

Upgrade: creates the (empty) table; the first run after a deploy has no previous count, as
after a restart until now. Downgrade: drops the table (the older code keeps both in memory).

Revision ID: 0003_ingestion_state
Revises: 0002_task_recap_state
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0003_ingestion_state"
down_revision = "0002_task_recap_state"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0003_ingestion_state"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "80_ingestion_state.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("DROP TABLE IF EXISTS ingestion_state")
