"""BatchedMap: call ``fn`` on lists of items (vectorised or GPU-batched work)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import equinox as eqx

from .._errors import ConfigError
from .._validate import check_bool, check_callable, check_positive_int, check_timeout
from ._core import AbstractMap, OnDone, RemoteFailure, Results, call_with_timeout
from ._errors import Failure
from ._types import OnError, check_map_on_error

__all__ = ["BatchedMap"]


class _CallBatch(eqx.Module):
    """``fn`` on one batch, checked for length; failures returned, not raised.

    A module-level Module (not a closure) so that a :class:`ProcessMap` ``inner`` can
    pickle it; returning the failure keeps the inner map's ``on_error`` for
    infrastructure failures (a dead worker) only.
    """

    fn: Callable[[list[Any]], Sequence[Any]]
    timeout: float | None = None

    def __call__(self, batch: list[Any]) -> Any:
        try:
            out = list(call_with_timeout(self.fn, batch, self.timeout))
            if len(out) != len(batch):
                raise ValueError(
                    f"BatchedMap: fn must return one result per item, got {len(out)} results "
                    f"for a batch of {len(batch)} items"
                )
        except Exception as exc:
            return RemoteFailure(exc)
        return out


class BatchedMap(AbstractMap):
    """Map ``fn`` over batches of up to ``batch_size`` items; results flattened, in order.

    ``fn`` receives a list and must return a sequence of the same length. A failing batch
    fails each of its items (the same exception for all of them).

    Args:
        batch_size: the most items per call of ``fn``.
        on_error: ``"raise"``, ``"log_and_continue"`` or ``"collect"``.
        inner: another map to run the batches through (e.g. ``ThreadMap``,
            ``ProcessMap``); ``None`` runs them one after another here. Its own
            ``on_error`` only applies to failures outside ``fn`` (a dead worker); use
            ``"collect"`` there to let this map's ``on_error`` decide.
        timeout: seconds one call of ``fn`` (one batch) may run; a late batch fails each
            of its items with ``TimeoutError``. Without ``inner`` the batch runs in a
            thread that is abandoned on a timeout (see :class:`ThreadMap`); with ``inner``
            it becomes the inner map's ``timeout`` (a :class:`ProcessMap` kills the
            worker). ``None``: no limit.
        progress: draw a progress bar (tqdm, the ``progress`` extra) over the items; it
            advances by a batch's length as each batch comes back, failed ones included.
            It replaces the ``inner`` map's own bar (which would count batches).

    Example:
        >>> from pipekit.parallel import BatchedMap, ThreadMap
        >>> BatchedMap(2).map(lambda xs: [sum(xs)] * len(xs), [1, 2, 3, 4, 5])
        [3, 3, 7, 7, 5]
        >>> BatchedMap(2, inner=ThreadMap(2)).map(lambda xs: [x * 10 for x in xs], [1, 2, 3])
        [10, 20, 30]
    """

    batch_size: int
    on_error: OnError = "raise"
    inner: AbstractMap | None = None
    timeout: float | None = eqx.field(default=None, kw_only=True)
    progress: bool = eqx.field(default=False, kw_only=True)

    def __check_init__(self) -> None:
        check_positive_int("BatchedMap", "batch_size", self.batch_size)
        check_map_on_error("BatchedMap", self.on_error)
        check_timeout("BatchedMap", self.timeout)
        check_bool("BatchedMap", "progress", self.progress)
        if self.inner is not None and not isinstance(self.inner, AbstractMap):
            raise ConfigError(
                "BatchedMap(inner) expects None or a map such as ThreadMap or ProcessMap, "
                f"got {type(self.inner).__name__}"
            )
        if self.inner is not None and None not in (self.timeout, self.inner.timeout):
            raise ConfigError(
                f"BatchedMap(timeout={self.timeout!r}) and its inner "
                f"{type(self.inner).__name__}(timeout={self.inner.timeout!r}) both set a "
                "timeout for the same batches; set it on one of them"
            )

    def map(self, fn: Callable[[list[Any]], Sequence[Any]], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to batches of items; one result per item, in input order."""
        check_callable("BatchedMap.map(fn)", fn)
        return self._map_with_bar(fn, items, self.progress)

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        check_callable("BatchedMap.map(fn)", fn)
        results = Results("BatchedMap", items, self.on_error, progress=False)
        size = self.batch_size
        starts = range(0, len(items), size)
        batches = [items[s : s + size] for s in starts]

        def batch_done(b: int) -> None:  # a batch's items count once the batch is back
            if on_done is not None:
                for index in range(starts[b], starts[b] + len(batches[b])):
                    on_done(index)

        if self.inner is None:
            call = _CallBatch(fn, self.timeout)
            outs = []
            for b, batch in enumerate(batches):
                outs.append(call(batch))
                batch_done(b)
        else:
            inner = self.inner
            if self.timeout is not None:
                inner = dataclasses.replace(inner, timeout=self.timeout)
            if on_done is None:  # no bar of ours: the inner map's own (over batches) shows
                outs = inner.map(_CallBatch(fn), batches)
            else:
                outs = inner._map_observed(_CallBatch(fn), batches, batch_done)
        for start, batch, out in zip(starts, batches, outs, strict=True):
            for offset in range(len(batch)):
                index = start + offset
                if isinstance(out, RemoteFailure):
                    out.record(results, index)
                elif isinstance(out, Failure):  # the inner map lost the whole batch
                    results.fail_record(
                        Failure(index, items[index], out.exc_type, out.message, out.traceback)
                    )
                else:
                    results.ok(index, out[offset])
        return results.finish()
