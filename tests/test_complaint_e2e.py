"""End to end in one test: inbound message -> complaint -> outbox -> jsonl transport.

The inbound messages are plain SQL INSERTs into ``wa_inbox`` (what the gateway's receive path
or any other system writes); the two producer jobs run as the scheduler runs them (one
transaction each); the real gateway process (``python -m gateway --once``, jsonl transport,
pacing off) sends the outbox into a JSON-lines file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from outbox import engine
from producers.complaints.answer import compose_answer
from producers.complaints.intake import JOB as INTAKE
from producers.complaints.intake import NRP_REQUEST
from producers.jobs.complaint_response import JOB as RESPONSE
from producers.runner import run_slot, run_unslotted
from producers.schedule import JAKARTA
from tests.complaint_corpus import CASES
from tests.dev import REPO_ROOT
from tests.test_complaint_answer import NOW, WORLD, client, operator_jids, seed, user

CHAT = "6281277778888@s.whatsapp.net"
GROUP = "120363099999999999@g.us"
STRANGER = "6281211110000@s.whatsapp.net"
GATEWAY_JID = "6281290000001@s.whatsapp.net"
OTHER_SYSTEM = "6281233330000@s.whatsapp.net"
REGISTERED = "6281277770001@s.whatsapp.net"  # Budi's "user".whatsapp, as the outbox writes it


def rows(conn: psycopg.Connection[Any], sql: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql)
        return cur.fetchall()


@pytest.mark.slow
def test_inbound_complaint_is_answered_through_the_gateway(
        conn: psycopg.Connection[Any], db_url: str, tmp_path: Path) -> None:
    seed(conn)
    budi = user("75020201")
    conn.execute('UPDATE "user" SET whatsapp = %s WHERE user_id = %s',
                 ("081277770001", budi.user_id))
    complaint_text = "\n".join([
        "Pesan Komplain",
        f"NRP : {budi.user_id}",
        f"Nama : {budi.title} {budi.nama}",
        f"Username IG : {budi.insta}",
        "Kendala",
        "- Sudah melaksanakan Instagram belum terdata",
        "- aplikasi minta login ulang terus",
    ])
    missing_nrp = next(c for c in CASES if c.name == "missing_nrp").text
    chatter = next(c for c in CASES if c.name == "chatter_greeting").text
    for message_id, chat, sender, text in (
            ("A1", CHAT, CHAT, complaint_text), ("A2", GROUP, STRANGER, missing_nrp),
            ("A3", CHAT, CHAT, chatter), ("A4", GROUP, GATEWAY_JID, complaint_text)):
        conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text) "
                     "VALUES (%s, %s, %s, %s)", (chat, sender, message_id, text))
    # The redelivery of A1 is stored once.
    conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text) VALUES (%s, %s, %s, %s)"
                 " ON CONFLICT (session_name, wa_message_id) DO NOTHING",
                 (CHAT, CHAT, "A1", complaint_text))
    # Another system queues a ready answer the old way.
    template = "Laporan Anda sudah kami terima. Terima kasih."
    conn.execute("INSERT INTO complaint_queue (complainant, response_template) VALUES (%s, %s)",
                 (OTHER_SYSTEM, template))

    # The gateway's session is paired with GATEWAY_JID (recorded when it connected): A4, sent
    # from that number, is its own message.
    engine.register_session(conn, "main")
    conn.execute("UPDATE wa_session SET jid = %s WHERE name = 'main'", (GATEWAY_JID,))

    # As the scheduler runs them: intake woken by NOTIFY wa_inbox, the response job at a slot.
    woken = run_unslotted(conn, INTAKE, now=NOW)
    assert woken.status == "done" and woken.result is not None
    assert woken.result.detail == "complaints=1 nrp_requests=1 ignored=2 errors=0"
    assert run_slot(conn, RESPONSE, NOW, now=NOW).status == "done"

    jsonl = tmp_path / "sends.jsonl"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OUTBOX_", "GATEWAY_", "WA_", "ADMIN_", "PRODUCERS_"))}
    env.update({"DATABASE_URL": db_url, "WA_TRANSPORT": f"jsonl:{jsonl}", "WA_PACING": "off",
                "PYTHONUNBUFFERED": "1"})
    done = subprocess.run([sys.executable, "-m", "gateway", "--once"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    sent = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]

    # The complaint: one queue row, answered with the composed standard answer.
    [parsed] = rows(conn, "SELECT * FROM complaint_queue WHERE inbox_id IS NOT NULL")
    answer = compose_answer(conn, parsed, now=NOW)
    by_recipient: dict[str, list[dict[str, Any]]] = {}
    for line in sent:
        by_recipient.setdefault(line["recipient"], []).append(line)
    # answered privately on his registered number; the chat it came from is told so
    assert answer.recipient == REGISTERED
    [reply] = by_recipient[REGISTERED]
    assert reply["type"] == "complaint_response"
    assert reply["content"] == answer.text
    # no recap recorded: the day before the complaint, whose one post he did not like
    yesterday = [p for p in WORLD.posts if p.client_id == budi.client_id
                 and p.created_at.astimezone(JAKARTA).date() == NOW.date() - timedelta(days=1)]
    assert yesterday
    for post in yesterday:
        assert f"https://www.instagram.com/p/{post.shortcode}/" in reply["content"]
    [ack] = by_recipient[CHAT]
    assert (ack["type"], ack["content"]) == ("complaint_response", answer.acknowledgement)
    operators = operator_jids(client(budi.client_id))
    assert [r for r, _ in answer.forwards] == operators
    for jid in operators:
        [forward] = by_recipient[jid]
        assert forward["type"] == "complaint_forward"
        assert "aplikasi minta login ulang terus" in forward["content"]
    # The complaint without NRP was asked for it, in the group it came from.
    [ask] = by_recipient[GROUP]
    assert (ask["type"], ask["content"]) == ("complaint_response", NRP_REQUEST)
    # The other system's row went out as given.
    [given] = by_recipient[OTHER_SYSTEM]
    assert (given["type"], given["content"]) == ("complaint_response", template)
    # Nothing else was sent (the chatter got no answer).
    assert len(sent) == 4 + len(operators)

    delivery = rows(conn, "SELECT complaint_id, delivery_state FROM complaint_delivery")
    assert {d["delivery_state"] for d in delivery} == {"answered"}
    assert len(delivery) == 2
    inbox = rows(conn, "SELECT wa_message_id, process_result FROM wa_inbox ORDER BY id")
    assert [i["wa_message_id"] for i in inbox] == ["A1", "A2", "A3", "A4"]
    assert inbox[0]["process_result"] == f"complaint {parsed['id']}"
    assert inbox[1]["process_result"].startswith("nrp_requested outbox ")
    assert inbox[2]["process_result"] == "ignored: not a complaint"
    assert inbox[3]["process_result"] == "ignored: own number"
