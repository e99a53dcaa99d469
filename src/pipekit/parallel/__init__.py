"""Parallel maps for pipelines: threads, processes, asyncio, batches and dask.

Every executor is configured without the work and then called as
``executor.map(fn, items) -> list``, in input order with one entry per item (the
:class:`Executor` contract; :class:`AbstractMap` is the base of pipekit's maps). What a
failed item becomes is set by ``on_error`` (pipekit's one failure vocabulary,
:data:`OnError`): ``"raise"`` (a :class:`ParallelError` naming the item), ``"collect"``
(a :class:`Failure` in its slot) or ``"log_and_continue"`` (the same, plus a warning on
the ``"pipekit.parallel"`` logger). Every map takes ``timeout=`` (seconds per item): a
late item gets a ``TimeoutError`` entry and the others go on. An item that kills its
worker process fails alone with ``exc_type="WorkerDied"``. ``progress=True`` draws a
progress bar (tqdm, the ``progress`` extra: :func:`pipekit.progress.progress_bar`) that
moves as items finish, failed ones included; it is a run option of the map, never part of
any pipeline's config.

Example:
    >>> from pipekit.parallel import ThreadMap
    >>> ThreadMap(n_workers=2).map(str, [1, 2, 3])
    ['1', '2', '3']
"""

from ._async import AsyncMap as AsyncMap
from ._batched import BatchedMap as BatchedMap
from ._core import AbstractMap as AbstractMap, Executor as Executor
from ._dask import DaskMap as DaskMap
from ._errors import Failure as Failure, ParallelError as ParallelError, PickleError as PickleError
from ._pickle import check_pickleable as check_pickleable
from ._process import ProcessMap as ProcessMap, shutdown_pools as shutdown_pools
from ._thread import ThreadMap as ThreadMap
from ._types import MAP_ON_ERROR as MAP_ON_ERROR, OnError as OnError, StartMethod as StartMethod

# Errors and records show their public path in tracebacks and doctests.
for _cls in (Failure, ParallelError, PickleError):
    _cls.__module__ = __name__
del _cls

__all__ = [
    # executors
    "AbstractMap",
    "AsyncMap",
    "BatchedMap",
    "DaskMap",
    "Executor",
    "ProcessMap",
    "ThreadMap",
    # results and errors
    "Failure",
    "MAP_ON_ERROR",
    "OnError",
    "ParallelError",
    "PickleError",
    "StartMethod",
    # helpers
    "check_pickleable",
    "shutdown_pools",
]
