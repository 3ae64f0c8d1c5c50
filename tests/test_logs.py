"""Log lines: Jakarta stamps with the offset whatever the host's zone, one text and one JSON
format, phone numbers masked at INFO (messages, extras, failure reasons, tracebacks; groups
kept), one handler however often logging is configured, third-party noise out of INFO, and a
real gateway run whose output follows all of it."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from gateway.wa import neonize_import
from outbox import logs, migrate
from outbox.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    mask_phone,
    mask_text,
    stamp,
)
from tests.dev import REPO_ROOT

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+07:00 ")
# 2026-12-01 21:33:32 UTC = 2026-12-02 04:33:32 WIB
MOMENT = datetime(2026, 12, 1, 21, 33, 32, 250_000, tzinfo=UTC).timestamp()


class Output:
    """What the configured handler wrote on stdout (pytest's capture of it)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.text = ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().out
        return self.text


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Output]:
    """The root logger as the programs configure it (on stdout, captured); pytest's own
    handlers and the quiet loggers' levels are put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    yield Output(capsys)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)


def record(msg: str, *args: Any, level: int = logging.INFO, **extra: Any) -> logging.LogRecord:
    rec = logging.LogRecord("gateway.settle", level, __file__, 1, msg, args or None, None)
    rec.created = MOMENT
    rec.__dict__.update(extra)
    return rec


# --------------------------------------------------------------------------- stamps


def test_the_stamp_is_jakarta_with_its_offset() -> None:
    assert stamp(MOMENT) == "2026-12-02 04:33:32+07:00"
    assert TextFormatter().format(record("hello")) == (
        "2026-12-02 04:33:32+07:00 INFO    gateway.settle: hello")
    data = json.loads(JsonFormatter().format(record("hello", outbox_id=7)))
    assert data == {"ts": "2026-12-02 04:33:32+07:00", "level": "info",
                    "logger": "gateway.settle", "msg": "hello", "outbox_id": 7}


@pytest.mark.parametrize("zone", ["America/New_York", "UTC", "Asia/Tokyo"])
def test_the_hosts_zone_does_not_change_the_stamp(zone: str) -> None:
    code = ("import logging, time; from outbox.logs import configure_logging; "
            "configure_logging('info', 'text'); logging.getLogger('x').info('tick'); "
            "print(time.strftime('%z'))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True,
                          env={**os.environ, "TZ": zone, "PYTHONPATH": str(REPO_ROOT)})
    line, host_offset = proc.stdout.splitlines()
    assert STAMP.match(line), line
    assert line.endswith(" INFO    x: tick")
    logged = datetime.fromisoformat(line[:25])
    assert abs((datetime.now(UTC) - logged).total_seconds()) < 60
    assert host_offset != "+0700"  # the host really was elsewhere


def test_text_extras_and_tracebacks(captured: Output) -> None:
    configure_logging("info", "text")
    log = logging.getLogger("gateway.loop")
    try:
        raise RuntimeError("send to 6281234567890@s.whatsapp.net timed out")
    except RuntimeError:
        log.exception("send failed", extra={"outbox_id": 12})
    lines = captured.getvalue().splitlines()
    assert STAMP.match(lines[0])
    assert lines[0].endswith("ERROR   gateway.loop: send failed outbox_id=12")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: send to 62812****890@s.whatsapp.net timed out"


def test_json_is_one_object_per_line(captured: Output) -> None:
    configure_logging("info", "json")
    log = logging.getLogger("producers")
    log.warning("two\nlines for %s", "0812-3456-7890", extra={"job": "daily_report"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("crashed")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "two\nlines for 08123****890" and first["job"] == "daily_report"
    assert first["ts"].endswith("+07:00") and first["level"] == "warning"
    assert second["exc"].startswith("Traceback") and second["exc"].endswith("ValueError: boom")


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(("text", "masked"), [
    ("sent to 6281234567890@s.whatsapp.net", "sent to 62812****890@s.whatsapp.net"),
    ("device 6281234567890:12@s.whatsapp.net", "device 62812****890:12@s.whatsapp.net"),
    ("from 081234567890", "from 08123****890"),
    ("from 0812-3456-7890.", "from 08123****890."),
    ("from +62 812-3456-7890", "from +62812****890"),
    ("lid 123456789012345@lid", "lid 12345****345@lid"),
    ("group 120363012345678901@g.us", "group 120363012345678901@g.us"),
    ("old group 6281234567890-1600000000@g.us", "old group 6281234567890-1600000000@g.us"),
    ("outbox_id=123456 at 2026-12-02 04:33:32", "outbox_id=123456 at 2026-12-02 04:33:32"),
    ("epoch 1733100000000 nrp 75020201", "epoch 1733100000000 nrp 75020201"),
])
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_mask_phone_keeps_groups_and_the_device() -> None:
    assert mask_phone("6281234567890@s.whatsapp.net") == "62812****890@s.whatsapp.net"
    assert mask_phone("6281234567890:3@s.whatsapp.net") == "62812****890:3@s.whatsapp.net"
    assert mask_phone("120363012345678901@g.us") == "120363012345678901@g.us"


def test_numbers_are_masked_at_info_in_every_part_of_a_record(captured: Output) -> None:
    configure_logging("info", "text")
    # a third-party logger, an argument, an extra and a failure reason
    logging.getLogger("whatsmeow.Client").info("sending to %s", "6281234567890@s.whatsapp.net")
    logging.getLogger("gateway.settle").warning(
        "row 2 failed permanently: no LID found for 6281299998888@s.whatsapp.net",
        extra={"recipient": "081277776666", "outbox_id": 2})
    out = captured.getvalue()
    for number in ("6281234567890", "6281299998888", "081277776666"):
        assert number not in out, out
    assert "62812****890@s.whatsapp.net" in out and "62812****888@s.whatsapp.net" in out
    assert "recipient=08127****666" in out and "outbox_id=2" in out


def test_debug_shows_the_numbers(captured: Output) -> None:
    configure_logging("debug", "text")
    logging.getLogger("gateway").debug("to %s", "6281234567890@s.whatsapp.net")
    assert "to 6281234567890@s.whatsapp.net" in captured.getvalue()


# --------------------------------------------------------------------------- handlers, noise


def test_configuring_again_never_duplicates_a_line(captured: Output) -> None:
    logging.basicConfig()  # a library that configured logging first (neonize does, on import)
    for _ in range(3):  # e.g. a reconnect that configures again
        configure_logging("info", "text")
    neonize_import()  # neonize.utils.log calls basicConfig on import: a no-op now
    logging.getLogger("gateway").info("once")
    assert len(logging.getLogger().handlers) == 1
    assert captured.getvalue().count("once") == 1


def test_third_party_noise_stays_out_of_info(captured: Output, empty_db_url: str) -> None:
    configure_logging("info", "text")
    migrate.upgrade(empty_db_url)  # alembic logs "Running upgrade ..." at INFO
    neonize_import()
    logging.getLogger("neonize.utils.ffmpeg").warning("neonize: ffmpeg not found on PATH")
    logging.getLogger("alembic.runtime.migration").warning("a real alembic warning")
    out = captured.getvalue()
    assert "Running upgrade" not in out and "ffmpeg" not in out
    assert "a real alembic warning" in out
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)

    configure_logging("debug", "text")
    logging.getLogger("neonize.utils.ffmpeg").warning("neonize: ffmpeg not found on PATH")
    assert "ffmpeg not found" in captured.getvalue()


# --------------------------------------------------------------------------- a real run


def test_a_gateway_run_logs_in_jakarta_with_numbers_masked(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) VALUES "
                     "('081234567890', 'Halo, hubungi 081299998888', 'text'), "
                     "('081211112222', 'BADNUMBER', 'text')")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "LOG_", "ADMIN_"))}
    env.update({"DATABASE_URL": db_url, "WA_TRANSPORT": "log", "WA_PACING": "off",
                "WA_TRANSPORT_FAIL": "permanent:BADNUMBER", "TZ": "America/New_York",
                "ADMIN_WHATSAPP": "081277778888"})
    proc = subprocess.run([sys.executable, "-m", "gateway", "--once"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines and all(STAMP.match(line) for line in lines), lines
    assert any("WOULD SEND #1 text to 62812****890@s.whatsapp.net" in line for line in lines)
    assert any("failed permanently: no LID found for 62812****222" in line for line in lines)
    for number in ("6281234567890", "081299998888", "6281211112222", "081277778888",
                   "6281277778888"):
        assert number not in proc.stdout + proc.stderr
