"""``make chaos``: faults injected into real gateway and producer processes on a real PostgreSQL,
every result audited from the database and the transport's own send log (issue 14).

A PostgreSQL server of its own (stopped and started by the run), gateways under a
supervisor-like restart loop with supervisord's rules (restart after exit 1 and 6, not after 0,
2 and 4), the jsonl transport (one file per process start, a line per send written before the
send returns), pacing off with ``WA_CLAIM_BATCH`` = ``CHUNK`` (in flight: at most two chunks).
Per fault: lost (must be 0), duplicates (at most the rows in flight at each fault), the longest
stall of the send log during the phase, and the time from the end of the
fault to the next send. ``--short`` is the variant the test suite runs (tests/test_chaos.py).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.dev import REPO_ROOT
from tests.gateway_helpers import ThrowawayServer, gateway_env, throwaway_server

EXPECTED_EXITS = {0, 2, 4}  # deploy/supervisord.conf: exitcodes = 0,2,4
CLEAN_DB = "chaos_clean"  # a copy of the fresh database: the clean run of the producer slot
PRODUCER_SLOT = ("complaint_response", "2026-11-23 10:05")
# WA_CLAIM_BATCH of the chaos gateways: with pacing off the rows sent but not settled at any
# moment are at most two chunks of it, so what a kill may repeat (docs/concepts/delivery.md)
CHUNK = 10
IN_FLIGHT = 2 * CHUNK


@dataclass
class Result:
    fault: str
    rows: int
    lost: int
    duplicates: int
    allowed_duplicates: int
    longest_stall: float
    recovery: float | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates <= self.allowed_duplicates

    def line(self) -> str:
        rec = "-" if self.recovery is None else f"{self.recovery:.1f} s"
        return (f"| {self.fault} | {self.rows} | {self.lost} | {self.duplicates} "
                f"(<= {self.allowed_duplicates}) | {self.longest_stall:.1f} s | {rec} | "
                f"{'ok' if self.ok else 'FAILED'} | {self.note} |")


class Supervised:
    """One gateway program under a supervisor-like loop (supervisord's restart rules)."""

    def __init__(self, name: str, url: str, work: Path, **env: str) -> None:
        self.name = name
        self.url = url
        self.work = work
        self.env = env
        self.next_env: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.exits: list[int] = []
        self.starts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> Supervised:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.starts += 1
            extra, self.next_env = self.next_env, {}
            env = gateway_env(self.url, self.work / f"sends-{self.name}-{self.starts}.jsonl",
                              **{**self.env, **extra})
            with (self.work / f"{self.name}.log").open("ab") as out:
                self.proc = subprocess.Popen([sys.executable, "-m", "gateway"], env=env,
                                             cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
            code = self.proc.wait()
            self.exits.append(code)
            if code in EXPECTED_EXITS or self._stop.is_set():
                return
            time.sleep(0.2)

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        self._stop.set()
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        self._thread.join(30)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()


class SendLog:
    """The transport's log (every sends-*.jsonl), sampled every 50 ms for stalls."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.work.glob("sends-*.jsonl")):
            out += [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        return out

    def count(self) -> int:
        return sum(p.read_bytes().count(b"\n") for p in self.work.glob("sends-*.jsonl"))

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append((time.monotonic(), self.count()))

    def first_send_after(self, t: float) -> float | None:
        base = next((n for at, n in self.samples if at >= t), None)
        if base is None:
            return None
        return next((at - t for at, n in self.samples if at > t and n > base), None)

    def longest_stall(self, start: float, end: float) -> float:
        changes = [start]
        previous = None
        for at, n in self.samples:
            if start <= at <= end and n != previous:
                changes.append(at)
            previous = n
        changes.append(end)
        return max(b - a for a, b in itertools.pairwise(changes))

    def close(self) -> None:
        self._stop.set()


def insert(url: str, n: int, tag: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "INSERT INTO wa_outbox (recipient, content, type) "
            "SELECT '62813' || lpad(g::text, 8, '0'), %s || g, 'text' "
            "FROM generate_series(1, %s) g RETURNING id", (tag + "-", n)).fetchall()
    return [int(r[0]) for r in rows]


def sent(url: str, ids: list[int]) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM wa_outbox WHERE id = ANY(%s) "
                               "AND status = 'sent'", (ids,)).fetchone()
            return int(row[0]) if row else 0
    except psycopg.OperationalError:
        return -1


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def audit(log: SendLog, url: str, fault: str, ids: list[int], start: float, fault_end: float,
          allowed: int, note: str = "", drain_timeout: float = 120.0) -> Result:
    wait(lambda: sent(url, ids) == len(ids), drain_timeout)
    end = time.monotonic()
    counts = collections.Counter(int(s["outbox_id"]) for s in log.lines())
    # lost: never in the transport's log, or not settled as sent in the database
    lost = max(sum(1 for i in ids if counts[i] == 0), len(ids) - max(sent(url, ids), 0))
    duplicates = sum(counts[i] - 1 for i in ids if counts[i] > 1)
    return Result(fault, len(ids), lost, duplicates, allowed,
                  log.longest_stall(start, end), log.first_send_after(fault_end), note)


@dataclass
class Chaos:
    short: bool
    work: Path
    results: list[Result] = field(default_factory=list)

    def n(self, full: int, short: int) -> int:
        return short if self.short else full

    def run(self) -> list[Result]:
        with throwaway_server() as server, self._gateway(server) as gw:
            log = SendLog(self.work)
            try:
                self.kill9(server, gw, log)
                self.db_stop(server, log)
                self.backend_kill(server, log)
                self.pool_exhaustion(server, gw, log)
                self.hang(server, gw, log)
                self.poison(server, gw, log)
                gw = self.sigstop(server, gw, log)
                self.db_stop_producers(server)
                self.racing_producers(server)
            finally:
                log.close()
                gw.stop()
        return self.results

    @contextmanager
    def _gateway(self, server: ThrowawayServer) -> Iterator[Supervised]:
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write("max_connections = 30\nsuperuser_reserved_connections = 0\n")
        server.stop("fast")
        server.start()
        with psycopg.connect(server.url, autocommit=True) as conn:  # before anyone uses it
            conn.execute(f"CREATE DATABASE {CLEAN_DB} TEMPLATE postgres")
        gw = Supervised("a", server.url, self.work, WA_TRANSPORT_DELAY_SECONDS="0.01",
                        WA_HEARTBEAT_SECONDS="1", WA_TAKEOVER_SECONDS="3",
                        OUTBOX_LEASE_SECONDS="5", WA_CLAIM_BATCH=str(CHUNK)).start()
        try:
            yield gw
        finally:
            gw.stop()

    def kill9(self, server: ThrowawayServer, gw: Supervised, log: SendLog) -> None:
        kills = self.n(30, 3)
        ids = insert(server.url, self.n(3000, 300), "kill9")
        start = time.monotonic()
        done = 0
        while done < kills and sent(server.url, ids) < len(ids):
            wait(lambda: log.count() > 0, 10)
            time.sleep(0.5)
            gw.signal(signal.SIGKILL)
            done += 1
        self.results.append(audit(log, server.url, f"kill -9 x{done} during a drain", ids,
                                  start, time.monotonic(), allowed=IN_FLIGHT * done))

    def db_stop(self, server: ThrowawayServer, log: SendLog) -> None:
        down = self.n(300, 4)
        ids = insert(server.url, self.n(2000, 300), "dbstop")
        start = time.monotonic()
        wait(lambda: sent(server.url, ids) > len(ids) // 5, 30)
        server.stop()
        time.sleep(down)
        server.start()
        back = time.monotonic()
        self.results.append(audit(log, server.url, f"PostgreSQL stopped {down} s mid-drain",
                                  ids, start, back, allowed=2))

    def backend_kill(self, server: ThrowawayServer, log: SendLog) -> None:
        seconds = self.n(60, 4)
        ids = insert(server.url, self.n(3000, 400), "bkill")
        start = time.monotonic()
        kills = 0
        with psycopg.connect(server.url, autocommit=True) as conn:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name LIKE 'wa-gateway%'")
                kills += 1
                time.sleep(0.5)
        self.results.append(audit(log, server.url,
                                  f"backends killed twice a second for {seconds} s", ids, start,
                                  time.monotonic(), allowed=2 * kills))

    def pool_exhaustion(self, server: ThrowawayServer, gw: Supervised, log: SendLog) -> None:
        ids = insert(server.url, self.n(1000, 200), "pool")
        start = time.monotonic()
        wait(lambda: sent(server.url, ids) > 20, 20)
        hogs: list[psycopg.Connection[Any]] = []
        gw.signal(signal.SIGKILL)  # its restart finds no free connection
        while True:
            try:
                hogs.append(psycopg.connect(server.url, autocommit=True, connect_timeout=2))
            except psycopg.OperationalError:
                break
        time.sleep(self.n(20, 3))
        for hog in hogs:
            hog.close()
        back = time.monotonic()
        self.results.append(audit(log, server.url, f"connections exhausted ({len(hogs)} held)",
                                  ids, start, back, allowed=IN_FLIGHT))  # one kill -9

    def hang(self, server: ThrowawayServer, gw: Supervised, log: SendLog) -> None:
        gw.next_env = {"WA_TRANSPORT_DELAY_SECONDS": "60", "WA_SEND_TIMEOUT_SECONDS": "2"}
        exits = len(gw.exits)
        gw.signal(signal.SIGKILL)  # the next start hangs in its first send
        ids = insert(server.url, self.n(500, 100), "hang")
        start = time.monotonic()
        wait(lambda: 6 in gw.exits[exits:], 60)
        ended = time.monotonic()
        self.results.append(audit(log, server.url, "a send that hangs (watchdog, exit 6)", ids,
                                  start, ended, allowed=1,
                                  note=f"exits {gw.exits[exits:]}"))

    def poison(self, server: ThrowawayServer, gw: Supervised, log: SendLog) -> None:
        """A row whose send kills the process every time (``WA_TRANSPORT_FAIL=exit:...``, exit
        1 in the middle of the send): it must fail alone after its attempts while every row
        queued with it is sent; the first death may repeat the rows of its chunk sent before it,
        later ones nothing (a row on its second attempt is sent alone)."""
        exits = len(gw.exits)
        gw.env = {**gw.env, "WA_TRANSPORT_FAIL": "exit:POISON-KILLS-THE-PROCESS"}
        gw.signal(signal.SIGKILL)  # restarts with the rule
        ids = insert(server.url, self.n(1000, 100), "poison-before")
        bad = insert(server.url, 1, "POISON-KILLS-THE-PROCESS")[0]
        ids += insert(server.url, self.n(1000, 100), "poison-after")
        start = time.monotonic()

        def poison_state() -> tuple[str, int]:
            with psycopg.connect(server.url) as conn:
                row = conn.execute("SELECT status, attempts FROM wa_outbox WHERE id = %s",
                                   (bad,)).fetchone()
            return (str(row[0]), int(row[1])) if row else ("missing", 0)

        wait(lambda: poison_state()[0] == "failed" and sent(server.url, ids) == len(ids), 120)
        ended = time.monotonic()
        deaths = gw.exits[exits:].count(1)
        status, attempts = poison_state()
        result = audit(log, server.url, "a row that kills the process (exit 1) at every send",
                       ids, start, ended, allowed=IN_FLIGHT + deaths,
                       note=f"poison row {status} after {attempts} attempts; "
                            f"{deaths} deaths (exit 1)")
        if status != "failed":
            result.lost += 1  # the poison row must end failed, never pending forever
        gw.env = {k: v for k, v in gw.env.items() if k != "WA_TRANSPORT_FAIL"}
        self.results.append(result)

    def sigstop(self, server: ThrowawayServer, gw: Supervised, log: SendLog) -> Supervised:
        ids = insert(server.url, self.n(2000, 400), "sigstop")
        start = time.monotonic()
        wait(lambda: sent(server.url, ids) > 20, 20)
        gw.signal(signal.SIGSTOP)
        frozen = time.monotonic()
        time.sleep(6)  # beyond the lease (5 s) and the takeover threshold (3 s)
        b = Supervised("b", server.url, self.work, WA_TRANSPORT_DELAY_SECONDS="0.01",
                       WA_HEARTBEAT_SECONDS="1", WA_TAKEOVER_SECONDS="3",
                       OUTBOX_LEASE_SECONDS="5", WA_CLAIM_BATCH=str(CHUNK)).start()
        wait(lambda: any(p.stat().st_size for p in self.work.glob("sends-b-*.jsonl")), 30)
        gw.signal(signal.SIGCONT)
        wait(lambda: bool(gw.exits) and gw.exits[-1] == 4, 30)
        result = audit(log, server.url, "SIGSTOP beyond the lease, then SIGCONT", ids, start,
                       frozen, allowed=IN_FLIGHT,
                       note=f"old owner exits {gw.exits[-1:]} (4 = fenced)")
        gw.stop()
        self.results.append(result)
        return b

    def db_stop_producers(self, server: ThrowawayServer) -> None:
        """PostgreSQL stopped while a real ``producers run`` is inside its slot's transaction
        (replies to complaints written, the next one waiting), started again after a while;
        the run is retried like a supervisor would (every 2 s while it exits 3). Audited: the
        slot's rows exist exactly once and equal a clean run of the same slot on a copy of the
        fresh database; one ``producer_run`` row; the crashed run exited 3 with one line."""
        down = self.n(300, 3)
        n = self.n(50, 10)
        clean_url = server.url.rsplit("/", 1)[0] + "/" + CLEAN_DB
        clean_ids = _complaints(clean_url, n)
        clean = _producers_run(clean_url)
        assert clean.returncode == 0, clean.stderr
        expected = _slot_rows(clean_url, clean_ids)
        ids = _complaints(server.url, n)
        # a blocker holds the reply key of the middle complaint: the run writes the replies
        # before it, then waits inside its transaction
        blocker = psycopg.connect(server.url)
        blocker.execute("INSERT INTO wa_outbox (recipient, content, type, dedupe_key) "
                        "VALUES ('081234567890', 'blocker', 'text', %s)",
                        (f"complaint:{ids[n // 2]}",))
        env = _producers_env(server.url)
        first = subprocess.Popen(_producers_args(), cwd=REPO_ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        with psycopg.connect(server.url, autocommit=True) as conn:
            waiting = wait(lambda: conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'cicero-producers' AND wait_event_type = 'Lock'").fetchone() == (1,), 60)
        server.stop()  # immediate: the slot's transaction dies with the server
        blocker.close()
        _, err = first.communicate(timeout=60)
        codes = [first.returncode]
        lines = err.strip().splitlines()
        stopped_at = time.monotonic()
        back = stopped_at + down
        while True:  # the supervisor-like retry, every 2 s while the database is away
            if time.monotonic() >= back and not server.running():
                server.start()
                back = time.monotonic()
            retry = subprocess.run(_producers_args(), cwd=REPO_ROOT, env=env, timeout=120,
                                   capture_output=True, text=True, check=False)
            codes.append(retry.returncode)
            if retry.returncode != 3 or len(codes) > 400:
                break
            time.sleep(2)
        done = time.monotonic()
        got = _slot_rows(server.url, ids)
        with psycopg.connect(server.url) as conn:
            row = conn.execute(
                "SELECT count(*), extract(epoch FROM now() - max(finished_at))::float8 "
                "FROM producer_run WHERE job = %s AND status = 'done' "
                "AND slot = (%s::timestamp AT TIME ZONE 'Asia/Jakarta')", PRODUCER_SLOT
            ).fetchone()
            asked = time.monotonic()
        slot_runs = int(row[0]) if row else 0
        # recovery: from the server's return to the commit of the slot (its finished_at)
        committed = asked - float(row[1]) if row and row[1] is not None else done
        lost = sum((expected - got).values()) + (codes[-1] not in (0, 1))  # 1: already done
        duplicates = sum((got - expected).values()) + max(slot_runs - 1, 0)
        exits = codes if len(codes) <= 6 else [*codes[:3], "...", *codes[-2:]]
        line = lines[0][:48] if lines else ""
        note = (f"{'waited in its slot; ' if waiting else 'NOT caught mid-slot; '}exits "
                f"{exits}; the crashed run: {len(lines)} line ({line}...); "
                f"{slot_runs} producer_run row; {sum(got.values())} rows = clean run "
                f"{sum(expected.values())}")
        self.results.append(Result(f"PostgreSQL stopped {down} s mid-producer-run", len(ids),
                                   lost, duplicates, 0, committed - start,
                                   max(committed - back, 0.0), note))

    def racing_producers(self, server: ThrowawayServer) -> None:
        with psycopg.connect(server.url, autocommit=True) as conn:
            made = conn.execute("INSERT INTO complaint_queue (complainant, response_template) "
                                "VALUES ('081234567890', 'Terima kasih') RETURNING id").fetchone()
        assert made is not None
        env = {k: v for k, v in os.environ.items() if not k.endswith("_CRON")}
        env.update({"DATABASE_URL": server.url, "LOG_LEVEL": "warning"})
        args = [sys.executable, "-m", "producers", "run", "complaint_response", "--at",
                "2026-11-23 10:00"]
        procs = [subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(3)]
        codes = sorted(p.wait(120) for p in procs)
        with psycopg.connect(server.url) as conn:
            row = conn.execute("SELECT count(*) FROM wa_outbox WHERE dedupe_key = %s",
                               (f"complaint:{made[0]}",)).fetchone()
        queued = int(row[0]) if row else 0
        self.results.append(Result("3 producers racing for one slot", 1, 1 - min(queued, 1),
                                   max(queued - 1, 0), 0, 0.0, None, note=f"exits {codes}"))


def _producers_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CRON")}
    env.update({"DATABASE_URL": url, "LOG_LEVEL": "warning"})
    return env


def _producers_args() -> list[str]:
    job, slot = PRODUCER_SLOT
    return [sys.executable, "-m", "producers", "run", job, "--at", slot]


def _producers_run(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_producers_args(), cwd=REPO_ROOT, env=_producers_env(url), timeout=120,
                          capture_output=True, text=True, check=False)


def _complaints(url: str, n: int) -> list[int]:
    """``n`` pending complaints with a reply template (each answered by one outbox row)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "INSERT INTO complaint_queue (complainant, response_template) "
            "SELECT '0812' || lpad(g::text, 8, '0'), 'Terima kasih, laporan ' || g "
            "FROM generate_series(1, %s) g RETURNING id", (n,)).fetchall()
    return [int(r[0]) for r in rows]


def _slot_rows(url: str, complaint_ids: list[int]) -> collections.Counter[tuple[str, ...]]:
    """The outbox rows answering these complaints, as (dedupe key with the complaint's position
    for its id, recipient, type, content): comparable across two databases."""
    position = {cid: str(i) for i, cid in enumerate(complaint_ids)}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT o.dedupe_key, o.recipient, o.type, o.content FROM wa_outbox AS o "
            "WHERE o.dedupe_key LIKE 'complaint:%%' AND split_part(o.dedupe_key, ':', 2)::bigint"
            " = ANY(%s)", (complaint_ids,)).fetchall()
    out: collections.Counter[tuple[str, ...]] = collections.Counter()
    for key, recipient, kind, content in rows:
        parts = str(key).split(":")
        parts[1] = position[int(parts[1])]
        out[(":".join(parts), str(recipient), str(kind), str(content))] += 1
    return out


def report(results: list[Result]) -> str:
    head = ("| fault | rows | lost | duplicates | longest stall | to the next send after "
            "the fault | verdict | note |\n|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(r.line() for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the test suite's short variant")
    parser.add_argument("--work", type=Path, default=None, help="where the logs go")
    args = parser.parse_args(argv)
    import tempfile

    work = args.work or Path(tempfile.mkdtemp(prefix="wa-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    results = Chaos(args.short, work).run()
    text = report(results)
    print(text)
    print(f"logs: {work}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
