"""Task recap state: the Daftar Tugas remembers the list it last sent in a table of its own.

Until this revision the task_delivery_recap job told whether a client's task list changed by
parsing the dedupe keys of the day's earlier ``wa_outbox`` rows. It now reads and writes
``task_recap_state`` (per Jakarta day, client and group: the last list enqueued), in the
transaction that enqueues. The SQL is a frozen copy under ``sql/0002_task_recap_state/``; the
current state of the table lives in ``outbox/schema/70_task_recap_state.sql``.

Upgrade: creates the table, then seeds it ONCE from the existing ``task_delivery_recap`` rows'
dedupe keys (exactly what the job read until now), so the first slot after a deploy does not
send every group's list again. Downgrade: drops the table (the older code reads the keys,
which are still written).

Revision ID: 0002_task_recap_state
Revises: 0001_baseline
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import op

revision = "0002_task_recap_state"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

log = logging.getLogger("outbox.migrate")

SQL = Path(__file__).resolve().parent / "sql" / "0002_task_recap_state"


def _conn() -> Any:
    """The psycopg connection under alembic's (in the one upgrade transaction)."""
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    conn = _conn()
    conn.execute((SQL / "70_task_recap_state.sql").read_text(encoding="utf-8").encode())
    seeded = conn.execute((SQL / "seed_from_outbox.sql").read_text(encoding="utf-8").encode())
    log.info("task_recap_state: seeded %d list(s) from the task recap's dedupe keys",
             seeded.rowcount)


def downgrade() -> None:
    _conn().execute("DROP TABLE IF EXISTS task_recap_state")
