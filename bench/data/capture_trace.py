"""Capture a compact day trace of the producers' output from the ``make demo`` database.

Usage (after ``make demo``)::

    .venv/bin/python -m bench.data.capture_trace bench/data/demo-day-today.jsonl.gz

One JSON object per ``wa_outbox`` row, in id order: the Jakarta slot of the producer run that
queued it (matched by transaction: a row's ``created_at`` is its transaction's start, the run's
``started_at`` the first ``clock_timestamp()`` after it), the job, the type, an alias of the
recipient (``g<n>`` a group, ``p<n>`` a personal chat: the sample numbers are not kept), whether
it carries an attachment, the content length, the dedupe key with its recipient replaced by the
alias, and, when the schema has them (revision 0012), the collapse key, the priority and the
expiry as seconds after the slot. The first line is a header with the day and the row count.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

JAKARTA = "Asia/Jakarta"


def _columns(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'wa_outbox'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def capture(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cols = _columns(conn)
        extra = ", ".join(
            f"o.{c}" if c in cols else f"NULL AS {c}"
            for c in ("collapse_key", "priority", "expires_at", "attachment_name"))
        expiry = ("EXTRACT(EPOCH FROM (o.expires_at - run.slot))::integer"
                  if "expires_at" in cols else "NULL::integer")
        rows = conn.execute(
            f"""
            SELECT o.id, o.type, o.recipient, o.dedupe_key, length(o.content),
                   (o.attachment IS NOT NULL OR o.attachment_name IS NOT NULL) AS has_attachment,
                   run.job, (run.slot AT TIME ZONE '{JAKARTA}') AS slot_local,
                   {expiry} AS expires_after_s,
                   {extra}
              FROM wa_outbox o
              LEFT JOIN LATERAL (
                    SELECT r.job, r.slot FROM producer_run r
                     WHERE r.started_at >= o.created_at AND r.enqueued > 0
                     ORDER BY r.started_at LIMIT 1) run ON true
             ORDER BY o.id
            """
        ).fetchall()
    aliases: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for (rid, typ, recipient, key, length, has_att, job, slot, exp_s,
         collapse, prio, _exp, att_name) in rows:
        if recipient not in aliases:
            kind = "g" if str(recipient).endswith("@g.us") else "p"
            aliases[recipient] = f"{kind}{sum(1 for a in aliases.values() if a[0] == kind) + 1}"
        alias = aliases[recipient]
        rec: dict[str, Any] = {
            "id": rid, "slot": slot.isoformat(timespec="minutes") if slot else None,
            "job": job, "type": typ, "to": alias, "att": bool(has_att),
            "len": int(length or 0),
            "key": str(key).replace(recipient, alias) if key else None,
        }
        if att_name is not None:
            rec["att_name"] = att_name
        if collapse is not None:
            rec["collapse"] = str(collapse).replace(recipient, alias)
        if prio is not None:
            rec["prio"] = int(prio)
        if exp_s is not None:
            rec["expires_after_s"] = int(exp_s)
        out.append(rec)
    return out


def write(path: Path, rows: Sequence[dict[str, Any]], source: str) -> None:
    days = sorted({r["slot"][:10] for r in rows if r["slot"]})
    header = {"trace": "cicero demo day", "source": source, "rows": len(rows),
              "slot_days": days, "unmatched": sum(1 for r in rows if r["slot"] is None)}
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(json.dumps(header) + "\n")
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    return lines[0], lines[1:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.data.capture_trace",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--url", default="", help="database URL (default: the demo database "
                        "cicero_demo on the embedded server of make demo)")
    args = parser.parse_args(argv)
    url = args.url
    if not url:
        from tests.dev import devdb
        url = devdb.with_database(devdb.server_url("demo", env_var=None), "cicero_demo")
    rows = capture(url)
    write(args.out, rows, "make demo (cicero_demo)")
    unmatched = sum(1 for r in rows if r["slot"] is None)
    print(f"{len(rows)} rows -> {args.out} ({unmatched} without a producer run)")
    return 0 if rows and not unmatched else 1


if __name__ == "__main__":
    sys.exit(main())
