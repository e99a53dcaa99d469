"""Errors and the per-item :class:`Failure` record of :mod:`pipekit.parallel`."""

from __future__ import annotations

import dataclasses
import reprlib
from typing import Any

from .._errors import PipekitError

__all__ = ["Failure", "ParallelError", "PickleError"]

_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80


def short_repr(obj: Any) -> str:
    """A bounded repr for messages: an item may be a 512x512 scene."""
    try:
        return _repr.repr(obj)
    except Exception:  # a broken __repr__ must not hide the real error
        return f"<{type(obj).__name__} (repr failed)>"


@dataclasses.dataclass(frozen=True)
class Failure:
    """The entry a map returns for an item whose call failed (``on_error != "raise"``).

    Attributes:
        index: position of the item in the input.
        item: the item itself.
        exc_type: name of the exception class, e.g. ``"ValueError"``; ``"WorkerDied"``
            when the worker process running the item died (segfault, ``os._exit``, OOM;
            the message names its pid and exit code or signal); ``"TimeoutError"`` when
            the item ran past the map's ``timeout``.
        message: ``str`` of the exception.
        traceback: the formatted traceback (from the worker, where there was one).
    """

    index: int
    item: Any
    exc_type: str
    message: str
    traceback: str

    def describe(self) -> str:
        """One line: ``item 3 (<repr>): ValueError: boom``."""
        return f"item {self.index} ({short_repr(self.item)}): {self.exc_type}: {self.message}"


class ParallelError(PipekitError, RuntimeError):
    """``fn`` failed on an item of a map run with ``on_error="raise"``.

    Chained (``__cause__``) from the original exception where one reached the caller.

    Attributes:
        failure: the :class:`Failure` record (index, item, exception type, message, traceback).
    """

    def __init__(self, owner: str, failure: Failure) -> None:
        self.failure = failure
        super().__init__(
            f"{owner}: fn failed on {failure.describe()}. Pass on_error='collect' or "
            "'log_and_continue' to get a Failure entry for this item and keep the others."
        )

    @property
    def index(self) -> int:
        return self.failure.index


class PickleError(PipekitError, TypeError):
    """An object to be sent to worker processes does not pickle.

    Attributes:
        path: where the unpicklable value sits, e.g. ``"Sequential.ops[1].fn"``.
    """

    def __init__(self, message: str, path: str) -> None:
        self.path = path
        super().__init__(message)
