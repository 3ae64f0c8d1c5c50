"""Report routing: who receives each report kind is data (``report_routing``).

Until this revision every report went to each client's group, operator and super admins, the
directorate ones also to every ``ADMIN_WHATSAPP`` number, and the ``.xlsx`` to all of them.
The report jobs now read ``report_routing`` (report kind x client or client type -> audience,
attachment yes/no) at each run. The SQL is a frozen copy under ``sql/0004_report_routing/``;
the current state lives in ``outbox/schema/90_report_routing.sql``.

Upgrade: creates the tables and seeds the old services' audiences (org: group, operator,
super; directorate: group, super; the workbook to directorate groups and super admins).
Downgrade: drops the tables (the older code does not read them).

Revision ID: 0004_report_routing
Revises: 0003_ingestion_state
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0004_report_routing"
down_revision = "0003_ingestion_state"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0004_report_routing"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "90_report_routing.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("DROP TABLE IF EXISTS report_routing, report_routing_audience, "
                    "report_routing_kind")
