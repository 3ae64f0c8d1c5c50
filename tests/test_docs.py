"""The documentation stays true: links resolve, the README stays short, nothing points outside
the repository, and the environment-variable reference (docs/operations/configuration.md)
lists exactly the variables the code reads.

The names the code reads are collected by running the real settings loaders with a recording
mapping (no database, no network), plus a scan of the product packages for ``os.environ`` /
``getenv`` literals.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import cast

import pytest

from outbox.checks import RecordingEnv
from outbox.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "operations" / "configuration.md"
PRODUCT_PACKAGES = ("outbox", "producers", "gateway", "views")
README_MAX_LINES = 200

# Documented but read by no settings loader: dev-only variables handed to the embedded
# database helper (tests/dev/devdb.py) by name, by the test suite and the benchmarks.
DEV_ONLY = {
    "TEST_DATABASE_URL",  # tests/conftest.py: the test server instead of the embedded one
    "BENCH_DATABASE_URL",  # bench/common.py: the benchmark server
}

# Per-job variables are documented as one pattern row each; <JOB> stands for every job's
# prefix (the job name upper-cased), taken from the job specs in producers.registry.
JOB_PLACEHOLDER = "<JOB>"

_NAME = re.compile(r"^(?:<JOB>_)?[A-Z][A-Z0-9_]*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_ENV_LITERAL = re.compile(
    r"""(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def doc_files() -> list[Path]:
    """Every Markdown page of the documentation, README and the views pointer included."""
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    pointer = ROOT / "views" / "README.md"
    if pointer.exists():
        pages.append(pointer)
    return pages


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------- links


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[str]:
    """Link targets of a page, outside code blocks and code spans."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))
    for match in _LINK.finditer(text):
        yield match.group(1)


def test_every_relative_link_resolves() -> None:
    broken: list[str] = []
    checked = 0
    for page in doc_files():
        for target in links(page):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            checked += 1
            file_part, _, anchor = target.partition("#")
            destination = (page.parent / file_part).resolve() if file_part else page
            if not destination.exists():
                broken.append(f"{rel(page)}: {target} (no such file)")
                continue
            if anchor:
                if destination.is_dir() or destination.suffix != ".md":
                    broken.append(f"{rel(page)}: {target} (anchor on a non-Markdown target)")
                elif anchor not in anchors(destination):
                    known = ", ".join(sorted(anchors(destination)))
                    broken.append(f"{rel(page)}: {target} (no heading '#{anchor}'; "
                                  f"headings: {known})")
    assert checked > 50, f"only {checked} relative links found: is the link parser broken?"
    assert not broken, "broken links:\n  " + "\n  ".join(broken)


def test_the_slug_rule_matches_github() -> None:
    assert slug("Post times in naive columns: `CICERO_NAIVE_TIME_ZONE`") == (
        "post-times-in-naive-columns-cicero_naive_time_zone")
    assert slug("Producers (`python -m producers`)") == "producers-python--m-producers"
    assert slug("Is it answered?") == "is-it-answered"


def test_no_document_points_outside_the_repository() -> None:
    forbidden = ("shared/", "../shared", "domain §")
    found = [f"{rel(page)}:{number}: {line.strip()}"
             for page in doc_files()
             for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
             if any(word in line for word in forbidden)]
    assert not found, ("documents refer to material outside the repository:\n  "
                       + "\n  ".join(found))


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move details to docs/")


# --------------------------------------------------------------------------- variables read


# The recording environment is the product's own (``--check-config`` finds the known variables
# the same way): an environment that records every name looked up and holds only its values.
Recorder = RecordingEnv


# Environments each loader is run with: nothing set, and the old services' DB_* variables in
# place of DATABASE_URL, so the branch that builds the URL from them is taken as well.
ENVIRONMENTS: tuple[dict[str, str], ...] = ({}, {"DB_HOST": "db-host", "DB_NAME": "cicero"})


def record(load: Callable[[Recorder], object], values: Mapping[str, str]) -> set[str]:
    recorder = Recorder(values)
    # Required values missing: the names were looked up before the loader gave up.
    with contextlib.suppress(ConfigError):
        load(recorder)
    return recorder.seen


def job_prefixes() -> list[str]:
    from producers import registry
    from producers.config import env_prefix

    return [env_prefix(spec.name) for spec in registry.base_specs()]


def loaders() -> dict[str, Callable[[Recorder], object]]:
    from gateway.config import load_gateway_settings
    from outbox import config as outbox_config
    from outbox.web.settings import load_web_settings
    from producers import registry
    from producers.config import load_producer_settings
    from producers.ingestion.settings import load_ingestion_settings
    from views.adapter import configured_naive_time_zone

    specs = registry.base_specs()

    def outbox_reader(env: Recorder) -> object:
        reader = outbox_config.EnvReader(env)
        outbox_config.database_url(reader)
        outbox_config.outbox_settings(reader)
        reader.finish()
        return reader

    return {
        "outbox.config": outbox_reader,
        "producers.config": lambda env: load_producer_settings(specs, env=env),
        "gateway.config": lambda env: load_gateway_settings(env),
        "views.adapter": lambda env: configured_naive_time_zone(env),
        "producers.ingestion.settings": lambda env: load_ingestion_settings(env),
        "outbox.web.settings": lambda env: load_web_settings(env),
    }


def cli_names() -> set[str]:
    """What ``python -m outbox`` reads before it does anything. Only run with no
    ``DATABASE_URL``, so it stops at its settings and never touches a database."""
    from outbox import cli

    recorder = Recorder()
    with pytest.raises(ConfigError):
        cli.run(argparse.Namespace(command="status"), cast("dict[str, str]", recorder))
    return recorder.seen


def scanned_names() -> dict[str, list[str]]:
    """``os.environ.get("X"`` / ``os.environ["X"]`` / ``getenv("X"`` literals in the product."""
    found: dict[str, list[str]] = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for match in _ENV_LITERAL.finditer(path.read_text(encoding="utf-8")):
                found.setdefault(match.group(1), []).append(rel(path))
    return found


def names_read() -> dict[str, set[str]]:
    """Every variable name the code reads -> where it was seen."""
    read: dict[str, set[str]] = {}
    for where, load in loaders().items():
        for values in ENVIRONMENTS:
            for name in record(load, values):
                read.setdefault(name, set()).add(where)
    for name in cli_names():
        read.setdefault(name, set()).add("outbox.cli")
    for name, paths in scanned_names().items():
        read.setdefault(name, set()).update(paths)
    return read


# --------------------------------------------------------------------------- variables documented


def table_rows(text: str) -> Iterator[list[str]]:
    """Cells of every Markdown table body row (header and separator rows included)."""
    for line in _FENCE.sub("", text).splitlines():
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            yield [cell.strip() for cell in stripped.strip("|").split("|")]


def first_column_names(text: str) -> list[str]:
    """Variable names written in backticks in the first column of the tables."""
    names: list[str] = []
    for cells in table_rows(text):
        names.extend(name for name in re.findall(r"`([^`]+)`", cells[0]) if _NAME.match(name))
    return names


def documented(prefixes: list[str]) -> tuple[dict[str, str], list[str]]:
    """documented name -> the row it came from (patterns expanded), and the raw row names."""
    raw = first_column_names(CONFIGURATION.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for name in raw:
        if name.startswith(JOB_PLACEHOLDER):
            for prefix in prefixes:
                names[name.replace(JOB_PLACEHOLDER, prefix)] = name
        else:
            names[name] = name
    return names, raw


def test_the_reference_parser_finds_the_rows() -> None:
    names, raw = documented(["DAILY_REPORT"])
    assert "DATABASE_URL" in names
    assert "<JOB>_CRON" in raw
    assert names["DAILY_REPORT_CRON"] == "<JOB>_CRON"


def test_the_recorder_sees_every_kind_of_lookup() -> None:
    recorder = Recorder({"B": "2"})
    assert recorder.get("A") is None
    assert recorder["B"] == "2"
    assert "C" not in recorder
    with pytest.raises(KeyError):
        recorder["D"]
    assert recorder.seen == {"A", "B", "C", "D"}


def test_every_variable_the_code_reads_is_documented_and_every_documented_one_is_read() -> None:
    prefixes = job_prefixes()
    assert prefixes, "no job specs found in producers.registry"
    read = names_read()
    assert "DATABASE_URL" in read and "WA_SESSION_NAME" in read, (
        f"the loaders recorded too little: {sorted(read)}")
    docs, _ = documented(prefixes)

    undocumented = sorted(set(read) - set(docs))
    unread = sorted(set(docs) - set(read) - DEV_ONLY)
    problems: list[str] = []
    if undocumented:
        problems.append(
            f"read by the code but missing from {rel(CONFIGURATION)}:\n"
            + "\n".join(f"  + {name}  (read in {', '.join(sorted(read[name]))})"
                        for name in undocumented))
    if unread:
        problems.append(
            f"documented in {rel(CONFIGURATION)} but read by no loader (remove the row, or add "
            "it to DEV_ONLY with a comment if only the tests read it):\n"
            + "\n".join(f"  - {name}  (row {docs[name]})" for name in unread))
    assert not problems, "\n".join(problems)


def test_each_variable_is_documented_once_and_only_on_the_configuration_page() -> None:
    prefixes = job_prefixes()
    _, raw = documented(prefixes)
    duplicates = sorted({name for name in raw if raw.count(name) > 1})
    assert not duplicates, f"documented twice in {rel(CONFIGURATION)}: {duplicates}"

    for prefix in prefixes:
        assert f"`{prefix}`" in CONFIGURATION.read_text(encoding="utf-8"), (
            f"job prefix {prefix} is not listed in the jobs table of {rel(CONFIGURATION)}")

    read = set(names_read())
    elsewhere = [f"{rel(page)}: {name}"
                 for page in doc_files() if page != CONFIGURATION
                 for name in first_column_names(page.read_text(encoding="utf-8"))
                 if name in read or name.startswith(JOB_PLACEHOLDER)]
    assert not elsewhere, (
        "variables documented in a table outside the configuration reference (link to "
        f"{rel(CONFIGURATION)} instead):\n  " + "\n  ".join(elsewhere))
