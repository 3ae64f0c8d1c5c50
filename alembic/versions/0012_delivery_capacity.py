"""Delivering a day's messages in time within WhatsApp's safe limits (issue 13).

Priorities by message type (``wa_message_type.priority``, taken by a row inserted without
one), superseded messages (``collapse_key``: a newer row with the same key, recipient and
session replaces the older ones still pending, status ``superseded``), deadlines
(``expires_at``: status ``expired`` instead of a late send), coalesced texts (``carried_by``:
a text sent inside another row's message is no send of its own in ``wa_send_log``), and a pool
of numbers
(``wa_session.pool``, ``wa_recipient_session``, ``wa_group_member``, routing at INSERT and
hand-over). The SQL is a frozen copy under ``sql/0012_delivery_capacity/``; the current state
lives in ``outbox/schema/20_outbox.sql`` and ``outbox/schema/97_delivery_capacity.sql``.

Downgrade: rows ``superseded`` or ``expired`` become ``cancelled`` (their reason stays in
``last_error``); the new columns, tables, functions and triggers dropped; the INSERT trigger and
the priority default as revision 0010 made them.

Revision ID: 0012_delivery_capacity
Revises: 0011_complaint_outbox_index
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import op

revision = "0012_delivery_capacity"
down_revision = "0011_complaint_outbox_index"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0012_delivery_capacity"
PREVIOUS = Path(__file__).resolve().parent / "sql" / "0010_outbox_reliability" / "20_outbox.sql"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _conn()
    for name in ("20_outbox.sql", "97_delivery_capacity.sql"):
        conn.execute((SQL / name).read_text(encoding="utf-8").encode())


def downgrade() -> None:
    conn = _conn()
    previous = PREVIOUS.read_text(encoding="utf-8")
    match = re.search(r"CREATE OR REPLACE FUNCTION wa_outbox_before_insert\(\).*?\n\$\$;\n",
                      previous, re.S)
    assert match is not None
    conn.execute(
        "DROP TRIGGER wa_outbox_supersede ON wa_outbox; DROP FUNCTION wa_outbox_supersede();"
        "DROP FUNCTION wa_pool_hand_over(text, text); DROP FUNCTION wa_pool_route(text, text);"
        "DROP FUNCTION wa_pool_pick(text, text, text); DROP FUNCTION wa_session_available(text);"
        "DROP TABLE wa_recipient_session; DROP TABLE wa_group_member;"
        "ALTER TABLE wa_session DROP COLUMN pool, DROP COLUMN max_per_hour,"
        " DROP COLUMN max_per_day, DROP COLUMN gap_min_s, DROP COLUMN gap_max_s,"
        " DROP COLUMN recipient_gap_s, DROP COLUMN pacing, DROP COLUMN groups_seen_at;"
        "DROP INDEX wa_outbox_collapse_idx;"
        "DROP TRIGGER wa_outbox_log_send ON wa_outbox;"
        "CREATE TRIGGER wa_outbox_log_send AFTER UPDATE OF status ON wa_outbox"
        " FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent')"
        " EXECUTE FUNCTION wa_outbox_log_send();")
    conn.execute(match.group(0).encode())
    conn.execute(
        "UPDATE wa_outbox SET status = 'cancelled' WHERE status IN ('superseded', 'expired');"
        "ALTER TABLE wa_outbox DROP CONSTRAINT wa_outbox_status_valid,"
        " ADD CONSTRAINT wa_outbox_status_valid"
        " CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),"
        " ALTER COLUMN priority SET DEFAULT 0,"
        " DROP COLUMN collapse_key, DROP COLUMN superseded_by, DROP COLUMN expires_at,"
        " DROP COLUMN carried_by;"
        "ALTER TABLE wa_message_type DROP COLUMN priority, DROP COLUMN collapsible;")
