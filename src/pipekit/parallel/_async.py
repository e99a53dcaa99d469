"""AsyncMap: bounded-concurrency asyncio map, usable with or without a running event loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import equinox as eqx

from .._progress import progress_bar
from .._validate import check_bool, check_callable, check_positive_int, check_timeout
from ._core import AbstractMap, OnDone, Results, call_with_timeout
from ._types import OnError, check_map_on_error

__all__ = ["AsyncMap"]


def _is_async(fn: Callable[..., Any]) -> bool:
    call = getattr(type(fn), "__call__", None)  # noqa: B004 -- callable objects' async __call__
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


class AsyncMap(AbstractMap):
    """Map ``fn`` over items with asyncio, at most ``concurrency`` calls at a time.

    ``fn`` may be ``async def`` (awaited on the loop: network I/O, object stores) or a plain
    function (run in the loop's default thread pool via :func:`asyncio.to_thread`).

    Args:
        concurrency: the most calls in flight at once (an :class:`asyncio.Semaphore`).
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        progress: draw a progress bar (tqdm, the ``progress`` extra) that advances as
            calls finish, failed ones included, and log ``done/total`` at INFO on
            ``"pipekit.parallel"`` every ~10 %.
        timeout: seconds one call may run before its item gets a ``TimeoutError`` entry
            (:func:`asyncio.wait_for`: an ``async`` fn is cancelled; a plain fn's thread
            cannot be, and is abandoned as in :class:`ThreadMap`). ``None``: no limit.

    Example:
        >>> import asyncio
        >>> from pipekit.parallel import AsyncMap
        >>> async def double(x):
        ...     await asyncio.sleep(0)
        ...     return 2 * x
        >>> AsyncMap(concurrency=2).map(double, [1, 2, 3])
        [2, 4, 6]
        >>> asyncio.run(AsyncMap().amap(double, [4]))
        [8]

    Note:
        ``.map`` blocks. When called where an event loop is already running (Jupyter,
        FastAPI, an ``async def``), it cannot re-enter that loop, so it runs a private loop
        in a helper thread and blocks the caller until done; inside ``async`` code prefer
        ``await amap(...)``, which does not block the loop.
    """

    concurrency: int = 8
    on_error: OnError = "raise"
    progress: bool = False
    timeout: float | None = eqx.field(default=None, kw_only=True)

    def __check_init__(self) -> None:
        check_positive_int("AsyncMap", "concurrency", self.concurrency)
        check_map_on_error("AsyncMap", self.on_error)
        check_bool("AsyncMap", "progress", self.progress)
        check_timeout("AsyncMap", self.timeout)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to every item; results in input order (blocks until done)."""
        check_callable("AsyncMap.map(fn)", fn)
        return self._map_with_bar(fn, items, self.progress)

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        check_callable("AsyncMap.map(fn)", fn)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._amap(fn, items, on_done))
        with ThreadPoolExecutor(1, thread_name_prefix="pipekit-asyncmap") as helper:
            return helper.submit(asyncio.run, self._amap(fn, items, on_done)).result()

    async def amap(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Awaitable form of :meth:`map`, run on the current event loop."""
        check_callable("AsyncMap.map(fn)", fn)
        items = list(items)
        if not self.progress:
            return await self._amap(fn, items, None)
        with progress_bar(len(items), "AsyncMap", enabled=True) as bar:
            return await self._amap(fn, items, lambda _index: bar.update(1))

    async def _amap(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        results = Results("AsyncMap", items, self.on_error, self.progress, on_done)
        semaphore = asyncio.Semaphore(self.concurrency)
        is_async = _is_async(fn)
        timeout = self.timeout

        async def call(item: Any) -> Any:
            if not is_async:
                # The helper thread waits at most `timeout` for a thread of its own, so
                # asyncio.run's executor shutdown never waits on a hung fn.
                return await asyncio.to_thread(call_with_timeout, fn, item, timeout)
            if timeout is None:
                return await fn(item)
            try:
                return await asyncio.wait_for(fn(item), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"fn did not return within timeout={timeout:g} s; it was cancelled"
                ) from None

        async def one(index: int) -> tuple[int, bool, Any]:
            async with semaphore:
                try:
                    value = await call(items[index])
                except Exception as exc:
                    return index, False, exc
                return index, True, value

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(items))]
        try:
            for next_done in asyncio.as_completed(tasks):
                index, ok, value = await next_done
                if ok:
                    results.ok(index, value)
                else:
                    results.fail(index, value)
        finally:
            for task in tasks:  # under "raise", stop the calls still waiting or running
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return results.finish()
