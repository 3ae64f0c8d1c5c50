"""Gateway benchmark: end-to-end latency, drain throughput against the bare SQL drain (same run,
same server), and the gateway process's memory.

* latency: a gateway subprocess (jsonl transport, pacing off) waits on NOTIFY; rows are INSERTed
  one per statement at a steady rate; latency = the transport call's timestamp (jsonl ``time``)
  minus the moment the INSERT was issued.
* drain: N rows already queued, the gateway (log transport, pacing off) drains them; rate from
  the rows' own ``claimed_at``/``finished_at``; baseline ``bench.common.bare_drain`` with the
  same batch size and one worker.
* memory: RSS of the gateway process idle and its peak (VmHWM) after the drain, for the log
  transport and for the neonize transport (offline: neonize loaded, store opened, no WhatsApp).

Run alone with ``python -m bench.gateway`` (``--quick`` for a smaller run).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.common import bare_drain, drop_db, fresh_db, percentile, table
from outbox import engine
from tests.dev import REPO_ROOT

BATCH = 100  # the foundation bench's drain batch; WA_CLAIM_BATCH for the gateway
RECIPIENTS = 1000


def _env(url: str, transport: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OUTBOX_", "GATEWAY_", "WA_", "ADMIN_"))}
    env.update({"DATABASE_URL": url, "WA_TRANSPORT": transport, "WA_PACING": "off",
                "WA_CLAIM_BATCH": str(BATCH), "WA_SESSION_NAME": "main", "LOG_LEVEL": "info"})
    env.update(extra)
    return env


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gateway"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _wait_state(url: str, states: tuple[str, ...], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT state FROM wa_session WHERE name = 'main'").fetchone()
            if row is not None and row[0] in states:
                return
            time.sleep(0.05)
    raise RuntimeError(f"the gateway did not reach {states}")


def _memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def _queue(url: str, n: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO wa_outbox (recipient, content, type) "
            "SELECT '62812' || lpad((g %% %s)::text, 8, '0'), 'pesan ' || g, 'text' "
            "FROM generate_series(1, %s) AS g", (RECIPIENTS, n))
        conn.execute("ANALYZE wa_outbox")


def _wait_sent(url: str, n: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM wa_outbox WHERE status = 'sent'").fetchone()
            if row is not None and row[0] >= n:
                return
            time.sleep(0.05)
    raise RuntimeError("the drain did not finish")


def latency(rate: float, seconds: float) -> dict[str, float]:
    url = fresh_db("gwlat")
    with tempfile.TemporaryDirectory() as tmp:
        sends = Path(tmp) / "sends.jsonl"
        proc = _start(_env(url, f"jsonl:{sends}"))
        try:
            _wait_state(url, ("connected",))
            n = int(rate * seconds)
            issued: dict[int, float] = {}
            with psycopg.connect(url, autocommit=True) as conn:
                for i in range(20):  # warm-up, not measured
                    conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                                 "VALUES (%s, 'warm-up', 'text')", (f"0813{i:08d}",))
                time.sleep(0.5)
                start = time.perf_counter() + 0.05
                for i in range(n):
                    target = start + i / rate
                    pause = target - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    at = time.time()
                    row = conn.execute(
                        "INSERT INTO wa_outbox (recipient, content, type) "
                        "VALUES (%s, %s, 'text') RETURNING id",
                        (f"0812{i % RECIPIENTS:08d}", f"bench {i}")).fetchone()
                    assert row is not None
                    issued[row[0]] = at
            _wait_sent(url, n + 20)
        finally:
            _stop(proc)
        lines = [json.loads(x) for x in sends.read_text().splitlines()]
    drop_db(url)
    lat = [(datetime.fromisoformat(d["time"]).timestamp() - issued[d["outbox_id"]]) * 1000
           for d in lines if d["outbox_id"] in issued]
    return {"n": len(lat), "p50": percentile(lat, 50), "p90": percentile(lat, 90),
            "p99": percentile(lat, 99), "max": max(lat)}


def _round_rate(url: str, first_id: int) -> tuple[float, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), extract(epoch FROM max(finished_at) - min(claimed_at)), max(id)"
            " FROM wa_outbox WHERE id > %s", (first_id,)).fetchone()
    assert row is not None
    return row[0] / float(row[1]), int(row[2])


def engine_drain(url: str, n: int) -> float:
    """The engine's claim + settle loop alone (no transport, no gateway), same batch."""
    _queue(url, n)
    with psycopg.connect(url, autocommit=True) as conn:
        engine.register_session(conn, "main")
        start = time.perf_counter()
        done = 0
        while True:
            batch = engine.claim(conn, session="main", worker="bench", limit=BATCH,
                                 lease=timedelta(seconds=120))
            if not batch:
                break
            engine.mark_sent_many(conn, [engine.Sent(m.id, m.claim_token, f"E{m.id}")
                                         for m in batch])
            done += len(batch)
        rate = done / (time.perf_counter() - start)
        conn.execute("DELETE FROM wa_outbox")
        conn.execute("VACUUM ANALYZE wa_outbox")
    return rate


def drain(n: int, repeats: int) -> dict[str, Any]:
    """Alternate bare, engine-only and gateway drains (one gateway process); medians."""
    url = fresh_db("gwdrain")
    bare_url = fresh_db("gwbare")
    engine_url = fresh_db("gwengine")
    proc = _start(_env(url, "log"))
    bare: list[float] = []
    engine_rates: list[float] = []
    rates: list[float] = []
    try:
        _wait_state(url, ("connected",))
        time.sleep(1.0)
        idle_rss, _ = _memory(proc.pid)
        last_id = 0
        for _ in range(repeats):
            bare.append(bare_drain(bare_url, n, BATCH, 1, RECIPIENTS))
            engine_rates.append(engine_drain(engine_url, n))
            _queue(url, n)
            _wait_sent(url, n)
            rate, last_id = _round_rate(url, last_id)
            rates.append(rate)
            with psycopg.connect(url, autocommit=True) as conn:  # keep the hot set small
                conn.execute("DELETE FROM wa_outbox WHERE status = 'sent'")
                conn.execute("VACUUM ANALYZE wa_outbox")
        _, peak = _memory(proc.pid)
    finally:
        code = _stop(proc)
    drop_db(url)
    drop_db(bare_url)
    drop_db(engine_url)
    return {"idle_rss": idle_rss, "peak_rss": peak, "rates": rates, "bare": bare,
            "rate": statistics.median(rates), "bare_rate": statistics.median(bare),
            "engine_rate": statistics.median(engine_rates), "exit": code}


def neonize_memory() -> dict[str, float]:
    """The neonize transport offline: neonize loaded, its store opened, no WhatsApp."""
    url = fresh_db("gwneonize")
    proc = _start(_env(url, "neonize", WA_PROXY="socks5://127.0.0.1:9"))
    try:
        _wait_state(url, ("disconnected",))
        time.sleep(1.0)
        rss, peak = _memory(proc.pid)
    finally:
        code = _stop(proc)
    drop_db(url)
    return {"idle_rss": rss, "peak_rss": peak, "exit": code}


def run(quick: bool = False) -> str:
    n = 5000 if quick else 20000
    repeats = 1 if quick else 3
    seconds = 3.0 if quick else 10.0
    out: list[str] = []

    lat = latency(200.0, seconds)
    out.append(table(
        f"Gateway end-to-end latency: INSERT -> transport call, steady 200 msg/s, pacing off "
        f"({lat['n']:.0f} messages)",
        ["p50 ms", "p90 ms", "p99 ms", "max ms", "target"],
        [[lat["p50"], lat["p90"], lat["p99"], lat["max"], "p50 < 5, p99 < 15"]]))

    gw = drain(n, repeats)
    out.append(table(
        f"Gateway drain throughput, log transport, pacing off ({n:,} queued, batch {BATCH}, "
        f"1 process; median of {repeats}, bare and gateway runs alternated)",
        ["gateway msg/s", "bare SQL drain msg/s", "gateway / bare", "target",
         "engine loop alone msg/s", "engine / bare"],
        [[gw["rate"], gw["bare_rate"], gw["rate"] / gw["bare_rate"], ">= 0.5",
          gw["engine_rate"], gw["engine_rate"] / gw["bare_rate"]]]))

    nz = neonize_memory()
    out.append(table(
        "Gateway memory (RSS of the process)",
        ["process", "idle MB", "peak MB", "target"],
        [["log transport (peak after the drains)", gw["idle_rss"], gw["peak_rss"], "< 120"],
         ["neonize transport, offline (store open, not connected)", nz["idle_rss"],
          nz["peak_rss"], "< 120"]]))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(run(quick=args.quick))


if __name__ == "__main__":
    main()
