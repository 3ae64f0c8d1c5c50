"""`make bench`: every benchmark section, each with its baseline measured in the same run.

Sections: engine (enqueue, claim+settle, claim latency), gateway (end-to-end latency, drain,
RSS), reports (report build times, plan shapes), capacity (a week of the demo's messages through
the pacing on a virtual clock: sends, lags, numbers needed; today's behaviour beside it).
``--only engine,reports`` picks sections;
``--quick`` runs smaller sizes. The output is printed and saved to bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

SECTIONS = ("engine", "gateway", "reports", "ingestion", "capacity")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections: " + ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes: a smoke run, its ratios are dominated by warm-up")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    header = (f"# Benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
              f"Python {platform.python_version()} on {platform.machine()}, "
              f"{_cpus()} CPU(s). Ratios compare with a baseline measured in this same run.\n")
    print(header, flush=True)
    parts = [header]
    failed = False
    for name in chosen:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            text = module.run(quick=args.quick)
        except Exception:  # report the section as failed, run the others
            failed = True
            text = f"### {name}: FAILED\n\n```\n{traceback.format_exc()}```\n"
        text += f"\n_{name}: {time.perf_counter() - start:.0f} s_\n"
        print(text, flush=True)
        parts.append(text)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"saved to {out / 'latest.md'}")
    return 1 if failed else 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
