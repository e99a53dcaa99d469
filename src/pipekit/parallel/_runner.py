"""The scheduling loop of one ``ProcessMap.map`` call: dispatch, collect, replace workers."""

from __future__ import annotations

import itertools
import pickle
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

from .._errors import PipekitError
from ._core import RemoteFailure, Results, record
from ._errors import Failure
from ._workers import Worker, WorkerPool, describe_exit

__all__ = ["Runner"]

# Workers in a row that die before reporting "ready" mean "the workers cannot start".
STARTUP_DEATHS = 3

_MAP_KEYS = itertools.count()


class Runner:
    """Runs ``fn`` over ``results.items`` on ``pool``, one task per idle worker.

    Each worker reports when it starts and finishes each item, so a worker's death or a
    timeout is charged to exactly the item it was running; the rest of its task goes back
    to the front of the queue and a fresh worker takes its place.
    """

    def __init__(
        self,
        pool: WorkerPool,
        fn: Callable[[Any], Any],
        results: Results,
        timeout: float | None,
        chunksize: int,
    ) -> None:
        self.pool = pool
        self.results = results
        self.timeout = timeout
        self.fn_key = (next(_MAP_KEYS), id(self))
        self.fn_bytes = pickle.dumps(fn)
        n = len(results.items)
        self.queue: deque[list[int]] = deque(
            list(range(i, min(i + chunksize, n))) for i in range(0, n, chunksize)
        )
        self.remaining = n
        self.startup_deaths = 0  # consecutive workers that died before "ready"

    def run(self) -> None:
        while self.remaining:
            self._dispatch()
            by_handle: dict[Any, Worker] = {}
            for worker in self.pool.workers:
                by_handle[worker.conn] = worker
                by_handle[worker.process.sentinel] = worker
            ready = wait(list(by_handle), timeout=self._next_deadline())
            for worker in {id(by_handle[h]): by_handle[h] for h in ready}.values():
                self._drain(worker)
            self._expire()

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        items = self.results.items
        for worker in self.pool.workers:
            # Only workers that reported "ready" get work, so a send never waits on a
            # worker that is still importing (or that will never start).
            while self.queue and worker.ready and not worker.busy:
                chunk = self.queue.popleft()
                task = [(i, items[i]) for i in chunk]
                try:
                    encoded = worker.encode(self.fn_key, self.fn_bytes, task)
                except Exception:  # an item does not pickle: it fails here, alone
                    self._fail_unpicklable(chunk)
                    continue
                try:
                    worker.send(self.fn_key, encoded, task)
                except OSError:  # the worker died since: requeue; _drain replaces it
                    self.queue.appendleft(chunk)
                    break

    def _next_deadline(self) -> float | None:
        if self.timeout is None:
            return None
        starts = [w.started_at for w in self.pool.workers if w.current is not None]
        if not starts:
            return None
        return max(0.0, min(starts) + self.timeout - time.monotonic())

    # -- collect --------------------------------------------------------------------------

    def _drain(self, worker: Worker) -> None:
        """Read everything ``worker`` sent; replace it if it died."""
        dead = False
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            dead = True
        except PipekitError:
            raise
        except Exception as exc:  # a result that does not unpickle in the parent
            if worker.current is not None:
                index = worker.current
                worker.finished(index)
                self._fail(index, exc)
        if dead or worker.process.exitcode is not None:
            self._died(worker)

    def _handle(self, worker: Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            self.startup_deaths = 0
        elif kind == "start":
            worker.started(message[1])
        elif kind == "done":
            index, value = message[1], message[2]
            worker.finished(index)
            self.remaining -= 1
            record(self.results, index, value)
        elif kind == "load_failed":
            failure: RemoteFailure = message[1]
            raise PipekitError(
                f"ProcessMap: the workers cannot load fn ({failure.exc_type}: "
                f"{failure.message}). fn is sent by pickle: its module must be importable "
                "in a fresh interpreter (spawn re-imports __main__: guard the script with "
                "`if __name__ == '__main__':`)."
            ) from failure.exc

    def _died(self, worker: Worker) -> None:
        exit_status = describe_exit(worker.exitcode())
        if not worker.ready:
            self.startup_deaths += 1
            if self.startup_deaths >= STARTUP_DEATHS:
                raise PipekitError(
                    f"ProcessMap: {self.startup_deaths} worker processes in a row died "
                    f"before starting (last with {exit_status}); the workers cannot start. "
                    "Check that fn's module is importable in a fresh interpreter (spawn "
                    "re-imports __main__: guard the script with `if __name__ == "
                    "'__main__':`)."
                )
        blamed = worker.current
        if blamed is None and worker.chunk:
            # Died before starting any item of its task: receiving (unpickling) the task
            # killed it, so the whole task is to blame.
            blamed_all = list(worker.chunk)
        else:
            blamed_all = [] if blamed is None else [blamed]
        self._requeue(worker, exclude=blamed_all)
        self.pool.replace(worker)
        message = (
            f"the worker process (pid {worker.pid}) running this item died with "
            f"{exit_status} (segfault, os._exit, out-of-memory kill); it was replaced"
        )
        for index in blamed_all:
            self._fail_record(index, "WorkerDied", message)

    def _expire(self) -> None:
        if self.timeout is None:
            return
        now = time.monotonic()
        for worker in list(self.pool.workers):
            index = worker.current
            if index is None or now - worker.started_at < self.timeout:
                continue
            self._requeue(worker, exclude=[index])
            self.pool.replace(worker)
            self._fail(
                index,
                TimeoutError(
                    f"fn did not return within timeout={self.timeout:g} s; its worker "
                    f"process (pid {worker.pid}) was killed and replaced"
                ),
            )

    # -- bookkeeping ----------------------------------------------------------------------

    def _requeue(self, worker: Worker, exclude: list[int]) -> None:
        rest = [i for i in worker.chunk if i not in exclude]
        if rest:
            self.queue.appendleft(rest)
        worker.chunk = []
        worker.current = None

    def _fail_unpicklable(self, chunk: list[int]) -> None:
        """Fail the items of ``chunk`` that do not pickle; requeue the others."""
        fine = []
        for index in chunk:
            try:
                ForkingPickler.dumps(self.results.items[index])
            except Exception as exc:
                self._fail(index, exc)
            else:
                fine.append(index)
        if fine:
            self.queue.appendleft(fine)

    def _fail(self, index: int, exc: BaseException) -> None:
        self.remaining -= 1
        self.results.fail(index, exc)

    def _fail_record(self, index: int, exc_type: str, message: str) -> None:
        self.remaining -= 1
        item = self.results.items[index]
        self.results.fail_record(Failure(index, item, exc_type, message, ""))
