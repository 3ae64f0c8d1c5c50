"""A reserve of the send budget for answers and alerts, recorded per session (issue 13).

Adds ``wa_session.reserve_per_hour``, ``reserve_per_day`` (the last sends of the hourly and
daily budgets the gateway keeps for rows of priority 30 and above: ``WA_RESERVE_PER_HOUR``,
``WA_RESERVE_PER_DAY``) and ``coalesce_texts`` (``WA_COALESCE_TEXTS``), written by the gateway
when it registers and read by ``python -m outbox capacity``. The SQL is a frozen copy under
``sql/0013_send_reserve/``; the current state lives in
``outbox/schema/97_delivery_capacity.sql``.

Downgrade: the three columns dropped.

Revision ID: 0013_send_reserve
Revises: 0012_delivery_capacity
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0013_send_reserve"
down_revision = "0012_delivery_capacity"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0013_send_reserve"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "97_send_reserve.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("ALTER TABLE wa_session DROP COLUMN reserve_per_hour, "
                    "DROP COLUMN reserve_per_day, DROP COLUMN coalesce_texts")
