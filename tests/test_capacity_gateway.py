"""The projection against the real gateway: the same queue, projected by
``outbox.capacity.capacity`` and then sent by a gateway (jsonl transport, pacing on with short
gaps), goes out in the projected order at the projected times (within the loop's latency):
priority then id, the per-recipient FIFO and gap, the hourly budget from wa_send_log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from outbox import capacity, engine
from tests.gateway_helpers import gateway_thread, read_jsonl, settings_for, wait_for

Conn = psycopg.Connection[Any]
TOLERANCE = 0.35  # seconds: NOTIFY wake-up, claim and settle of each send


def test_the_gateway_sends_as_projected(db_url: str, conn: Conn, tmp_path: Path) -> None:
    sends = tmp_path / "sends.jsonl"
    settings = settings_for(db_url, sends, WA_PACING="on", WA_SEND_GAP_MIN_SECONDS="0.4",
                            WA_SEND_GAP_MAX_SECONDS="0.4", WA_RECIPIENT_GAP_SECONDS="2",
                            WA_MAX_PER_HOUR="4", WA_MAX_PER_DAY="400")
    with gateway_thread(settings):
        with conn.transaction():
            # two sends of an earlier process, 3 s and 3.5 s short of an hour ago: with the
            # first two sends below the hourly budget (4) is used up until they are an hour old
            conn.execute("INSERT INTO wa_send_log (session_name, sent_at, outbox_id) "
                         "VALUES ('main', now() - interval '3597 seconds', 0), "
                         "       ('main', now() - interval '3596.5 seconds', 0)")
            ids: list[int] = []
            for to, text, typ in [("081234560001", "a1", "daily_report"),
                                  ("081234560001", "a2", "daily_report"),
                                  ("081234560002", "b", "complaint_response"),
                                  ("081234560003", "c", "progress_report")]:
                row_id = engine.enqueue(conn, engine.NewMessage(to, text, type=typ)).id
                assert row_id is not None
                ids.append(row_id)
            # projected in the same transaction: the gateway sees the rows at its commit
            report = capacity.capacity(conn)
        assert wait_for(lambda: len(read_jsonl(sends)) == 3, timeout=20)
    (main,) = report.sessions
    assert main.pace_from == "wa_session" and main.pace.max_per_hour == 4
    assert main.pace.gap_min_s == main.pace.gap_max_s == 0.4
    projected = main.projected
    sent = dict(conn.execute("SELECT id, sent_at FROM wa_outbox WHERE id = ANY(%s)",
                             (ids,)).fetchall())
    a1, a2, b, c = ids
    # projected: b (30) at once, c (20) after the gap, then the hourly budget until the
    # earlier sends are an hour old (+3 s): a1, carrying a2 in the same message (coalescing:
    # three sends for four rows, in the projection as in the gateway's send log)
    assert sorted(ids, key=lambda i: projected[i]) == [b, c, a1, a2]
    assert sorted(ids, key=lambda i: sent[i]) == [b, c, a1, a2]
    start = projected[b]
    assert [round((projected[i] - start).total_seconds(), 1) for i in (b, c, a1, a2)] == [
        0.0, 0.4, 3.0, 3.0]
    assert [line["outbox_id"] for line in read_jsonl(sends)] == [b, c, a1]
    for i in ids:
        assert abs((sent[i] - projected[i]).total_seconds()) < TOLERANCE, (
            i, sent[i] - projected[i])
    assert sent[a2] == sent[a1]  # one message
