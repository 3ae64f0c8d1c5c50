"""An index on the complaints' reply link, for purge.

Adds ``complaint_queue_outbox_idx`` on ``complaint_queue (outbox_id)``: each ``wa_outbox`` row
deleted made the foreign key's ``ON DELETE SET NULL`` scan ``complaint_queue`` (98.000 rows
purged next to 2.000 complaints: 70,7 s without it, 4,9 s with it). The SQL is a frozen copy
under ``sql/0011_complaint_outbox_index/``; the current state lives in
``outbox/schema/40_complaints.sql``.

Downgrade: the index dropped.

Revision ID: 0011_complaint_outbox_index
Revises: 0010_outbox_reliability
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0011_complaint_outbox_index"
down_revision = "0010_outbox_reliability"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0011_complaint_outbox_index"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "40_complaints_outbox_idx.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("DROP INDEX complaint_queue_outbox_idx")
