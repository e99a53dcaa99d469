"""Option vocabularies of :mod:`pipekit.parallel` as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal

__all__ = ["OnError", "StartMethod"]

#: What a map does when ``fn`` fails on an item: raise a :class:`ParallelError` at the first
#: failure, or put a :class:`Failure` in that item's slot (``"log_and_continue"`` also logs
#: a warning on the ``"pipekit.parallel"`` logger).
OnError = Literal["raise", "log_and_continue", "collect"]

#: Start methods :class:`ProcessMap` allows. ``"fork"`` is left out on purpose: JAX (and
#: XLA's thread pools) are multithreaded, and forking a multithreaded process can deadlock.
StartMethod = Literal["spawn", "forkserver"]

ON_ERROR_VALUES: tuple[str, ...] = ("raise", "log_and_continue", "collect")
START_METHODS: tuple[str, ...] = ("spawn", "forkserver")
