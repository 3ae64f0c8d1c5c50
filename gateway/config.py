"""Gateway settings, read once at start from the environment (every problem listed at once)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from croniter import croniter

from outbox import engine
from outbox.config import EnvReader, OutboxSettings, cron_problem, outbox_settings

SESSION_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
TRANSPORTS = ("neonize", "log", "jsonl")
# "exit" ends the whole process at once mid-send (os._exit(1), no settle, no cleanup): a row that
# kills the gateway, for the chaos run and the tests.
# "logout" logs the fake session out at the matching row (the row goes back unsent, the session
# reports `logged_out` and stays so): the pool's hand-over, in tests and demos.
FAIL_KINDS = ("transient", "permanent", "pause", "ambiguous", "crash", "exit", "notready",
              "logout")
GROUP_JID = re.compile(r"^[0-9]{10,22}(-[0-9]{6,15})?@g\.us$")


@dataclass(frozen=True)
class FailRule:
    """A scripted failure of a fake transport: ``kind:match[:times]`` in ``WA_TRANSPORT_FAIL``.

    ``match`` is a substring of the row's content or recipient (``*`` matches every row);
    ``times`` limits how often the rule fires for one outbox row (default: every time).
    """

    kind: str
    match: str
    times: int | None = None


@dataclass(frozen=True)
class Pacing:
    enabled: bool
    gap_min: timedelta
    gap_max: timedelta
    max_per_hour: int
    max_per_day: int
    recipient_gap: timedelta
    # a recipient's consecutive due texts go out as one message (WA_COALESCE_TEXTS)
    coalesce_texts: bool = False
    # the last sends of each budget, kept for rows of priority >= engine.RESERVE_PRIORITY
    # (WA_RESERVE_PER_HOUR, WA_RESERVE_PER_DAY)
    reserve_per_hour: int = 0
    reserve_per_day: int = 0

    @classmethod
    def off(cls) -> Pacing:
        return cls(False, timedelta(0), timedelta(0), 0, 0, timedelta(0))


@dataclass(frozen=True)
class GatewaySettings:
    outbox: OutboxSettings
    session_name: str
    transport: str  # neonize | log | jsonl
    jsonl_path: Path | None
    transport_fail: tuple[FailRule, ...]
    transport_delay: timedelta
    store: str  # neonize store: a postgres:// URL or a SQLite file path
    auth_path: Path | None
    device_name: str
    proxy: str | None
    pair_phone: str | None
    qr_timeout: timedelta
    ready_timeout: timedelta
    poll_cron: str
    claim_batch: int
    pacing: Pacing
    rate_limit_pause: timedelta
    admins: tuple[str, ...]
    alert_window: timedelta
    disconnect_alert: timedelta
    heartbeat: timedelta
    worker_id: str
    # reliability (issue 14): the watchdog, the send deadline, the fenced takeover
    watchdog: timedelta = timedelta(seconds=180)
    send_timeout: timedelta = timedelta(seconds=90)
    takeover: timedelta = timedelta(seconds=60)
    # retention (issue 14): the scheduled purge; a zero age keeps that status forever
    purge_every: timedelta = timedelta(hours=6)
    retention_sent: timedelta = timedelta(days=30)
    retention_failed: timedelta = timedelta(days=90)
    unserved_alert: timedelta = timedelta(minutes=15)
    # the pool of numbers (issue 13): the pool this session serves (None: alone), the pacing it
    # declares at registration (the configured caps, also when WA_PACING is off), when another
    # member of the pool that no gateway serves counts as gone, the fake transports' groups
    pool: str | None = None
    declared_pacing: Pacing | None = None
    pool_handover: timedelta = timedelta(seconds=120)
    fake_groups: tuple[str, ...] | None = None

    @property
    def database_url(self) -> str:
        return self.outbox.database_url


def parse_fail_rules(text: str) -> tuple[FailRule, ...]:
    rules: list[FailRule] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3) or parts[0] not in FAIL_KINDS or not parts[1]:
            raise ValueError(
                f"rule {item!r}: expected kind:match[:times] with kind one of "
                + ", ".join(FAIL_KINDS)
            )
        times = None
        if len(parts) == 3:
            times = int(parts[2])
            if times < 1:
                raise ValueError(f"rule {item!r}: times must be >= 1")
        rules.append(FailRule(parts[0], parts[1], times))
    return tuple(rules)


def parse_groups(text: str) -> tuple[str, ...]:
    """``WA_FAKE_GROUPS``: group JIDs (``120363...@g.us``, or the bare id) separated by ``,``,
    ``;`` or spaces; ``none`` for a number in no group."""
    if text.strip().lower() == "none":
        return ()
    groups: list[str] = []
    for item in re.split(r"[,;\s]+", text.strip()):
        if not item:
            continue
        jid = item if item.endswith("@g.us") else f"{item}@g.us"
        if not GROUP_JID.match(jid):
            raise ValueError(f"{item!r} is not a group JID (digits[-digits]@g.us)")
        groups.append(jid)
    return tuple(dict.fromkeys(groups))


def store_url(database_url: str) -> str:
    """The neonize (lib/pq) form of ``DATABASE_URL``: URL form, ``sslmode`` set for local use.

    lib/pq defaults to ``sslmode=require``; a local socket or loopback server usually has no
    SSL, so ``sslmode=disable`` is added there when the URL does not name a mode itself.
    """
    url = database_url
    if url.startswith("postgresql+psycopg://"):
        url = "postgresql://" + url[len("postgresql+psycopg://"):]
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    if "sslmode" in params:
        return url
    host = params.get("host") or parts.hostname or ""
    if host == "" or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1"):
        return url + ("&" if parts.query else "?") + "sslmode=disable"
    return url


def _reserve(reader: EnvReader, name: str, cap_name: str, cap: int, *, default: int,
             check: bool) -> int:
    """A budget reserve (``WA_RESERVE_PER_HOUR`` / ``_PER_DAY``): the last sends of the cap
    kept for answers and alerts. Unset: :func:`outbox.engine.default_reserve`. Set: at least 0
    and below the cap."""
    value: int | None = reader.parsed((name,), None, int, "a whole number")
    if value is None:
        return engine.default_reserve(default, cap)
    if value < 0 or (check and value >= cap):
        reader.problem(f"{name}={value} must be at least 0 and below {cap_name}={cap} (the "
                       "last sends of the budget kept for answers and alerts; the rest must be "
                       "at least 1)")
        return 0
    return value


def gateway_settings(reader: EnvReader, *, worker_id: str = "gateway") -> GatewaySettings:
    outbox = outbox_settings(reader)

    raw_session = reader.text("WA_SESSION_NAME", "GATEWAY_WA_CLIENT_ID", default="main")
    session = raw_session.strip().lower()
    if not SESSION_NAME.match(session):
        reader.problem(
            f"WA_SESSION_NAME={raw_session!r} is not a valid session name (lower-case letters, "
            "digits, '_', '.', '-', starting with a letter or digit, at most 63 characters)"
        )

    transport_raw = reader.text("WA_TRANSPORT", default="neonize")
    kind, _, arg = transport_raw.partition(":")
    kind = kind.lower()
    jsonl_path: Path | None = None
    if kind not in TRANSPORTS:
        reader.problem(f"WA_TRANSPORT={transport_raw!r} is not one of neonize, log, jsonl:PATH")
    elif kind == "jsonl":
        if not arg:
            reader.problem("WA_TRANSPORT=jsonl needs a file: WA_TRANSPORT=jsonl:/path/sends.jsonl")
        else:
            jsonl_path = Path(arg)
    no_rules: tuple[FailRule, ...] = ()
    fail = reader.parsed(("WA_TRANSPORT_FAIL",), no_rules, parse_fail_rules,
                         "a list of failure rules")
    if fail and kind == "neonize":
        reader.problem("WA_TRANSPORT_FAIL only applies to the log and jsonl transports")
    delay = reader.seconds("WA_TRANSPORT_DELAY_SECONDS", default=0.0)

    auth_raw = reader.optional_text("WA_AUTH_PATH")
    auth_path = Path(auth_raw) if auth_raw else None
    store = reader.optional_text("WA_STORE_URL") or ""
    if store and not store.startswith("postgres"):
        reader.problem("WA_STORE_URL must be a postgres:// URL (use WA_AUTH_PATH for SQLite)")
    if not store:
        store = (str(auth_path / f"{session}.db") if auth_path is not None
                 else store_url(outbox.database_url))

    proxy = reader.optional_text("WA_PROXY")
    if proxy and not proxy.startswith(("socks5://", "http://", "https://")):
        reader.problem("WA_PROXY must be a socks5://, http:// or https:// URL")

    poll_cron = reader.text("WA_GATEWAY_POLL_CRON", default="*/2 * * * *")
    cron_wrong = cron_problem(poll_cron)
    if cron_wrong is not None:
        reader.problem(f"WA_GATEWAY_POLL_CRON={poll_cron!r} is not a valid cron: {cron_wrong}; "
                       "use five fields like '*/2 * * * *'")

    pacing_on = reader.flag("WA_PACING", default=True)
    gap_min = reader.seconds("WA_SEND_GAP_MIN_SECONDS", default=8.0)
    gap_max = reader.seconds("WA_SEND_GAP_MAX_SECONDS", default=25.0)
    if gap_max < gap_min:
        reader.problem("WA_SEND_GAP_MAX_SECONDS must be >= WA_SEND_GAP_MIN_SECONDS")
    pacing = Pacing(
        enabled=pacing_on,
        gap_min=gap_min,
        gap_max=gap_max,
        max_per_hour=reader.integer("WA_MAX_PER_HOUR", default=60, minimum=1),
        max_per_day=reader.integer("WA_MAX_PER_DAY", default=400, minimum=1),
        recipient_gap=reader.seconds("WA_RECIPIENT_GAP_SECONDS", default=60.0),
        coalesce_texts=reader.flag("WA_COALESCE_TEXTS", default=True),
    )
    pacing = replace(
        pacing,
        reserve_per_hour=_reserve(reader, "WA_RESERVE_PER_HOUR", "WA_MAX_PER_HOUR",
                                  pacing.max_per_hour, default=engine.DEFAULT_RESERVE_PER_HOUR,
                                  check=pacing_on),
        reserve_per_day=_reserve(reader, "WA_RESERVE_PER_DAY", "WA_MAX_PER_DAY",
                                 pacing.max_per_day, default=engine.DEFAULT_RESERVE_PER_DAY,
                                 check=pacing_on))
    declared = pacing
    if not pacing_on:
        pacing = Pacing.off()

    pool = reader.optional_text("WA_POOL")
    if pool is not None:
        pool = pool.strip().lower()
        if not SESSION_NAME.match(pool):
            reader.problem(f"WA_POOL={pool!r} is not a valid pool name (lower-case letters, "
                           "digits, '_', '.', '-', starting with a letter or digit, at most 63 "
                           "characters)")
    fake_groups = reader.parsed(("WA_FAKE_GROUPS",), None, parse_groups, "a list of group JIDs")
    if fake_groups is not None and kind == "neonize":
        reader.problem("WA_FAKE_GROUPS only applies to the log and jsonl transports (neonize "
                       "asks WhatsApp)")

    admins = tuple(dict.fromkeys(
        reader.items("GATEWAY_WHATSAPP_ADMIN") + reader.items("ADMIN_WHATSAPP")))

    return GatewaySettings(
        outbox=outbox,
        session_name=session,
        transport=kind,
        jsonl_path=jsonl_path,
        transport_fail=fail,
        transport_delay=delay,
        store=store,
        auth_path=auth_path,
        device_name=reader.text("WA_DEVICE_NAME", default="Cicero Gateway"),
        proxy=proxy,
        pair_phone=reader.optional_text("WA_PAIR_PHONE"),
        qr_timeout=reader.seconds("WA_QR_TIMEOUT_SECONDS", default=170.0, minimum=30.0),
        ready_timeout=reader.seconds("WA_READY_TIMEOUT_SECONDS", default=60.0, minimum=1.0),
        poll_cron=poll_cron,
        claim_batch=reader.integer("WA_CLAIM_BATCH", default=50, minimum=1, maximum=1000),
        pacing=pacing,
        rate_limit_pause=reader.seconds("WA_RATE_LIMIT_PAUSE_SECONDS", default=1800.0),
        admins=admins,
        alert_window=reader.seconds("WA_ALERT_WINDOW_SECONDS", default=3600.0, minimum=1.0),
        disconnect_alert=reader.seconds("WA_DISCONNECT_ALERT_SECONDS", default=300.0,
                                        minimum=1.0),
        heartbeat=reader.seconds("WA_HEARTBEAT_SECONDS", default=30.0, minimum=1.0),
        worker_id=worker_id,
        watchdog=reader.seconds("WA_WATCHDOG_SECONDS", default=180.0, minimum=1.0),
        send_timeout=reader.seconds("WA_SEND_TIMEOUT_SECONDS", default=90.0, minimum=1.0),
        takeover=reader.seconds("WA_TAKEOVER_SECONDS", default=60.0, minimum=0.0),
        purge_every=timedelta(hours=reader.integer("WA_PURGE_EVERY_HOURS", default=6,
                                                   minimum=0, maximum=24 * 7)),
        retention_sent=timedelta(days=reader.integer("WA_RETENTION_SENT_DAYS", default=30,
                                                     minimum=0)),
        retention_failed=timedelta(days=reader.integer("WA_RETENTION_FAILED_DAYS", default=90,
                                                       minimum=0)),
        unserved_alert=reader.seconds("WA_UNSERVED_ALERT_SECONDS", default=900.0, minimum=0.0),
        pool=pool,
        declared_pacing=declared,
        pool_handover=reader.seconds("WA_POOL_HANDOVER_SECONDS", default=120.0, minimum=1.0),
        fake_groups=fake_groups,
    )


def load_gateway_settings(env: Mapping[str, str] | None = None, *,
                          worker_id: str = "gateway") -> GatewaySettings:
    reader = EnvReader(env)
    settings = gateway_settings(reader, worker_id=worker_id)
    lease = lease_problem(settings)
    if lease is not None:
        reader.problem(lease)
    reader.finish()
    return settings


SETTLE_MARGIN = timedelta(seconds=10)


def lease_problem(settings: GatewaySettings) -> str | None:
    """A lease that can run out while WhatsApp still has the message: the rescuer would hand
    the row to another send (a duplicate). Over neonize a send may last up to
    ``WA_SEND_TIMEOUT_SECONDS`` (then the watchdog gives up on it), plus the settle."""
    if settings.transport != "neonize":
        return None  # the fake transports take WA_TRANSPORT_DELAY_SECONDS, for tests
    needed = settings.send_timeout + SETTLE_MARGIN
    lease = settings.outbox.lease
    if lease >= needed:
        return None
    return (f"OUTBOX_LEASE_SECONDS={lease.total_seconds():g} is shorter than a send may take: "
            f"WA_SEND_TIMEOUT_SECONDS ({settings.send_timeout.total_seconds():g}) + "
            f"{SETTLE_MARGIN.total_seconds():g} s to settle; use at least "
            f"{needed.total_seconds():g} (default 120)")


_JAKARTA = ZoneInfo("Asia/Jakarta")


def next_poll(cron: str, after: datetime) -> datetime:
    """The next fire time of the poll schedule, evaluated in Asia/Jakarta like every other
    cron of the system (and the old node-cron services)."""
    nxt = croniter(cron, after.astimezone(_JAKARTA)).get_next(datetime)
    assert isinstance(nxt, datetime)
    return nxt
