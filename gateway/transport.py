"""The fake transports (log, jsonl) and :func:`make_transport`, which picks the configured one.

They implement :class:`gateway.sending.Transport` like the neonize transport (gateway/wa.py):
always connected, with optional scripted failures (``WA_TRANSPORT_FAIL``) that carry whatsmeow's
real error texts so :func:`gateway.sending.classify` is exercised. Their number's groups come from
``WA_FAKE_GROUPS`` (reported on connect, as neonize's are); ``logout:match`` logs the session out
at a matching row (the pool's hand-over, docs/concepts/pool.md).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import FailRule, GatewaySettings
from gateway.events import EventQueue, JoinedGroups, QrCode
from gateway.sending import SendError, SendResult, Transport, classify_text
from gateway.wa import NeonizeTransport
from outbox.engine import ClaimedMessage
from outbox.logs import mask_phone, mask_text, stamp

log = logging.getLogger(__name__)


def describe(msg: ClaimedMessage) -> dict[str, object]:
    """The JSON line of the jsonl transport (also what the log transport prints)."""
    return {
        "outbox_id": msg.id,
        "session": msg.session_name,
        "recipient": msg.recipient,
        "type": msg.type,
        "kind": "document" if msg.attachment is not None else "text",
        "content": msg.content,
        "attachment_name": msg.attachment.name if msg.attachment else None,
        "attachment_mime": msg.attachment.mime if msg.attachment else None,
        "attachment_size": len(msg.attachment.data) if msg.attachment else None,
        "attempt": msg.attempts,
        "time": datetime.now(UTC).isoformat(timespec="microseconds"),
    }


# Error texts the injected failures carry: the real whatsmeow wording, so classify() is exercised.
INJECTED_TEXT = {
    "transient": "failed to refresh media connections: injected transient failure",
    "permanent": "no LID found for {recipient} from server (injected)",
    "pause": "info query returned status 429: rate-overlimit (injected)",
    "ambiguous": "timed out waiting for message send response (injected)",
    "notready": "websocket not connected (injected)",
    "logout": "not logged in: the session was logged out (injected)",
}


class InjectedCrash(RuntimeError):
    """An unexpected error injected by ``WA_TRANSPORT_FAIL=crash:...``."""


class FakeTransport:
    """Base of the log and jsonl transports: always connected, optional scripted failures."""

    name = "fake"

    def __init__(self, rules: tuple[FailRule, ...] = (), delay: timedelta = timedelta(0),
                 groups: tuple[str, ...] | None = None) -> None:
        self.rules = rules
        self.delay = delay.total_seconds()
        self.groups = groups  # WA_FAKE_GROUPS (None: unknown)
        self._logged_out = False
        self._fired: dict[tuple[int, int], int] = {}
        self._ids = itertools.count(1)
        self._prefix = f"FAKE{os.getpid():X}{time.time_ns() // 1_000_000:X}"
        self._events = EventQueue()  # replaced by start()

    def start(self, events: EventQueue) -> None:
        self._events = events
        events.state("connected", f"{self.name} transport (nothing is sent to WhatsApp)")
        groups = self.joined_groups()
        if groups is not None:
            events.put(JoinedGroups(groups))

    def joined_groups(self) -> tuple[str, ...] | None:
        return None if self._logged_out else self.groups

    def log_out(self, detail: str = "logged out (injected)") -> None:
        """Play a logout as neonize reports it: not ready from now on, state ``logged_out``."""
        self._logged_out = True
        self._events.state("logged_out", f"{detail}; pair again (new QR)", alert="logged_out")

    def show_qr(self, code: str) -> None:
        """Play a pairing as neonize reports it (tests, the status page's demo): a QR code."""
        self._events.put(QrCode(code))

    def paired(self, jid: str) -> None:
        """Play the end of a pairing: the QR was scanned, the session is ``jid``."""
        self._logged_out = False
        self._events.state("connected", f"{self.name} transport paired", jid=jid)

    def ready(self) -> bool:
        return not self._logged_out

    def flush(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def _inject(self, msg: ClaimedMessage) -> None:
        for index, rule in enumerate(self.rules):
            if rule.match != "*" and rule.match not in msg.content and rule.match != msg.recipient:
                continue
            key = (index, msg.id)
            fired = self._fired.get(key, 0)
            if rule.times is not None and fired >= rule.times:
                continue
            self._fired[key] = fired + 1
            if rule.kind == "crash":
                raise InjectedCrash(f"injected crash while sending outbox row {msg.id}")
            if rule.kind == "exit":  # the process dies in the send, as a segfault in neonize would
                os._exit(1)
            if rule.kind == "logout":  # WhatsApp logged the session out: this row is not sent
                self.log_out(f"logged out at outbox row {msg.id} (injected)")
            raise SendError(classify_text(INJECTED_TEXT[rule.kind]),
                            INJECTED_TEXT[rule.kind].format(recipient=msg.recipient))

    def _message_id(self) -> str:
        return f"{self._prefix}{next(self._ids):06X}"  # count() is atomic under the GIL

    def send(self, msg: ClaimedMessage) -> SendResult:
        if self.delay:
            time.sleep(self.delay)
        if self._logged_out:
            raise SendError(classify_text(INJECTED_TEXT["logout"]), INJECTED_TEXT["logout"])
        if self.rules:
            self._inject(msg)
        wa_id = self._message_id()
        self.emit(msg, wa_id)
        return SendResult(wa_id, datetime.now(UTC))

    def emit(self, msg: ClaimedMessage, wa_id: str) -> None:
        raise NotImplementedError


class LogTransport(FakeTransport):
    """Prints one line per would-be send on stdout (a dry run); written in blocks, flushed at
    each settle point, so a bulk dry run is not slowed down by one write per line."""

    name = "log"

    def __init__(self, rules: tuple[FailRule, ...] = (), delay: timedelta = timedelta(0),
                 groups: tuple[str, ...] | None = None, *, json_lines: bool = False) -> None:
        super().__init__(rules, delay, groups)
        self.json_lines = json_lines
        self._lines: list[str] = []

    def emit(self, msg: ClaimedMessage, wa_id: str) -> None:
        if self.json_lines:
            line = describe(msg)
            line.update({"ts": stamp(time.time()), "level": "info", "logger": __name__,
                         "msg": "WOULD SEND", "recipient": mask_phone(msg.recipient),
                         "content": mask_text(msg.content),
                         "wa_message_id": wa_id})
            self._lines.append(json.dumps(line, ensure_ascii=False))
            return
        what = "text" if msg.attachment is None else (
            f"document {msg.attachment.name} ({msg.attachment.mime}, "
            f"{len(msg.attachment.data)} bytes)")
        self._lines.append(f"{stamp(time.time())} WOULD SEND #{msg.id} {what} to "
                           f"{mask_phone(msg.recipient)}"
                           f" ({msg.type}): {mask_text(msg.content[:200]).replace(chr(10), ' | ')}")
        if len(self._lines) >= 1000:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()

    def stop(self) -> None:
        self.flush()


class JsonlTransport(FakeTransport):
    name = "jsonl"

    def __init__(self, path: Path, rules: tuple[FailRule, ...] = (),
                 delay: timedelta = timedelta(0), groups: tuple[str, ...] | None = None) -> None:
        super().__init__(rules, delay, groups)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write(2) per line on an O_APPEND descriptor: lines from concurrent processes never
        # interleave and a line is in the file as soon as send() returns (even after kill -9).
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def emit(self, msg: ClaimedMessage, wa_id: str) -> None:
        line = describe(msg)
        line["wa_message_id"] = wa_id
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        os.write(self._fd, data)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def make_transport(settings: GatewaySettings) -> Transport:
    if settings.transport == "log":
        return LogTransport(settings.transport_fail, settings.transport_delay,
                            settings.fake_groups, json_lines=settings.outbox.log_format == "json")
    if settings.transport == "jsonl":
        assert settings.jsonl_path is not None
        return JsonlTransport(settings.jsonl_path, settings.transport_fail,
                              settings.transport_delay, settings.fake_groups)
    return NeonizeTransport(settings)
