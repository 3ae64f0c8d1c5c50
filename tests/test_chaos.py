"""The short variant of ``make chaos`` (bench/chaos.py): every fault on real processes and a
real PostgreSQL of its own, audited from the database and the transport's send log."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import Chaos, report


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_chaos_short(tmp_path: Path) -> None:
    results = Chaos(short=True, work=tmp_path).run()
    print("\n" + report(results))
    faults = [r.fault for r in results]
    assert len(faults) == 8, faults
    for result in results:
        assert result.lost == 0, result
        assert result.duplicates <= result.allowed_duplicates, result
    by_fault = {r.fault.split(" ")[0]: r for r in results}
    # recovery within seconds of the fault's end, with no human
    assert by_fault["PostgreSQL"].recovery is not None and by_fault["PostgreSQL"].recovery < 5
    assert by_fault["backends"].recovery is not None and by_fault["backends"].recovery < 5
    assert "exits [4]" in by_fault["SIGSTOP"].note  # the frozen owner was fenced
    hang = next(r for r in results if r.fault.startswith("a send that hangs"))
    assert "6" in hang.note  # the watchdog ended the hung process
    poison = next(r for r in results if r.fault.startswith("a row that kills"))
    assert poison.note.startswith("poison row failed after")  # alone, the rest all sent
