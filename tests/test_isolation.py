"""The parser pool: a crash, a hang or a memory blow-up costs one file, never the batch."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from hostile_corpus import far_cell, minimal_xlsx, shared_strings_xml, sheet_xml

from analysis.ingest.isolation import ParserPool, read_one
from analysis.ingest.safety import LimitExceeded, Limits, UnreadableFile
from analysis.ingest.workbook import RawWorkbook

# Lets the tiny XFD1048576 workbook past the pre-parse checks, to the parser itself.
PAST_CHECKS = Limits(max_cells=20_000_000_000, timeout_s=30)


def _read_all(pool, paths):
    outcomes = dict(pool.read(paths))
    assert sorted(outcomes) == list(range(len(paths)))  # exactly one outcome per file
    return [outcomes[i] for i in range(len(paths))]


def test_outcomes_for_every_file_in_any_order(tmp_path):
    paths = [minimal_xlsx(tmp_path / f"ok{i}.xlsx") for i in range(7)]
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    paths.insert(3, tmp_path / "bad.xlsx")
    with ParserPool(workers=2) as pool:
        outcomes = _read_all(pool, paths)
        assert pool.restarts == 0
    assert isinstance(outcomes[3], UnreadableFile)
    good = [o for i, o in enumerate(outcomes) if i != 3]
    assert all(isinstance(o, RawWorkbook) and o.sheets["S"].rows == [["hello"]] for o in good)
    assert [o.path.name for o in good] == [p.name for p in paths if p.name != "bad.xlsx"]


def test_a_parser_abort_costs_one_file_and_the_pool_recovers(tmp_path):
    crash = far_cell(tmp_path / "crash.xlsx")  # python-calamine aborts the process on this one
    paths = [
        minimal_xlsx(tmp_path / "a.xlsx"),
        crash,
        minimal_xlsx(tmp_path / "b.xlsx"),
        crash,
        minimal_xlsx(tmp_path / "c.xlsx"),
    ]
    with ParserPool(PAST_CHECKS, workers=1) as pool:
        outcomes = _read_all(pool, paths)
        assert pool.restarts == 2
        # The same pool goes on reading after its worker died twice.
        (again,) = _read_all(pool, [paths[0]])
    assert isinstance(again, RawWorkbook)
    for index in (1, 3):
        assert isinstance(outcomes[index], LimitExceeded)
        assert outcomes[index].limit == "worker_memory_mb"
        assert "aborted" in str(outcomes[index]) and "--worker-memory-mb" in str(outcomes[index])
    assert all(isinstance(outcomes[i], RawWorkbook) for i in (0, 2, 4))


def test_a_hung_file_times_out(tmp_path):
    os.mkfifo(tmp_path / "pipe.xlsx")  # opening it blocks for ever: a stand-in for any hang
    paths = [tmp_path / "pipe.xlsx", minimal_xlsx(tmp_path / "ok.xlsx")]
    with ParserPool(Limits(timeout_s=1), workers=1) as pool:
        hung, fine = _read_all(pool, paths)
    assert isinstance(hung, LimitExceeded) and hung.limit == "timeout_s"
    assert "longer than the limit of 1 s (--timeout)" in str(hung)
    assert isinstance(fine, RawWorkbook)


def test_memory_limit_of_a_worker(tmp_path):
    # 200,000 rows × 26 columns: a 5.2-million-cell grid, far more than 64 MB of parser memory.
    cells = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="200000"><c r="Z200000"><v>1</v></c></row>'
    path = minimal_xlsx(tmp_path / "wide.xlsx", sheet=sheet_xml(cells, dimension=b"A1:Z200000"))
    limits = Limits(max_cells=10_000_000, worker_memory_mb=64, timeout_s=60)
    with ParserPool(limits, workers=1) as pool:
        blown, fine = _read_all(pool, [path, minimal_xlsx(tmp_path / "ok.xlsx")])
    assert isinstance(blown, LimitExceeded) and blown.limit == "worker_memory_mb"
    assert "64 MB (--worker-memory-mb)" in str(blown)
    assert isinstance(fine, RawWorkbook)


def test_in_process_read_reports_instead_of_raising(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"")
    assert "empty" in str(read_one(tmp_path / "x.xlsx"))
    assert isinstance(read_one(minimal_xlsx(tmp_path / "ok.xlsx")), RawWorkbook)


_ORPHAN = """
import os, signal, sys, time
from pathlib import Path
from analysis.ingest.isolation import ParserPool
from analysis.ingest.safety import Limits
pool = ParserPool(Limits(timeout_s=600), workers=2)
outcomes = pool.read([Path(sys.argv[1])] * 2)  # a FIFO: both workers block opening it
import threading
def die():
    time.sleep(1.0)
    print(" ".join(str(w.process.pid) for w in pool._workers), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
threading.Thread(target=die).start()
for _ in outcomes:
    pass
"""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (its parent, here init, has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and FIFOs")
def test_workers_do_not_outlive_a_killed_parent(tmp_path):
    os.mkfifo(tmp_path / "pipe.xlsx")
    proc = subprocess.run(
        [sys.executable, "-c", _ORPHAN, str(tmp_path / "pipe.xlsx")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL
    pids = [int(p) for p in proc.stdout.split()]
    assert len(pids) == 2
    # The workers are stuck opening a FIFO; opening its other end releases them, and they
    # then find their parent gone and exit instead of lingering as orphans.
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        with contextlib.suppress(OSError):  # no reader waiting (any more)
            os.close(os.open(tmp_path / "pipe.xlsx", os.O_WRONLY | os.O_NONBLOCK))
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def test_with_other_threads_running_workers_come_from_a_fork_server(tmp_path):
    # Forking beside other threads (a notebook kernel's) risks a lock held for ever in the
    # child; the pool then has a fork server start its workers, and behaves the same.
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        paths = [minimal_xlsx(tmp_path / "ok.xlsx"), far_cell(tmp_path / "crash.xlsx")]
        with ParserPool(PAST_CHECKS, workers=1) as pool:
            assert pool._context.get_start_method() == "forkserver"
            fine, crashed = _read_all(pool, paths)
    finally:
        stop.set()
        thread.join()
    assert isinstance(fine, RawWorkbook)
    assert isinstance(crashed, LimitExceeded) and "aborted" in str(crashed)


def test_an_abandoned_read_leaves_no_stale_answers(tmp_path):
    first = [minimal_xlsx(tmp_path / f"a{i}.xlsx") for i in range(40)]
    second = [minimal_xlsx(tmp_path / "b.xlsx", shared_strings=shared_strings_xml(b"second"))]
    with ParserPool(workers=2) as pool:
        for _ in pool.read(first):
            break  # the caller stops early: answers for the other files are still on their way
        (outcome,) = _read_all(pool, second)
    assert outcome.path.name == "b.xlsx" and outcome.sheets["S"].rows == [["second"]]


def _pid_and_kind(path, outcome):
    return os.getpid(), path.name, type(outcome).__name__


def test_then_runs_in_the_worker_and_a_crash_still_costs_one_file(tmp_path):
    paths = [minimal_xlsx(tmp_path / "a.xlsx"), far_cell(tmp_path / "crash.xlsx"), minimal_xlsx(tmp_path / "b.xlsx")]
    with ParserPool(PAST_CHECKS, workers=1, then=_pid_and_kind) as pool:
        first, crashed, last = _read_all(pool, paths)
    assert first[1:] == ("a.xlsx", "RawWorkbook") and last[1:] == ("b.xlsx", "RawWorkbook")
    assert os.getpid() not in (first[0], last[0])
    # The worker died in the parser, before `then`: the file's limit comes back as is.
    assert isinstance(crashed, LimitExceeded) and crashed.limit == "worker_memory_mb"


def _broken(path, outcome):
    raise ValueError(f"a bug on {path.name}")


def test_an_exception_in_then_is_raised_in_the_caller(tmp_path):
    # A bug in validation is not a bad file: it must not pass as one file's problem.
    with ParserPool(workers=1, then=_broken) as pool, pytest.raises(RuntimeError, match="a bug on ok.xlsx"):
        _read_all(pool, [minimal_xlsx(tmp_path / "ok.xlsx")])


def _exhausting(path, outcome):
    if isinstance(outcome, RawWorkbook) and path.name == "big.xlsx":
        raise MemoryError  # as if validating this file had needed more than the limit
    return type(outcome).__name__


def test_running_out_of_memory_in_then_costs_one_file_and_a_fresh_worker(tmp_path):
    paths = [minimal_xlsx(tmp_path / "big.xlsx"), minimal_xlsx(tmp_path / "ok.xlsx")]
    with ParserPool(workers=1, then=_exhausting) as pool:
        big, fine = _read_all(pool, paths)
        assert pool.restarts == 1
    assert (big, fine) == ("LimitExceeded", "RawWorkbook")


def test_answers_gather_only_while_no_worker_can_run_out_of_files():
    # The parent lets answers gather in the pipes (fewer wake-ups) only for as long as every
    # worker still has more than a chunk queued at its recent pace: quick files are not held up.
    from collections import deque
    from types import SimpleNamespace

    from analysis.ingest.isolation import _GATHER_S, _gather_pause

    def worker(queued: int, pace: float):
        return SimpleNamespace(inflight=deque(range(queued)), pace=pace)

    assert _gather_pause([worker(32, 0.001), worker(32, 0.002)], 16) == _GATHER_S  # slow files: the full pause
    assert _gather_pause([worker(32, 0.00005), worker(32, 0.001)], 16) == pytest.approx(16 * 0.00005)
    assert _gather_pause([worker(32, 0.001), worker(16, 0.001)], 16) == 0  # one has a chunk or less left
    assert _gather_pause([worker(32, 0.0)], 16) == 0  # pace not known yet
    assert _gather_pause([], 16) == 0


def test_a_workers_pace_forgets_a_slow_file_and_its_start_up_after_a_few_answers():
    from collections import deque
    from types import SimpleNamespace

    from analysis.ingest.isolation import _gather_pause, _Worker

    worker = _Worker(process=SimpleNamespace(), conn=SimpleNamespace())
    worker.since = 100.0  # the first chunk was sent
    worker.answered(102.0)  # a start-up and one file of 2 s
    assert worker.pace == 0  # not known from one answer
    now = 102.0
    for _ in range(20):  # then twenty files of 0.1 ms each
        now += 0.0001
        worker.answered(now)
    assert worker.pace == pytest.approx(0.0001)
    worker.inflight = deque(range(17))
    assert _gather_pause([worker], 16) == pytest.approx(0.0001)  # it runs out of a chunk in 0.1 ms
