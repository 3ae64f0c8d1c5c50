"""Complaint intake additions.

Placeholder revision (no changes yet) so the revision chain is fixed in advance.

Revision ID: 0004_complaints
Revises: 0003_report_views
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0004_complaints"
down_revision = "0003_report_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
