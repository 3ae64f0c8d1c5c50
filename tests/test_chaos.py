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
    assert len(faults) == 9, faults
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
    # the producer slot through an outage: the crashed run exited 3 with one line, the retry
    # after the database's return queued the slot's rows once, equal to a clean run's
    producer = next(r for r in results if r.fault.endswith("mid-producer-run"))
    assert producer.note.startswith("waited in its slot; exits [3, "), producer
    assert ", 0]; the crashed run: 1 line (producers: database unavailable" in producer.note
    assert "; 1 producer_run row; " in producer.note
    assert producer.recovery is not None and producer.recovery < 10  # includes a process start
