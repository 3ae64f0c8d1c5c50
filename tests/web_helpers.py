"""The status page on a real uvicorn server on 127.0.0.1 (a free port), in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from outbox.web.app import create_app
from outbox.web.settings import WebSettings
from tests.gateway_helpers import wait_for


@contextmanager
def serve(settings: WebSettings) -> Iterator[str]:
    """Serve the page for ``settings``; yields its base URL (``http://127.0.0.1:PORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web",
                              daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: server.started, timeout=15), "the web server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        assert not thread.is_alive(), "the web server did not stop"
