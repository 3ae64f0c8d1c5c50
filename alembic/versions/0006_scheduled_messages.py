"""The old services' other scheduled messages: their state, report kinds, routes and types.

Creates ``task_change_state`` (per Jakarta day and client: the posts and amplification links
the Daftar Tugas job has announced, and the day's tally of changes) and
``personal_reminder_state`` (per day, personal chat and client: the reminder stage sent);
adds the report kinds ``link_report``, ``amplify_daily_report``, ``amplify_monthly_report``
and ``username_recap`` with the old audiences as default routes, and the message types of the
new jobs. The SQL is a frozen copy under ``sql/0006_scheduled_messages/``; the current state
lives in ``outbox/schema/95_scheduled_messages.sql``.

Downgrade: the two tables dropped, the routes and kinds deleted, the message types too when no
outbox row has one.

Revision ID: 0006_scheduled_messages
Revises: 0005_progress_reports
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0006_scheduled_messages"
down_revision = "0005_progress_reports"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0006_scheduled_messages"
KINDS = ("link_report", "amplify_daily_report", "amplify_monthly_report", "username_recap")
TYPES = ("task_change", *KINDS[:3], "username_recap", "personal_reminder", "admin_daily_summary")


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    _conn().execute((SQL / "95_scheduled_messages.sql").read_text(encoding="utf-8").encode())


def downgrade() -> None:
    conn = _conn()
    conn.execute("DROP TABLE task_change_state; DROP TABLE personal_reminder_state")
    conn.execute("DELETE FROM report_routing WHERE report_kind = ANY(%s)", (list(KINDS),))
    conn.execute("DELETE FROM report_routing_kind WHERE report_kind = ANY(%s)", (list(KINDS),))
    conn.execute("DELETE FROM wa_message_type t WHERE t.type = ANY(%s) AND NOT EXISTS "
                 "(SELECT 1 FROM wa_outbox o WHERE o.type = t.type)", (list(set(TYPES)),))
