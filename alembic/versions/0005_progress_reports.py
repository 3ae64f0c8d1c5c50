"""Same-day progress recaps: today up to the slot, at the old services' times.

The report views gain a cut-off: ``report_upto()`` reads the transaction setting
``outbox.report_upto`` (set by the progress_report jobs), ``report_ig_post`` and
``report_tiktok_post`` keep only posts uploaded up to it, and ``daily_report_view`` says so in
its "Periode data" line (unset: the whole day, as before). ``report_routing`` gains the three
progress report kinds (also as ``wa_message_type``), an optional slot time per route (``at_time``) and the old audiences of
the same-day recaps. The SQL is a frozen copy under ``sql/0005_progress_reports/``; the current
state lives in ``outbox/schema/90_report_routing.sql`` and ``views/``.

Downgrade: the three views as revision 0001 made them, the functions dropped, the progress
routes and kinds deleted, their message types too when no outbox row has
one, and ``at_time`` dropped.

Revision ID: 0005_progress_reports
Revises: 0004_report_routing
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0005_progress_reports"
down_revision = "0004_report_routing"
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent / "sql" / "0005_progress_reports"
BASELINE_VIEWS = Path(__file__).resolve().parent / "sql" / "0001_baseline" / "views"
FILES = ("90_report_routing.sql", "report_upto.sql", "report_ig_post.sql",
         "report_tiktok_post.sql", "daily_report_view.sql")
VIEWS = ("report_ig_post.sql", "report_tiktok_post.sql", "daily_report_view.sql")


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _conn()
    for name in FILES:
        conn.execute((SQL / name).read_text(encoding="utf-8").encode())


def downgrade() -> None:
    conn = _conn()
    for name in VIEWS:
        conn.execute((BASELINE_VIEWS / name).read_text(encoding="utf-8").encode())
    conn.execute("DROP FUNCTION report_period_line(); DROP FUNCTION report_upto();"
                 "DELETE FROM report_routing WHERE report_kind LIKE '%progress_report';"
                 "DELETE FROM report_routing_kind WHERE report_kind LIKE '%progress_report';"
                 "DELETE FROM wa_message_type t WHERE t.type LIKE '%progress_report' AND NOT "
                 "EXISTS (SELECT 1 FROM wa_outbox o WHERE o.type = t.type);"
                 "DROP INDEX report_routing_unique;"
                 "ALTER TABLE report_routing DROP COLUMN at_time;"
                 "CREATE UNIQUE INDEX report_routing_unique ON report_routing (report_kind, "
                 "coalesce(upper(client_id), ''), coalesce(client_type, ''), audience, "
                 "coalesce(recipient, ''))")
