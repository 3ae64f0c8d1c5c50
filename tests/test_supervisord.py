"""deploy/supervisord.conf against a real supervisord: which exits it restarts.

The programs' restart settings (autorestart, exitcodes, startsecs, startretries) are read from
the shipped file; the commands are stand-ins that exit with one code each, plus the real
gateway with a bad configuration (exit 2).
"""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from outbox.exitcodes import ExitCode
from tests.dev import REPO_ROOT
from tests.gateway_helpers import wait_for

SUPERVISORD = Path(sys.executable).with_name("supervisord")
RESTART_KEYS = ("autorestart", "exitcodes", "startsecs", "startretries")


def shipped(program: str) -> dict[str, str]:
    conf = configparser.RawConfigParser(inline_comment_prefixes=(";",), strict=False)
    conf.read(REPO_ROOT / "deploy" / "supervisord.conf")
    section = conf[f"program:{program}"]
    return {key: section[key].strip() for key in RESTART_KEYS if key in section}


def starts(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("program", ["wa-gateway", "wa-producers"])
def test_the_shipped_conf_restarts_crashes_and_hangs_not_stops(program: str,
                                                               tmp_path: Path) -> None:
    settings = shipped(program)
    expected = {int(c) for c in settings["exitcodes"].split(",")}
    codes = [0, 1, 2, 3, 4, 6]
    blocks = []
    for code in codes:
        script = (f"import sys, time; open({str(tmp_path / f'starts-{code}')!r}, 'a')"
                  f".write('x\\n'); time.sleep(0.3); sys.exit({code})")
        lines = [f"[program:exit{code}]", f"command = {sys.executable} -c \"{script}\"",
                 "autostart = true", *(f"{k} = {v}" for k, v in settings.items()),
                 f"stdout_logfile = {tmp_path / f'exit{code}.log'}", "redirect_stderr = true"]
        blocks.append("\n".join(lines))
    real = (f"[program:real]\ncommand = {sys.executable} -m gateway\ndirectory = {REPO_ROOT}\n"
            f"environment = WA_TRANSPORT=\"bogus\",DATABASE_URL=\"postgresql:///nowhere\"\n"
            + "".join(f"{k} = {v}\n" for k, v in settings.items())
            + f"stdout_logfile = {tmp_path / 'real.log'}\nredirect_stderr = true\n")
    conf = tmp_path / "supervisord.conf"
    conf.write_text(textwrap.dedent(f"""\
        [supervisord]
        logfile = {tmp_path / 'supervisord.log'}
        pidfile = {tmp_path / 'supervisord.pid'}
        nodaemon = true
        [unix_http_server]
        file = {tmp_path / 'supervisor.sock'}
        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
        """) + "\n".join(blocks) + "\n" + real)
    proc = subprocess.Popen([str(SUPERVISORD), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        restarted = [c for c in codes if c not in expected]
        assert wait_for(lambda: all(starts(tmp_path / f"starts-{c}") >= 3 for c in restarted),
                        30), {c: starts(tmp_path / f"starts-{c}") for c in codes}
        assert wait_for(lambda: "exited: real (exit status 2; expected)"
                        in (tmp_path / "supervisord.log").read_text(), 30)
        time.sleep(2)  # an expected exit would have been restarted by now
        log = (tmp_path / "supervisord.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    for code in codes:
        if code in expected:
            assert starts(tmp_path / f"starts-{code}") == 1, (code, log)
            assert f"exited: exit{code} (exit status {code}; expected)" in log
        else:
            assert starts(tmp_path / f"starts-{code}") >= 3, (code, log)
    assert "gave up" not in log and "FATAL" not in log
    assert log.count("spawned: 'real'") == 1
    # the codes the conf must restart and must not
    assert ExitCode.CRASHED not in expected and ExitCode.HUNG not in expected
    assert {ExitCode.OK, ExitCode.USAGE} <= expected
    if program == "wa-gateway":
        assert ExitCode.SESSION_TAKEN in expected
