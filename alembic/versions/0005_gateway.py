"""Gateway additions.

Placeholder revision (no changes yet) so the revision chain is fixed in advance.

Revision ID: 0005_gateway
Revises: 0004_complaints
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0005_gateway"
down_revision = "0004_complaints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
