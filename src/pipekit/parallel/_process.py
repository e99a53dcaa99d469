"""ProcessMap: a process pool that survives worker deaths and isolates the item that killed one."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import equinox as eqx

from .._errors import ConfigError, PipekitError
from ._core import (
    AbstractMap,
    Results,
    call_chunk,
    check_bool,
    check_fn,
    check_on_error,
    check_positive_int,
    record,
)
from ._errors import Failure
from ._pickle import check_pickleable
from ._types import START_METHODS, OnError, StartMethod

__all__ = ["ProcessMap", "shutdown_pools"]

# Warm pools kept between `map` calls (keep_pool=True), one per (workers, start method,
# calling thread): a spawned worker pays ~3 s importing JAX and the pipeline's modules,
# which a second call should not pay again. Keyed by thread so that two threads never
# share a pool (a worker death is isolated per pool). Each pool remembers the environment
# its workers were started with: they read credentials and endpoints (AWS_*, GDAL_*) from
# it, so a pool started before the caller changed os.environ is stale and is replaced.
_POOLS: dict[tuple[int, str, int], tuple[ProcessPoolExecutor, int]] = {}
_POOLS_LOCK = threading.Lock()


def _environment_fingerprint() -> int:
    return hash(frozenset(os.environ.items()))


def shutdown_pools() -> None:
    """Shut down every warm worker pool kept by ``ProcessMap(keep_pool=True)``.

    Registered with ``atexit``; call it to free the worker processes earlier.
    """
    with _POOLS_LOCK:
        pools = [pool for pool, _ in _POOLS.values()]
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pools)

# Consecutive deaths with nothing ever completing that mean "workers cannot start".
_STARTUP_DEATHS = 3

_DIED_MESSAGE = (
    "the worker process running this item died (segfault, os._exit, out-of-memory kill); "
    "identified by re-running the items that were in flight one at a time"
)


class ProcessMap(AbstractMap):
    """Map ``fn`` over items in worker processes (``concurrent.futures.ProcessPoolExecutor``).

    A worker that dies fails only its own item: when the pool breaks, the pool is replaced,
    the items that were in flight are re-run one at a time until the one that kills its
    worker is found, and that item's entry becomes a :class:`Failure` with
    ``exc_type="WorkerDied"`` (or, with ``on_error="raise"``, a :class:`ParallelError`).

    Args:
        n_workers: number of processes; ``None`` means ``os.cpu_count()``.
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        progress: log ``done/total`` at INFO on ``"pipekit.parallel"`` every ~10 %.
        chunksize: items sent to a worker per task; larger amortises the per-task
            round trip for cheap ``fn`` (a dying worker then puts a whole chunk under
            suspicion, which is re-run item by item).
        start_method: ``"spawn"`` (default) or ``"forkserver"``; never ``"fork"``.
        keep_pool: keep the worker pool warm after ``map`` returns and reuse it in the next
            call with the same ``n_workers`` and ``start_method`` from the same thread
            (default). The first call pays the workers' start-up (~3 s with JAX), later
            calls do not; :func:`shutdown_pools` (also run at exit) frees them. A pool
            is reused only while ``os.environ`` is as it was when its workers started
            (they read credentials and endpoints from it); after a change the next call
            starts a new pool. ``False`` starts and stops a pool in every call.

    ``fn`` and the items must pickle; ``fn`` is checked with :func:`check_pickleable` first.

    Note:
        Why spawn: JAX and XLA run thread pools, and ``fork`` of a multithreaded parent can
        deadlock a child. Measured on 2 cores (pool of 2 importing pipekit+JAX, 4 tasks):
        spawn 2.5-2.7 s, forkserver 2.2 s warm and 3.6 s on first use (it starts a server
        process too). Workers must import the pipeline's modules either way (forkserver
        preloads are process-global), so the gain is small; spawn is the portable default.
        Each pool start costs that much, which is why a pool is only replaced on a death.
    """

    n_workers: int | None = None
    on_error: OnError = "raise"
    progress: bool = eqx.field(default=False, kw_only=True)
    chunksize: int = eqx.field(default=1, kw_only=True)
    start_method: StartMethod = eqx.field(default="spawn", kw_only=True)
    keep_pool: bool = eqx.field(default=True, kw_only=True)

    def __check_init__(self) -> None:
        check_positive_int("ProcessMap", "n_workers", self.n_workers, allow_none=True)
        check_on_error("ProcessMap", self.on_error)
        check_bool("ProcessMap", "progress", self.progress)
        check_bool("ProcessMap", "keep_pool", self.keep_pool)
        check_positive_int("ProcessMap", "chunksize", self.chunksize)
        if self.start_method not in START_METHODS:
            raise ConfigError(
                f"ProcessMap(start_method) expects one of {', '.join(map(repr, START_METHODS))}"
                f", got {self.start_method!r} ('fork' is unsafe with multithreaded JAX)"
            )

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to every item in worker processes; results in input order."""
        check_fn("ProcessMap", fn)
        check_pickleable(fn)
        items = list(items)
        results = Results("ProcessMap", items, self.on_error, self.progress)
        if items:
            _Runner(self, fn, results).run()
        return results.finish()


class _Runner:
    """The scheduling loop of one ``ProcessMap.map`` call.

    At most ``n_workers`` tasks are in flight, so that when the pool breaks the suspects
    are those few tasks rather than everything queued behind them.
    """

    def __init__(self, owner: ProcessMap, fn: Callable[[Any], Any], results: Results) -> None:
        self.fn = fn
        self.results = results
        self.n_workers = owner.n_workers or os.cpu_count() or 1
        self.context = multiprocessing.get_context(owner.start_method)
        self.keep_pool = owner.keep_pool
        self.key = (self.n_workers, owner.start_method, threading.get_ident())
        n, size = len(results.items), owner.chunksize
        self.queue: deque[list[int]] = deque(
            list(range(i, min(i + size, n))) for i in range(0, n, size)
        )
        # Indices to re-run alone, one in flight at a time, after the pool broke.
        self.suspects: deque[int] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.completed = 0  # tasks that came back (fine or with fn's exception)
        self.deaths = 0

    def run(self) -> None:
        inflight: dict[Future[list[Any]], list[int]] = {}
        finished = False
        try:
            while self.queue or self.suspects or inflight:
                if self.pool is None:
                    self.pool = self._new_pool()
                self._fill(inflight)
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    # Every other pending future of a broken pool fails too: wait for them
                    # all so that each in-flight task is classified exactly once.
                    wait(inflight)
                    done = set(inflight)
                    self._replace_pool()
                broken: list[int] = []
                for future in done:
                    broken.extend(self._collect(future, inflight.pop(future)))
                self._handle_broken(broken, isolating=bool(self.suspects) or len(broken) == 1)
            finished = True
        finally:
            # A kept pool stays warm only after a clean finish; after an exception tasks
            # may still be running in it, so it is dropped like a pool that broke.
            if self.pool is not None and not (finished and self.keep_pool):
                self._replace_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        if not self.keep_pool:
            return ProcessPoolExecutor(self.n_workers, mp_context=self.context)
        environment = _environment_fingerprint()
        stale = None
        with _POOLS_LOCK:
            pool, started_under = _POOLS.get(self.key, (None, None))
            if pool is not None and started_under != environment:
                stale, pool = pool, None
            if pool is None:
                pool = ProcessPoolExecutor(self.n_workers, mp_context=self.context)
                _POOLS[self.key] = (pool, environment)
        if stale is not None:
            stale.shutdown(wait=True, cancel_futures=True)
        return pool

    def _fill(self, inflight: dict[Future[list[Any]], list[int]]) -> None:
        assert self.pool is not None
        items = self.results.items
        if self.suspects:
            if not inflight:
                index = self.suspects[0]
                inflight[self.pool.submit(call_chunk, self.fn, [items[index]])] = [index]
            return
        while self.queue and len(inflight) < self.n_workers:
            chunk = self.queue.popleft()
            inflight[self.pool.submit(call_chunk, self.fn, [items[i] for i in chunk])] = chunk

    def _collect(self, future: Future[list[Any]], chunk: list[int]) -> list[int]:
        """Record a finished task; return its indices if the pool broke under it."""
        exc = future.exception()
        if isinstance(exc, BrokenProcessPool):
            return chunk
        if self.suspects and chunk == [self.suspects[0]]:
            self.suspects.popleft()  # a suspect that ran fine alone is cleared
        self.completed += 1
        if exc is not None:
            # The task itself failed outside fn, e.g. a result that does not pickle back.
            for index in chunk:
                self.results.fail(index, exc)
            return []
        for index, value in zip(chunk, future.result(), strict=True):
            record(self.results, index, value)
        return []

    def _handle_broken(self, broken: list[int], *, isolating: bool) -> None:
        if not broken:
            return
        if isolating:
            # Alone in flight, so this item is the one that killed its worker.
            (index,) = broken
            self.deaths += 1
            if self.completed == 0 and self.deaths >= _STARTUP_DEATHS:
                # Not an item killing its worker: workers die before running anything
                # (unimportable __main__, broken environment). Stop instead of blaming
                # every item in turn, each at the cost of a new pool.
                raise PipekitError(
                    f"ProcessMap: {self.deaths} pools in a row lost their worker before any "
                    "task came back; the workers cannot start. Check that fn's module is "
                    "importable in a fresh interpreter (spawn re-imports __main__: guard the "
                    "script with `if __name__ == '__main__':`)."
                )
            if self.suspects and self.suspects[0] == index:
                self.suspects.popleft()
            self.results.fail_record(
                Failure(index, self.results.items[index], "WorkerDied", _DIED_MESSAGE, ""),
                cause=BrokenProcessPool(_DIED_MESSAGE),
            )
        else:
            self.suspects.extend(sorted(broken))

    def _replace_pool(self) -> None:
        assert self.pool is not None
        with _POOLS_LOCK:
            if _POOLS.get(self.key, (None,))[0] is self.pool:
                del _POOLS[self.key]
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
