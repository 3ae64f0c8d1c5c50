"""``make demo-web``: the status page on the demo's database (after ``make demo``).

Uses ``DATABASE_URL`` when set (as the demo does), else the demo's embedded PostgreSQL and its
database ``cicero_demo``. The page listens on 127.0.0.1:8080 (``OUTBOX_WEB_PORT`` to change it),
without a token (loopback only). Ctrl-C stops it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import psycopg

from outbox.web.server import main as web_main
from tests.dev import devdb
from tests.dev.demo import DEMO_DB


def main(argv: Sequence[str] | None = None) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL", "").strip():
        server = devdb.server_url("demo", env_var=None)
        if not devdb.database_exists(server, DEMO_DB):
            print(f"no demo database {DEMO_DB!r} yet: run `make demo` first", file=sys.stderr)
            return 3
        env["DATABASE_URL"] = devdb.with_database(server, DEMO_DB)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM wa_outbox").fetchone()
    print(f"the status page on the demo data ({row[0] if row else 0} messages); Ctrl-C stops it",
          flush=True)
    return web_main(argv, env=env)


if __name__ == "__main__":
    sys.exit(main())
