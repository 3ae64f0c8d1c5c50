"""Report views (views/*.sql) and their SQL helper functions.

Placeholder revision (no changes yet) so the revision chain is fixed in advance.

Revision ID: 0003_report_views
Revises: 0002_outbox_core
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0003_report_views"
down_revision = "0002_outbox_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
