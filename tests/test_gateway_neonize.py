"""The neonize transport, offline : never a connection to WhatsApp.

* real FFI with no connected client (``client is nil``) proves our protobufs reach Go intact;
* events go through neonize's real decoder (``client.event.execute``) into our handlers, the
  queue, the sink thread and PostgreSQL;
* a fake Go layer swapped in through the name-mangled attribute runs neonize's whole Python send
  path (document building included);
* a proxy to 127.0.0.1:9 lets whatsmeow create its store tables, then fail to connect.
"""

from __future__ import annotations

import ctypes
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.config import GatewaySettings
from gateway.events import EventQueue
from gateway.sending import Failure, SendError
from gateway.sink import Sink
from gateway.wa import NeonizeTransport, neonize_import, to_jid
from outbox import engine
from outbox.engine import Attachment, ClaimedMessage
from tests.gateway_helpers import gateway_thread, settings_for, wait_for

neonize_import()  # before any neonize import: see neonize_import()

from neonize.events import EVENT_TO_INT  # noqa: E402
from neonize.exc import PairPhoneError, SendMessageError  # noqa: E402
from neonize.proto import Neonize_pb2 as N  # noqa: E402
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ExtendedTextMessage, Message  # noqa: E402
from neonize.utils.jid import build_jid  # noqa: E402

Conn = psycopg.Connection[Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dispatch(client: Any, event: Any) -> None:
    """What neonize's Go goroutine does: hand a serialised event to ``Event.execute``."""
    data = event.SerializePartialToString()
    buf = ctypes.create_string_buffer(data, max(len(data), 1))
    client.event.execute(0, ctypes.addressof(buf), len(data), EVENT_TO_INT[type(event)])


def claimed(recipient: str, content: str, attachment: Attachment | None = None) -> ClaimedMessage:
    return ClaimedMessage(
        id=1, recipient=recipient, content=content, type="text", session_name="main",
        priority=0, attempts=1, max_attempts=5, claim_token=uuid.uuid4(),
        lease_expires_at=datetime.now(UTC) + timedelta(minutes=2), attachment=attachment)


class FakeGo:
    """Stands in for the Go library behind one client (only the calls a send makes)."""

    def __init__(self, error: str = "") -> None:
        self.error = error
        self.sent: list[tuple[Any, Any]] = []
        self.uploads: list[tuple[bytes, int]] = []

    def SendMessage(self, _uuid: bytes, to: bytes, _tl: int, msg: bytes, _ml: int) -> bytes:
        self.sent.append((N.JID.FromString(to), Message.FromString(msg)))
        if self.error:
            return bytes(N.SendMessageReturnFunction(Error=self.error).SerializePartialToString())
        response = N.SendResponse(ID="3EB0C0FFEE0123456789AB", Timestamp=int(time.time()))
        return bytes(N.SendMessageReturnFunction(SendResponse=response)
                     .SerializePartialToString())

    def Upload(self, _uuid: bytes, binary: bytes, size: int, media: int) -> bytes:
        self.uploads.append((bytes(binary[:size]), media))
        response = N.UploadResponse(url="https://mmg.whatsapp.net/d/f/x.enc", DirectPath="/d/f/x",
                                    MediaKey=b"k" * 32, FileEncSHA256=b"e" * 32,
                                    FileSHA256=b"s" * 32, FileLength=size)
        return bytes(N.UploadReturnFunction(UploadResponse=response).SerializePartialToString())

    def GetMe(self, _uuid: bytes) -> bytes:
        # the logged-in device: the account's number with a device part
        jid = N.JID(User="6281290000001", Server="s.whatsapp.net", Device=12, RawAgent=0)
        return bytes(N.Device(JID=jid, PushName="Cicero Gateway").SerializePartialToString())

    def IsConnected(self, _uuid: bytes) -> bool:
        return True

    def IsLoggedIn(self, _uuid: bytes) -> bool:
        return True

    def Stop(self, _uuid: bytes) -> None:
        return None


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> GatewaySettings:
    s = settings_for(db_url, None, WA_TRANSPORT="neonize", WA_AUTH_PATH=str(tmp_path / "auth"),
                     GATEWAY_WHATSAPP_ADMIN="081277770000")
    assert isinstance(s, GatewaySettings)
    return s


@pytest.fixture
def transport(settings: GatewaySettings) -> NeonizeTransport:
    """A transport with a client that never connects (handlers registered, as at start)."""
    t = NeonizeTransport(settings)
    t._client = t.new_client()
    return t


@pytest.fixture
def sink(settings: GatewaySettings, transport: NeonizeTransport, conn: Conn) -> Any:
    engine.register_session(conn, settings.session_name)
    events = EventQueue()
    transport.events = events
    s = Sink(settings, events)
    s.start()
    yield s
    s.stop()


# ------------------------------------------------------------------------------ sending
def test_the_private_ffi_handle_exists(transport: NeonizeTransport) -> None:
    # FakeGo relies on this name-mangled attribute of neonize 0.5.2
    assert hasattr(transport._client, "_NewClient__client")


def test_jids_for_people_and_groups() -> None:
    person = to_jid("6281234567890@s.whatsapp.net")
    assert (person.User, person.Server, person.Device) == ("6281234567890", "s.whatsapp.net", 0)
    group = to_jid("120363025246125888@g.us")
    assert (group.User, group.Server) == ("120363025246125888", "g.us")
    old_group = to_jid("6281234567890-1600000000@g.us")
    assert old_group.User == "6281234567890-1600000000"
    for bad in ("+6281234567890@s.whatsapp.net", "6281234567890:3@s.whatsapp.net",
                "6281234567890@c.us", "12@g.us", "628123-456789@s.whatsapp.net"):
        with pytest.raises(SendError) as info:
            to_jid(bad)
        assert info.value.failure is Failure.PERMANENT


def test_real_ffi_accepts_our_message_then_says_client_is_nil(
        transport: NeonizeTransport) -> None:
    with pytest.raises(SendError) as refused:  # not connected: Go is not even called
        transport.send(claimed("6281234567890@s.whatsapp.net", "halo"))
    assert refused.value.failure is Failure.NOT_READY
    assert "not connected" in refused.value.reason
    transport._connected = True  # as after a Connected event, but no Go client behind it
    # Go unmarshalled the JID and the Message before refusing: our protobufs are valid
    with pytest.raises(SendError) as info:
        transport.send(claimed("6281234567890@s.whatsapp.net", "halo"))
    assert info.value.failure is Failure.NOT_READY
    assert "client is nil" in info.value.reason
    with pytest.raises(SendError) as doc_info:
        transport.send(claimed("120363025246125888@g.us", "rekap",
                               Attachment(b"PK\x03\x04", "rekap.xlsx", XLSX)))
    assert doc_info.value.failure is Failure.NOT_READY  # the upload needs a live client


def test_text_and_document_through_neonize_send_path(transport: NeonizeTransport) -> None:
    go = FakeGo()
    transport._client._NewClient__client = go
    assert not transport.ready()
    dispatch(transport._client, N.Connected(status=True))  # ready() follows the events
    assert transport.ready()
    result = transport.send(claimed("6281234567890@s.whatsapp.net", "Rekap @6281111111 hari ini"))
    assert result.wa_message_id == "3EB0C0FFEE0123456789AB"
    to, message = go.sent[0]
    assert (to.User, to.Server) == ("6281234567890", "s.whatsapp.net")
    assert message.conversation == "Rekap @6281111111 hari ini"  # a plain message, no mentions
    assert not message.HasField("extendedTextMessage")

    data = b"PK\x03\x04" + b"x" * 100
    transport.send(claimed("120363025246125888@g.us", "Rekap mingguan",
                           Attachment(data, "Rekap_2026-11.xlsx", XLSX)))
    assert go.uploads[0][0] == data
    to, message = go.sent[1]
    assert (to.User, to.Server) == ("120363025246125888", "g.us")
    doc = message.documentMessage
    assert (doc.fileName, doc.mimetype, doc.caption, doc.title) == (
        "Rekap_2026-11.xlsx", XLSX, "Rekap mingguan", "Rekap_2026-11.xlsx")
    assert doc.fileLength == len(data)
    assert doc.directPath == "/d/f/x"


@pytest.mark.parametrize(("error", "failure"), [
    ("no LID found for 6281234567890@s.whatsapp.net from server", Failure.PERMANENT),
    ("server returned error 463", Failure.PERMANENT),
    ("info query returned status 429: rate-overlimit", Failure.PAUSE),
    ("timed out waiting for message send response", Failure.AMBIGUOUS),
    ("websocket not connected", Failure.NOT_READY),
    ("failed to get group members: you're not participating in that group", Failure.PERMANENT),
    ("some new whatsmeow error", Failure.TRANSIENT),
])
def test_whatsmeow_errors_are_classified(transport: NeonizeTransport, error: str,
                                         failure: Failure) -> None:
    transport._client._NewClient__client = FakeGo(error)
    transport._connected = True
    with pytest.raises(SendError) as info:
        transport.send(claimed("6281234567890@s.whatsapp.net", "halo"))
    assert info.value.failure is failure
    assert isinstance(info.value.__cause__, SendMessageError)
    assert error in info.value.reason


# ------------------------------------------------------------------------------ events
def message_event(msg_id: str, text_message: Message, *, chat: str = "6281234567890",
                  server: str = "s.whatsapp.net", from_me: bool = False) -> Any:
    source = N.MessageSource(Chat=build_jid(chat, server), Sender=build_jid("6281234567890"),
                             IsFromMe=from_me, IsGroup=server == "g.us")
    info = N.MessageInfo(MessageSource=source, ID=msg_id, Timestamp=1_790_000_000,
                         Type="text", Pushname="Budi")
    return N.Message(Info=info, Message=text_message)


def test_incoming_messages_are_stored_once(transport: NeonizeTransport, sink: Sink,
                                           conn: Conn, other_conn: Conn) -> None:
    client = transport._client
    dispatch(client, message_event("MSG1", Message(conversation="Komplain NRP 123")))
    dispatch(client, message_event(
        "MSG2", Message(extendedTextMessage=ExtendedTextMessage(text="balasan panjang")),
        chat="120363025246125888", server="g.us"))
    dispatch(client, message_event("MSG1", Message(conversation="Komplain NRP 123")))  # again
    assert wait_for(lambda: sink.stored == 2, 5)
    # the sink survives losing its connection: the next message is still stored
    other_conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name LIKE 'wa-gateway-sink:%'")
    dispatch(client, message_event("MSG3", Message(conversation="pesan ketiga"), from_me=True))
    assert wait_for(lambda: sink.stored == 3, 10)
    rows = conn.execute("SELECT session_name, chat, sender, wa_message_id, text, from_me, "
                        "received_at FROM wa_inbox ORDER BY id").fetchall()
    assert [r[:6] for r in rows] == [
        ("main", "6281234567890@s.whatsapp.net", "6281234567890@s.whatsapp.net", "MSG1",
         "Komplain NRP 123", False),
        ("main", "120363025246125888@g.us", "6281234567890@s.whatsapp.net", "MSG2",
         "balasan panjang", False),
        ("main", "6281234567890@s.whatsapp.net", "6281234567890@s.whatsapp.net", "MSG3",
         "pesan ketiga", True),
    ]
    assert rows[0][6] == datetime.fromtimestamp(1_790_000_000, UTC)


def test_a_message_postgres_cannot_store_as_is_is_stored_cleaned(
        transport: NeonizeTransport, sink: Sink, conn: Conn) -> None:
    dispatch(transport._client, message_event("NUL1", Message(conversation="a\x00b")))
    assert wait_for(lambda: sink.stored == 1, 5)
    row = conn.execute("SELECT text FROM wa_inbox WHERE wa_message_id = 'NUL1'").fetchone()
    assert row == ("ab",)
    assert sink.failed_batches == 0


def test_receipts_record_delivery_and_read(transport: NeonizeTransport, sink: Sink,
                                           conn: Conn) -> None:
    conn.execute("INSERT INTO wa_outbox (recipient, content, type, status, sent_at, "
                 "wa_message_id) VALUES ('6281234567890', 'x', 'text', 'sent', now(), 'WA1'), "
                 "('6281234567891', 'y', 'text', 'sent', now(), 'WA2')")
    source = N.MessageSource(Chat=build_jid("99999", "lid"), Sender=build_jid("99999", "lid"))
    dispatch(transport._client, N.Receipt(MessageSource=source, MessageIDs=["WA1", "WA2"],
                                          Timestamp=1_790_000_100, Type=N.Receipt.DELIVERED))
    dispatch(transport._client, N.Receipt(MessageSource=source, MessageIDs=["WA2"],
                                          Timestamp=1_790_000_200, Type=N.Receipt.READ))

    def settled() -> bool:
        row = conn.execute("SELECT count(*) FROM wa_outbox WHERE read_at IS NOT NULL").fetchone()
        return row == (1,)

    assert wait_for(settled, 5)
    rows = conn.execute("SELECT wa_message_id, delivered_at, read_at FROM wa_outbox "
                        "ORDER BY id").fetchall()
    delivered = datetime.fromtimestamp(1_790_000_100, UTC)
    assert rows == [("WA1", delivered, None),
                    ("WA2", delivered, datetime.fromtimestamp(1_790_000_200, UTC))]


def test_temporary_ban_pauses_the_session_and_alerts(transport: NeonizeTransport, sink: Sink,
                                                     conn: Conn) -> None:
    dispatch(transport._client, N.TemporaryBan(Code=N.TemporaryBan.SEND_TO_TOO_MANY_PEOPLE,
                                               Expire=7200))

    def banned() -> bool:
        row = conn.execute("SELECT state FROM wa_session WHERE name = 'main'").fetchone()
        return row == ("banned",)

    assert wait_for(banned, 5)
    row = conn.execute("SELECT paused_until - now(), pause_reason, state_detail "
                       "FROM wa_session WHERE name = 'main'").fetchone()
    assert row is not None
    assert timedelta(hours=1, minutes=59) < row[0] <= timedelta(hours=2)
    assert "SEND_TO_TOO_MANY_PEOPLE" in row[1]
    assert wait_for(lambda: conn.execute(
        "SELECT count(*) FROM wa_outbox WHERE type = 'admin_alert'").fetchone() == (1,), 5)
    alert = conn.execute("SELECT recipient, available_at >= now() + interval '119 minutes', "
                         "content FROM wa_outbox WHERE type = 'admin_alert'").fetchone()
    assert alert is not None
    assert alert[:2] == ("6281277770000@s.whatsapp.net", True)  # sent when the ban is over
    assert "temporary ban" in alert[2]


def test_connection_lifecycle_events_update_the_session(transport: NeonizeTransport,
                                                        sink: Sink, conn: Conn) -> None:
    def state() -> Any:
        return conn.execute("SELECT state, state_detail FROM wa_session "
                            "WHERE name = 'main'").fetchone()

    client = transport._client
    dispatch(client, N.Connected(status=True))
    assert wait_for(lambda: state()[0] == "connected", 5)
    assert client.connected  # neonize's decoder saw it too
    assert transport.ready()
    # this client never went through connect(): Go does not know it, so it is not asked for
    # its account (GetMe would end the process)
    assert conn.execute("SELECT jid FROM wa_session WHERE name = 'main'").fetchone() == (None,)
    dispatch(client, N.LoggedOut(OnConnect=False, Reason=N.LOGGED_OUT))
    assert wait_for(lambda: state()[0] == "logged_out", 5)
    assert not transport.ready()
    dispatch(client, N.StreamReplaced())
    assert wait_for(lambda: state()[0] == "replaced", 5)
    assert transport._replaced
    kinds = [r[0] for r in conn.execute(
        "SELECT split_part(dedupe_key, ':', 3) FROM wa_outbox WHERE type = 'admin_alert' "
        "ORDER BY id").fetchall()]
    assert kinds == ["logged_out", "stream_replaced"]


def test_the_paired_account_is_recorded_when_the_session_connects(
        transport: NeonizeTransport, sink: Sink, conn: Conn) -> None:
    transport._client._NewClient__client = FakeGo()
    transport._registered = transport._client  # what connect() does
    dispatch(transport._client, N.Connected(status=True))
    assert wait_for(lambda: conn.execute(
        "SELECT state, jid FROM wa_session WHERE name = 'main'").fetchone()
        == ("connected", "6281290000001@s.whatsapp.net"), 5)  # the device part dropped
    transport.stop()
    assert transport.own_jid(transport._client) is None  # never asked once stopping


def test_a_state_change_and_its_alert_commit_together(transport: NeonizeTransport, sink: Sink,
                                                      conn: Conn, other_conn: Conn) -> None:
    # Another transaction holds back inserts into wa_outbox: the alert's INSERT waits, and the
    # state change written before it in the same transaction must not show meanwhile.
    with other_conn.transaction():
        other_conn.execute("LOCK TABLE wa_outbox IN SHARE MODE")
        dispatch(transport._client, N.StreamReplaced())
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND application_name LIKE 'wa-gateway-sink:%'").fetchone() == (1,), 5)
        assert conn.execute("SELECT state FROM wa_session WHERE name = 'main'").fetchone() \
            != ("replaced",)
    assert wait_for(lambda: conn.execute(
        "SELECT state FROM wa_session WHERE name = 'main'").fetchone() == ("replaced",), 5)
    assert conn.execute("SELECT count(*) FROM wa_outbox WHERE type = 'admin_alert' "
                        "AND dedupe_key LIKE 'wa-alert:main:stream_replaced:%'").fetchone() == (1,)


def test_qr_code_is_printed_and_the_session_waits_for_pairing(
        transport: NeonizeTransport, sink: Sink, conn: Conn,
        capsys: pytest.CaptureFixture[str]) -> None:
    client = transport._client
    client.event._qr(client, b"2@AbCdEfGh,ijkl,mnop,qrst")  # what Go's QR callback calls
    assert transport._last_qr is not None
    assert wait_for(lambda: conn.execute(
        "SELECT state FROM wa_session WHERE name = 'main'").fetchone() == ("pairing",), 5)
    out = capsys.readouterr().out
    assert "Linked devices" in out
    assert "\u2580" in out or "\u2584" in out or "\u2588" in out  # the terminal QR blocks


def test_qr_watchdog_restarts_pairing_after_a_silent_timeout(
        transport: NeonizeTransport) -> None:
    events = EventQueue()
    transport.events = events
    transport._last_qr = time.monotonic() - transport.settings.qr_timeout.total_seconds() - 1
    transport._watch_once()
    assert vars(transport)["_last_qr"] is None
    change = events.queue.get_nowait()
    assert (getattr(change, "state", None), "QR timeout" in str(change)) == ("pairing", True)


# ------------------------------------------------------------------------------ lifecycle
@pytest.mark.slow
def test_offline_gateway_creates_the_store_and_claims_nothing(db_url: str, conn: Conn) -> None:
    settings = settings_for(db_url, None, WA_TRANSPORT="neonize",
                            WA_PROXY="socks5://127.0.0.1:9")
    assert settings.store.startswith("postgresql://") and "sslmode=disable" in settings.store
    with gateway_thread(settings) as gateway:
        conn.execute("INSERT INTO wa_outbox (recipient, content, type) "
                     "VALUES ('081234567890', 'menunggu', 'text')")
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'whatsmeow%'").fetchone()
            == (17,), 10)
        assert wait_for(lambda: conn.execute(
            "SELECT state FROM wa_session WHERE name = 'main'").fetchone() == ("disconnected",),
            10)
        time.sleep(0.5)
        assert not gateway.transport.ready()
    row = conn.execute("SELECT status, attempts FROM wa_outbox").fetchone()
    assert row == ("pending", 0)  # never claimed while not connected


def test_store_is_sqlite_under_wa_auth_path(settings: GatewaySettings, tmp_path: Path) -> None:
    assert settings.store == str(tmp_path / "auth" / "main.db")


def test_pairing_by_phone_code_is_requested_once_after_the_first_qr(
        settings: GatewaySettings) -> None:
    from dataclasses import replace

    transport = NeonizeTransport(replace(settings, pair_phone="+62 812-3456-7890"))
    transport._client = transport.new_client()
    transport.events = EventQueue()
    transport._watch_once()  # no QR yet: nothing to do
    assert not transport._pair_requested
    transport._last_qr = time.monotonic()
    # offline the Go side refuses (no live client); online it returns the 8-character code
    with pytest.raises(PairPhoneError, match="client is nil"):
        transport._watch_once()
    assert vars(transport)["_pair_requested"] is True
    transport._watch_once()  # asked once per client, not on every watchdog tick


# ------------------------------------------------------------------------------ groups (pool)
G1, G2, G3 = "120363025246125001@g.us", "120363025246125002@g.us", "120363025246125003@g.us"
OWN_LID = N.JID(User="215438019371099", Server="lid", RawAgent=0, Device=0)


class FakeGoGroups(FakeGo):
    """The Go layer of a logged-in client in two groups (and with a LID, as accounts now have)."""

    def GetMe(self, _uuid: bytes) -> bytes:
        jid = N.JID(User="6281290000001", Server="s.whatsapp.net", Device=12, RawAgent=0)
        return bytes(N.Device(JID=jid, LID=OWN_LID, PushName="Cicero Gateway")
                     .SerializePartialToString())

    def GetJoinedGroups(self, _uuid: bytes) -> bytes:
        groups = [N.GroupInfo(JID=N.JID(User=g.split("@")[0], Server="g.us", RawAgent=0))
                  for g in (G1, G2)]
        return bytes(N.GetJoinedGroupsReturnFunction(Group=groups).SerializePartialToString())


def test_joined_groups_are_recorded_on_connect_and_follow_group_events(
        transport: NeonizeTransport, sink: Sink, conn: Conn) -> None:
    def groups() -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT group_jid FROM wa_group_member WHERE session_name = 'main'").fetchall()}

    # a group recorded before, which the number has left meanwhile
    conn.execute("INSERT INTO wa_group_member (session_name, group_jid) "
                 "VALUES ('main', '120363025246125999@g.us')")
    assert conn.execute("SELECT groups_seen_at FROM wa_session "
                        "WHERE name = 'main'").fetchone() == (None,)
    client = transport._client
    client._NewClient__client = FakeGoGroups()
    transport._registered = client  # what connect() does
    dispatch(client, N.Connected(status=True))
    assert wait_for(lambda: groups() == {G1, G2}, 5)  # the set is replaced
    seen = conn.execute("SELECT groups_seen_at > now() - interval '1 minute' FROM wa_session "
                        "WHERE name = 'main'").fetchone()
    assert seen == (True,)
    assert transport.joined_groups() == (G1, G2)

    # added to a third group: JoinedGroupEv
    dispatch(client, N.JoinedGroup(Reason="invite", Type="", GroupInfo=N.GroupInfo(
        JID=N.JID(User=G3.split("@")[0], Server="g.us", RawAgent=0))))
    assert wait_for(lambda: groups() == {G1, G2, G3}, 5)
    # someone else leaves G2: nothing changes for us; we are removed from G1 (named by our LID)
    other = N.JID(User="6281234567890", Server="s.whatsapp.net", RawAgent=0)
    g1 = N.JID(User=G1.split("@")[0], Server="g.us", RawAgent=0)
    g2 = N.JID(User=G2.split("@")[0], Server="g.us", RawAgent=0)
    dispatch(client, N.GroupInfoEvent(JID=g2, Leave=[other]))
    dispatch(client, N.GroupInfoEvent(JID=g1, Leave=[OWN_LID]))
    assert wait_for(lambda: groups() == {G2, G3}, 5)
    # added back to G1 (GroupInfo Join with our phone JID), then G2 is deleted
    dispatch(client, N.GroupInfoEvent(JID=g1, Join=[N.JID(User="6281290000001",
                                                            Server="s.whatsapp.net",
                                                            RawAgent=0)]))
    dispatch(client, N.GroupInfoEvent(JID=g2, Delete=N.GroupDelete(Deleted=True)))
    assert wait_for(lambda: groups() == {G1, G3}, 5)


def test_joined_groups_are_not_asked_of_a_client_go_does_not_know(
        transport: NeonizeTransport) -> None:
    transport._client._NewClient__client = FakeGoGroups()
    assert transport.joined_groups() is None  # not registered by connect(): GetJoinedGroups
    # would dereference a missing map entry in Go and end the process
