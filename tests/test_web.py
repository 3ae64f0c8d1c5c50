"""The status page over HTTP (a real uvicorn server on 127.0.0.1, a real PostgreSQL), and the
gateway writing the pairing QR code that the page draws. The browser test is
tests/test_web_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.transport import FakeTransport
from outbox import engine
from outbox.errors import ConfigError
from outbox.web import fmt
from outbox.web.app import CSRF_COOKIE
from outbox.web.settings import WebSettings, is_loopback, load_web_settings
from tests.gateway_helpers import gateway_thread, settings_for, wait_for
from tests.web_helpers import (
    JID,
    PHONE,
    QR,
    TOKEN,
    basic,
    insert,
    serve,
    session_row,
    status_of,
)


def web_settings(db_url: str, **env: str) -> WebSettings:
    values = {"DATABASE_URL": db_url, "OUTBOX_WEB_TOKEN": TOKEN, **env}
    return load_web_settings({k: v for k, v in values.items() if v})


@contextmanager
def client_for(settings: WebSettings, **kwargs: Any) -> Iterator[httpx.Client]:
    with serve(settings) as url, httpx.Client(base_url=url, timeout=20, **kwargs) as c:
        yield c


@pytest.fixture
def client(db_url: str) -> Iterator[httpx.Client]:
    with client_for(web_settings(db_url), headers=basic()) as c:
        yield c


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "no form on the page"
    assert client.cookies.get(CSRF_COOKIE) == found.group(1)
    return found.group(1)


# --------------------------------------------------------------------------- settings
def test_settings_defaults_and_the_loopback_rule(db_url: str) -> None:
    s = load_web_settings({"DATABASE_URL": db_url})
    assert (s.host, s.port, s.token, s.max_per_hour, s.max_per_day) == (
        "127.0.0.1", 8080, None, 60, 400)
    assert s.loopback
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0")
    with pytest.raises(ConfigError) as caught:
        load_web_settings({"DATABASE_URL": db_url, "OUTBOX_WEB_HOST": "0.0.0.0",
                           "OUTBOX_WEB_PORT": "99999"})
    text = str(caught.value)
    assert "OUTBOX_WEB_TOKEN is not set" in text and "OUTBOX_WEB_PORT" in text
    with pytest.raises(ConfigError, match="at least 16"):
        load_web_settings({"DATABASE_URL": db_url, "OUTBOX_WEB_TOKEN": "short"})
    public = load_web_settings({"DATABASE_URL": db_url, "OUTBOX_WEB_HOST": "0.0.0.0",
                                "OUTBOX_WEB_TOKEN": TOKEN})
    assert public.token == TOKEN and not public.loopback


def test_the_command_refuses_a_public_address_without_a_token(db_url: str, capsys) -> None:
    from outbox.web.server import main

    code = main(["--host", "0.0.0.0", "--check-config"], env={"DATABASE_URL": db_url})
    assert code == 2
    assert "OUTBOX_WEB_TOKEN is not set" in capsys.readouterr().err
    assert main(["--check-config"], env={"DATABASE_URL": db_url}) == 0


def test_indonesian_formats() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    assert fmt.wib(at) == "02-12-2026 08.30 WIB"
    assert fmt.num(1234567) == "1.234.567"
    assert fmt.age(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert fmt.age(59) == "59 s"


# --------------------------------------------------------------------------- auth
def test_a_wrong_or_missing_token_is_refused(db_url: str, conn: psycopg.Connection[Any]) -> None:
    msg_id = insert(conn, status="failed")
    with client_for(web_settings(db_url)) as c:
        missing = c.get("/")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Basic")
        assert "Wrong or missing token" in missing.text
        assert c.get("/", headers=basic("wrong-token-wrong-token")).status_code == 401
        assert c.get("/", headers={"Authorization": "Basic !!!"}).status_code == 401
        assert c.get("/sessions/main").status_code == 401
        assert c.post(f"/messages/{msg_id}/retry", data={"csrf": "x"}).status_code == 401
        assert c.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/", headers=basic(user="anyone")).status_code == 200
    assert status_of(conn, msg_id) == "failed"


def test_without_a_token_only_loopback_host_names_are_served(db_url: str) -> None:
    settings = load_web_settings({"DATABASE_URL": db_url})
    with client_for(settings) as c:
        assert c.get("/").status_code == 200
        # DNS rebinding: a page elsewhere reaching this one under another Host name
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 400


# --------------------------------------------------------------------------- pages
def test_the_overview_shows_sessions_queue_failures_and_producers(
        client: httpx.Client, conn: psycopg.Connection[Any]) -> None:
    session_row(conn)
    conn.execute("UPDATE wa_session SET paused_until = now() + interval '2 hours', "
                 "pause_reason = 'temporary ban (463)' WHERE name = 'main'")
    session_row(conn, "cadangan", state="pairing", jid=None, qr=QR)
    sent = [insert(conn, f"laporan {i}", status="sent") for i in range(3)]
    failed = insert(conn, "gagal", status="failed")
    pending = insert(conn, "tunggu", type_="task_delivery_recap")
    conn.execute("INSERT INTO producer_run (job, slot, status, finished_at, enqueued) VALUES "
                 "('daily_report', now() - interval '1 hour', 'done', now(), 12), "
                 "('daily_report', now() - interval '1 day', 'failed', now(), 0)")
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'data-session="main"' in html and 'data-session="cadangan"' in html
    assert "banned until" in html and "needs pairing" in html
    assert "62812****890" in html  # the paired number, masked
    assert PHONE not in html and "6281234567890" not in html and "laporan" not in html
    assert "1 / 60" not in html and "3 / 60" in html and "3 / 400" in html
    assert html.count("<svg") == 1  # the pairing session's QR only
    queue = re.search(r'<tr data-type="daily_report">(.*?)</tr>', html, re.S)
    assert queue and 'data-status="sent">3<' in queue.group(1)
    assert 'data-status="failed">1<' in queue.group(1)
    assert f'<tr data-id="{failed}">' in html and f'<tr data-id="{pending}">' in html
    assert f'action="/messages/{failed}/retry"' in html
    assert f'action="/messages/{pending}/cancel"' in html
    assert f'action="/messages/{pending}/retry"' not in html
    assert "no LID found for 62812****890" in html  # the reason, masked
    assert "Oldest pending message:" in html and "waiting" in html
    assert '<tr data-job="daily_report">' in html and "default schedule" in html
    assert all(f'data-id="{i}"' not in html for i in sent)  # sent rows have no button


def test_next_run_comes_from_the_jobs_cron_when_set(
        client: httpx.Client, conn: psycopg.Connection[Any], monkeypatch) -> None:
    conn.execute("INSERT INTO producer_run (job, slot, status) VALUES ('daily_report', now(), "
                 "'done')")
    monkeypatch.setenv("DAILY_REPORT_CRON", "30 6 * * *")
    html = client.get("/").text
    row = re.search(r'<tr data-job="daily_report">(.*?)</tr>', html, re.S)
    assert row and "06.30 WIB" in row.group(1) and "(30 6 * * *)" in row.group(1)


def test_a_session_page_and_an_unknown_session(client: httpx.Client,
                                               conn: psycopg.Connection[Any]) -> None:
    session_row(conn, state="pairing", jid=None, qr=QR)
    page = client.get("/sessions/main")
    assert page.status_code == 200
    assert "<svg" in page.text and "Scan to pair" in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text
    missing = client.get("/sessions/nope")
    assert missing.status_code == 404
    assert "There is no session named &#39;nope&#39;. Sessions: main." in missing.text


def test_an_expired_qr_is_not_drawn(client: httpx.Client,
                                    conn: psycopg.Connection[Any]) -> None:
    session_row(conn, state="pairing", jid=None, qr=QR)
    conn.execute("UPDATE wa_session SET pairing_qr_at = now() - interval '5 minutes', "
                 "heartbeat_at = now() - interval '5 minutes'")
    page = client.get("/sessions/main")
    assert page.status_code == 200 and "<svg" not in page.text
    assert re.search(r"The last QR code is 5 min \d+ s old: it has expired\.", page.text)


def test_the_qr_svg_encodes_the_code_segno_drew(client: httpx.Client,
                                                conn: psycopg.Connection[Any]) -> None:
    import segno

    session_row(conn, state="pairing", jid=None, qr=QR)
    html = client.get("/sessions/main").text
    expected = segno.make_qr(QR, error="l")
    dark = re.compile(r'class="qrline"[^>]* d="([^"]+)"')
    drawn, wanted = dark.search(html), dark.search(expected.svg_inline(scale=6, border=4))
    assert drawn and wanted and drawn.group(1) == wanted.group(1)  # the same modules
    assert expected.symbol_size(scale=6, border=4)[0] > 150  # big enough to scan from a screen


# --------------------------------------------------------------------------- actions
def test_retry_and_cancel_go_through_the_engine(client: httpx.Client,
                                                conn: psycopg.Connection[Any]) -> None:
    failed = insert(conn, status="failed")
    pending = insert(conn)
    token = csrf_of(client)
    done = client.post(f"/messages/{failed}/retry", data={"csrf": token})
    assert done.status_code == 303 and done.headers["location"] == f"/?done=retried&id={failed}"
    row = conn.execute("SELECT status, attempts FROM wa_outbox WHERE id = %s",
                       (failed,)).fetchone()
    assert row == ("pending", 0)  # as `python -m outbox retry ID` leaves it
    assert f"Message {failed} is pending again." in client.get(done.headers["location"]).text
    gone = client.post(f"/messages/{pending}/cancel", data={"csrf": token},
                       follow_redirects=True)
    assert gone.status_code == 200 and f"Message {pending} is cancelled." in gone.text
    assert status_of(conn, pending) == "cancelled"


def test_bad_actions_change_nothing(client: httpx.Client, conn: psycopg.Connection[Any]) -> None:
    sent = insert(conn, status="sent")
    failed = insert(conn, status="failed")
    token = csrf_of(client)
    before = conn.execute("SELECT id, status, attempts, available_at FROM wa_outbox "
                          "ORDER BY id").fetchall()

    not_failed = client.post(f"/messages/{sent}/retry", data={"csrf": token})
    assert not_failed.status_code == 409
    assert f"Message {sent} is sent: only failed messages can be retried" in not_failed.text
    not_open = client.post(f"/messages/{sent}/cancel", data={"csrf": token})
    assert not_open.status_code == 409 and "only pending or failed" in not_open.text
    unknown = client.post("/messages/987654/retry", data={"csrf": token})
    assert unknown.status_code == 404 and "There is no message 987654" in unknown.text
    assert client.post("/messages/abc/retry", data={"csrf": token}).status_code == 404
    assert client.post(f"/messages/{failed}/delete", data={"csrf": token}).status_code == 404
    assert client.get(f"/messages/{failed}/retry").status_code == 405

    no_csrf = client.post(f"/messages/{failed}/retry", data={})
    assert no_csrf.status_code == 403 and "Nothing was changed" in no_csrf.text
    forged = client.post(f"/messages/{failed}/retry", data={"csrf": "abc.def"})
    assert forged.status_code == 403
    client.cookies.clear()  # a form from another site: no cookie sent
    assert client.post(f"/messages/{failed}/retry", data={"csrf": token}).status_code == 403

    after = conn.execute("SELECT id, status, attempts, available_at FROM wa_outbox "
                         "ORDER BY id").fetchall()
    assert after == before


def test_a_retry_after_the_row_changed_is_refused(client: httpx.Client,
                                                  conn: psycopg.Connection[Any]) -> None:
    """The button was on screen, then someone else retried the row: the second click is a 409."""
    failed = insert(conn, status="failed")
    token = csrf_of(client)
    assert engine.requeue_failed(conn, failed) == [failed]
    again = client.post(f"/messages/{failed}/retry", data={"csrf": token})
    assert again.status_code == 409 and "is pending" in again.text


# --------------------------------------------------------------------------- monitoring
def test_healthz_and_metrics_need_no_token_and_reveal_no_number(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    session_row(conn)
    insert(conn, "Isi pesan rahasia", status="sent")
    insert(conn, "Isi pesan gagal", status="failed")
    insert(conn, "Isi pesan gagal lagi", status="failed",
           error="attempts exhausted (5/5): timed out")
    insert(conn, "Isi pesan tunggu")
    conn.execute("INSERT INTO producer_run (job, slot, status) VALUES ('daily_report', now(), "
                 "'done')")
    with client_for(web_settings(db_url)) as c:
        health = c.get("/healthz")
        assert health.status_code == 200, health.text
        assert health.json()["ok"] is True and health.json()["sessions"] == {"main": "up"}
        metrics = c.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for secret in ("Isi pesan", "6281234567890", "812****", PHONE, "s.whatsapp.net"):
        assert secret not in text and secret not in health.text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in families.values() for s in f.samples}
    assert samples[("wa_outbox_messages", (("session", "main"), ("status", "sent"),
                                           ("type", "daily_report")))] == 1
    assert samples[("wa_outbox_messages", (("session", "main"), ("status", "pending"),
                                           ("type", "daily_report")))] == 1
    assert samples[("wa_outbox_failed_messages", (("class", "permanent"),
                                                  ("session", "main")))] == 1
    assert samples[("wa_outbox_failed_messages", (("class", "attempts_exhausted"),
                                                  ("session", "main")))] == 1
    assert samples[("wa_outbox_sent_messages", (("session", "main"),))] == 1
    assert samples[("wa_session_up", (("session", "main"),))] == 1
    assert samples[("wa_session_state", (("session", "main"), ("state", "connected")))] == 1
    assert samples[("wa_session_state", (("session", "main"), ("state", "pairing")))] == 0
    assert samples[("wa_session_sends_last_hour", (("session", "main"),))] == 1
    assert samples[("wa_session_send_cap", (("session", "main"), ("window", "day")))] == 400
    assert samples[("producer_runs", (("job", "daily_report"), ("status", "done")))] == 1
    # the latency histogram: one send, 90 s after its insert, 2 s on the wire
    assert samples[("wa_outbox_send_latency_seconds_bucket",
                    (("le", "60"), ("session", "main")))] == 0
    assert samples[("wa_outbox_send_latency_seconds_bucket",
                    (("le", "120"), ("session", "main")))] == 1
    assert samples[("wa_outbox_send_duration_seconds_bucket",
                    (("le", "2"), ("session", "main")))] == 1
    assert samples[("wa_outbox_send_latency_seconds_gsum", (("session", "main"),))] == (
        pytest.approx(90, abs=1))
    assert samples[("wa_outbox_oldest_pending_age_seconds", (("session", "main"),))] >= 0


def test_healthz_is_503_when_a_session_is_down_or_the_queue_is_stuck(
        db_url: str, conn: psycopg.Connection[Any]) -> None:
    with client_for(web_settings(db_url)) as c:
        empty = c.get("/healthz")
        assert empty.status_code == 503
        assert empty.json()["problems"][0].startswith("no gateway session is registered")

        session_row(conn)
        msg_id = insert(conn)
        assert c.get("/healthz").status_code == 200
        # ready to send for 40 minutes, nothing sent in the last 30: stuck
        conn.execute("UPDATE wa_outbox SET available_at = now() - interval '40 minutes' "
                     "WHERE id = %s", (msg_id,))
        stuck = c.get("/healthz")
        assert stuck.status_code == 503
        assert stuck.json()["problems"] == [
            "session main: queue stuck: 1 message(s) due, the oldest waiting 40 min, nothing "
            "sent in 30 min"]
        assert stuck.json()["sessions"] == {"main": "up"}  # the session is up, its queue not
        # ... unless its send budget is used up: then it waits by design (5 a day, 0 kept)
        conn.execute("UPDATE wa_session SET pacing = true, max_per_hour = 60, max_per_day = 5, "
                     "reserve_per_hour = 0, reserve_per_day = 0 WHERE name = 'main'")
        conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) SELECT 'main', "
                     "now() - interval '2 hours', 0 FROM generate_series(1, 5)")
        assert c.get("/healthz").status_code == 200
        conn.execute("DELETE FROM wa_send_log")
        # a send in the window: the queue moves (slowly, paced), so it is not stuck
        insert(conn, status="sent")
        assert c.get("/healthz").status_code == 200

        conn.execute("UPDATE wa_session SET state = 'logged_out', "
                     "state_changed_at = now() - interval '10 minutes' WHERE name = 'main'")
        down = c.get("/healthz")
        assert down.status_code == 503
        assert down.json()["sessions"] == {"main": "down"}
        assert down.json()["problems"][0].startswith("session main: session logged_out")

        # a gateway that died without a word: its heartbeat stops
        conn.execute("UPDATE wa_session SET state = 'connected', "
                     "heartbeat_at = now() - interval '6 minutes' WHERE name = 'main'")
        assert c.get("/healthz").status_code == 503


def test_the_database_down_is_a_503_not_a_crash() -> None:
    settings = load_web_settings({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                  "OUTBOX_WEB_TOKEN": TOKEN})
    with client_for(settings) as c:
        assert c.get("/healthz").status_code == 503
        assert c.get("/metrics").status_code == 503
        page = c.get("/", headers=basic())
        assert page.status_code == 503 and "Database unavailable" in page.text


# --------------------------------------------------------------------------- the gateway's QR
def test_the_gateway_writes_the_qr_and_clears_it_when_paired(
        db_url: str, conn: psycopg.Connection[Any], client: httpx.Client) -> None:
    settings = settings_for(db_url, None)

    def row() -> tuple[Any, ...]:
        found = conn.execute("SELECT state, pairing_qr, pairing_qr_at IS NOT NULL, jid "
                             "FROM wa_session WHERE name = 'main'").fetchone()
        assert found is not None
        return tuple(found)

    with gateway_thread(settings) as gateway:
        transport = gateway.transport
        assert isinstance(transport, FakeTransport)
        assert wait_for(lambda: row()[0] == "connected")
        transport.show_qr(QR)
        assert wait_for(lambda: row() == ("pairing", QR, True, None)), row()
        page = client.get("/sessions/main")
        assert "needs pairing" in page.text and "<svg" in page.text

        transport.paired(JID)
        assert wait_for(lambda: row() == ("connected", None, False, JID)), row()
        page = client.get("/sessions/main")
        assert "<svg" not in page.text and "62812****890" in page.text


def test_neonizes_qr_callback_reaches_the_page_and_pairing_clears_it(
        db_url: str, conn: psycopg.Connection[Any], client: httpx.Client, tmp_path) -> None:
    """neonize's own callbacks (no WhatsApp connection): the QR as Go hands it over, then the
    PairStatus success event through neonize's decoder."""
    from gateway.events import EventQueue
    from gateway.sink import Sink
    from gateway.wa import NeonizeTransport, neonize_import

    neonize_import()
    from neonize.proto import Neonize_pb2 as N

    settings = settings_for(db_url, None, WA_TRANSPORT="neonize",
                            WA_AUTH_PATH=str(tmp_path / "auth"))
    transport = NeonizeTransport(settings)
    transport._client = transport.new_client()
    engine.register_session(conn, "main")
    events = EventQueue()
    transport.events = events
    sink = Sink(settings, events)
    sink.start()
    try:
        native = transport._client
        native.event._qr(native, QR.encode())  # what Go's QR callback calls
        assert wait_for(lambda: conn.execute(
            "SELECT state, pairing_qr FROM wa_session WHERE name = 'main'").fetchone()
            == ("pairing", QR), 5)
        assert "<svg" in client.get("/sessions/main").text

        ev = N.PairStatus(ID=N.JID(User="6281234567890", Server="s.whatsapp.net"), Status=2)
        transport._on_pair_status(native, ev)
        assert wait_for(lambda: conn.execute(
            "SELECT pairing_qr, pairing_qr_at, jid FROM wa_session WHERE name = 'main'"
        ).fetchone() == (None, None, JID), 5)
        assert "<svg" not in client.get("/sessions/main").text
    finally:
        sink.stop()
        transport.stop()


@pytest.mark.slow
def test_python_m_outbox_web_serves_and_stops_cleanly_on_sigterm(  # through outbox.cli
        db_url: str, conn: psycopg.Connection[Any], tmp_path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    from tests.dev import REPO_ROOT

    session_row(conn)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTBOX_", "WA_"))}
    env.update({"DATABASE_URL": db_url, "OUTBOX_WEB_PORT": str(port),
                "OUTBOX_WEB_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "outbox", "web"], env=env, cwd=REPO_ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(answers, timeout=30, step=0.2), log.read_text()
        page = httpx.get(f"http://127.0.0.1:{port}/", headers=basic(), timeout=10)
        assert page.status_code == 200 and 'data-session="main"' in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
    assert code == 0, log.read_text()
    assert f"status page on http://127.0.0.1:{port}/" in log.read_text()


def test_make_demo_web_reads_the_given_database(db_url: str, monkeypatch, capsys) -> None:
    from tests.dev import demo_web

    monkeypatch.setenv("DATABASE_URL", db_url)
    assert demo_web.main(["--check-config"]) == 0
    out = capsys.readouterr().out
    assert "the status page on the demo data (0 messages)" in out and "configuration OK" in out


def test_every_metric_is_documented_and_every_documented_one_is_served(
        client: httpx.Client, conn: psycopg.Connection[Any]) -> None:
    from tests.dev import REPO_ROOT

    session_row(conn)
    insert(conn, status="sent")
    insert(conn, status="failed")
    conn.execute("INSERT INTO producer_run (job, slot) VALUES ('daily_report', now())")
    served = {f.name for f in text_string_to_metric_families(client.get("/metrics").text)}
    doc = (REPO_ROOT / "docs" / "operations" / "web.md").read_text(encoding="utf-8")
    table = doc[doc.index("## `/metrics`"):]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", table, re.M))
    # a gauge histogram's count and sum come out as gauges of their own: part of its row
    families = {re.sub(r"_g(count|sum)$", "", name) for name in served}
    assert len(documented) == 14 and families == documented
