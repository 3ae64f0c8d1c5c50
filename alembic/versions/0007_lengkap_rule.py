"""The "lengkap" rule per client, and the directorate recaps' name lists.

The old scheduled directorate recaps counted a person "lengkap" only when he had done every
post; only a manual menu used >= 50 %. Until this revision the views used >= 50 % for every
directorate. Now the rule is per client: table ``report_rule`` ('all' or 'half'), 'all' when a
client has no row (``report_lengkap_rule()``). The directorate recap's per-satker blocks gain
the Kurang and Belum name lists, and the person order finds the jabatan keyword anywhere in
the jabatan (``cicero_jabatan_rank``), as the old lists did. The SQL is a frozen copy under
``sql/0007_lengkap_rule/``; the current state lives in ``outbox/schema/90_report_routing.sql``
and ``views/``.

Downgrade: the views and functions as revisions 0001 and 0005 made them, the rule function
and table dropped.

Revision ID: 0007_lengkap_rule
Revises: 0006_scheduled_messages
Create Date: 2026-12-02
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import op

revision = "0007_lengkap_rule"
down_revision = "0006_scheduled_messages"
branch_labels = None
depends_on = None

HERE = Path(__file__).resolve().parent / "sql"
SQL = HERE / "0007_lengkap_rule"
FILES = ("90_report_routing.sql", "report_functions.sql", "report_lengkap_rule.sql",
         "report_user_day.sql", "report_user_week.sql", "report_user_month.sql",
         "report_division_day.sql", "report_satker_day.sql", "report_client_day.sql",
         "daily_report_view.sql")
# what a database before this revision held (revisions 0001 and 0005), in dependency order
PREVIOUS = (HERE / "0001_baseline" / "views" / "report_functions.sql",
            HERE / "0001_baseline" / "views" / "report_user_day.sql",
            HERE / "0001_baseline" / "views" / "report_user_week.sql",
            HERE / "0001_baseline" / "views" / "report_user_month.sql",
            HERE / "0001_baseline" / "views" / "report_division_day.sql")


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _conn()
    for name in FILES:
        conn.execute((SQL / name).read_text(encoding="utf-8").encode())


def downgrade() -> None:
    conn = _conn()
    # the satker/client views gained columns: drop them (and the views above) and re-create
    conn.execute("DROP VIEW daily_report_view, report_client_day, report_satker_day")
    for path in PREVIOUS:
        conn.execute(path.read_text(encoding="utf-8").encode())
    for name in ("report_satker_day.sql", "report_client_day.sql"):
        conn.execute((HERE / "0001_baseline" / "views" / name).read_text(encoding="utf-8")
                     .encode())
    conn.execute((HERE / "0005_progress_reports" / "daily_report_view.sql")
                 .read_text(encoding="utf-8").encode())
    conn.execute("DROP FUNCTION report_lengkap_rule(text); DROP TABLE report_rule")
