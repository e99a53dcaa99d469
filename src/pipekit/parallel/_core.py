"""Shared machinery: the executor contract, the result collector, the worker-side calls."""

from __future__ import annotations

import abc
import logging
import pickle
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import equinox as eqx

from .._progress import progress_bar
from ._errors import Failure, ParallelError
from ._types import OnError

__all__ = ["AbstractMap", "Executor"]

logger = logging.getLogger("pipekit.parallel")

_MISSING: Any = object()

#: Called with an item's index once its outcome (a value or a failure) is recorded.
OnDone = Callable[[int], None]


@runtime_checkable
class Executor(Protocol):
    """The executor contract of pipekit: ``.map(fn, items)`` returns a list in input order.

    One entry per item. Every :class:`AbstractMap` satisfies it, and so does anything else
    with such a ``map`` method (a ``concurrent.futures`` executor's ``map`` returns an
    iterator in input order; :class:`pipekit.diff.AB` accepts that too). Users that need
    the failure policy as well (``on_error``, :class:`Failure` entries) take an
    :class:`AbstractMap`.
    """

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], /) -> Iterable[Any]:
        """Apply ``fn`` to every item; return the results in input order."""
        ...


class AbstractMap(eqx.Module):
    """Base of the executors: configured without the work, then ``.map(fn, items)``.

    Every map returns a list in input order with one entry per item; what a failed item
    becomes is set by ``on_error`` (``"raise"``, ``"log_and_continue"`` or ``"collect"``,
    of pipekit's :data:`~pipekit.parallel.OnError`), and how long an item may run by
    ``timeout`` (seconds, or ``None``). Every concrete map has both fields. (They are not
    declared here as ``eqx.AbstractVar``: a base-class annotation would fix the fields'
    dataclass order and move ``on_error`` ahead of each map's first positional argument.)
    """

    @abc.abstractmethod
    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to every item; return the results in input order."""

    def _map_observed(
        self, fn: Callable[[Any], Any], items: list[Any], on_done: OnDone | None
    ) -> list[Any]:
        """:meth:`map` without this map's own bar, calling ``on_done(index)`` per item.

        pipekit's hook for a caller that draws its own bar over the same work
        (:class:`BatchedMap` over its batches, geocatalog's ``CatalogPipeline``):
        ``on_done`` runs as each item's outcome is recorded, failures included. pipekit's
        maps override it to report items as they finish; this default, for maps defined
        elsewhere, can only report them all once ``map`` returns.
        """
        out = self.map(fn, items)
        if on_done is not None:
            for index in range(len(items)):
                on_done(index)
        return out

    def _map_with_bar(
        self, fn: Callable[[Any], Any], items: Iterable[Any], progress: bool
    ) -> list[Any]:
        """:meth:`_map_observed` under a bar of ``len(items)`` when ``progress``."""
        items = list(items)
        if not progress:
            return self._map_observed(fn, items, None)
        with progress_bar(len(items), type(self).__name__, enabled=True) as bar:
            return self._map_observed(fn, items, lambda _index: bar.update(1))


# ----------------------------------------------------------------------------- results


def failure_from_exception(index: int, item: Any, exc: BaseException) -> Failure:
    return Failure(
        index=index,
        item=item,
        exc_type=type(exc).__name__,
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
    )


class Results:
    """Collects outcomes by index, applies ``on_error`` and logs progress.

    ``fail`` raises :class:`ParallelError` at once under ``on_error="raise"``, so the
    caller's ``finally`` cancels the remaining work. ``on_done(index)`` (a progress bar's
    update) runs after each outcome is recorded, a failure's included.
    """

    def __init__(
        self,
        owner: str,
        items: Sequence[Any],
        on_error: OnError,
        progress: bool,
        on_done: OnDone | None = None,
    ):
        self.owner = owner
        self.items = items
        self.on_error = on_error
        self.progress = progress
        self.on_done = on_done
        self.values: list[Any] = [_MISSING] * len(items)
        self.done = 0
        self._decile = 0

    def ok(self, index: int, value: Any) -> None:
        self.values[index] = value
        self._tick(index)

    def fail(self, index: int, exc: BaseException) -> None:
        self.fail_record(failure_from_exception(index, self.items[index], exc), cause=exc)

    def fail_record(self, failure: Failure, cause: BaseException | None = None) -> None:
        if self.on_error == "raise":
            raise ParallelError(self.owner, failure) from cause
        if self.on_error == "log_and_continue":
            logger.warning("%s: %s", self.owner, failure.describe())
        self.values[failure.index] = failure
        self._tick(failure.index)

    def _tick(self, index: int) -> None:
        self.done += 1
        if self.on_done is not None:
            self.on_done(index)
        if not self.progress:
            return
        total = len(self.items)
        decile = self.done * 10 // total
        # Log when a new tenth is reached (and at the end) rather than per item.
        if decile > self._decile or self.done == total:
            self._decile = decile
            logger.info("%s: %d/%d done", self.owner, self.done, total)

    def finish(self) -> list[Any]:
        missing = [i for i, v in enumerate(self.values) if v is _MISSING]
        if missing:  # an internal bookkeeping bug, never a user error
            raise RuntimeError(f"{self.owner}: no result recorded for items {missing[:10]}")
        return self.values


# ----------------------------------------------------------------------------- worker side
# What runs where the item runs (a ProcessMap or dask worker, a pool thread): fn's
# exceptions are caught there and shipped back as values, with their traceback text.


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class RemoteFailure:
    """An exception raised by ``fn`` in a worker, shipped back with its formatted traceback."""

    __slots__ = ("exc", "exc_type", "message", "traceback")

    def __init__(self, exc: BaseException) -> None:
        self.exc_type = type(exc).__name__
        self.message = str(exc)
        self.traceback = "".join(traceback.format_exception(exc))
        self.exc = _portable(exc)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.exc, self.exc_type, self.message, self.traceback)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.exc, self.exc_type, self.message, self.traceback = state

    def record(self, results: Results, index: int) -> None:
        failure = Failure(index, results.items[index], self.exc_type, self.message, self.traceback)
        results.fail_record(failure, cause=self.exc)


def call_with_timeout(fn: Callable[[Any], Any], item: Any, timeout: float | None) -> Any:
    """``fn(item)``, or :class:`TimeoutError` if it has not returned after ``timeout`` s.

    The call runs in a daemon thread that this one waits for. A thread cannot be killed:
    on a timeout it is abandoned, still running, and its result (if it ever comes) is
    dropped; being a daemon, it does not keep the interpreter from exiting.
    """
    if timeout is None:
        return fn(item)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn(item)
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            box["exc"] = exc

    thread = threading.Thread(target=target, name="pipekit-timeout", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(
            f"fn did not return within timeout={timeout:g} s; the thread running it was "
            "abandoned (a thread cannot be killed) and keeps running in the background"
        )
    if "exc" in box:
        raise box["exc"]
    return box["value"]


def call_one(fn: Callable[[Any], Any], item: Any, timeout: float | None = None) -> Any:
    """``fn(item)`` where it runs (a dask worker): an exception comes back as a value."""
    try:
        return call_with_timeout(fn, item, timeout)
    except Exception as exc:
        return RemoteFailure(exc)


def record(results: Results, index: int, value: Any) -> None:
    if isinstance(value, RemoteFailure):
        value.record(results, index)
    else:
        results.ok(index, value)
