"""``make demo`` / ``python -m tests.dev.demo``: one simulated day, end to end.

1. a PostgreSQL: the embedded one (database ``cicero_demo``, recreated each run) unless
   ``DATABASE_URL`` is set (then that database is used as is and must hold no Cicero clients);
2. the migrations, then the sample data (``tests.dev.sample_data.generate``) for the days
   before the simulated day; the day's own posts, likes and comments are served by the RapidAPI
   stand-in (``tests.dev.rapidapi_standin``, a real HTTP server on 127.0.0.1) and fetched by
   the ingestion job at its slots;
3. the scheduler over the simulated day (default Monday 8 June 2026, so the daily and weekly
   reports run at 07:00; ``--day 2026-06-01`` adds the monthly): its clock is injected and
   moved from slot to slot, each
   job runs at its slots exactly as in production (``producer_run`` + the outbox in one
   transaction), nothing sleeps;
4. the gateway, as a subprocess: ``python -m gateway --once`` with ``WA_TRANSPORT=jsonl:...``
   and ``WA_PACING=off`` (nothing goes to WhatsApp); if it cannot run, the demo says so and
   shows what is queued instead (no send is faked);
5. a summary: the runs per job, the messages per type and status, one example of each message
   type, and the ``.xlsx`` recaps written to ``demo-output/xlsx/``.

Options: ``--day YYYY-MM-DD``, ``--provinces N``, ``--out DIR``, ``--seed N``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from outbox import migrate
from outbox.config import EnvReader
from outbox.errors import ConfigError
from outbox.logs import configure_logging
from producers import registry
from producers.config import producer_settings
from producers.schedule import JAKARTA, Cron
from producers.scheduler import Scheduler, connect_producer
from tests.dev import REPO_ROOT, devdb, rapidapi_standin, sample_data

log = logging.getLogger("tests.dev.demo")

# A Monday: the daily and weekly reports run at 07:00 besides the half-hourly task recaps and the
# complaint jobs. ``--day 2026-06-01`` (a Monday and the 1st) adds the monthly report (slower:
# a whole month of data for a province).
DEFAULT_DAY = date(2026, 6, 8)
DEMO_DB = "cicero_demo"
GATEWAY_TIMEOUT = 90.0


def say(text: str = "") -> None:
    print(text, flush=True)


class DemoLog(logging.Handler):
    """The log of the simulated day goes to ``<out>/demo.log`` (the same stamps and masking as
    the terminal would show), and the terminal gets one line per kind of warning at the end
    ("21 x producers.recipients: e.g. ...") instead of a screenful of repeats."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.WARNING)
        self.path = path
        self.kinds: Counter[tuple[str, str]] = Counter()
        self.example: dict[tuple[str, str], str] = {}
        self.masks: list[Any] = []
        self.to_file: logging.FileHandler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        kind = (record.name, str(record.msg))  # the message before its arguments: its kind
        self.kinds[kind] += 1
        if kind not in self.example:
            copy = logging.makeLogRecord(record.__dict__)
            for mask in self.masks:
                mask.filter(copy)
            self.example[kind] = copy.getMessage()

    def install(self) -> None:
        """Replace the root's handlers (configure_logging's one) by this counter, first (it
        must see each record before the masking rewrites it), and the file."""
        root = logging.getLogger()
        self.to_file = logging.FileHandler(self.path, mode="w", encoding="utf-8")
        for handler in root.handlers[:1]:
            self.to_file.setFormatter(handler.formatter)
            for mask in handler.filters:
                self.to_file.addFilter(mask)
                self.masks.append(mask)
        root.handlers[:] = [self, self.to_file]

    def close(self) -> None:
        if self.to_file is not None:
            self.to_file.close()
        super().close()

    def summary(self) -> list[str]:
        lines = []
        for kind, count in self.kinds.most_common():
            example = self.example[kind].splitlines()[0] if self.example[kind] else ""
            if len(example) > 110:
                example = example[:107] + "..."
            lines.append(f"  {count:5} x {kind[0]}: e.g. {example}")
        return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.dev.demo", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--day", type=date.fromisoformat, default=DEFAULT_DAY,
                        help="the simulated Jakarta day (default 2026-06-08, a Monday; "
                             "2026-06-01 adds the monthly report)")
    parser.add_argument("--provinces", type=int, default=1, help="sample data size (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "demo-output")
    return parser


def database(env: dict[str, str]) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if url:
        say(f"database: DATABASE_URL (used as is) {url.split('@')[-1]}")
        return url
    server = devdb.server_url("demo", env_var=None)
    url = devdb.create_database(server, DEMO_DB, drop_first=True)
    say(f"database: embedded PostgreSQL, fresh database {DEMO_DB!r}")
    return url


def load_sample_data(url: str, day: date, provinces: int, seed: int) -> str:
    """Cicero data up to the day BEFORE the simulated day: the day's own posts, likes and
    comments are fetched during the simulated day by the ingestion job (from the stand-in)."""
    start = day - timedelta(days=day.weekday() + 7)  # the previous week's Monday
    if day.day == 1:  # the monthly report reads the previous month
        start = min(start, (day - timedelta(days=1)).replace(day=1))
    days = (day - start).days
    with psycopg.connect(url, autocommit=True) as conn:
        clients = conn.execute("SELECT count(*) FROM clients").fetchone()
        if clients is not None and clients[0]:
            raise SystemExit("demo: the database already holds Cicero clients; point "
                             "DATABASE_URL at an empty database (or unset it)")
        result = sample_data.generate(conn, provinces=provinces, start=start, days=days, seed=seed)
    last = day - timedelta(days=1)
    return f"{start.isoformat()} .. {last.isoformat()} ({days} days): {result}"


def standin_data(url: str, day: date, seed: int) -> rapidapi_standin.Data:
    """What the RapidAPI stand-in serves for the simulated day: every active client's
    Instagram and TikTok accounts with the day's posts, liked / commented by about 80 % of the
    client's personnel (a directorate's posts by the whole province)."""
    with psycopg.connect(url) as conn:
        clients = conn.execute(
            "SELECT client_id, lower(client_type), client_insta, client_tiktok FROM clients "
            "WHERE client_status ORDER BY client_id").fetchall()
        people = conn.execute(
            'SELECT client_id, insta, tiktok FROM "user" WHERE status').fetchall()
    ig_of: dict[str, list[str]] = {}
    tt_of: dict[str, list[str]] = {}
    for cid, insta, tiktok in people:
        if insta:
            ig_of.setdefault(cid, []).append(insta.strip().lstrip("@").lower())
        if tiktok:
            tt_of.setdefault(cid, []).append(tiktok.strip().lstrip("@").lower())
    everyone_ig = [h for hs in ig_of.values() for h in hs]
    everyone_tt = [h for hs in tt_of.values() for h in hs]
    accounts = {cid: (insta, tiktok) for cid, _type, insta, tiktok in clients}
    ig_handles = {cid: everyone_ig if kind == "direktorat" else ig_of.get(cid, [])
                  for cid, kind, _i, _t in clients}
    tt_handles = {cid: everyone_tt if kind == "direktorat" else tt_of.get(cid, [])
                  for cid, kind, _i, _t in clients}
    midnight = datetime.combine(day, datetime.min.time(), JAKARTA)
    ig = rapidapi_standin.sample(accounts, ig_handles, midnight, posts=3, videos=0, seed=seed)
    tt = rapidapi_standin.sample({c: (None, t) for c, (_i, t) in accounts.items()}, tt_handles,
                                 midnight, posts=0, videos=2, seed=seed)
    return rapidapi_standin.Data(ig=ig.ig, tt=tt.tt, sec_uids=tt.sec_uids)


def add_complaints(url: str, day: date) -> None:
    """Two queued complaints with ready answers (the inbound complaint message arrives during
    the simulated day: :func:`add_inbound_complaint`)."""
    at = datetime.combine(day, datetime.min.time(), JAKARTA) + timedelta(hours=9, minutes=12)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO complaint_queue (complainant, response_template, created_at) VALUES "
            "('081234500001', 'Terima kasih, laporan Anda sudah kami terima dan tindak lanjuti.',"
            " %(at)s), ('nomor-salah', 'Balasan ke nomor yang tidak valid', %(at)s)", {"at": at})


# The inbound complaint: posted in the satker's group at 16.05, after the 15.20 same-day recap,
# by a person with a registered number; answered privately, the group acknowledged.
INBOUND_COMPLAINT_AT = timedelta(hours=16, minutes=5)


def add_inbound_complaint(url: str, at: datetime) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("""
            SELECT u.user_id, wa_jid(u.whatsapp), g.jid
              FROM "user" u
              JOIN clients c ON lower(c.client_id) = lower(u.client_id)
             CROSS JOIN LATERAL (
                   SELECT (wa_parse_recipient(cicero_group_id(s.item))).jid
                     FROM cicero_split_list(c.client_group) s ORDER BY s.ord LIMIT 1) g
             WHERE u.status AND lower(c.client_type) = 'org' AND c.client_status
               AND wa_jid(u.whatsapp) IS NOT NULL AND g.jid IS NOT NULL
               AND nullif(btrim(u.insta), '') IS NOT NULL
             ORDER BY u.client_id, u.user_id LIMIT 1""").fetchone()
        if found is not None:
            text = (f"Pesan Komplain\nNRP: {found[0]}\nNama: Pelapor Demo\n\nKendala:\n"
                    "- Sudah melaksanakan like instagram tapi belum terdata")
            conn.execute("INSERT INTO wa_inbox (chat, sender, wa_message_id, text, received_at) "
                         "VALUES (%s, %s, 'demo-complaint-1', %s, %s) "
                         "ON CONFLICT (session_name, wa_message_id) DO NOTHING",
                         (found[2], found[1], text, at))


def demo_changes(url: str, moment: datetime) -> None:
    """What personnel and operators add during the day, so that the task list changes and the
    amplification link recaps have something to show: at 13.00 re-share links reported for
    about 60 % of each org client's (person, post) pairs of the day, and 25 personnel opt in
    to personal reminders; at 18.05 one late
    Instagram post (an operator's manual input) for the first org client with posts, and one
    corrected link of that client."""
    hm = moment.strftime("%H:%M")
    if hm not in ("13:00", "18:05"):
        return
    day = moment.date()
    with psycopg.connect(url, autocommit=True) as conn:
        if hm == "13:00":
            conn.execute(
                "INSERT INTO link_report (shortcode, user_id, instagram_link, facebook_link) "
                "SELECT p.shortcode, u.user_id, 'https://www.instagram.com/p/' "
                "       || left(md5(p.shortcode || u.user_id), 11) || '/', "
                "       CASE WHEN abs(hashtext(u.user_id)) %% 3 = 0 THEN "
                "       'https://www.facebook.com/share/' || left(md5(u.user_id), 10) END "
                "  FROM report_ig_post p "
                "  JOIN clients c ON c.client_id = p.client_id AND lower(c.client_type) = 'org' "
                "  JOIN \"user\" u ON u.client_id = c.client_id AND u.status "
                " WHERE p.report_date = %(day)s "
                "   AND abs(hashtext(p.shortcode || u.user_id)) %% 10 < 6 "
                "ON CONFLICT DO NOTHING", {"day": day})
            # a few personnel asked for personal reminders (the old notifwa#on)
            conn.execute("UPDATE \"user\" SET wa_notification_opt_in = true WHERE user_id IN "
                         "(SELECT user_id FROM \"user\" WHERE status AND whatsapp IS NOT NULL "
                         "ORDER BY md5(user_id) LIMIT 25)")
            return
        row = conn.execute(
            "SELECT p.client_id FROM report_ig_post p JOIN clients c ON c.client_id = "
            "p.client_id AND lower(c.client_type) = 'org' WHERE p.report_date = %(day)s "
            "ORDER BY p.client_id LIMIT 1", {"day": day}).fetchone()
        if row is None:
            return
        code = f"LATE{day:%m%d}"
        conn.execute("INSERT INTO insta_post (shortcode, client_id, caption, source_type, "
                     "created_at) VALUES (%s, %s, 'Giat malam: patroli dialogis bersama "
                     "warga', 'manual_input', %s) ON CONFLICT DO NOTHING", (code, row[0], moment))
        conn.execute("INSERT INTO insta_like (shortcode, likes) VALUES (%s, '[]') "
                     "ON CONFLICT DO NOTHING", (code,))
        conn.execute(
            "UPDATE link_report SET twitter_link = 'https://x.com/i/status/' || "
            "left(md5(user_id), 12) WHERE (shortcode, user_id) = (SELECT l.shortcode, l.user_id "
            "FROM link_report l JOIN insta_post p ON p.shortcode = l.shortcode "
            "WHERE p.client_id = %s ORDER BY 1, 2 LIMIT 1)", (row[0],))


def simulate_day(url: str, day: date, env: dict[str, str]) -> list[Any]:
    specs = registry.base_specs()
    reader = EnvReader({**env, "DATABASE_URL": url})
    settings = producer_settings(reader, specs)
    reader.finish()
    specs = registry.configured_specs(settings, specs)
    jobs = registry.scheduled(settings, specs)
    start = datetime.combine(day, datetime.min.time(), JAKARTA)
    end = start + timedelta(days=1) - timedelta(minutes=1)
    moments = sorted({s for job in jobs for s in job.cron.slots(start, end)} | {start})
    scheduler = Scheduler(lambda: connect_producer(url, "cicero-producers-demo"), jobs,
                          admin_whatsapp=settings.admin_whatsapp or ("0811-0000-1111",))
    say(f"jobs: {', '.join(f'{j.name} ({j.cron.expression})' for j in jobs)}")
    outcomes: list[Any] = []
    inbound_at: datetime | None = start + INBOUND_COMPLAINT_AT
    try:
        outcomes.extend(scheduler.start(start - timedelta(microseconds=1)))
        # a progress bar over the simulated day when run in a terminal (tqdm: none otherwise)
        bar = tqdm(moments, desc="simulated day", unit="slot", disable=None, leave=False)
        for moment in bar:
            bar.set_postfix_str(f"{moment:%H.%M} WIB", refresh=False)
            if inbound_at is not None and moment >= inbound_at:
                add_inbound_complaint(url, inbound_at)
                inbound_at = None
            demo_changes(url, moment)
            outcomes.extend(scheduler.tick(moment))
    finally:
        scheduler.close()
    return outcomes


def fetch_and_simulate_day(url: str, day: date, env: dict[str, str], seed: int) -> list[Any]:
    """The simulated day with the RapidAPI stand-in (a real HTTP server on 127.0.0.1) serving
    the day's posts: the ingestion job fetches them at a few of its slots (after the posts'
    upload times; the demo keeps the day short), the task lists and complaints then see them."""
    with rapidapi_standin.StandIn(standin_data(url, day, seed)) as standin:
        fetch_env = {**standin.env(),
                     "INGESTION_CRON": env.get("INGESTION_CRON", "30 9,12,15 * * *")}
        saved = {name: os.environ.get(name) for name in fetch_env}
        os.environ.update(fetch_env)  # the ingestion job reads its own settings
        say(f"RapidAPI stand-in on {standin.url}: the day's posts are fetched by the "
            f"ingestion job ({fetch_env['INGESTION_CRON']})")
        try:
            outcomes = simulate_day(url, day, {**env, **fetch_env})
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        say(f"stand-in answered {sum(standin.calls.values())} API calls")
    return outcomes


def run_gateway(url: str, out: Path, env: dict[str, str]) -> tuple[bool, str]:
    sends = out / "sends.jsonl"
    sends.unlink(missing_ok=True)
    gw_env = {**env, "DATABASE_URL": url, "WA_TRANSPORT": f"jsonl:{sends}", "WA_PACING": "off",
              "LOG_LEVEL": "warning"}
    try:
        proc = subprocess.run([sys.executable, "-m", "gateway", "--once"], cwd=REPO_ROOT,
                              env=gw_env, capture_output=True, text=True,
                              timeout=GATEWAY_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return False, f"the gateway did not finish within {GATEWAY_TIMEOUT:.0f}s"
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        return False, f"python -m gateway --once exited with {proc.returncode}:\n{tail}"
    return True, str(sends)


def write_attachments(url: str, out: Path) -> list[Path]:
    folder = out / "xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.xlsx"):
        old.unlink()
    written = []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (attachment_name) attachment_name, attachment FROM wa_outbox "
            "WHERE attachment IS NOT NULL ORDER BY attachment_name, id").fetchall()
    for name, data in rows:
        path = folder / Path(name).name
        path.write_bytes(bytes(data))
        written.append(path)
    return written


def summary(url: str, outcomes: Sequence[Any], sends: Path | None) -> None:
    by_job: dict[str, dict[str, int]] = {}
    seconds: dict[str, float] = {}
    for outcome in outcomes:
        counts = by_job.setdefault(outcome.job, {})
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        seconds[outcome.job] = seconds.get(outcome.job, 0.0) + outcome.seconds
    say("\n== producer runs (simulated day) ==")
    for job, counts in sorted(by_job.items()):
        say(f"  {job:22} " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            + f"  ({seconds[job]:.1f}s)")
    with psycopg.connect(url) as conn:
        say("\n== wa_outbox by type and status ==")
        for row in conn.execute(
                "SELECT type, status, count(*), count(attachment_name) FROM wa_outbox "
                "GROUP BY type, status ORDER BY type, status").fetchall():
            say(f"  {row[0]:22} {row[1]:10} {row[2]:6} messages"
                + (f" ({row[3]} with .xlsx)" if row[3] else ""))
        say("\n== complaints ==")
        for row in conn.execute("SELECT d.complaint_id, d.complainant, d.delivery_state, "
                                "o.recipient, wa_jid(d.complainant) FROM complaint_delivery d "
                                "LEFT JOIN wa_outbox o ON o.id = d.outbox_id "
                                "ORDER BY d.complaint_id").fetchall():
            privately = f" (answered privately to {row[3]})" if row[3] not in (None, row[4]) else ""
            say(f"  complaint {row[0]} from {row[1]}: {row[2]}{privately}")
        for row in conn.execute(
                "SELECT o.recipient, o.content FROM complaint_queue q JOIN wa_outbox o "
                "ON o.dedupe_key IN ('complaint:' || q.id, 'complaint:' || q.id || ':ack') "
                "WHERE q.inbox_id IS NOT NULL ORDER BY q.id, o.id").fetchall():
            lines = row[1].splitlines()
            say(f"--- complaint_response -> {row[0]}\n    " + "\n    ".join(lines[:24])
                + ("\n    ..." if len(lines) > 24 else ""))
        say("\n== one message of each type (what would have been sent) ==")
        for row in conn.execute(
                "SELECT DISTINCT ON (type) type, recipient, content, attachment_name "
                "FROM wa_outbox ORDER BY type, (attachment IS NULL) DESC, id").fetchall():
            lines = row[2].splitlines()
            shown = "\n    ".join(lines[:14]) + ("\n    ..." if len(lines) > 14 else "")
            say(f"--- {row[0]} -> {row[1]}" + (f" [{row[3]}]" if row[3] else ""))
            say(f"    {shown}")
    if sends is not None and sends.exists():
        lines = sends.read_text(encoding="utf-8").splitlines()
        kinds: dict[str, int] = {}
        for line in lines:
            kind = json.loads(line).get("kind", "?")
            kinds[kind] = kinds.get(kind, 0) + 1
        say(f"\n== gateway (jsonl transport) ==\n  {len(lines)} sends written to {sends}: "
            + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver, harmless
    env = dict(os.environ)
    configure_logging(env.get("LOG_LEVEL", "warning"), env.get("LOG_FORMAT", "text"))
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    demo_log = DemoLog(args.out / "demo.log")
    demo_log.install()
    for name in ("DAILY_REPORT_CRON", "WEEKLY_REPORT_CRON", "MONTHLY_REPORT_CRON"):
        value = env.get(name, "")
        if value and value.strip().lower() != "off" and not Cron(value).is_slot(
                datetime.combine(args.day, datetime.min.time(), JAKARTA)
                + timedelta(hours=7)):
            say(f"note: {name}={value!r} (the simulated day shows the defaults best)")
    url = database(env)
    migrate.upgrade(url)
    say("migrated to head")
    say(f"sample data: {load_sample_data(url, args.day, args.provinces, args.seed)}")
    add_complaints(url, args.day)
    t0 = time.perf_counter()
    try:
        outcomes = fetch_and_simulate_day(url, args.day, env, args.seed)
    except ConfigError as exc:
        say(f"demo: {exc}")
        return 2
    with psycopg.connect(url) as conn:
        queued = conn.execute("SELECT count(*) FROM wa_outbox").fetchone()
    say(f"simulated {args.day.isoformat()} in {time.perf_counter() - t0:.1f}s: "
        f"{len(outcomes)} slot runs, {queued[0] if queued else 0} messages queued, "
        f"{sum(demo_log.kinds.values())} warnings")
    files = write_attachments(url, args.out)  # before the gateway drops a sent document's bytes
    ok, detail = run_gateway(url, args.out, env)
    if ok:
        sends: Path | None = Path(detail)
        say("gateway: python -m gateway --once drained the outbox (jsonl transport)")
    else:
        sends = None
        say(f"GATEWAY NOT RUN: {detail}\n(nothing was sent; below is what is queued)")
    summary(url, outcomes, sends)
    say(f"\n== .xlsx recaps ({len(files)}) in {args.out / 'xlsx'} ==")
    for path in files[:12]:
        say(f"  {path.name} ({path.stat().st_size:,} bytes)")
    if len(files) > 12:
        say(f"  ... and {len(files) - 12} more")
    if demo_log.kinds:
        say(f"\n== warnings of the simulated day, by kind (all of them in {demo_log.path}) ==")
        for line in demo_log.summary():
            say(line)
    failed = [o for o in outcomes if o.status == "failed"]
    say(f"\ndemo finished in {time.perf_counter() - started:.1f}s; "
        f"{len(failed)} failed slot run(s); gateway {'ok' if ok else 'NOT RUN'}")
    say("\nTo look at the result: `make demo-web` (the status page on this data, "
        "http://127.0.0.1:8080/), or the operator CLI on the same database:\n"
        f"  DATABASE_URL='{url}' .venv/bin/python -m outbox status   (or list, show ID)")
    demo_log.close()
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
