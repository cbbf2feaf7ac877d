"""Parsing untrusted workbooks in worker processes that may die without harm.

A spreadsheet parser can be made to abort the whole process (python-calamine on a 5 KB
workbook that spans XFD1048576) or to eat all memory. :class:`ParserPool` keeps a few
worker processes, reused from file to file, each with a memory limit (``RLIMIT_AS``)
and watched by a per-file timeout. When a worker dies, times out or runs out of memory,
the file it was reading gets one :class:`~analysis.ingest.safety.LimitExceeded` naming the limit,
the worker is replaced and the other files go on.

Workers are forked where the platform allows it (no re-import, a few milliseconds each)
and started by a fork server when other threads run in the process.
They turn files into grids (:func:`analysis.ingest.workbook.read_workbook`, checks included)
and, given a ``then`` function, run it on each outcome there too (the ingest validates in the
workers, so that the parent receives compact records instead of grids).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import multiprocessing
import os
import select
import selectors
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.ingest.problems import Message
from analysis.ingest.safety import DEFAULT_LIMITS, LimitExceeded, Limits, UnreadableFile
from analysis.ingest.workbook import RawWorkbook, read_workbook

if TYPE_CHECKING:  # ForkContext does not exist on Windows
    from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext

try:  # not on Windows: there the workers run without a memory limit
    import resource
except ImportError:  # pragma: no cover
    resource = None  # type: ignore[assignment]

__all__ = ["ParserPool", "default_workers", "read_one"]

_MB = 1 << 20
_WATCH_PARENT_S = 1.0  # how often an idle worker checks that its parent is still alive
_MAX_CHUNK = 16
_GATHER_S = 0.004  # how long answers may wait in the pipes while every worker has work queued
_PACE_ANSWERS = 17  # the answers a worker's pace is measured over

Outcome = RawWorkbook | UnreadableFile
# What a worker does with an outcome before sending it (the path it read, the outcome).
Then = Callable[[Path, Outcome], Any]


def default_workers() -> int:
    """One worker per CPU core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _start_context() -> ForkContext | ForkServerContext | SpawnContext:
    """``fork`` (fast: nothing to import again) unless other threads run in this process.

    Forking a process that runs other threads (a notebook kernel's, for instance) can leave
    a lock held for ever in the child; then a fork server starts the workers instead.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["analysis.ingest.isolation"])
        return context
    return multiprocessing.get_context("spawn")


def read_one(path: Path, limits: Limits = DEFAULT_LIMITS, skip: Callable[[str], bool] | None = None) -> Outcome:
    """Read one file in this process; the problem (never an exception) if it cannot be read.

    ``skip`` names sheets not to parse (see :func:`analysis.ingest.workbook.read_workbook`).
    """
    try:
        return read_workbook(Path(path), limits, skip)
    except UnreadableFile as problem:
        return problem
    except MemoryError:
        return _memory_error(limits)
    except RecursionError:
        return UnreadableFile(Message.of("nested_too_deeply"))


def _parser_failed(error: BaseException) -> Message:
    return Message.of("parser_failed", error=f"{type(error).__name__}: {str(error)[:120]}")


def _memory_error(limits: Limits) -> LimitExceeded:
    return LimitExceeded(Message.of("out_of_memory", limit=limits.describe("worker_memory_mb")), "worker_memory_mb")


# -- the worker side -------------------------------------------------------------------------


def _address_space() -> int | None:
    """This process's current virtual memory size in bytes (Linux), else ``None``."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _confine(limits: Limits) -> None:
    """Limit this worker: memory, no core dumps, no terminal output, no Ctrl-C of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    # What the worker inherited is never its garbage: its collections look only at what it
    # makes, instead of walking (and copying, page by page) the parent's whole heap. And the
    # parent may have paused collections while it forked (see analysis.ingest.folder).
    gc.enable()
    gc.freeze()
    # A Rust abort prints a backtrace; the parent reports the crash instead. Holding no copy
    # of the parent's output also lets whoever reads it see its end when the parent ends.
    faulthandler.disable()  # it may hold its own copy of the parent's stderr (pytest's does)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    if resource is None:  # pragma: no cover
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    base = _address_space()
    if base is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = base + int(limits.worker_memory_mb * _MB)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or wanted < soft:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


@dataclass(frozen=True)
class _Raised:
    """``then`` raised in a worker: a bug, not a bad file, so the parent raises it again."""

    path: str
    error: str  # the worker's traceback


def _then(then: Then, path: Path, outcome: Outcome, limits: Limits) -> tuple[Any, Outcome]:
    """``then(path, outcome)`` in a worker, and the outcome it ended with: running out of memory
    there is the file's problem too (``then`` of the memory limit instead, and a fresh worker)."""
    try:
        try:
            return then(path, outcome), outcome
        except MemoryError:
            failed = _memory_error(limits)
            return then(path, failed), failed
    except Exception:
        return _Raised(str(path), traceback.format_exc()), outcome


def _worker_main(
    conn: Connection,
    spare: Connection | None,
    limits: Limits,
    skip: Callable[[str], bool] | None,
    parent: int | None,
    then: Then | None = None,
) -> None:
    if spare is not None:
        spare.close()  # the parent's end: without closing it, the parent's death would go unnoticed
    _confine(limits)
    while True:
        if not conn.poll(_WATCH_PARENT_S):
            if parent is not None and os.getppid() != parent:
                return
            continue
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        for index, path in task:
            try:
                outcome = read_one(Path(path), limits, skip)
            except Exception as error:  # a parser bug must not take the worker's other files down
                outcome = UnreadableFile(_parser_failed(error))
            except BaseException as error:  # pyo3 turns a Rust panic into a BaseException
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise
                outcome = UnreadableFile(_parser_failed(error))
            sent = outcome
            if then is not None:
                sent, outcome = _then(then, Path(path), outcome, limits)
            try:
                conn.send((index, sent))
            except MemoryError:
                outcome = _memory_error(limits)
                conn.send((index, outcome if then is None else _then(then, Path(path), outcome, limits)[0]))
            except (BrokenPipeError, OSError):
                return
            if isinstance(outcome, LimitExceeded) and outcome.limit == "worker_memory_mb":
                return  # start afresh: memory may be fragmented or half-freed


# -- the parent side -------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    inflight: deque = field(default_factory=deque)  # (index, path) sent and not yet answered, in order
    since: float = 0.0  # when the file now being read was started (or the last answer came)
    poller: Any = None  # select.poll on the answer pipe where the platform has it
    answers: deque = field(default_factory=lambda: deque(maxlen=_PACE_ANSWERS))  # when the last came

    def answered(self, now: float) -> None:
        """An answer came at ``now``: the next file's clock starts."""
        self.answers.append(now)
        self.since = now

    @property
    def pace(self) -> float:
        """Seconds per file over the last answers (0 until two came): a slow file or the
        worker's start-up weighs on it for a few answers only."""
        answers = self.answers
        return (answers[-1] - answers[0]) / (len(answers) - 1) if len(answers) > 1 else 0.0

    def has_answer(self) -> bool:
        """Whether an answer is waiting (Connection.poll builds a selector per call: a tenth of
        the parent's time in a large ingest)."""
        if self.poller is None:
            return self.conn.poll()
        return bool(self.poller.poll(0))


def _gather_pause(workers: Sequence[_Worker], chunk: int) -> float:
    """How long answers may gather in the pipes: up to ``_GATHER_S``, and only while every
    worker would still have a chunk left to read at its recent pace (none may go idle)."""
    if not workers or any(len(w.inflight) <= chunk or w.pace <= 0 for w in workers):
        return 0.0
    return min(_GATHER_S, min((len(w.inflight) - chunk) * w.pace for w in workers))


class ParserPool:
    """A reusable pool of parser processes; use it as a context manager.

    Parameters
    ----------
    limits
        The worker memory limit and per-file timeout come from here; so do the checks each
        worker runs before parsing.
    workers
        Number of worker processes (default: one per CPU core).
    skip
        Sheets (by name) that need not be parsed (see :func:`analysis.ingest.workbook.read_workbook`).
    then
        Run in the worker on each file's path and outcome; :meth:`read` then yields what it
        returns, except for a file whose worker died or timed out (that one's
        :class:`~analysis.ingest.safety.LimitExceeded` comes as is). Under the same limits as the
        parser; an exception in it is raised again in the calling process.
    """

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        workers: int | None = None,
        skip: Callable[[str], bool] | None = None,
        then: Then | None = None,
    ) -> None:
        self.limits = limits
        self.skip = skip
        self.then = then
        self.size = max(1, workers or default_workers())
        self._context = _start_context()
        self._workers: list[_Worker] = []
        # One selector for the pool's life: building one per wait costs more than a small parse.
        self._selector = selectors.DefaultSelector()
        self.restarts = 0

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        forked = self._context.get_start_method() == "fork"
        # A forked worker also holds copies of its siblings' pipes, so it cannot rely on seeing
        # the end of its own when the parent dies: it watches its parent's pid instead.
        process = self._context.Process(
            target=_worker_main,
            daemon=True,
            name="survey-parser",
            args=(
                child_end,
                parent_end if forked else None,
                self.limits,
                self.skip,
                os.getpid() if forked else None,
                self.then,
            ),
        )
        process.start()
        child_end.close()
        worker = _Worker(process=process, conn=parent_end)
        if hasattr(select, "poll"):
            worker.poller = select.poll()
            worker.poller.register(worker.conn.fileno(), select.POLLIN)
        self._selector.register(worker.conn, selectors.EVENT_READ, (worker, "answer"))
        self._selector.register(worker.process.sentinel, selectors.EVENT_READ, (worker, "ended"))
        return worker

    def _forget(self, worker: _Worker) -> None:
        for handle in (worker.conn, worker.process.sentinel):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(handle)
        worker.conn.close()

    def close(self) -> None:
        """Stop every worker (idle ones exit at once; busy ones are killed)."""
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            self._forget(worker)
        self._workers = []

    def read(self, paths: Sequence[Path]) -> Iterator[tuple[int, Any]]:
        """Read every file; yield ``(index into paths, workbook or problem)`` as each finishes
        (with ``then``: what it made of them).

        Exactly one outcome is yielded per path, whatever happens to the workers.
        """
        queue: deque[tuple[int, str]] = deque((i, str(p)) for i, p in enumerate(paths))
        for position, worker in enumerate(self._workers):
            if worker.inflight:  # left over from a read that was abandoned: its answers are stale
                worker.inflight.clear()
                self._replace(position, deque(), "abandoned")
        if not queue:
            return
        while len(self._workers) < min(self.size, len(queue)):
            self._workers.append(self._start())
        chunk = max(1, min(_MAX_CHUNK, len(queue) // (4 * len(self._workers))))
        remaining = len(queue)
        answered = 0  # by the last pass of the loop
        while remaining:
            now = time.monotonic()
            for position, worker in enumerate(self._workers):
                # Two chunks per worker: the next one is waiting when the current one ends.
                while queue and len(worker.inflight) < 2 * chunk:
                    task = [queue.popleft() for _ in range(min(chunk, len(queue)))]
                    if not worker.inflight:
                        worker.since = now
                    worker.inflight.extend(task)
                    try:
                        worker.conn.send(task)
                    except OSError:  # it has just ended (e.g. after running out of memory)
                        for _ in task:  # never received: no blame, first in line again
                            queue.appendleft(worker.inflight.pop())
                        lost = self._replace(position, queue, None)
                        if lost is not None:
                            remaining -= 1
                            yield lost
                        break
            busy = [w for w in self._workers if w.inflight]
            if not busy:  # cannot happen while files remain; never wait forever on nothing
                break
            timeout = max(0.0, min(w.since + self.limits.timeout_s for w in busy) - now)
            if answered:
                # Let answers gather in the pipes instead of waking for each one (each wake-up
                # costs both sides a context switch), while no worker can run out of work.
                time.sleep(min(_gather_pause(busy, chunk), timeout))
            ready: dict[_Worker, set[str]] = {}
            for key, _ in self._selector.select(timeout):
                worker, what = key.data
                ready.setdefault(worker, set()).add(what)
            answered = 0
            for position, worker in enumerate(self._workers):
                if worker not in ready:
                    continue
                alive = True
                try:
                    while worker.has_answer():
                        index, outcome = worker.conn.recv()
                        if isinstance(outcome, _Raised):
                            raise RuntimeError(f"a worker failed on {outcome.path}:\n{outcome.error}")
                        worker.inflight.popleft()
                        worker.answered(time.monotonic())
                        remaining -= 1
                        answered += 1
                        yield index, outcome
                except (EOFError, OSError):
                    alive = False
                if alive and "ended" not in ready[worker]:
                    continue
                lost = self._replace(position, queue, None)
                if lost is not None:
                    remaining -= 1
                    yield lost
            now = time.monotonic()
            for position, worker in enumerate(self._workers):
                if worker.inflight and now - worker.since > self.limits.timeout_s:
                    lost = self._replace(position, queue, "timeout")
                    if lost is not None:
                        remaining -= 1
                        yield lost

    def _replace(self, position: int, queue: deque, why: str | None) -> tuple[int, Outcome] | None:
        """Put a fresh worker in place of a dead (or hung) one; blame the file it was reading."""
        worker = self._workers[position]
        if why is not None or worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        self._forget(worker)
        self.restarts += 1
        inflight = worker.inflight
        culprit = None
        if inflight and (why == "timeout" or worker.process.exitcode != 0):
            index, _ = inflight.popleft()
            culprit = (index, self._blame(why, worker.process.exitcode))
        queue.extendleft(reversed(inflight))  # the others were not read yet: they go first
        self._workers[position] = self._start()
        return culprit

    def _blame(self, why: str | None, exitcode: int | None) -> LimitExceeded:
        limits = self.limits
        if why == "timeout":
            return LimitExceeded(Message.of("timeout", limit=limits.describe("timeout_s")), "timeout_s")
        memory = limits.describe("worker_memory_mb")
        if exitcode == -signal.SIGABRT:
            what = Message.of("parser_aborted", limit=memory)
        elif exitcode == -signal.SIGKILL:
            what = Message.of("parser_killed", limit=memory)
        elif exitcode is not None and exitcode < 0:
            try:
                name = signal.Signals(-exitcode).name
            except ValueError:
                name = f"signal {-exitcode}"
            what = Message.of("parser_crashed", signal=name, limit=memory)
        else:
            what = Message.of("parser_died", status=str(exitcode), limit=memory)
        return LimitExceeded(Message.of("nothing_loaded_from_file", reason=what), "worker_memory_mb")
