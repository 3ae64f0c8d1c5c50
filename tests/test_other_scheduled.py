"""The other scheduled messages are ordinary jobs: each has its *_CRON (default the old time),
can be switched off, and its message type and report kind exist in a migrated database."""

from __future__ import annotations

from typing import Any

import psycopg

from producers import registry
from producers.config import load_producer_settings

EXPECTED = {
    "link_report": ("LINK_REPORT_CRON", "5 15,18,21 * * *"),
    "amplify_daily_report": ("AMPLIFY_DAILY_REPORT_CRON", "7 21 * * *"),
    "amplify_monthly_report": ("AMPLIFY_MONTHLY_REPORT_CRON", "0 23 28-31 * *"),
    "username_recap": ("USERNAME_RECAP_CRON", "45 6 * * *"),
    "personal_reminder": ("PERSONAL_REMINDER_CRON", "5,35 17 * * *"),
    "admin_alert": ("ADMIN_ALERT_CRON", "*/15 * * * *"),
    "admin_daily_summary": ("ADMIN_DAILY_SUMMARY_CRON", "0 22 * * *"),
}


def test_each_has_its_cron_and_can_be_switched_off() -> None:
    specs = {spec.name: spec for spec in registry.OTHER_SCHEDULED}
    assert {name: (s.cron_env, s.default_cron) for name, s in specs.items()} == EXPECTED
    base = registry.base_specs()
    env = {"DATABASE_URL": "postgresql://x@localhost/x", "LINK_REPORT_CRON": "off",
           "ADMIN_DAILY_SUMMARY_CRON": "30 6 * * *"}
    settings = load_producer_settings(base, env)
    jobs = {job.spec.name: job.cron.expression
            for job in registry.scheduled(settings, registry.configured_specs(settings, base))}
    assert "link_report" not in jobs
    assert jobs["admin_daily_summary"] == "30 6 * * *"
    assert jobs["username_recap"] == "45 6 * * *"


def test_their_message_types_and_report_kinds_exist(conn: psycopg.Connection[Any]) -> None:
    types = {r[0] for r in conn.execute("SELECT type FROM wa_message_type").fetchall()}
    assert {"task_change", *EXPECTED} <= types
    routes = conn.execute(
        "SELECT report_kind, coalesce(client_type, '*'), audience, attachment"
        "  FROM report_routing WHERE report_kind = ANY(%s) ORDER BY route_id",
        (["link_report", "amplify_daily_report", "amplify_monthly_report",
          "username_recap"],)).fetchall()
    assert routes == [("link_report", "*", "admins", False),
                      ("link_report", "*", "operator", False),
                      ("link_report", "*", "super", False),
                      ("link_report", "*", "group", False),
                      ("amplify_daily_report", "*", "operator", False),
                      ("amplify_monthly_report", "*", "operator", True),
                      ("username_recap", "org", "group", False)]
