"""Development tools, never imported by the product packages (import-linter checks it): the
embedded PostgreSQL helper (``devdb``), deterministic Cicero sample data (``sample_data``) and
the end-to-end demo (``demo``, ``make demo``). The tests and the benchmarks share them."""

from __future__ import annotations

from pathlib import Path

#: The checkout's root (the embedded databases live in .pgdata/ under it).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
