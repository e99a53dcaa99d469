"""ThreadMap: a thread pool, for I/O-bound ``fn`` or code that releases the GIL (NumPy, XLA)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import equinox as eqx

from .._validate import check_bool, check_callable, check_positive_int, check_timeout
from ._core import AbstractMap, OnDone, Results, call_with_timeout
from ._types import OnError, check_map_on_error

__all__ = ["ThreadMap"]


class ThreadMap(AbstractMap):
    """Map ``fn`` over items in a thread pool; results in input order.

    Args:
        n_workers: number of threads; ``None`` lets :class:`ThreadPoolExecutor` choose
            (``min(32, cpu_count + 4)``).
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        progress: draw a progress bar (tqdm, the ``progress`` extra) that advances as
            items finish, failed ones included, and log ``done/total`` at INFO on
            ``"pipekit.parallel"`` every ~10 %.
        timeout: seconds one item may run; a late item gets a ``TimeoutError`` entry and
            the map goes on. ``None``: no limit. See the note: the thread is not stopped.

    Example:
        >>> from pipekit.parallel import Failure, ThreadMap
        >>> ThreadMap(n_workers=2).map(abs, [-1, 2, -3])
        [1, 2, 3]
        >>> out = ThreadMap(on_error="collect").map(lambda x: 1 // x, [1, 0, 2])
        >>> out[0], isinstance(out[1], Failure), out[1].exc_type, out[2]
        (1, True, 'ZeroDivisionError', 0)

    Note:
        A thread cannot be killed. With ``timeout``, each item runs in its own daemon
        thread that a pool thread waits for; a late item is *abandoned*, still running,
        and its eventual result dropped, while the pool thread goes on to the next item.
        An abandoned call keeps its CPU, memory and any locks until it returns (being a
        daemon it does not block interpreter exit). To really stop hung work, use
        :class:`ProcessMap` with ``timeout``, which kills the worker process.
    """

    n_workers: int | None = None
    on_error: OnError = "raise"
    progress: bool = False
    timeout: float | None = eqx.field(default=None, kw_only=True)

    def __check_init__(self) -> None:
        check_positive_int("ThreadMap", "n_workers", self.n_workers, allow_none=True)
        check_map_on_error("ThreadMap", self.on_error)
        check_bool("ThreadMap", "progress", self.progress)
        check_timeout("ThreadMap", self.timeout)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to every item in threads; results in input order."""
        check_callable("ThreadMap.map(fn)", fn)
        return self._map_with_bar(fn, items, self.progress)

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        check_callable("ThreadMap.map(fn)", fn)
        results = Results("ThreadMap", items, self.on_error, self.progress, on_done)
        pool = ThreadPoolExecutor(self.n_workers)
        try:
            futures = {
                pool.submit(call_with_timeout, fn, item, self.timeout): i
                for i, item in enumerate(items)
            }
            for future in as_completed(futures):
                exc = future.exception()
                if exc is None:
                    results.ok(futures[future], future.result())
                else:
                    results.fail(futures[future], exc)
        finally:
            # On the first failure under "raise", drop the queued items instead of running them.
            pool.shutdown(wait=True, cancel_futures=True)
        return results.finish()
