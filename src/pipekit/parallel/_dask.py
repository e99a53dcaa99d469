"""DaskMap: map over a ``dask.distributed`` cluster, in input order."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import equinox as eqx

from .._errors import ConfigError
from .._validate import check_bool, check_callable, check_timeout
from ._core import AbstractMap, OnDone, Results, call_one, record
from ._pickle import check_pickleable
from ._types import OnError, check_map_on_error

__all__ = ["DaskMap"]


class DaskMap(AbstractMap):
    """Map ``fn`` over items on a ``dask.distributed`` cluster; results in input order.

    Args:
        client_or_address: a ``distributed.Client``, or a scheduler address such as
            ``"tcp://10.0.0.5:8786"`` (a client is then opened for each ``map`` call and
            closed after it).
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        timeout: seconds one item may run on its dask worker before it gets a
            ``TimeoutError`` entry; ``None``: no limit. Measured on the worker from when
            the item starts (not from submission, which would fail items merely queued
            behind others), in a thread that is abandoned on a timeout as in
            :class:`ThreadMap`: dask cannot kill one task's thread either.
        progress: draw a progress bar (tqdm, the ``progress`` extra) that advances as
            items finish, failed ones included (results are then fetched one by one as
            they finish rather than in one gather).

    ``fn`` is checked with :func:`check_pickleable` using ``cloudpickle`` (what dask
    sends), so lambdas are fine but open handles are not. Needs the ``dask`` extra
    (``pip install 'pipekit-geo[dask]'``); dask is imported only when ``map`` runs.

    Note:
        A worker that dies is retried by the scheduler (``distributed.scheduler.
        allowed-failures``); an item that keeps killing workers ends as a failure with
        ``exc_type="KilledWorker"``. Exceptions raised by ``fn`` are caught on the worker,
        so they are not retried.
    """

    client_or_address: Any
    on_error: OnError = "raise"
    timeout: float | None = eqx.field(default=None, kw_only=True)
    progress: bool = eqx.field(default=False, kw_only=True)

    def __check_init__(self) -> None:
        check_map_on_error("DaskMap", self.on_error)
        check_timeout("DaskMap", self.timeout)
        check_bool("DaskMap", "progress", self.progress)
        target = self.client_or_address
        if not isinstance(target, str) and not (
            callable(getattr(target, "map", None)) and callable(getattr(target, "gather", None))
        ):
            raise ConfigError(
                "DaskMap(client_or_address) expects a distributed.Client or a scheduler "
                f"address string like 'tcp://host:8786', got {type(target).__name__}"
            )

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Submit ``fn`` over the items with ``client.map``; gather in input order."""
        check_callable("DaskMap.map(fn)", fn)
        return self._map_with_bar(fn, items, self.progress)

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        check_callable("DaskMap.map(fn)", fn)
        try:
            import cloudpickle
            from distributed import Client, as_completed
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "DaskMap needs dask.distributed: pip install 'pipekit-geo[dask]'"
            ) from exc
        check_pickleable(fn, dumps=cloudpickle.dumps)
        results = Results("DaskMap", items, self.on_error, progress=False, on_done=on_done)
        if not items:
            return results.finish()
        own = isinstance(self.client_or_address, str)
        client = Client(self.client_or_address, set_as_default=False) if own else None
        client = client if client is not None else self.client_or_address
        futures = []
        try:
            # pure=False: items need not be hashable/tokenisable, and equal items must
            # still be separate tasks with their own index.
            call = functools.partial(call_one, fn, timeout=self.timeout)
            futures = client.map(call, items, pure=False)
            if on_done is not None:
                # A bar: take each item as it finishes (one fetch each) instead of
                # waiting for all of them in one gather.
                index = {future.key: i for i, future in enumerate(futures)}
                for future in as_completed(futures, loop=client.loop):
                    i = index[future.key]
                    if future.status == "error":
                        results.fail(i, future.exception())
                    else:
                        record(results, i, future.result())
                return results.finish()
            try:
                # fn's exceptions come back as values (call_one), so one gather suffices
                # unless a task failed outside fn (KilledWorker, cancellation).
                values = client.gather(futures)
            except Exception:
                values = None
            for i, future in enumerate(futures):
                if values is not None:
                    record(results, i, values[i])
                elif future.status == "error":
                    results.fail(i, future.exception())
                else:
                    record(results, i, future.result())
        finally:
            client.cancel(futures)
            if own:
                client.close()
        return results.finish()
