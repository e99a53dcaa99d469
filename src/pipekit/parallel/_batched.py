"""BatchedMap: call ``fn`` on lists of items (vectorised or GPU-batched work)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import equinox as eqx

from .._errors import ConfigError
from ._core import (
    AbstractMap,
    RemoteFailure,
    Results,
    check_fn,
    check_on_error,
    check_positive_int,
)
from ._errors import Failure
from ._types import OnError

__all__ = ["BatchedMap"]


class _CallBatch(eqx.Module):
    """``fn`` on one batch, checked for length; failures returned, not raised.

    A module-level Module (not a closure) so that a :class:`ProcessMap` ``inner`` can
    pickle it; returning the failure keeps the inner map's ``on_error`` for
    infrastructure failures (a dead worker) only.
    """

    fn: Callable[[list[Any]], Sequence[Any]]

    def __call__(self, batch: list[Any]) -> Any:
        try:
            out = list(self.fn(batch))
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

    def __check_init__(self) -> None:
        check_positive_int("BatchedMap", "batch_size", self.batch_size)
        check_on_error("BatchedMap", self.on_error)
        if self.inner is not None and not isinstance(self.inner, AbstractMap):
            raise ConfigError(
                "BatchedMap(inner) expects None or a map such as ThreadMap or ProcessMap, "
                f"got {type(self.inner).__name__}"
            )

    def map(self, fn: Callable[[list[Any]], Sequence[Any]], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to batches of items; one result per item, in input order."""
        check_fn("BatchedMap", fn)
        items = list(items)
        results = Results("BatchedMap", items, self.on_error, progress=False)
        size = self.batch_size
        starts = range(0, len(items), size)
        batches = [items[s : s + size] for s in starts]
        call = _CallBatch(fn)
        outs = [call(b) for b in batches] if self.inner is None else self.inner.map(call, batches)
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
