"""The status page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright),
served by uvicorn on 127.0.0.1 from a real PostgreSQL.

Screenshots go to tests/artifacts/ (ignored by git; the path is printed): the overview with a
connected session, a session waiting to be paired (its QR code), the queue and the failures; the
session page; the overview after a Retry click.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from outbox.web.settings import load_web_settings
from tests.web_helpers import JID, QR, TOKEN, insert, serve, session_row, status_of

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: apt-get install -y chromium "
        "(make test does it: tests/dev/system-deps.sh)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, f"{path} is no screenshot"
    print(f"screenshot: {path}")
    return path


def seed(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    session_row(conn, "main", jid=JID)
    session_row(conn, "cadangan", state="pairing", jid=None, qr=QR)
    for i in range(4):
        insert(conn, f"Laporan harian {i}", status="sent")
    failed = insert(conn, "Rekap gagal", status="failed")
    pending = insert(conn, "Daftar tugas", type_="task_delivery_recap")
    conn.execute("INSERT INTO producer_run (job, slot, status, finished_at, enqueued) VALUES "
                 "('daily_report', now() - interval '2 hours', 'done', now(), 41), "
                 "('task_delivery_recap', now() - interval '10 minutes', 'done', now(), 40), "
                 "('weekly_report', now() - interval '1 day', 'failed', now(), 0)")
    return failed, pending


def test_the_page_in_chromium_retry_end_to_end(browser: Browser, db_url: str,
                                               conn: psycopg.Connection[Any]) -> None:
    failed, pending = seed(conn)
    settings = load_web_settings({"DATABASE_URL": db_url, "OUTBOX_WEB_TOKEN": TOKEN})
    with serve(settings) as url:
        # no credentials: Chromium abandons the page; a wrong password: the 401 page
        wrong = browser.new_context()
        try:
            with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
                wrong.new_page().goto(url + "/")
        finally:
            wrong.close()
        wrong = browser.new_context(http_credentials={"username": "operator",
                                                      "password": "not-the-token-at-all"})
        try:
            page = wrong.new_page()
            refused = page.goto(url + "/")
            assert refused is not None and refused.status == 401
            expect(page.locator("body")).to_contain_text("Wrong or missing token")
        finally:
            wrong.close()

        context = browser.new_context(
            http_credentials={"username": "operator", "password": TOKEN},
            viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            response = page.goto(url + "/")
            assert response is not None and response.status == 200

            main = page.locator('.session[data-session="main"]')
            expect(main.locator(".state")).to_have_text("connected")
            expect(main.locator(".paired")).to_have_text("62812****890")
            expect(main.locator(".day")).to_contain_text("4 / 400")
            pairing = page.locator('.session[data-session="cadangan"]')
            expect(pairing.locator(".state")).to_have_text("needs pairing")
            qr = pairing.locator(".qr svg")
            expect(qr).to_be_visible()
            box = qr.bounding_box()
            assert box is not None and box["width"] >= 150 and box["height"] >= 150
            assert page.locator("svg").count() == 1

            queue = page.locator("#queue")
            expect(queue.locator('tr[data-type="daily_report"] td[data-status="sent"]')
                   ).to_have_text("4")
            expect(queue.locator('tfoot th[data-status="failed"]')).to_have_text("1")
            expect(page.locator("#producers tr[data-job='weekly_report'] .outcome")
                   ).to_have_text("failed")
            row = page.locator(f'#failures tr[data-id="{failed}"]')
            expect(row.locator(".reason")).to_contain_text("no LID found for 62812****890")
            assert "6281234567890" not in page.content()
            overview = shot(page, "overview")

            row.locator("button.retry").click()
            page.wait_for_url(re.compile(r"/\?done=retried&id=\d+$"))
            expect(page.locator(".flash")).to_have_text(f"Message {failed} is pending again.")
            assert status_of(conn, failed) == "pending"
            expect(page.locator(f'#pending tr[data-id="{failed}"] .status')
                   ).to_have_text("pending")
            expect(page.locator(f'#failures tr[data-id="{failed}"]')).to_have_count(0)
            shot(page, "after-retry")

            page.locator(f'#pending tr[data-id="{pending}"] button.cancel').click()
            expect(page.locator(".flash")).to_have_text(f"Message {pending} is cancelled.")
            assert status_of(conn, pending) == "cancelled"

            page.goto(url + "/sessions/cadangan")
            expect(page.locator(".qr svg")).to_be_visible()
            expect(page.locator(".qr")).to_contain_text("Scan to pair")
            shot(page, "session-pairing")

            missing = page.goto(url + "/sessions/tidak-ada")
            assert missing is not None and missing.status == 404
            expect(page.locator(".error")).to_contain_text("There is no session named")
            assert overview.stat().st_size > 10_000
        finally:
            context.close()
