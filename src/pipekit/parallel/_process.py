"""ProcessMap: worker processes where a dying or hung item fails alone."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import equinox as eqx

from .._errors import ConfigError
from .._validate import check_bool, check_callable, check_positive_int, check_timeout
from ._core import AbstractMap, OnDone, Results
from ._pickle import check_pickleable
from ._runner import Runner
from ._types import START_METHODS, OnError, StartMethod, check_map_on_error
from ._workers import WorkerPool

__all__ = ["ProcessMap", "shutdown_pools"]

# Warm pools kept between `map` calls (keep_pool=True), one per (workers, start method,
# calling thread): a spawned worker pays ~3 s importing JAX and the pipeline's modules,
# which a second call should not pay again. Keyed by thread so that two threads never
# share a pool. Each pool remembers the environment its workers were started with: they
# read credentials and endpoints (AWS_*, GDAL_*) from it, so a pool started before the
# caller changed os.environ is stale and is replaced.
_POOLS: dict[tuple[int, str, int], WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def _environment_fingerprint() -> int:
    return hash(frozenset(os.environ.items()))


def shutdown_pools() -> None:
    """Shut down every warm worker pool kept by ``ProcessMap(keep_pool=True)``.

    Registered with ``atexit``; call it to free the worker processes earlier.
    """
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(kill=False)


atexit.register(shutdown_pools)


class ProcessMap(AbstractMap):
    """Map ``fn`` over items in worker processes; results in input order.

    An item that kills its worker (segfault, ``os._exit``, an out-of-memory kill) or runs
    past ``timeout`` fails alone: its entry becomes a :class:`Failure` (``exc_type``
    ``"WorkerDied"`` naming the exit code or signal, or ``"TimeoutError"``), its worker is
    replaced, and the other items run on. Only workers that die before they ever start
    (three in a row: an unimportable ``__main__``, a broken environment) stop the map.

    Args:
        n_workers: number of processes; ``None`` means ``os.cpu_count()``.
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        timeout: seconds one item may run (from when its worker starts it); a late item's
            worker is killed and replaced. ``None``: no limit.
        progress: draw a progress bar (tqdm, the ``progress`` extra) that advances as
            items finish, failed ones included, and log ``done/total`` at INFO on
            ``"pipekit.parallel"`` every ~10 %.
        chunksize: items sent to a worker per task; larger amortises the per-task
            round trip for cheap ``fn``.
        start_method: ``"spawn"`` (default) or ``"forkserver"``; never ``"fork"``.
        keep_pool: keep the workers warm after ``map`` returns and reuse them in the next
            call with the same ``n_workers`` and ``start_method`` from the same thread
            (default). The first call pays the workers' start-up (~3 s with JAX), later
            calls do not; :func:`shutdown_pools` (also run at exit) frees them. A pool
            is reused only while ``os.environ`` is as it was when its workers started
            (they read credentials and endpoints from it); after a change the next call
            starts a new pool. ``False`` starts and stops a pool in every call.

    ``fn`` and the items must pickle; ``fn`` is checked with :func:`check_pickleable` first.

    Example:
        >>> from pipekit.parallel import ProcessMap
        >>> ProcessMap(n_workers=2, keep_pool=False).map(abs, [-1, 2, -3])
        [1, 2, 3]

    Note:
        An interrupt (``KeyboardInterrupt``: Ctrl-C, or Jupyter's interrupt, which signals
        the parent process alone) kills the workers at once and leaves none behind; workers
        ignore SIGINT themselves so that the parent decides. An exception that stops the
        map (``on_error="raise"``) kills the workers still running items too.

        Why spawn: JAX and XLA run thread pools, and ``fork`` of a multithreaded parent can
        deadlock a child. Measured on 2 cores (pool of 2 importing pipekit+JAX, 4 tasks):
        spawn 2.5-2.7 s, forkserver 2.2 s warm and 3.6 s on first use (it starts a server
        process too). Workers must import the pipeline's modules either way (forkserver
        preloads are process-global), so the gain is small; spawn is the portable default.
        Each worker start costs that much, which is why only a dead or late worker is
        replaced, never the whole pool.
    """

    n_workers: int | None = None
    on_error: OnError = "raise"
    timeout: float | None = eqx.field(default=None, kw_only=True)
    progress: bool = eqx.field(default=False, kw_only=True)
    chunksize: int = eqx.field(default=1, kw_only=True)
    start_method: StartMethod = eqx.field(default="spawn", kw_only=True)
    keep_pool: bool = eqx.field(default=True, kw_only=True)

    def __check_init__(self) -> None:
        check_positive_int("ProcessMap", "n_workers", self.n_workers, allow_none=True)
        check_map_on_error("ProcessMap", self.on_error)
        check_timeout("ProcessMap", self.timeout)
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
        check_callable("ProcessMap.map(fn)", fn)
        return self._map_with_bar(fn, items, self.progress)

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        check_callable("ProcessMap.map(fn)", fn)
        check_pickleable(fn)
        results = Results("ProcessMap", items, self.on_error, self.progress, on_done)
        if not items:
            return results.finish()
        n_workers = self.n_workers or os.cpu_count() or 1
        key = (n_workers, self.start_method, threading.get_ident())
        pool = self._pool(key, n_workers)
        finished = False
        try:
            Runner(pool, fn, results, self.timeout, self.chunksize).run()
            finished = True
        finally:
            # A pool stays warm only after a clean finish. After an exception or an
            # interrupt its workers may still be running items: kill them now.
            if not (finished and self.keep_pool):
                with _POOLS_LOCK:
                    if _POOLS.get(key) is pool:
                        del _POOLS[key]
                pool.shutdown(kill=not finished)
        return results.finish()

    def _pool(self, key: tuple[int, str, int], n_workers: int) -> WorkerPool:
        context = multiprocessing.get_context(self.start_method)
        environment = _environment_fingerprint()
        if not self.keep_pool:
            return WorkerPool(n_workers, context, environment)
        stale = None
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is not None and pool.environment != environment:
                stale, pool = pool, None
            if pool is None:
                pool = _POOLS[key] = WorkerPool(n_workers, context, environment)
        if stale is not None:
            stale.shutdown(kill=False)
        return pool
