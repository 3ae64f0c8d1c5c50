"""The pool of numbers, gateway side: two (or three) sessions of one pool against a real
PostgreSQL, each served by an in-process gateway with its own jsonl transport (the fake
transports' groups come from WA_FAKE_GROUPS). The routing itself is the database's (migration
0012); here: what the gateways write for it, and the hand-over."""

from __future__ import annotations

import logging
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.config import load_gateway_settings, parse_groups
from outbox.errors import ConfigError
from tests.gateway_helpers import (
    gateway_env,
    gateway_thread,
    read_jsonl,
    settings_for,
    start_gateway,
    wait_for,
)

Conn = psycopg.Connection[Any]

POOL = "satu"
G_A, G_B, G_BOTH, G_NONE = ("120363000000000001@g.us", "120363000000000002@g.us",
                            "120363000000000003@g.us", "120363000000000004@g.us")
ADMIN = "081277770000"


def pooled(db_url: str, tmp_path: Path, name: str, groups: str = "none", **extra: str) -> Any:
    return settings_for(db_url, tmp_path / f"{name}.jsonl", WA_SESSION_NAME=name, WA_POOL=POOL,
                        WA_FAKE_GROUPS=groups, **extra)


def sends(tmp_path: Path, *names: str) -> list[dict[str, Any]]:
    return [line for name in names for line in read_jsonl(tmp_path / f"{name}.jsonl")]


def sent_by(tmp_path: Path, *names: str) -> dict[int, str]:
    """outbox id -> the session whose transport sent it (asserting nothing was sent twice)."""
    lines = sends(tmp_path, *names)
    ids = Counter(int(line["outbox_id"]) for line in lines)
    twice = {i: n for i, n in ids.items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    return {int(line["outbox_id"]): str(line["session"]) for line in lines}


def insert(conn: Conn, recipient: str, content: str, session: str | None = None) -> int:
    """A plain SQL INSERT; without ``session`` the row goes to the default session (and from
    there, in a pool, where the pool's routing puts it)."""
    row = conn.execute(
        "INSERT INTO wa_outbox (recipient, content, type, session_name) "
        "VALUES (%s, %s, 'text', coalesce(%s, wa_default_session())) RETURNING id",
        (recipient, content, session)).fetchone()
    assert row is not None
    return int(row[0])


def open_rows(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) FROM wa_outbox WHERE is_open").fetchone()
    assert row is not None
    return int(row[0])


def person(n: int) -> str:
    return f"62812{n:08d}@s.whatsapp.net"


# ---------------------------------------------------------------------------------- settings
def test_pool_settings_are_read_and_checked(db_url: str) -> None:
    settings = load_gateway_settings(gateway_env(
        db_url, None, WA_POOL="Satu", WA_FAKE_GROUPS=f"{G_A}, 120363000000000002",
        WA_PACING="off", WA_MAX_PER_DAY="250"))
    assert settings.pool == "satu"
    assert settings.fake_groups == (G_A, G_B)
    assert settings.pacing.max_per_day == 0  # pacing off...
    assert settings.declared_pacing is not None
    assert settings.declared_pacing.max_per_day == 250  # ...but the caps are declared
    assert load_gateway_settings(gateway_env(db_url, None)).pool is None
    assert load_gateway_settings(gateway_env(db_url, None)).fake_groups is None  # unknown
    assert parse_groups("none") == ()
    with pytest.raises(ConfigError) as bad:
        load_gateway_settings(gateway_env(db_url, None, WA_POOL="satu dua",
                                          WA_FAKE_GROUPS="6281234@s.whatsapp.net"))
    text = str(bad.value)
    assert "WA_POOL='satu dua' is not a valid pool name" in text
    assert "WA_FAKE_GROUPS='6281234@s.whatsapp.net' is not a list of group JIDs" in text
    with pytest.raises(ConfigError, match="WA_FAKE_GROUPS only applies"):
        load_gateway_settings(gateway_env(db_url, None, WA_TRANSPORT="neonize",
                                          WA_FAKE_GROUPS=G_A))


# ---------------------------------------------------------------------------------- single
@pytest.mark.slow
def test_a_single_session_works_unchanged(db_url: str, conn: Conn, tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path / "main.jsonl", WA_MAX_PER_HOUR="30")
    with gateway_thread(settings) as gateway:
        assert gateway.session.pool is None
        ids = [insert(conn, person(n), f"pesan {n}") for n in range(5)]
        ids.append(insert(conn, G_NONE, "grup tanpa anggota yang diketahui"))
        assert wait_for(lambda: open_rows(conn) == 0, 10)
    assert sent_by(tmp_path, "main") == dict.fromkeys(ids, "main")
    row = conn.execute("SELECT pool, max_per_hour, max_per_day, gap_min_s, gap_max_s, "
                       "recipient_gap_s, pacing, groups_seen_at FROM wa_session "
                       "WHERE name = 'main'").fetchone()
    assert row == (None, 30, 400, 8.0, 25.0, 60.0, False, None)
    assert conn.execute("SELECT count(*) FROM wa_recipient_session").fetchone() == (0,)


# ---------------------------------------------------------------------------------- routing
@pytest.mark.slow
def test_a_person_sticks_to_one_session_across_gateway_restarts(db_url: str, conn: Conn,
                                                                tmp_path: Path) -> None:
    a, b = pooled(db_url, tmp_path, "a"), pooled(db_url, tmp_path, "b")
    with gateway_thread(a), gateway_thread(b):
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_session WHERE pool = 'satu' AND state = 'connected'"
        ).fetchone() == (2,), 10)
        first = {n: insert(conn, person(n), f"pertama {n}") for n in range(8)}
        assert wait_for(lambda: open_rows(conn) == 0, 10)
    who = sent_by(tmp_path, "a", "b")
    session_of = {n: who[first[n]] for n in range(8)}
    assert set(session_of.values()) == {"a", "b"}  # spread by remaining daily budget
    assigned = dict(conn.execute("SELECT recipient, session_name FROM wa_recipient_session "
                                 "WHERE pool = 'satu'").fetchall())
    assert assigned == {person(n): session_of[n] for n in range(8)}
    # both gateways restart (the other one first); every person keeps their session
    with gateway_thread(b), gateway_thread(a):
        second = {n: insert(conn, person(n), f"kedua {n}") for n in range(8)}
        assert wait_for(lambda: open_rows(conn) == 0, 10)
    who = sent_by(tmp_path, "a", "b")
    assert {n: who[second[n]] for n in range(8)} == session_of


@pytest.mark.slow
def test_a_group_goes_only_to_a_member_of_it(db_url: str, conn: Conn, tmp_path: Path) -> None:
    a = pooled(db_url, tmp_path, "a", f"{G_A},{G_BOTH}")
    b = pooled(db_url, tmp_path, "b", f"{G_B},{G_BOTH}")
    with gateway_thread(a), gateway_thread(b):
        assert wait_for(lambda: sorted(conn.execute(
            "SELECT session_name, group_jid FROM wa_group_member").fetchall()) == [
            ("a", G_A), ("a", G_BOTH), ("b", G_B), ("b", G_BOTH)], 10)
        assert conn.execute("SELECT count(*) FROM wa_session WHERE pool = 'satu' "
                            "AND groups_seen_at IS NOT NULL").fetchone() == (2,)
        to_b = insert(conn, G_B, "untuk grup B", session="a")  # addressed to a, b is the member
        to_a = insert(conn, G_A, "untuk grup A", session="b")
        nobody = insert(conn, G_NONE, "grup tanpa anggota", session="a")
        assert wait_for(lambda: open_rows(conn) == 0, 10)
    assert sent_by(tmp_path, "a", "b") == {to_b: "b", to_a: "a"}
    row = conn.execute("SELECT status, last_error FROM wa_outbox WHERE id = %s",
                       (nobody,)).fetchone()
    assert row == ("failed", f"no session in pool satu is a member of group {G_NONE}")


# ---------------------------------------------------------------------------------- hand-over
@pytest.mark.slow
def test_a_session_that_logs_out_hands_its_rows_to_the_pool(
        db_url: str, conn: Conn, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.pool")
    a = pooled(db_url, tmp_path, "a", f"{G_A},{G_BOTH}", WA_TRANSPORT_FAIL="logout:KELUAR",
               ADMIN_WHATSAPP=ADMIN)
    b = pooled(db_url, tmp_path, "b", G_BOTH, ADMIN_WHATSAPP=ADMIN)
    with gateway_thread(a), gateway_thread(b):
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_session WHERE pool = 'satu' AND groups_seen_at IS NOT NULL"
        ).fetchone() == (2,), 10)
        # ten people and two groups served by a; the first message logs a out (the fake
        # transport plays WhatsApp's logout at it)
        recipients = [person(n) for n in range(10)] + [G_A, G_BOTH]
        with conn.transaction():
            conn.cursor().executemany(
                "INSERT INTO wa_recipient_session (pool, recipient, session_name) "
                "VALUES ('satu', %s, 'a')", [(r,) for r in recipients])
            ids = {r: insert(conn, r, "KELUAR" if r == person(0) else f"pesan untuk {r}",
                             session="a") for r in recipients}
        assert conn.execute("SELECT count(*) FROM wa_outbox WHERE session_name = 'a'"
                            ).fetchone() == (12,)
        assert wait_for(lambda: conn.execute(
            "SELECT state FROM wa_session WHERE name = 'a'").fetchone() == ("logged_out",), 10)
        assert wait_for(lambda: open_rows(conn) == 0, 15)
    who = sent_by(tmp_path, "a", "b")
    people = {ids[person(n)] for n in range(10)}
    assert {i: who.get(i) for i in people} == dict.fromkeys(people, "b")  # the logout row too
    assert ids[G_BOTH] in who and who[ids[G_BOTH]] == "b"
    row = conn.execute("SELECT status, last_error FROM wa_outbox WHERE id = %s",
                       (ids[G_A],)).fetchone()
    assert row is not None and row[0] == "failed"
    assert row[1].startswith(f"no session in pool satu is a member of group {G_A}")
    assert "session a is logged out" in row[1]
    assigned = dict(conn.execute("SELECT recipient, session_name FROM wa_recipient_session "
                                 "WHERE recipient LIKE '62812%'").fetchall())
    assert set(assigned.values()) == {"b"}  # the assignments moved with the rows
    # one log line per hand-over with its counts (a row still being given back when the first
    # one ran follows in the next), one admin alert for the whole episode
    handed = [(getattr(r, "handed_over", 0), getattr(r, "hand_over_failed", 0))
              for r in caplog.records if "handed to the other" in r.getMessage()]
    assert handed and all(moved or failed for moved, failed in handed)
    assert (sum(m for m, _ in handed), sum(f for _, f in handed)) == (11, 1)
    alerts = conn.execute("SELECT content FROM wa_outbox WHERE type = 'admin_alert' "
                          "AND dedupe_key LIKE '%:pool_hand_over:%'").fetchall()
    assert len(alerts) == 1
    moved, failed = handed[0]
    assert alerts[0][0] == (
        f"[wa-gateway a] session a is logged out: {moved} pending message(s) moved to the "
        "other session(s) of pool satu" + (f"; {failed} failed: no other session of the pool "
                                           "is in their group" if failed else ""))


@pytest.mark.slow
def test_the_rows_of_a_session_no_gateway_serves_are_handed_over(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    b = pooled(db_url, tmp_path, "b", G_BOTH, WA_POOL_HANDOVER_SECONDS="30")
    # two more sessions of the pool, served by no gateway: c's last heartbeat is an hour old
    # (its gateway is gone), d's is fresh (its gateway restarts: not handed over)
    conn.execute("INSERT INTO wa_session (name, pool, state, heartbeat_at) VALUES "
                 "('c', 'satu', 'connected', now() - interval '1 hour'), "
                 "('d', 'satu', 'offline', now())")
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO wa_recipient_session (pool, recipient, session_name) "
            "VALUES ('satu', %s, %s)", [(person(1), "c"), (person(2), "c"), (person(3), "d")])
        to_c = [insert(conn, person(1), "satu", "c"), insert(conn, person(2), "dua", "c")]
        to_d = insert(conn, person(3), "tiga", "d")
    with gateway_thread(b):
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone() == (2,), 15)
    assert sent_by(tmp_path, "b") == dict.fromkeys(to_c, "b")
    assert conn.execute("SELECT status, session_name FROM wa_outbox WHERE id = %s",
                        (to_d,)).fetchone() == ("pending", "d")


@pytest.mark.slow
def test_a_paused_session_hands_over_its_people_and_keeps_its_groups_waiting(
        db_url: str, conn: Conn, tmp_path: Path) -> None:
    # a is paused (a rate limit) with rows already queued on it: three people and a group only
    # a is in
    conn.execute("INSERT INTO wa_session (name, pool, paused_until, pause_reason) "
                 "VALUES ('a', 'satu', now() + interval '1 hour', 'rate-overlimit')")
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO wa_recipient_session (pool, recipient, session_name) "
            "VALUES ('satu', %s, 'a')", [(person(n),) for n in range(3)] + [(G_A,)])
        people = [insert(conn, person(n), f"pesan {n}", "a") for n in range(3)]
        group = insert(conn, G_A, "untuk grup A", "a")
    assert conn.execute("SELECT count(*) FROM wa_outbox WHERE session_name = 'a'"
                        ).fetchone() == (4,)
    a = pooled(db_url, tmp_path, "a", f"{G_A},{G_BOTH}", ADMIN_WHATSAPP=ADMIN)
    b = pooled(db_url, tmp_path, "b", G_BOTH, ADMIN_WHATSAPP=ADMIN)
    with gateway_thread(b):
        assert wait_for(lambda: conn.execute(
            "SELECT groups_seen_at IS NOT NULL FROM wa_session WHERE name = 'b'"
        ).fetchone() == (True,), 10)
        with gateway_thread(a):
            assert wait_for(lambda: len(sends(tmp_path, "b")) >= 3, 15)
            time.sleep(2.5)  # more checks ran (a's own, b's of the others): still one alert
    assert {i: s for i, s in sent_by(tmp_path, "a", "b").items() if i in people or i == group} \
        == dict.fromkeys(people, "b")
    # the group no other session is in waits for a's pause to end (not failed)
    assert conn.execute("SELECT status, session_name FROM wa_outbox WHERE id = %s",
                        (group,)).fetchone() == ("pending", "a")
    alerts = [r[0] for r in conn.execute(
        "SELECT content FROM wa_outbox WHERE type = 'admin_alert' "
        "AND dedupe_key LIKE '%:pool_hand_over:%'").fetchall()]
    assert len(alerts) == 1
    assert alerts[0].startswith("[wa-gateway ")
    assert "session a is paused until " in alerts[0] and " WIB (rate-overlimit): 3 pending " \
        "message(s) moved to the other session(s) of pool satu" in alerts[0]


@pytest.mark.slow
def test_a_killed_gateways_rows_are_sent_by_the_other_process(db_url: str, conn: Conn,
                                                              tmp_path: Path) -> None:
    """Real processes: a is killed (-9) mid-drain; b hands over its pending rows once a's
    heartbeat is stale, and its rows left `sending` once their lease ran out. Every row is sent;
    only rows in flight at the kill may be sent twice (the resend policy, as without a pool)."""
    common = {"WA_POOL": POOL, "WA_FAKE_GROUPS": "none", "OUTBOX_LEASE_SECONDS": "5",
              "WA_HEARTBEAT_SECONDS": "1", "WA_POOL_HANDOVER_SECONDS": "3",
              "WA_CLAIM_BATCH": "5"}
    env_a = gateway_env(db_url, tmp_path / "a.jsonl", WA_SESSION_NAME="a",
                        WA_TRANSPORT_DELAY_SECONDS="0.05", **common)
    env_b = gateway_env(db_url, tmp_path / "b.jsonl", WA_SESSION_NAME="b", **common)
    proc_a = start_gateway(env_a, log_dir=tmp_path)
    proc_b = start_gateway(env_b, log_dir=tmp_path)
    try:
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM wa_session WHERE pool = 'satu' AND state = 'connected'"
        ).fetchone() == (2,), 20)
        with conn.transaction():
            conn.execute("INSERT INTO wa_recipient_session (pool, recipient, session_name) "
                         "SELECT 'satu', '62812' || lpad(g::text, 8, '0') || '@s.whatsapp.net', "
                         "'a' FROM generate_series(1, 60) AS g")
            conn.execute("INSERT INTO wa_outbox (recipient, content, type, session_name) "
                         "SELECT '62812' || lpad(g::text, 8, '0'), 'pesan ' || g, 'text', 'a' "
                         "FROM generate_series(1, 60) AS g")
        assert wait_for(lambda: len(read_jsonl(tmp_path / "a.jsonl")) >= 10, 15)
        proc_a.kill()
        proc_a.wait(5)
        assert wait_for(lambda: open_rows(conn) == 0, 30)
    finally:
        for proc in (proc_a, proc_b):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(10) == 0
    lines = sends(tmp_path, "a", "b")
    ids = Counter(int(line["outbox_id"]) for line in lines)
    rows = dict(conn.execute("SELECT id, status FROM wa_outbox").fetchall())
    assert set(rows.values()) == {"sent"}
    assert set(ids) == set(rows)  # every row sent
    by_b = {int(line["outbox_id"]) for line in read_jsonl(tmp_path / "b.jsonl")}
    assert len(by_b) >= 60 - len(read_jsonl(tmp_path / "a.jsonl"))
    assert sum(n - 1 for n in ids.values()) <= 5  # at most a claim's rows in flight
