"""The real transport: neonize 0.5.2 (whatsmeow over FFI), one sync ``NewClient`` per process.

Threads (shared/whatsapp.md §1.4):

* ``wa-conn`` runs the blocking ``client.connect()`` and recreates the client when it returns
  (initial connect failure, QR timeout, logout); ``stop()`` ends it.
* ``wa-watchdog`` restarts pairing after a silent QR timeout and asks for a phone pairing code.
* neonize's Go goroutine calls our handlers; they only put events on the queue and return.

On each connect the groups the number is a member of are asked (``get_joined_groups``) and
recorded for the pool of numbers (docs/concepts/pool.md); ``JoinedGroupEv`` and the Join/Leave/
Delete of ``GroupInfoEv`` keep them up to date in between.

Every call into Go that touches the client map (send, is_connected, stop) holds one lock, so
``stop()`` never races a send.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from gateway.config import GatewaySettings
from gateway.events import (
    Event,
    EventQueue,
    GroupMembership,
    Inbound,
    JoinedGroups,
    QrCode,
    Raw,
    Receipt,
    StateChange,
)
from gateway.sending import Failure, SendError, SendResult, classify
from outbox.engine import ClaimedMessage
from outbox.logs import mask_phone

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])

_JID = re.compile(r"^(?P<user>[0-9]{5,22}(-[0-9]{6,15})?)@(?P<server>s\.whatsapp\.net|g\.us)$")
_GROUP = re.compile(r"^[0-9]{10,22}(-[0-9]{6,15})?$")

# Receipt types (neonize Receipt.ReceiptType): DELIVERED=1, READ=4, PLAYED=6, INACTIVE=9.
_DELIVERED_TYPES = {1, 9}
_READ_TYPES = {4, 6}
_BAN_CODES = {1: "SEND_TO_TOO_MANY_PEOPLE", 2: "BLOCKED_BY_USERS", 3: "CREATED_TOO_MANY_GROUPS",
              4: "SENT_TOO_MANY_SAME_MESSAGE", 5: "BROADCAST_LIST"}
_CONNECT_FAILURE = {1: "GENERIC", 2: "LOGGED_OUT", 3: "TEMP_BANNED", 4: "MAIN_DEVICE_GONE",
                    5: "UNKNOWN_LOGOUT", 6: "CLIENT_OUTDATED", 7: "BAD_USER_AGENT",
                    8: "INTERNAL_SERVER_ERROR", 9: "EXPERIMENTAL", 10: "SERVICE_UNAVAILABLE"}


def _reap(children: list[Any]) -> None:
    for child in children:
        with contextlib.suppress(Exception):
            child.wait(timeout=5)
    children.clear()


def neonize_import() -> None:
    """Import neonize, hiding the ResourceWarnings of its import-time ``os.popen("uname -a")``
    (neonize/utils/platform.py never closes the pipe); later imports are cached.

    A pipe whose child had not exited yet sits in ``subprocess._active`` until the next Popen
    reaps it, and would warn then; so the children are reaped here, inside the filter.
    """
    if "neonize.client" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        import neonize.client
        import neonize.events  # noqa: F401

        _reap(list(getattr(subprocess, "_active", None) or []))
        cleanup = getattr(subprocess, "_cleanup", None)
        if cleanup is not None:
            cleanup()
        gc.collect()


def to_jid(recipient: str) -> Any:
    """The neonize ``JID`` of a canonical outbox recipient (raises a permanent SendError)."""
    neonize_import()
    from neonize.utils.jid import build_jid

    match = _JID.match(recipient)
    if match is None:
        raise SendError(Failure.PERMANENT, f"invalid JID {recipient!r} (expected "
                        "digits@s.whatsapp.net or digits@g.us)")
    user, server = match.group("user"), match.group("server")
    if server == "g.us" and not _GROUP.match(user):
        raise SendError(Failure.PERMANENT, f"invalid group JID {recipient!r}")
    if server == "s.whatsapp.net" and "-" in user:
        raise SendError(Failure.PERMANENT, f"invalid personal JID {recipient!r}")
    return build_jid(user, server)


def jid_text(jid: Any) -> str:
    if jid is None or (not getattr(jid, "User", "") and not getattr(jid, "Server", "")):
        return ""
    return f"{jid.User}@{jid.Server}"


def text_message(content: str) -> Any:
    """A plain text message: ``Message(conversation=...)`` (never a str: see whatsapp.md §1.9)."""
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message

    return Message(conversation=content)


def document_message(client: Any, msg: ClaimedMessage) -> Any:
    """Upload the attachment and build the document message (file name and MIME type set)."""
    assert msg.attachment is not None
    if not msg.attachment.data:
        raise SendError(Failure.PERMANENT, "malformed row: the attachment is empty")
    mime = msg.attachment.mime or "application/octet-stream"
    return client.build_document_message(
        msg.attachment.data, caption=msg.content, title=msg.attachment.name,
        filename=msg.attachment.name, mimetype=mime,
    )


def message_text(message: Any) -> str:
    """The text of an incoming WhatsApp message (conversation, extended text or a caption)."""
    if message is None:
        return ""
    if message.conversation:
        return str(message.conversation)
    if message.HasField("extendedTextMessage"):
        return str(message.extendedTextMessage.text)
    for field in ("imageMessage", "videoMessage", "documentMessage"):
        if message.HasField(field):
            return str(getattr(message, field).caption)
    if message.HasField("documentWithCaptionMessage"):
        return message_text(message.documentWithCaptionMessage.message)
    if message.HasField("ephemeralMessage"):
        return message_text(message.ephemeralMessage.message)
    return ""


def _ts(seconds: int) -> datetime | None:
    if seconds <= 0:
        return None
    if seconds > 10**11:  # milliseconds
        seconds //= 1000
    return datetime.fromtimestamp(seconds, UTC)


def translate_message(ev: Any) -> list[Event]:
    info = ev.Info
    source = info.MessageSource
    if not info.ID:
        return []
    return [Inbound(
        chat=jid_text(source.Chat),
        sender=jid_text(source.Sender),
        wa_message_id=str(info.ID),
        text=message_text(ev.Message),
        from_me=bool(source.IsFromMe),
        received_at=_ts(int(info.Timestamp)),
    )]


def translate_receipt(ev: Any) -> list[Event]:
    kind = ("delivered" if ev.Type in _DELIVERED_TYPES
            else "read" if ev.Type in _READ_TYPES else None)
    if kind is None or not ev.MessageIDs or ev.MessageSource.IsFromMe:
        return []
    return [Receipt(tuple(str(i) for i in ev.MessageIDs), kind, _ts(int(ev.Timestamp)))]


def translate_ban(ev: Any) -> list[Event]:
    expire = int(ev.Expire)
    now = datetime.now(UTC)
    if expire > 10**9:  # an absolute unix time rather than a duration
        until = datetime.fromtimestamp(expire, UTC)
    else:
        until = now + timedelta(seconds=max(expire, 0) or 3600)
    code = _BAN_CODES.get(int(ev.Code), str(ev.Code))
    return [StateChange("banned", f"temporary ban {code} until {until.isoformat()}",
                        alert="temporary_ban", pause_until=until)]


def translate_logged_out(ev: Any) -> list[Event]:
    reason = _CONNECT_FAILURE.get(int(ev.Reason), str(ev.Reason))
    return [StateChange("logged_out", f"logged out ({reason}); pair again (new QR)",
                        alert="logged_out")]


def translate_connect_failure(ev: Any) -> list[Event]:
    reason = _CONNECT_FAILURE.get(int(ev.Reason), str(ev.Reason))
    detail = f"connect failure {reason}: {ev.Message}".strip()
    if int(ev.Reason) == 3:
        return [StateChange("banned", detail, alert="temporary_ban",
                            pause_until=datetime.now(UTC) + timedelta(hours=1))]
    if int(ev.Reason) in (2, 4, 5):
        return [StateChange("logged_out", detail, alert="logged_out")]
    return [StateChange("disconnected", detail, alert="connect_failure")]


def translate_connected(jid: str | None) -> list[Event]:
    """Connected and logged in; ``jid`` is the paired account (recorded in ``wa_session.jid``,
    where the complaint intake finds the gateway's own number)."""
    return [StateChange("connected", "connected and logged in", jid=jid or None)]


def group_jid(jid: Any) -> str | None:
    """The canonical outbox form of a group's JID (``120363...@g.us``), ``None`` if not one."""
    text = jid_text(jid)
    return text if text.endswith("@g.us") else None


def translate_groups(groups: Any) -> list[Event]:
    """The answer of ``get_joined_groups`` (``GroupInfo`` messages): the whole set."""
    jids = (group_jid(g.JID) for g in groups)
    return [JoinedGroups(tuple(dict.fromkeys(j for j in jids if j)))]


def translate_joined_group(ev: Any) -> list[Event]:
    """``JoinedGroupEv``: the number joined, was added to, or created a group."""
    jid = group_jid(ev.GroupInfo.JID)
    if jid is None:
        return []
    why = " ".join(p for p in (ev.Type, ev.Reason) if p) or "joined"
    return [GroupMembership(jid, True, f"joined ({why})")]


def translate_group_info(ev: Any, me: frozenset[str]) -> list[Event]:
    """``GroupInfoEv``: only what concerns our own number (``me``: its phone JID and LID,
    without device part): it joined (Join), left or was removed (Leave), the group was deleted."""
    jid = group_jid(ev.JID)
    if jid is None:
        return []
    if ev.HasField("Delete"):
        return [GroupMembership(jid, False, "the group was deleted")]
    if any(jid_text(j) in me for j in ev.Leave):
        return [GroupMembership(jid, False, "left or removed from the group")]
    if any(jid_text(j) in me for j in ev.Join):
        return [GroupMembership(jid, True, f"joined ({ev.JoinReason or 'added'})")]
    return []


def translate_pair(ev: Any) -> list[Event]:
    if int(ev.Status) == 2 and not ev.Error:  # PairStatus.SUCCESS
        jid = jid_text(ev.ID)
        return [StateChange("starting", f"paired as {mask_phone(jid)}", jid=jid,
                            alert="paired")]
    return [StateChange("pairing", f"pairing failed: {ev.Error}")]


def _safe(handler: F) -> F:
    """ctypes prints and swallows a callback's exception; log it properly instead."""

    def wrapper(*args: Any) -> None:
        try:
            handler(*args)
        except Exception:
            log.exception("neonize event handler %s failed", handler.__name__)

    wrapper.__name__ = handler.__name__
    return wrapper  # type: ignore[return-value]


class NeonizeTransport:
    name = "neonize"

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.events = EventQueue()
        self._lock = threading.RLock()
        self._client: Any = None
        self._stopping = threading.Event()
        self._last_qr: float | None = None
        self._pair_requested = False
        self._replaced = False
        self._threads: list[threading.Thread] = []
        self._generation = 0
        # The client whose connect() registers it in neonize's Go client map: only that one may
        # be asked for its own JID (GetMe dereferences the map entry; for a client not in the
        # map it panics and the Go runtime ends the process).
        self._registered: Any = None
        self._connected = False
        # the account's own JIDs (phone and LID, no device part), learnt on connect: a group
        # event's Join/Leave names the number by one of them
        self._me: frozenset[str] = frozenset()

    # ------------------------------------------------------------------ client and handlers
    def new_client(self) -> Any:
        neonize_import()
        from neonize.client import NewClient
        from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps

        props = DeviceProps(os=self.settings.device_name, platformType=DeviceProps.CHROME)
        # A fresh Go-side key per client: when an old client object is garbage-collected its
        # finalizer calls Stop(uuid), which must not hit its successor.
        self._generation += 1
        uuid = f"{self.settings.session_name}.{self._generation}"
        client = NewClient(self.settings.store, props=props, uuid=uuid)
        self.register(client)
        return client

    def register(self, client: Any) -> None:
        """Every handler, before ``connect()`` (the subscribed set is fixed at connect time)."""
        from neonize import events as ev

        client.qr(self._on_qr)
        table: dict[Any, Callable[[Any, Any], None]] = {
            ev.ConnectedEv: self._on_connected,
            ev.DisconnectedEv: self._on_disconnected,
            ev.PairStatusEv: self._on_pair_status,
            ev.LoggedOutEv: self._on_logged_out,
            ev.StreamReplacedEv: self._on_stream_replaced,
            ev.TemporaryBanEv: self._on_temporary_ban,
            ev.ConnectFailureEv: self._on_connect_failure,
            ev.ClientOutdatedEv: self._on_client_outdated,
            ev.KeepAliveTimeoutEv: self._on_keepalive_timeout,
            ev.KeepAliveRestoredEv: self._on_keepalive_restored,
            ev.StreamErrorEv: self._on_stream_error,
            ev.MessageEv: self._on_message,
            ev.ReceiptEv: self._on_receipt,
            ev.JoinedGroupEv: self._on_joined_group,
            ev.GroupInfoEv: self._on_group_info,
        }
        for event_type, handler in table.items():
            client.event(event_type)(handler)

    @_safe
    def _on_qr(self, _client: Any, code: bytes) -> None:
        self._last_qr = time.monotonic()
        self.events.put(QrCode(code.decode(errors="replace")))

    @_safe
    def _on_connected(self, client: Any, _ev: Any) -> None:
        self._connected = True
        self._last_qr = None
        # the account's JID and its groups are asked of Go on the sink thread, never on Go's
        # event goroutine
        self.events.put(Raw(lambda: translate_connected(self.own_jid(client))
                            + self._groups_events(client)))

    @_safe
    def _on_disconnected(self, _client: Any, _ev: Any) -> None:
        self._connected = False
        self.events.put(StateChange("disconnected", "websocket closed; reconnecting by itself"))

    @_safe
    def _on_pair_status(self, _client: Any, ev: Any) -> None:
        self.events.put(Raw(lambda: translate_pair(ev)))

    @_safe
    def _on_logged_out(self, _client: Any, ev: Any) -> None:
        self._connected = False
        self.events.put(Raw(lambda: translate_logged_out(ev)))

    @_safe
    def _on_stream_replaced(self, _client: Any, _ev: Any) -> None:
        self._connected = False
        self._replaced = True
        self.events.put(StateChange(
            "replaced", "stream replaced: another client uses this session; not reconnecting "
            "(stop the other one, then restart this gateway)", alert="stream_replaced"))

    @_safe
    def _on_temporary_ban(self, _client: Any, ev: Any) -> None:
        self._connected = False
        self.events.put(Raw(lambda: translate_ban(ev)))

    @_safe
    def _on_connect_failure(self, _client: Any, ev: Any) -> None:
        self._connected = False
        self.events.put(Raw(lambda: translate_connect_failure(ev)))

    @_safe
    def _on_client_outdated(self, _client: Any, _ev: Any) -> None:
        self._connected = False
        self.events.put(StateChange("disconnected", "client outdated: upgrade neonize",
                                    alert="client_outdated"))

    @_safe
    def _on_keepalive_timeout(self, _client: Any, ev: Any) -> None:
        self._connected = False  # probably dead: whatsmeow reconnects after 3 min
        self.events.put(StateChange("degraded", f"keepalive timeout ({ev.ErrorCount} errors)"))

    @_safe
    def _on_keepalive_restored(self, _client: Any, _ev: Any) -> None:
        self._connected = True
        self.events.put(StateChange("connected", "keepalive restored"))

    @_safe
    def _on_stream_error(self, _client: Any, ev: Any) -> None:
        self._connected = False
        self.events.put(StateChange("disconnected", f"stream error {ev.Code}"))

    @_safe
    def _on_message(self, _client: Any, ev: Any) -> None:
        self.events.put(Raw(lambda: translate_message(ev)))

    @_safe
    def _on_receipt(self, _client: Any, ev: Any) -> None:
        self.events.put(Raw(lambda: translate_receipt(ev)))

    @_safe
    def _on_joined_group(self, _client: Any, ev: Any) -> None:
        self.events.put(Raw(lambda: translate_joined_group(ev)))

    @_safe
    def _on_group_info(self, client: Any, ev: Any) -> None:
        self.events.put(Raw(lambda: self._group_info_events(client, ev)))

    def _group_info_events(self, client: Any, ev: Any) -> list[Event]:
        if not self._me and (ev.Join or ev.Leave):
            # who we are is not known (yet): ask for the whole set instead
            return self._groups_events(client)
        return translate_group_info(ev, self._me)

    def _groups_events(self, client: Any) -> list[Event]:
        groups = self.joined_groups(client)
        return [] if groups is None else [JoinedGroups(groups)]

    # ------------------------------------------------------------------ lifecycle
    def start(self, events: EventQueue) -> None:
        self.events = events
        for name, target in (("wa-conn", self._connect_loop), ("wa-watchdog", self._watchdog)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _connect_loop(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            with self._lock:
                # Under the lock, so no send is inside Go while Neonize() below registers the
                # new client in the Go client map (sends wait for the Connected event again).
                if self._stopping.is_set():
                    return
                self._connected = False
                self._client = self._registered = self.new_client()
                self._last_qr = None
                self._pair_requested = False
            self.events.put(StateChange("starting", "connecting to WhatsApp"))
            started = time.monotonic()
            error: BaseException | None = None
            try:
                self._client.connect(self._proxy())
            except Exception as exc:
                error = exc
            self._connected = False
            if self._stopping.is_set():
                return
            if self._replaced:
                log.error("stream replaced: not reconnecting until the gateway is restarted")
                self._stopping.wait()
                return
            if time.monotonic() - started > 120:
                delay = 1.0
            log.warning("the WhatsApp connection ended (%s); reconnecting in %.0f s",
                        error or "stopped", delay)
            self.events.put(StateChange("disconnected", f"connection ended: {error or 'stopped'}"))
            self._stopping.wait(delay)
            delay = min(delay * 2, 60.0)

    def _proxy(self) -> Any:
        if not self.settings.proxy:
            return None
        from neonize.client import ProxySettings

        return ProxySettings(proxy_address=self.settings.proxy)

    def _watchdog(self) -> None:
        while not self._stopping.wait(1.0):
            try:
                self._watch_once()
            except Exception:
                log.exception("WhatsApp watchdog check failed")

    def _watch_once(self) -> None:
        last_qr = self._last_qr
        if last_qr is None:
            return
        with self._lock:
            client = self._client
            if client is None or client.is_logged_in:
                return
            if time.monotonic() - last_qr > self.settings.qr_timeout.total_seconds():
                log.warning("the QR code was not scanned in time; starting a new pairing")
                self._last_qr = None
                self.events.put(StateChange("pairing", "QR timeout: a new QR code follows"))
                self._registered = None
                client.stop()  # connect() returns and the connect loop creates a new client
                return
            phone = self.settings.pair_phone
            if phone and not self._pair_requested:
                self._pair_requested = True
                digits = re.sub(r"\D", "", phone)
                code = client.PairPhone(digits, True)
                print(f"\nWhatsApp pairing code for {mask_phone(digits)}: {code}\n"
                      "(WhatsApp > Linked devices > Link with phone number)\n", flush=True)
                log.warning("pairing code requested", extra={"pairing_code": code})

    def ready(self) -> bool:
        """Connected and logged in, as the events last said. Deliberately no call into Go:
        ``IsConnected`` reads the Go client map, which ``Neonize()`` writes when a (re)connect
        starts, and a concurrent map read and write is a fatal error of the Go runtime."""
        return self._connected and not self._stopping.is_set()

    def send(self, msg: ClaimedMessage) -> SendResult:
        jid = to_jid(msg.recipient)
        with self._lock:
            client = self._client
            if client is None or not self._connected:
                raise SendError(Failure.NOT_READY, "the WhatsApp session is not connected")
            try:
                message = (document_message(client, msg) if msg.attachment is not None
                           else text_message(msg.content))
                response = client.send_message(jid, message)
            except SendError:
                raise
            except Exception as exc:
                raise classify(exc) from exc
        return SendResult(str(response.ID) or None, None)

    def own_jid(self, client: Any) -> str | None:
        """The JID of the account ``client`` is logged in as (``user@s.whatsapp.net``), or
        ``None`` when it cannot be asked: not the live client, or stopping. Holds the lock like a
        send, so no stop or new client registration runs meanwhile."""
        with self._lock:
            if client is not self._registered or self._stopping.is_set():
                return None
            try:
                me = client.get_me()
            except Exception:
                log.exception("cannot read the paired account's JID")
                return None
        own = {jid_text(me.JID) if me.HasField("JID") else "",
               jid_text(me.LID) if me.HasField("LID") else ""}
        self._me = frozenset(j for j in own if j)
        return (jid_text(me.JID) or None) if me.HasField("JID") else None

    def joined_groups(self, client: Any = None) -> tuple[str, ...] | None:
        """The groups the number is a member of, asked of WhatsApp (``get_joined_groups``, one
        round trip); ``None`` when it cannot be asked (not the live client, stopping, an error).
        Holds the lock like a send (the same Go client map rule as :meth:`own_jid`)."""
        with self._lock:
            client = self._registered if client is None else client
            if client is None or client is not self._registered or self._stopping.is_set():
                return None
            try:
                groups = client.get_joined_groups()
            except Exception:
                log.exception("cannot read the groups the number is a member of")
                return None
        events = translate_groups(groups)
        return events[0].groups if isinstance(events[0], JoinedGroups) else None

    def flush(self) -> None:
        return None

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._registered = None
            if self._client is not None:
                try:
                    self._client.stop()
                except Exception:
                    log.exception("stopping the WhatsApp client failed")
        for thread in self._threads:
            thread.join(timeout=5.0)
