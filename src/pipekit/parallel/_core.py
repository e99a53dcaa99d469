"""Shared machinery: the abstract map, argument checks, the result collector, the worker call."""

from __future__ import annotations

import abc
import logging
import pickle
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import equinox as eqx

from .._errors import ConfigError
from ._errors import Failure, ParallelError
from ._types import ON_ERROR_VALUES, OnError

__all__ = ["AbstractMap"]

logger = logging.getLogger("pipekit.parallel")

_MISSING: Any = object()


class AbstractMap(eqx.Module):
    """Base of the executors: configured without the work, then ``.map(fn, items)``.

    Every map returns a list in input order with one entry per item; what a failed item
    becomes is set by ``on_error`` (see :data:`pipekit.parallel.OnError`).
    """

    @abc.abstractmethod
    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Apply ``fn`` to every item; return the results in input order."""


# ----------------------------------------------------------------------------- checks


def check_on_error(owner: str, on_error: object) -> None:
    if on_error not in ON_ERROR_VALUES:
        raise ConfigError(
            f"{owner}(on_error) expects one of {', '.join(map(repr, ON_ERROR_VALUES))}, "
            f"got {on_error!r}"
        )


def check_positive_int(owner: str, name: str, value: object, *, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    # bool is an int subclass; True workers is a bug, not a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        expected = "a positive int or None" if allow_none else "a positive int"
        raise ConfigError(f"{owner}({name}) expects {expected}, got {value!r}")


def check_bool(owner: str, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}({name}) expects a bool, got {value!r}")


def check_fn(owner: str, fn: object) -> None:
    if not callable(fn):
        raise ConfigError(f"{owner}.map(fn) expects a callable, got {type(fn).__name__}")


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
    caller's ``finally`` cancels the remaining work.
    """

    def __init__(self, owner: str, items: Sequence[Any], on_error: OnError, progress: bool):
        self.owner = owner
        self.items = items
        self.on_error = on_error
        self.progress = progress
        self.values: list[Any] = [_MISSING] * len(items)
        self.done = 0
        self._decile = 0

    def ok(self, index: int, value: Any) -> None:
        self.values[index] = value
        self._tick()

    def fail(self, index: int, exc: BaseException) -> None:
        self.fail_record(failure_from_exception(index, self.items[index], exc), cause=exc)

    def fail_record(self, failure: Failure, cause: BaseException | None = None) -> None:
        if self.on_error == "raise":
            raise ParallelError(self.owner, failure) from cause
        if self.on_error == "log_and_continue":
            logger.warning("%s: %s", self.owner, failure.describe())
        self.values[failure.index] = failure
        self._tick()

    def _tick(self) -> None:
        self.done += 1
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


def call_chunk(fn: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Any]:
    """Run ``fn`` on each item of ``chunk`` in a worker; failures become ``RemoteFailure``.

    Catching per item (rather than letting the pool fail the whole task) keeps a chunk's
    good results, and ships the worker's traceback text back with the exception.
    """
    out: list[Any] = []
    for item in chunk:
        try:
            out.append(fn(item))
        except Exception as exc:
            out.append(RemoteFailure(exc))
    return out


def call_one(fn: Callable[[Any], Any], item: Any) -> Any:
    """:func:`call_chunk` for one item."""
    try:
        return fn(item)
    except Exception as exc:
        return RemoteFailure(exc)


def record(results: Results, index: int, value: Any) -> None:
    if isinstance(value, RemoteFailure):
        value.record(results, index)
    else:
        results.ok(index, value)
