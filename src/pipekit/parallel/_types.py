"""Option vocabularies of :mod:`pipekit.parallel` as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal

from .._types import OnError
from .._validate import check_on_error

__all__ = ["MAP_ON_ERROR", "START_METHODS", "OnError", "StartMethod", "check_map_on_error"]

#: The values of ``on_error`` (pipekit's one failure vocabulary, :data:`OnError`) that a
#: map accepts: raise a :class:`ParallelError` at the first failure, or put a
#: :class:`Failure` in that item's slot (``"log_and_continue"`` also logs a warning on the
#: ``"pipekit.parallel"`` logger). ``"warn"`` is left out: a map's failures are records
#: to inspect, not one-off warnings.
MAP_ON_ERROR: tuple[str, ...] = ("raise", "log_and_continue", "collect")

#: Start methods :class:`ProcessMap` allows. ``"fork"`` is left out on purpose: JAX (and
#: XLA's thread pools) are multithreaded, and forking a multithreaded process can deadlock.
StartMethod = Literal["spawn", "forkserver"]

START_METHODS: tuple[str, ...] = ("spawn", "forkserver")


def check_map_on_error(owner: str, on_error: object) -> OnError:
    """Validate a map's ``on_error`` (one of :data:`MAP_ON_ERROR`)."""
    return check_on_error(owner, on_error, MAP_ON_ERROR)
