"""The status page (``python -m outbox.web``): sessions with their pairing QR code, the queue
with retry / cancel, the producers' runs, ``/healthz`` and ``/metrics``.

Starlette (routing, requests, the test client) served by uvicorn, pages rendered with Jinja2 on
the server: no JavaScript build, no hand-written HTTP. See docs/operations/web.md.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the page in the foreground until SIGTERM / Ctrl-C (imports the server lazily)."""
    from outbox.web.server import main as run

    return run(argv)


__all__ = ["main"]
