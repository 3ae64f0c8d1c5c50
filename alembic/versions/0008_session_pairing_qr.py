"""The pairing QR code of a gateway session, for the status page.

Adds ``wa_session.pairing_qr`` (the last QR string neonize issued, NULL once paired) and
``wa_session.pairing_qr_at``. The gateway's event sink writes them (gateway/pairing.py) and
``python -m outbox.web`` draws the code. The SQL is a frozen copy under
``sql/0008_session_pairing_qr/``; the current state lives in
``outbox/schema/25_session_pairing.sql``.

Downgrade: the two columns dropped.

Revision ID: 0008_session_pairing_qr
Revises: 0007_lengkap_rule
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0008_session_pairing_qr"
down_revision = "0007_lengkap_rule"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0008_session_pairing_qr"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "25_session_pairing.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    _conn().execute("ALTER TABLE wa_session DROP COLUMN pairing_qr, DROP COLUMN pairing_qr_at")
