"""Helpers for the report-view tests: the views/ files in load order, and hand-built Cicero data.

Every builder inserts plain rows into the Cicero tables of migration 0001; the expected answers
of the tests are derived from what these builders were given, never typed in separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from outbox.db import REPO_ROOT

VIEWS_DIR = REPO_ROOT / "views"
_LAYER = re.compile(r"^--\s*layer:\s*(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ViewFile:
    name: str  # file stem = the view it defines (layer >= 1)
    layer: int
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()


def view_files() -> list[ViewFile]:
    """views/*.sql in load order: by the ``-- layer: N`` header, then by name."""
    files = []
    for path in VIEWS_DIR.glob("*.sql"):
        match = _LAYER.search(path.read_text())
        if match is None:
            raise ValueError(f"{path} has no '-- layer: N' header")
        files.append(ViewFile(path.stem, int(match.group(1)), path))
    return sorted(files, key=lambda f: (f.layer, f.name))


def apply_view_files(conn: psycopg.Connection[Any]) -> None:
    for vf in view_files():
        conn.execute(vf.sql.encode())
