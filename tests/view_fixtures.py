"""Helpers for the report-view tests: the views/ files in load order, and hand-built Cicero data.

Every builder inserts plain rows into the Cicero tables of migration 0001; the expected answers
of the tests are derived from what these builders were given, never typed in separately.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from tests.dev import REPO_ROOT

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


JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A Jakarta wall-clock instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JAKARTA)


@dataclass
class Cicero:
    """Hand-built Cicero rows, inserted as they are given (no normalisation here)."""

    conn: psycopg.Connection[Any]
    _roles: dict[str, int] = field(default_factory=dict)

    def client(self, client_id: str, nama: str | None = None, *, client_type: str = "org",
               group: str | None = None, operator: str | None = None, super_: str | None = None,
               tiktok: str | None = None, status: bool = True, insta_status: bool = True,
               tiktok_status: bool = True) -> str:
        self.conn.execute(
            "INSERT INTO clients (client_id, nama, client_type, client_status, client_insta_status,"
            " client_tiktok, client_tiktok_status, client_group, client_operator, client_super)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (client_id, nama or f"POLRES {client_id}", client_type, status, insta_status,
             tiktok, tiktok_status, group, operator, super_))
        return client_id

    def user(self, user_id: str, client_id: str, nama: str, *, insta: str | None = None,
             tiktok: str | None = None, title: str = "BRIPKA", divisi: str = "SAT BINMAS",
             jabatan: str = "BA SAT BINMAS", status: bool = True, exception: bool = False,
             roles: Sequence[str] = ("operator",)) -> str:
        """A personnel row; by default with the role 'operator', as Cicero gave every user (the
        org recap counts only operators where roles exist)."""
        self.conn.execute(
            'INSERT INTO "user" (user_id, nama, title, divisi, jabatan, insta, tiktok, client_id,'
            " status, exception) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (user_id, nama, title, divisi, jabatan, insta, tiktok, client_id, status, exception))
        for role in roles:
            self.conn.execute("INSERT INTO user_roles (user_id, role_id) VALUES (%s, %s)",
                              (user_id, self.role(role)))
        return user_id

    def role(self, name: str) -> int:
        if name not in self._roles:
            row = self.conn.execute(
                "INSERT INTO roles (role_name) VALUES (%s) RETURNING role_id", (name,)).fetchone()
            assert row is not None
            self._roles[name] = int(row[0])
        return self._roles[name]

    def ig_post(self, shortcode: str, client_id: str, at: datetime,
                likes: Sequence[Any] | None = (), *, caption: str = "Kegiatan Polres",
                comment_count: int = 0, roles: Sequence[str] = (),
                collaborators: Sequence[str] = ()) -> str:
        self.conn.execute(
            "INSERT INTO insta_post (shortcode, client_id, caption, comment_count, created_at)"
            " VALUES (%s, %s, %s, %s, %s)", (shortcode, client_id, caption, comment_count, at))
        if likes is not None:
            self.conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, %s)",
                              (shortcode, json.dumps(list(likes))))
        for role in roles:
            self.conn.execute(
                "INSERT INTO insta_post_roles (shortcode, role_name) VALUES (%s, %s)",
                (shortcode, role))
        for other in collaborators:
            self.conn.execute(
                "INSERT INTO insta_post_clients (shortcode, client_id) VALUES (%s, %s)",
                (shortcode, other))
        return shortcode

    def tiktok_post(self, video_id: str, client_id: str, at: datetime,
                    comments: Sequence[Any] | None = (), *, caption: str = "Video Polres",
                    like_count: int = 0) -> str:
        self.conn.execute(
            "INSERT INTO tiktok_post (video_id, client_id, caption, like_count, created_at)"
            " VALUES (%s, %s, %s, %s, %s)", (video_id, client_id, caption, like_count, at))
        if comments is not None:
            self.conn.execute("INSERT INTO tiktok_comment (video_id, comments) VALUES (%s, %s)",
                              (video_id, json.dumps(list(comments))))
        return video_id

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql.encode() if params is None else sql, params)
            return list(cur.fetchall())


@dataclass(frozen=True)
class WorkedExample:
    """The worked example of docs/concepts/reports.md: client X, posts A, B, C; Budi 3/3,
    Sari 1/3, Joko 0, Rina no handle, exc1."""

    client: str
    day: date
    posts: tuple[str, ...]
    likes: dict[str, tuple[str, ...]]  # post -> handles as stored in insta_like
    users: dict[str, dict[str, Any]]  # user_id -> kwargs given to Cicero.user


def worked_example(db: Cicero, day: date, *, client: str = "X", client_type: str = "org",
                   roles: Sequence[str] = ("operator",)) -> WorkedExample:
    db.client(client, f"POLRES {client}" if client_type == "org" else f"DIREKTORAT {client}",
              client_type=client_type, group="120363000000000001@g.us",
              operator="081234567890", super_="6281298765432")
    users: dict[str, dict[str, Any]] = {
        "1001": {"nama": "BUDI", "insta": "@Budi"},
        "1002": {"nama": "SARI", "insta": "sari"},
        "1003": {"nama": "JOKO", "insta": "joko_1"},
        "1004": {"nama": "RINA", "insta": None},
        "1005": {"nama": "EXC SATU", "insta": "exc1", "exception": True},
    }
    for user_id, kwargs in users.items():
        db.user(user_id, client, roles=roles, **kwargs)
    likes = {"A": ("budi", "sari", "exc1"), "B": ("budi", "exc1"), "C": ("budi", "exc1")}
    for hour, (code, handles) in enumerate(likes.items(), start=8):
        db.ig_post(code, client, jkt(day, hour), handles)
    return WorkedExample(client, day, tuple(likes), likes, users)
