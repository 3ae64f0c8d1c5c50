"""The exit codes of every command (``wa-outbox``, ``python -m producers``, ``python -m gateway``).

One table, so a script or supervisord reads the same number the same way whichever program
returned it. Documented once, in docs/reference/cli.md ("Exit codes"); tests/test_outbox_cli_ops.py
checks that the page lists every code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # A command that found nothing to do: unknown id, nothing to retry, a row not in a state that
    # allows it, a producer slot already done or a job that failed; ``doctor``: warnings found.
    NOTHING = 1
    # The same number for a long-running process: an unexpected error; supervisord restarts it
    # (a lost database is waited for, not a crash).
    CRASHED = 1
    USAGE = 2  # bad usage or configuration (every problem listed), a message the database refused
    DATABASE = 3  # database unavailable, not migrated, or a migration that failed
    # another gateway process serves this WhatsApp session, or this one lost the session lock
    SESSION_TAKEN = 4
    # ``python -m outbox health``: a session is down or the queue is stuck (for monitoring).
    UNHEALTHY = 5
    # The gateway's watchdog ended the process: a send ran past WA_SEND_TIMEOUT_SECONDS or the
    # send loop made no progress for WA_WATCHDOG_SECONDS (a hang); supervisord restarts it.
    HUNG = 6
