"""``/metrics``: the outbox in the Prometheus text format, read from the database at each scrape.

Labels are session names, statuses, message types, failure classes and job names: never a
phone number or a message text. The names are listed in docs/operations/web.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
from prometheus_client.core import (
    CollectorRegistry,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from outbox.sql import QueryFile
from outbox.web import data
from outbox.web.settings import WebSettings

_q = QueryFile("outbox.web", "web.sql")

SESSION_STATES = ("starting", "pairing", "connected", "disconnected", "logged_out", "banned",
                  "replaced", "offline")
LATENCY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
                   21600.0, 86400.0)
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 75.0)


def _buckets(values: Iterable[float], bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    """Cumulative bucket counts ``[(le, count), ..., ("+Inf", total)]``."""
    ordered = sorted(values)
    out: list[tuple[str, float]] = []
    index = 0
    for bound in bounds:
        while index < len(ordered) and ordered[index] <= bound:
            index += 1
        out.append((f"{bound:g}", float(index)))
    out.append(("+Inf", float(len(ordered))))
    return out


class OutboxCollector(Collector):
    def __init__(self, conn: psycopg.Connection[Any], settings: WebSettings) -> None:
        self.conn = conn
        self.settings = settings

    def _rows(self, name: str) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(_q(name), {})
            return cur.fetchall()

    def collect(self) -> Iterator[Metric]:
        s = self.settings
        lines = data.queue(self.conn)
        messages = GaugeMetricFamily("wa_outbox_messages",
                                     "Rows in wa_outbox per session, status and type.",
                                     labels=["session", "status", "type"])
        depth: dict[tuple[str, str, str], int] = {}
        for line in lines:
            key = (line.session_name, line.status, line.type)
            depth[key] = depth.get(key, 0) + line.messages
        for key, count in sorted(depth.items()):
            messages.add_metric(list(key), count)
        yield messages

        sessions = data.sessions(self.conn, max_per_hour=s.max_per_hour,
                                 max_per_day=s.max_per_day)
        now = sessions[0].now if sessions else None
        oldest: dict[str, float] = {}
        for line in lines:
            if line.oldest_pending_at is not None and now is not None:
                seconds = max((now - line.oldest_pending_at).total_seconds(), 0.0)
                oldest[line.session_name] = max(oldest.get(line.session_name, 0.0), seconds)
        age = GaugeMetricFamily("wa_outbox_oldest_pending_age_seconds",
                                "Age of the oldest pending row per session (0: none pending).",
                                labels=["session"])
        for x in sessions:
            age.add_metric([x.name], oldest.get(x.name, 0.0))
        yield age

        sent = GaugeMetricFamily("wa_outbox_sent_messages",
                                 "Sent rows still in wa_outbox per session (a purge lowers it).",
                                 labels=["session"])
        failed = GaugeMetricFamily(
            "wa_outbox_failed_messages",
            "Failed rows per session and class (permanent, attempts_exhausted, "
            "delivery_unknown).", labels=["session", "class"])
        sent_per: dict[str, int] = {}
        failed_per: dict[tuple[str, str], int] = {}
        for line in lines:
            if line.status == "sent":
                sent_per[line.session_name] = sent_per.get(line.session_name, 0) + line.messages
            elif line.status == "failed" and line.failure_class is not None:
                cls = (line.session_name, line.failure_class)
                failed_per[cls] = failed_per.get(cls, 0) + line.messages
        for name, count in sorted(sent_per.items()):
            sent.add_metric([name], count)
        for (name, klass), count in sorted(failed_per.items()):
            failed.add_metric([name, klass], count)
        yield sent
        yield failed

        latency = GaugeHistogramMetricFamily(
            "wa_outbox_send_latency_seconds",
            "Sends of the last 24 hours: seconds from insert to sent.", labels=["session"])
        duration = GaugeHistogramMetricFamily(
            "wa_outbox_send_duration_seconds",
            "Sends of the last 24 hours: seconds from the start of the send to WhatsApp's "
            "answer.", labels=["session"])
        per_session: dict[str, tuple[list[float], list[float]]] = {}
        for name, lat, dur in self._rows("metric_latency"):
            lats, durs = per_session.setdefault(name, ([], []))
            lats.append(max(lat, 0.0))
            if dur is not None:
                durs.append(max(dur, 0.0))
        for name, (lats, durs) in sorted(per_session.items()):
            latency.add_metric([name], _buckets(lats, LATENCY_BUCKETS), gsum_value=sum(lats))
            duration.add_metric([name], _buckets(durs, DURATION_BUCKETS), gsum_value=sum(durs))
        yield latency
        yield duration

        up = GaugeMetricFamily("wa_session_up",
                               "1 when the session is connected and not paused.",
                               labels=["session"])
        state = GaugeMetricFamily("wa_session_state",
                                  "1 for the session's recorded state, 0 for the others.",
                                  labels=["session", "state"])
        paused = GaugeMetricFamily("wa_session_paused_seconds",
                                   "Seconds until the session's pause ends (0: not paused).",
                                   labels=["session"])
        hour = GaugeMetricFamily("wa_session_sends_last_hour",
                                 "Sends in the rolling hour (the WA_MAX_PER_HOUR cap counts "
                                 "these).", labels=["session"])
        day = GaugeMetricFamily("wa_session_sends_last_24h",
                                "Sends in the rolling 24 hours (the WA_MAX_PER_DAY cap counts "
                                "these).", labels=["session"])
        cap = GaugeMetricFamily("wa_session_send_cap",
                                "The send caps as this process reads them.",
                                labels=["session", "window"])
        for x in sessions:
            up.add_metric([x.name], 1.0 if x.state == "connected" and not x.paused_until
                          else 0.0)
            states = (*SESSION_STATES, *(() if x.state in SESSION_STATES else (x.state,)))
            for st in states:
                state.add_metric([x.name, st], 1.0 if st == x.state else 0.0)
            paused.add_metric([x.name], 0.0 if x.paused_until is None
                              else max((x.paused_until - x.now).total_seconds(), 0.0))
            hour.add_metric([x.name], x.sent_last_hour)
            day.add_metric([x.name], x.sent_last_day)
            cap.add_metric([x.name, "hour"], x.max_per_hour)
            cap.add_metric([x.name, "day"], x.max_per_day)
        yield from (up, state, paused, hour, day, cap)

        runs = GaugeMetricFamily("producer_runs",
                                 "Rows in producer_run per job and outcome (done, failed, "
                                 "skipped).", labels=["job", "status"])
        last = GaugeMetricFamily("producer_last_slot_timestamp_seconds",
                                 "The latest slot per job and outcome (Unix time).",
                                 labels=["job", "status"])
        for job, status, count, latest in self._rows("metric_runs"):
            runs.add_metric([job, status], count)
            last.add_metric([job, status], latest)
        yield runs
        yield last


def registry_for(conn: psycopg.Connection[Any], settings: WebSettings) -> CollectorRegistry:
    """A registry holding only our collector, read on ``conn`` (one scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutboxCollector(conn, settings))
    return registry
