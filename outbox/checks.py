"""``--check-config`` for the gateway and the producers: every problem of an environment at once.

Which variables exist is never kept by hand: each program's settings loaders are run with a
recording environment (:class:`RecordingEnv`), and every name they look up is a known variable
(the mechanism tests/test_docs.py uses to hold docs/operations/configuration.md to the code). A
variable with one of our prefixes that no loader looks up is reported, with the closest known
name. Beyond the values the loaders judge, the checks here need the outside world: folders on
disk and the database (reachable, migrated, and the list variables' numbers valid by its own
recipient rules).

``outbox`` imports neither program: each program's CLI passes its own loaders in.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from outbox import engine
from outbox.config import EnvReader, outbox_settings
from outbox.db import check_schema
from outbox.errors import ConfigError, SchemaNotReady

# Our prefixes, and which program reads each: a program only judges the variables of its own
# prefixes and the shared ones ("outbox"), so one environment file can serve every program.
PREFIX_OWNERS: dict[str, str] = {
    "OUTBOX_": "outbox",
    "CICERO_": "outbox",
    "GATEWAY_": "gateway",
    "WA_": "gateway",
    "PRODUCERS_": "producers",
    "RAPIDAPI_": "producers",
    "INGESTION_": "producers",
}
CRON_SUFFIX = "_CRON"  # <JOB>_CRON: the producers' (unless another prefix claims the name)

Loader = Callable[[Mapping[str, str]], object]


def variable_owner(name: str) -> str | None:
    """The program whose variable ``name`` is by its prefix (``None``: not one of ours)."""
    for prefix, owner in PREFIX_OWNERS.items():
        if name.startswith(prefix):
            return owner
    if name.endswith(CRON_SUFFIX):
        return "producers"
    return None


class RecordingEnv(Mapping[str, str]):
    """An environment that records every name looked up and holds only ``values``."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._data = dict(values or {})
        self.seen: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.seen.add(key)
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return True  # a loader written as `env or os.environ` must still read from us


# Environments each loader is run with besides the real one: nothing set (every fallback name
# is looked up: GATEWAY_WA_CLIENT_ID behind WA_SESSION_NAME, ...), and the old DB_* variables
# in place of DATABASE_URL (the branch that builds the URL from them).
_PROBE_ENVIRONMENTS: tuple[dict[str, str], ...] = (
    {}, {"DB_HOST": "db-host", "DB_NAME": "cicero"})


def names_read(loaders: Iterable[Loader], env: Mapping[str, str] | None = None) -> set[str]:
    """Every variable name the ``loaders`` look up, in ``env`` and in the probe environments."""
    seen: set[str] = set()
    for load in loaders:
        for values in (*_PROBE_ENVIRONMENTS, *(() if env is None else (env,))):
            recorder = RecordingEnv(values)
            with contextlib.suppress(ConfigError):
                load(recorder)
            seen |= recorder.seen
    return seen


def _outbox_loader(env: Mapping[str, str]) -> object:
    reader = EnvReader(env)
    outbox_settings(reader)
    reader.integer("OUTBOX_RETENTION_DAYS", default=30, minimum=1)
    return reader


def _optional_loader(module: str, function: str) -> Loader | None:
    """A settings loader of an optional module of ours (``outbox.web``): present in a full
    install, absent from a partial one."""
    try:
        found = getattr(importlib.import_module(module), function, None)
    except ImportError:
        return None
    return found if callable(found) else None


def shared_loaders() -> list[Loader]:
    """The loaders of the variables every program shares: the engine's (``OUTBOX_*``, the
    database), the Cicero adapter's (``CICERO_*``) and the status page's (``OUTBOX_WEB_*``)."""
    from views.adapter import configured_naive_time_zone

    loaders: list[Loader] = [_outbox_loader, configured_naive_time_zone]
    web = _optional_loader("outbox.web.settings", "load_web_settings")
    if web is not None:
        loaders.append(web)
    return loaders


def unknown_variables(env: Mapping[str, str], known: set[str],
                      programs: Iterable[str]) -> list[str]:
    """Variables of ``programs``' prefixes (and ``*_CRON``) in ``env`` that no loader reads,
    each with the closest known name ("did you mean")."""
    judged = {*programs, "outbox"}
    problems: list[str] = []
    for name in sorted(env):
        owner = variable_owner(name)
        if owner is None or owner not in judged or name in known:
            continue
        same_owner = sorted(n for n in known if variable_owner(n) == owner) or sorted(known)
        close = difflib.get_close_matches(name, same_owner, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{name} is not a variable this program knows{hint}")
    return problems


def check_phone_list(conn: Any, name: str, items: Sequence[str]) -> list[str]:
    """Problems of the numbers in a list variable (``ADMIN_WHATSAPP`` ...), judged by the
    database's own recipient rules, exactly as an INSERT into wa_outbox would judge them."""
    verdicts = engine.check_messages(conn, [engine.NewMessage(item, "x") for item in items])
    return [f"{name}: {item!r} is not a valid number ({problem})"
            for item, problem in zip(items, verdicts, strict=True) if problem is not None]


def check_writable_dir(name: str, path: Path) -> str | None:
    """Why the folder ``path`` (from variable ``name``) cannot be used, or ``None``."""
    if not path.exists():
        return f"{name}={str(path)!r}: the folder does not exist (create it: mkdir -p {path})"
    if not path.is_dir():
        return f"{name}={str(path)!r} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{name}={str(path)!r}: this user cannot write in the folder"
    return None


@dataclass
class CheckReport:
    """What ``--check-config`` found: configuration problems (exit 2) and database problems
    (exit 3), printed together."""

    config: list[str]
    database: list[str]

    @property
    def ok(self) -> bool:
        return not self.config and not self.database

    def lines(self) -> list[str]:
        return [*self.config, *self.database]


def check_database(url: str, phone_lists: Mapping[str, Sequence[str]],
                   schema: bool = True) -> tuple[list[str], list[str]]:
    """``(config problems, database problems)``: can the database be reached (the reason when
    not), is it migrated, and are the list variables' numbers valid by its rules."""
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5,
                               application_name="wa-outbox-check-config")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        unchecked = [name for name, items in phone_lists.items() if items]
        return [], [f"the database cannot be reached: {reason}"] + (
            [f"{', '.join(unchecked)}: the numbers were not checked (they are checked by the "
             "database's rules)"] if unchecked else [])
    config: list[str] = []
    database: list[str] = []
    with conn:
        if schema:
            try:
                check_schema(conn)
            except SchemaNotReady as exc:
                database.append(str(exc))
        try:
            for name, items in phone_lists.items():
                config.extend(check_phone_list(conn, name, items))
        except psycopg.errors.UndefinedFunction:
            database.append("the numbers in the list variables were not checked: the database "
                            "is not migrated (no wa_check_message)")
    return config, database


def check_environment(
    program: str,
    env: Mapping[str, str],
    *,
    problems: Sequence[str],
    loaders: Sequence[Loader],
    database_url: str | None,
    phone_lists: Mapping[str, Sequence[str]] = {},
    folders: Mapping[str, Path] = {},
    schema: bool = True,
) -> CheckReport:
    """Everything ``--check-config`` looks at, for one program.

    ``problems`` are what the program's loaders found in the values; ``loaders`` its settings
    loaders (the shared ones are added here), whose names make the known variables; ``folders``
    the folders the program must be able to write in, by variable; ``phone_lists`` the list
    variables of phone numbers. The database is checked when ``database_url`` is usable."""
    config = list(problems)
    known = names_read([*shared_loaders(), *loaders], env)
    config.extend(unknown_variables(env, known, [program]))
    for name, folder in folders.items():
        problem = check_writable_dir(name, folder)
        if problem is not None:
            config.append(problem)
    database: list[str] = []
    if database_url:
        found_config, database = check_database(database_url, phone_lists, schema=schema)
        config.extend(found_config)
    return CheckReport(config, database)


def print_report(program: str, report: CheckReport, summary: Iterable[str],
                 out: Callable[[str], None], err: Callable[[str], None]) -> int:
    """Print what ``--check-config`` found, every problem at once; the exit code
    (:class:`outbox.exitcodes.ExitCode`): 0 fine, 2 a configuration problem (whatever else),
    3 only the database is unreachable or not migrated."""
    from outbox.exitcodes import ExitCode

    if report.ok:
        for line in summary:
            out(line)
        out(f"{program}: configuration ok, database reachable and migrated")
        return ExitCode.OK
    lines = report.lines()
    err(f"{program}: {len(lines)} problem(s) in the configuration:")
    for line in lines:
        err(f"  - {line}")
    return ExitCode.USAGE if report.config else ExitCode.DATABASE
