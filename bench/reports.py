"""Report views: build times for 1 and 10 provinces of generated data, growth, plan shapes.

For each scale a fresh database gets ``tests.dev.sample_data`` for one Monday-Sunday week
(7 days of posts), then each report is built with its single query, exactly as a producer job
reads it (all rows fetched): ``daily_report_view`` for the Wednesday, ``weekly_report_view``
for the week and ``monthly_report_view`` for the month holding the week (so the monthly figure
covers those 7 days of posts). Growth = time(10 provinces) / time(1 province) against the
10x data; the plan table shows the top of each report's plan and where the loops are (per
post and per client-period, never one query per user).

Run alone with ``python -m bench.reports`` (``--quick``: 1 and 2 provinces, 2 days).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg

from bench.common import drop_db, fresh_db, median, table
from tests.dev.sample_data import generate

MONDAY = date(2026, 11, 16)


def _reports(days: int) -> list[tuple[str, str, date]]:
    """(name, the producer's query, its period): daily = the 3rd day of data (or the last)."""
    return [
        ("daily", "SELECT * FROM daily_report_view WHERE report_date = %s",
         MONDAY + timedelta(days=min(2, days - 1))),
        ("weekly", "SELECT * FROM weekly_report_view WHERE week_start = %s", MONDAY),
        ("monthly", "SELECT * FROM monthly_report_view WHERE month_start = %s",
         MONDAY.replace(day=1)),
    ]


DAILY_TARGET_S = 5.0


def _time_query(conn: psycopg.Connection[Any], sql: str, day: date,
                repeats: int) -> tuple[float, int, int]:
    """Median seconds of ``repeats`` runs (rows fetched), rows, distinct messages."""
    times = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(repeats):
        start = time.perf_counter()
        rows = conn.execute(sql, (day,)).fetchall()
        times.append(time.perf_counter() - start)
    messages = len({r[1] if isinstance(r[1], str) and ":" in r[1] else r for r in rows})
    return median(times), len(rows), messages


def _nodes(plan: dict[str, Any], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    yield depth, plan
    for child in plan.get("Plans", []):
        yield from _nodes(child, depth + 1)


def _label(node: dict[str, Any]) -> str:
    name = str(node["Node Type"])
    for key in ("Relation Name", "Function Name"):
        if key in node:
            return f"{name} {node[key]}"
    return name


def _plan_shape(conn: psycopg.Connection[Any], sql: str, day: date) -> tuple[str, str, str]:
    """(top nodes, the most repeated nodes with their loops, post scans with their filter)."""
    explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + sql
    row = conn.execute(explain, (day,)).fetchone()
    assert row is not None
    plan = row[0][0]["Plan"]
    nodes = list(_nodes(plan))
    top = " > ".join(_label(n) for d, n in nodes if d <= 2)[:120]
    loops: Counter[str] = Counter()
    for _, node in nodes:
        if node.get("Actual Loops", 1) > 1:
            label = _label(node)
            loops[label] = max(loops[label], int(node["Actual Loops"]))
    repeated = ", ".join(f"{k} x{v}" for k, v in loops.most_common(3)) or "none"
    scans = [n for _, n in nodes if n.get("Relation Name") in ("insta_post", "tiktok_post")]
    filtered = sum(1 for n in scans if "Filter" in n or "Index Cond" in n)
    return top, repeated, f"{filtered}/{len(scans)} filtered on the period"


def _scale(provinces: int, days: int, repeats: int) -> dict[str, Any]:
    url = fresh_db("reports")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            stats = generate(conn, provinces=provinces, start=MONDAY, days=days, seed=0)
            result: dict[str, Any] = {"stats": stats}
            for name, sql, day in _reports(days):
                conn.execute(sql.replace("SELECT *", "SELECT count(*)"),
                             (day,)).fetchone()  # warm-up
                result[name] = _time_query(conn, sql, day, repeats)
                result[f"{name}_plan"] = _plan_shape(conn, sql, day)
            return result
    finally:
        drop_db(url)


def run(quick: bool = False) -> str:
    small, large = (1, 2) if quick else (1, 10)
    days = 2 if quick else 7
    results = {p: _scale(p, days, 1 if quick else 2) for p in (small, large)}
    load_rows = []
    for p, r in results.items():
        s = r["stats"]
        load_rows.append([p, s.clients, s.users, s.days, s.ig_posts + s.tiktok_posts,
                          s.like_entries + s.comment_entries, round(s.seconds, 1)])
    out = [table("Sample data (tests.dev.sample_data, COPY)",
                 ["provinces", "clients", "users", "days", "posts", "like+comment entries",
                  "load s"], load_rows)]
    users_ratio = results[large]["stats"].users / results[small]["stats"].users
    rows = []
    for name, _, day in _reports(days):
        t_small, _, _ = results[small][name]
        t_large, n_rows, _ = results[large][name]
        verdict = ""
        if name == "daily" and not quick:
            verdict = "yes" if t_large < DAILY_TARGET_S else "NO"
        rows.append([name, str(day), round(t_small, 2), round(t_large, 2), n_rows,
                     round(t_large / t_small, 1), round(users_ratio, 1), verdict])
    out.append(table(
        f"Report build time, one query each (median, s; {days} days of posts)",
        ["report", "period", f"{small} prov s", f"{large} prov s", f"rows at {large}",
         "growth", "data growth", f"daily < {DAILY_TARGET_S:.0f} s"], rows))
    plan_rows = []
    for name, _, _ in _reports(days):
        top, repeated, scans = results[large][f"{name}_plan"]
        plan_rows.append([name, top, repeated, scans])
    out.append(table(f"Plan shape at {large} provinces (EXPLAIN ANALYZE of the one query)",
                     ["report", "top nodes", "most repeated nodes (loops)", "post scans"],
                     plan_rows))
    out.append("Each report is one SQL statement. Like/comment lists are read once per post inside "
               "cicero_*_done_by_handle (called once per client and period); the only per-user "
               "node is a Result (the handle lookup in that jsonb), never a query per user.\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--quick", action="store_true")
    print(run(quick=parser.parse_args().quick))


if __name__ == "__main__":
    main()
