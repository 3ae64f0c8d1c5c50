"""The error history of outbox rows, for ``python -m outbox show ID``.

Adds ``wa_outbox_error``: one row per failed send attempt (retry scheduled, permanent failure,
expired lease), written by the engine's failure settles; removed with its message. The SQL is
a frozen copy under ``sql/0009_outbox_error_history/``; the current state lives in
``outbox/schema/22_outbox_errors.sql``.

Downgrade: the table dropped.

Revision ID: 0009_outbox_error_history
Revises: 0008_session_pairing_qr
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0009_outbox_error_history"
down_revision = "0008_session_pairing_qr"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0009_outbox_error_history"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "22_outbox_errors.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("DROP TABLE wa_outbox_error")
