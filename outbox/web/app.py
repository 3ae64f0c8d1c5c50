"""The status page: a Starlette application, server-rendered with Jinja2 templates.

Routes (all GET answers are HTML except the last two):

* ``/``: the sessions, the queue, the last failures and pending rows with their retry / cancel
  buttons, the producers' runs;
* ``/sessions/{name}``: one session, with its pairing QR code while it is pairing;
* ``POST /messages/{id}/retry`` and ``POST /messages/{id}/cancel``: through
  :func:`outbox.engine.requeue_failed` and :func:`outbox.engine.cancel`, the functions the
  command line's ``retry`` and ``cancel`` use; guarded by a CSRF token;
* ``/healthz`` (JSON) and ``/metrics`` (Prometheus text): no token needed, no phone number and
  no message text in them.

Every request opens its own short database connection: the page is for a few operators and a
scraper, and a connection per request needs no pool thread and survives a database restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg
import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from outbox import engine
from outbox.db import connect
from outbox.errors import DatabaseUnavailable
from outbox.web import data, fmt
from outbox.web.metrics import registry_for
from outbox.web.settings import WebSettings

log = logging.getLogger(__name__)

CSRF_COOKIE = "outbox_csrf"
CSRF_FIELD = "csrf"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
DONE = {"retried": "is pending again", "cancelled": "is cancelled"}


def _templates() -> Jinja2Templates:
    folder = resources.files("outbox.web").joinpath("templates")
    env = Environment(loader=FileSystemLoader(str(folder)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(wib=fmt.wib, num=fmt.num, age=fmt.age, ago=fmt.ago)
    env.globals["qr_svg"] = qr_svg
    return Jinja2Templates(env=env)


def qr_svg(code: str) -> str:
    """The pairing QR as inline SVG (segno), big enough to scan from a screen."""
    svg: str = segno.make_qr(code, error="l").svg_inline(scale=6, border=4, dark="#000",
                                                        light="#fff")
    return svg


class Csrf:
    """Double-submit token: a signed random value in a ``SameSite=Strict`` cookie and the same
    value in every form. Another site can neither read the cookie nor make the browser send it,
    so it cannot forge the form field."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # per process: a restart makes forms reload

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def new(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._sign(nonce)}"

    def valid(self, value: str | None) -> bool:
        if not value or "." not in value:
            return False
        nonce, _, signature = value.partition(".")
        return hmac.compare_digest(signature, self._sign(nonce))

    def check(self, request: Request, form_value: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        return (self.valid(cookie) and form_value is not None and cookie is not None
                and hmac.compare_digest(cookie, form_value))


class WebApp:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.templates = _templates()
        self.csrf = Csrf()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def db(self) -> Iterator[psycopg.Connection[Any]]:
        with connect(self.settings.database_url, application_name="wa-outbox-web",
                     connect_timeout=5) as conn:
            yield conn

    def authorized(self, request: Request) -> bool:
        token = self.settings.token
        if token is None:
            return True  # loopback only (checked at start, and the Host header by middleware)
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        given: str | None = None
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            given = decoded.partition(":")[2]
        return given is not None and hmac.compare_digest(given.encode(), token.encode())

    def denied(self) -> Response:
        return HTMLResponse(
            "<!doctype html><title>401</title><p>Wrong or missing token: log in with any user "
            "name and the token OUTBOX_WEB_TOKEN as the password.</p>",
            status_code=401, headers={"WWW-Authenticate": 'Basic realm="wa-outbox", '
                                                          'charset="UTF-8"'})

    def page(self, request: Request, name: str, context: dict[str, Any],
             status_code: int = 200) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE)
        token = cookie if cookie is not None and self.csrf.valid(cookie) else self.csrf.new()
        response = self.templates.TemplateResponse(
            request, name, {**context, "csrf": token, "csrf_field": CSRF_FIELD},
            status_code=status_code)
        if token != cookie:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                                path="/")
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(self, request: Request, status_code: int, title: str, text: str) -> Response:
        return self.page(request, "error.html", {"title": title, "text": text},
                         status_code=status_code)

    def unavailable(self, request: Request, exc: BaseException) -> Response:
        log.warning("status page: database unavailable: %s", exc)
        return self.error(request, 503, "Database unavailable",
                          f"The database does not answer ({type(exc).__name__}). The page "
                          "refreshes by itself.")

    # ------------------------------------------------------------------ pages
    def dashboard(self, request: Request) -> Response:
        if not self.authorized(request):
            return self.denied()
        s = self.settings
        try:
            with self.db() as conn:
                sessions = data.sessions(conn, max_per_hour=s.max_per_hour,
                                         max_per_day=s.max_per_day)
                lines = data.queue(conn)
                failed = data.rows(conn, "failed")
                pending = data.rows(conn, "pending")
                now = sessions[0].now if sessions else data.db_now(conn)
                jobs = data.producers(conn, now)
        except (psycopg.OperationalError, DatabaseUnavailable) as exc:
            return self.unavailable(request, exc)
        done = None
        action, msg_id = request.query_params.get("done"), request.query_params.get("id")
        if action in DONE and msg_id is not None and msg_id.isdigit():
            done = f"Message {int(msg_id)} {DONE[action]}."
        pairing = any(x.pairing_qr for x in sessions)
        return self.page(request, "dashboard.html", {
            "sessions": sessions, "summary": data.summarise(lines), "lines": lines,
            "statuses": data.STATUSES, "failed": failed, "pending": pending, "jobs": jobs,
            "now": now, "done": done, "refresh": 5 if pairing else 15})

    def session(self, request: Request) -> Response:
        if not self.authorized(request):
            return self.denied()
        name = request.path_params["name"]
        s = self.settings
        try:
            with self.db() as conn:
                found = data.sessions(conn, max_per_hour=s.max_per_hour,
                                      max_per_day=s.max_per_day, name=name)
                known = [] if found else [x.name for x in data.sessions(
                    conn, max_per_hour=s.max_per_hour, max_per_day=s.max_per_day)]
        except (psycopg.OperationalError, DatabaseUnavailable) as exc:
            return self.unavailable(request, exc)
        if not found:
            return self.error(request, 404, "Unknown session",
                              f"There is no session named {name!r}. Sessions: "
                              f"{', '.join(known) or 'none yet (no gateway has started)'}.")
        one = found[0]
        return self.page(request, "session.html", {
            "s": one, "now": one.now, "refresh": 5 if one.pairing_qr else 15})

    # ------------------------------------------------------------------ actions
    async def action(self, request: Request) -> Response:
        if not self.authorized(request):
            return self.denied()
        what = request.path_params["action"]
        msg_id: int = request.path_params["msg_id"]
        if what not in ("retry", "cancel"):
            return self.error(request, 404, "Unknown action",
                              f"{what!r} is not an action: use retry or cancel.")
        form = await request.form()
        value = form.get(CSRF_FIELD)
        if not self.csrf.check(request, value if isinstance(value, str) else None):
            return self.error(request, 403, "Form expired",
                              "The form's security token is missing or out of date (the page "
                              "was open across a restart, or the request did not come from "
                              "this page). Nothing was changed: reload the page and try again.")
        return await run_in_threadpool(self._act, request, what, msg_id)

    def _act(self, request: Request, what: str, msg_id: int) -> Response:
        try:
            with self.db() as conn:
                row = data.row(conn, msg_id)
                if row is None:
                    return self.error(request, 404, "Unknown message",
                                      f"There is no message {msg_id}. Nothing was changed.")
                if what == "retry":
                    changed = engine.requeue_failed(conn, msg_id) == [msg_id]
                else:
                    changed = engine.cancel(conn, msg_id)
                if not changed:
                    now = data.row(conn, msg_id)
                    state = now.status if now is not None else row.status
                    allowed = ("failed messages can be retried" if what == "retry"
                               else "pending or failed messages can be cancelled")
                    return self.error(request, 409, "Nothing to do",
                                      f"Message {msg_id} is {state}: only {allowed}. "
                                      "Nothing was changed.")
        except (psycopg.OperationalError, DatabaseUnavailable) as exc:
            return self.unavailable(request, exc)
        log.info("status page: message %d %s", msg_id,
                 "requeued" if what == "retry" else "cancelled")
        done = "retried" if what == "retry" else "cancelled"
        return RedirectResponse(f"/?done={done}&id={msg_id}", status_code=303)

    # ------------------------------------------------------------------ monitoring
    def healthz(self, request: Request) -> Response:
        try:
            with self.db() as conn:
                found = data.health(conn, down_after=self.settings.session_down_after,
                                    stuck_after=self.settings.stuck_after)
        except (psycopg.Error, DatabaseUnavailable) as exc:
            return JSONResponse({"ok": False, "problems": [
                f"database unavailable ({type(exc).__name__})"], "sessions": {}},
                status_code=503)
        return JSONResponse({"ok": found.ok, "problems": found.problems,
                             "sessions": found.sessions, "time": fmt.wib(found.now)},
                            status_code=200 if found.ok else 503)

    def metrics(self, request: Request) -> Response:
        try:
            with self.db() as conn:
                body = generate_latest(registry_for(conn, self.settings))
        except (psycopg.Error, DatabaseUnavailable) as exc:
            return Response(f"# database unavailable ({type(exc).__name__})\n",
                            status_code=503, media_type="text/plain")
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def create_app(settings: WebSettings) -> Starlette:
    web = WebApp(settings)
    middleware = []
    if settings.token is None:
        # No token (loopback only): refuse other Host names, so a web page elsewhere cannot
        # reach this one through DNS rebinding.
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    routes = [
        Route("/", web.dashboard),
        Route("/sessions/{name}", web.session),
        Route("/messages/{msg_id:int}/{action:str}", web.action, methods=["POST"]),
        Route("/healthz", web.healthz),
        Route("/metrics", web.metrics),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.web = web
    return app
