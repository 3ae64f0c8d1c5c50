"""Gateway pieces without a subprocess: settings, classification, the not-connected behaviour."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.config import FailRule, load_gateway_settings, next_poll, parse_fail_rules, store_url
from gateway.events import EventQueue
from gateway.sending import Failure, SendResult, classify, classify_text
from gateway.service import Gateway
from outbox.engine import ClaimedMessage
from outbox.errors import ConfigError
from tests.gateway_helpers import gateway_env, settings_for, wait_for

Conn = psycopg.Connection[Any]


def test_defaults_are_the_conservative_ones(db_url: str) -> None:
    settings = load_gateway_settings({"DATABASE_URL": db_url})
    pacing = settings.pacing
    assert pacing.enabled
    assert (pacing.gap_min, pacing.gap_max) == (timedelta(seconds=8), timedelta(seconds=25))
    assert (pacing.max_per_hour, pacing.max_per_day) == (60, 400)
    assert pacing.recipient_gap == timedelta(seconds=60)
    assert settings.rate_limit_pause == timedelta(minutes=30)
    assert settings.poll_cron == "*/2 * * * *"
    assert settings.transport == "neonize"
    assert settings.session_name == "main"
    assert settings.store.endswith("sslmode=disable")


def test_session_name_is_lower_cased_and_admins_merged(db_url: str) -> None:
    settings = load_gateway_settings({
        "DATABASE_URL": db_url, "WA_SESSION_NAME": "Gateway-Polda", "WA_PACING": "off",
        "GATEWAY_WHATSAPP_ADMIN": "0812111, 0812222", "ADMIN_WHATSAPP": "0812222,0812333",
    })
    assert settings.session_name == "gateway-polda"
    assert settings.admins == ("0812111", "0812222", "0812333")
    assert not settings.pacing.enabled
    assert settings.pacing.recipient_gap == timedelta(0)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        load_gateway_settings({"WA_TRANSPORT": "jsonl", "WA_MAX_PER_HOUR": "0",
                               "WA_PROXY": "ftp://x", "WA_STORE_URL": "host=x dbname=y"})
    text = str(info.value)
    for needle in ("DATABASE_URL is not set", "WA_TRANSPORT=jsonl needs a file",
                   "WA_MAX_PER_HOUR", "WA_PROXY", "WA_STORE_URL"):
        assert needle in text
    assert len(info.value.problems) == 5


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres:@/db?host=/tmp/pg", "postgresql://postgres:@/db?host=/tmp/pg"
                                                "&sslmode=disable"),
    ("postgresql://u:p@localhost:5432/db", "postgresql://u:p@localhost:5432/db?sslmode=disable"),
    ("postgresql://u:p@db.example.org/db", "postgresql://u:p@db.example.org/db"),
    ("postgresql://u:p@127.0.0.1/db?sslmode=require", "postgresql://u:p@127.0.0.1/db"
                                                      "?sslmode=require"),
    ("postgresql+psycopg://u@localhost/db", "postgresql://u@localhost/db?sslmode=disable"),
])
def test_store_url_for_lib_pq(url: str, expected: str) -> None:
    assert store_url(url) == expected


def test_fail_rules() -> None:
    assert parse_fail_rules("transient:FLAKY:2, permanent:*,crash:POISON") == (
        FailRule("transient", "FLAKY", 2), FailRule("permanent", "*"),
        FailRule("crash", "POISON"))
    for bad in ("explode:x", "transient", "transient:x:0", "transient::1"):
        with pytest.raises(ValueError, match="rule"):
            parse_fail_rules(bad)


def test_poll_schedule_is_cron() -> None:
    at = datetime(2026, 11, 23, 10, 1, 30, tzinfo=UTC)
    assert next_poll("*/2 * * * *", at) == datetime(2026, 11, 23, 10, 2, tzinfo=UTC)


def test_poll_schedule_hours_are_jakarta_hours() -> None:
    # 00:30 UTC is 07:30 WIB: the next "07:00" is tomorrow 07:00 WIB = 00:00 UTC.
    at = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert next_poll("0 7 * * *", at) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def test_classification_of_plain_exceptions() -> None:
    assert classify(TimeoutError("read timed out")).failure is Failure.TRANSIENT
    assert classify(RuntimeError("boom")).failure is Failure.TRANSIENT
    assert classify_text("Rate-Overlimit") is Failure.PAUSE
    assert classify_text("the store doesn't contain a device JID") is Failure.NOT_READY
    assert classify(RuntimeError("boom")).reason == "RuntimeError: boom"


class SwitchTransport:
    """A transport whose connection the test switches on and off (records what it sends)."""

    name = "switch"

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.sent: list[int] = []

    def start(self, events: EventQueue) -> None:
        events.state("disconnected", "test transport starts offline")

    def ready(self) -> bool:
        return self.connected.is_set()

    def send(self, msg: ClaimedMessage) -> SendResult:
        self.sent.append(msg.id)
        return SendResult(f"SW{msg.id}")

    def flush(self) -> None:
        return None

    def stop(self) -> None:
        return None


def test_no_claim_while_disconnected_then_resume_and_alert(db_url: str, conn: Conn,
                                                           tmp_path: Path) -> None:
    settings = settings_for(db_url, tmp_path / "unused.jsonl", WA_DISCONNECT_ALERT_SECONDS="1",
                            ADMIN_WHATSAPP="081299990000")
    transport = SwitchTransport()
    gateway = Gateway(settings, transport)
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", gateway.run()),
                              daemon=True)
    thread.start()
    try:
        assert gateway.started.wait(10)
        row = conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                           "VALUES ('081234567890', 'tunggu', 'text') RETURNING id").fetchone()
        assert row is not None

        def alerts() -> list[str]:
            return [r[0] for r in conn.execute(
                "SELECT split_part(dedupe_key, ':', 3) FROM wa_outbox "
                "WHERE type = 'admin_alert' ORDER BY id").fetchall()]

        assert wait_for(lambda: alerts() == ["disconnected"], 5)
        status = conn.execute("SELECT status, attempts FROM wa_outbox WHERE id = %s",
                              (row[0],)).fetchone()
        assert status == ("pending", 0)
        assert transport.sent == []
        transport.connected.set()
        # the row and the two alerts (disconnected, reconnected) go out once connected
        assert wait_for(lambda: alerts() == ["disconnected", "reconnected"], 5)
        assert wait_for(lambda: len(transport.sent) == 3, 5)
        assert transport.sent[0] != row[0]  # alerts have priority
        sent = conn.execute("SELECT wa_message_id FROM wa_outbox WHERE id = %s",
                            (row[0],)).fetchone()
        assert sent == (f"SW{row[0]}",)
    finally:
        gateway.request_stop()
        thread.join(10)
    assert result == {"code": 0}


def test_gateway_env_helper_drops_the_callers_settings(db_url: str) -> None:
    env = gateway_env(db_url, None, WA_MAX_PER_DAY="7")
    assert env["WA_TRANSPORT"] == "log"
    assert env["WA_MAX_PER_DAY"] == "7"
    assert not any(k.startswith("OUTBOX_") for k in env)
