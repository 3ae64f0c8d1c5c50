"""Outbox reliability (issue 14): inputs and retention.

Content of only spaces or invisible characters (no-break and zero-width spaces, ...) is refused
at INSERT like empty content (``wa_is_blank``); an attachment larger than
``wa_outbox_limits.attachment_max_bytes`` (default 16 MiB) is refused at INSERT, and its size
is kept in ``wa_outbox.attachment_bytes``; a sent document's bytes are dropped (name, type and
size stay); ``wa_send_log`` keeps the sending history the pacing caps read, apart from the
purgeable messages (backfilled with the last 48 hours). The SQL is a frozen copy under
``sql/0010_outbox_reliability/``; the current state lives in ``outbox/schema/20_outbox.sql``.

Downgrade: the send log, the limits, the new functions and triggers and ``attachment_bytes``
dropped, the two functions and the constraint as revision 0001 made them. Dropped bytes of sent
documents do not come back (their rows keep their names: the old constraint is then not
re-added as VALID, it is added NOT VALID).

Revision ID: 0010_outbox_reliability
Revises: 0009_outbox_error_history
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import op

revision = "0010_outbox_reliability"
down_revision = "0009_outbox_error_history"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0010_outbox_reliability"
BASELINE = Path(__file__).resolve().parent / "sql" / "0001_baseline" / "20_outbox.sql"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def _baseline_function(name: str) -> str:
    text = BASELINE.read_text(encoding="utf-8")
    match = re.search(rf"CREATE FUNCTION {name}\(.*?\n\$\$;\n", text, re.S)
    assert match is not None, name
    return match.group(0).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    _conn().execute((SQL / "20_outbox.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    conn = _conn()
    conn.execute(
        "DROP TRIGGER wa_outbox_log_send ON wa_outbox; DROP FUNCTION wa_outbox_log_send();"
        "DROP TABLE wa_send_log;"
        "DROP TRIGGER wa_outbox_drop_sent_attachment ON wa_outbox;"
        "DROP FUNCTION wa_outbox_drop_sent_attachment();")
    conn.execute(_baseline_function("wa_check_message").encode())
    conn.execute(_baseline_function("wa_outbox_before_insert").encode())
    conn.execute(
        "DROP TABLE wa_outbox_limits; DROP FUNCTION wa_is_blank(text);"
        "ALTER TABLE wa_outbox DROP CONSTRAINT wa_outbox_attachment_kept;"
        "ALTER TABLE wa_outbox DROP CONSTRAINT wa_outbox_attachment_complete;"
        "ALTER TABLE wa_outbox ADD CONSTRAINT wa_outbox_attachment_complete"
        " CHECK ((attachment IS NULL) = (attachment_name IS NULL)) NOT VALID;"
        "ALTER TABLE wa_outbox DROP COLUMN attachment_bytes;")
