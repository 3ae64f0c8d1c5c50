"""End to end: the RapidAPI stand-in -> ingestion -> the daily recap -> the gateway (jsonl)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from producers.ingestion.job import DEFAULT_CRON, Ingestion
from producers.ingestion.settings import load_ingestion_settings
from producers.job import JobSpec
from producers.jobs import reports
from producers.runner import run_slot
from producers.scheduler import connect_producer
from tests.dev.rapidapi_standin import Data, IgPost, StandIn, TtVideo
from tests.gateway_helpers import gateway_env, read_jsonl, run_once
from tests.test_producers_reports import seed

JAKARTA = ZoneInfo("Asia/Jakarta")
FETCH_DAY = date(2026, 11, 24)
FETCHED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=JAKARTA)


def test_standin_to_ingestion_to_daily_recap_to_gateway(db_url: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    seed(conn)  # BATU (org: ANDI, BUDI, CICI) and DITBINMAS
    nine = int(datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA).timestamp())
    data = Data()
    data.ig["polresbatu"] = [IgPost("E2EPOST", nine, "tugas hari ini", likes=["@Andi", "budi"])]
    data.sec_uids["polresbatu"] = "SECBATU"
    data.tt["polresbatu"] = [TtVideo("7300000000000000099", nine, "video", ["andi"])]
    data.sec_uids["ditbinmas"] = "SECDIT"  # an account without posts today
    with StandIn(data) as server:
        job = Ingestion(load_ingestion_settings(server.env()),
                        lambda: psycopg.connect(db_url, autocommit=True), progress=False)
        spec = JobSpec("ingestion", DEFAULT_CRON, "INGESTION_CRON", job)
        with connect_producer(db_url) as producer:
            fetched = run_slot(producer, spec, FETCHED_AT, now=FETCHED_AT)
    assert fetched.status == "done" and job.last is not None and not job.last.errors
    done = conn.execute("SELECT nama, ig_done, tiktok_done FROM report_user_day "
                        "WHERE report_date = %s AND client_id = 'BATU' ORDER BY nama",
                        (FETCH_DAY,)).fetchall()
    assert done == [("ANDI", 1, 1), ("BUDI", 1, 0), ("CICI", 0, 0)]

    recap_slot = datetime(2026, 11, 25, 7, 0, tzinfo=JAKARTA)
    with connect_producer(db_url) as producer:
        recap = run_slot(producer, reports.DAILY, recap_slot,
                         now=recap_slot + timedelta(seconds=5))
    assert recap.status == "done" and recap.result is not None and recap.result.enqueued > 0

    sends = tmp_path / "sends.jsonl"
    result = run_once(gateway_env(db_url, sends))
    assert result.returncode == 0, result.stdout + result.stderr
    texts = [str(s.get("content") or "") for s in read_jsonl(sends) if s["type"] == "daily_report"]
    batu = [t for t in texts if "BATU" in t]
    assert batu, texts
    assert any("ANDI" in t and "CICI" in t for t in batu), batu
