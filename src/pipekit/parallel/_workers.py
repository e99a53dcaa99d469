"""ProcessMap's worker processes: one pipe each, so the parent knows what runs where.

Protocol (worker -> parent): ``("ready", pid)`` once started, then ``("start", index)``
and ``("done", index, value)`` for each item of a task (the task is over when its last
item is done), or ``("load_failed", RemoteFailure)`` when ``fn`` does not unpickle.
Parent -> worker: ``(fn_key, fn_bytes | None, [(index, item), ...])``, or ``None`` to stop.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies the whole
pool breaks and it cannot say which item was running, nor kill one hung worker. Here a
dead or hung worker is replaced alone and the item it was running is known exactly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import time
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from ._core import RemoteFailure

__all__ = ["Worker", "WorkerPool", "describe_exit"]

logger = logging.getLogger("pipekit.parallel")

# How long a stopping worker gets to exit by itself before it is killed.
_STOP_GRACE_S = 2.0
_KILL_GRACE_S = 1.0


def worker_main(conn: Connection) -> None:
    """The loop each worker process runs: receive a task, report each item, repeat."""
    # The parent decides what an interrupt means (it kills its workers); a notebook's
    # interrupt reaches the parent only, a terminal's Ctrl-C the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(("ready", os.getpid()))
    fn_key: object = None
    fn: Any = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone: nothing left to do
            return
        if message is None:
            return
        key, payload, chunk = message
        if key != fn_key:
            try:
                fn = pickle.loads(payload)
            except Exception as exc:
                conn.send(("load_failed", RemoteFailure(exc)))
                continue
            fn_key = key
        for index, item in chunk:
            conn.send(("start", index))
            try:
                value = fn(item)
            except Exception as exc:
                value = RemoteFailure(exc)
            try:
                conn.send(("done", index, value))
            except Exception as exc:  # the result does not pickle (nothing was written)
                conn.send(("done", index, RemoteFailure(exc)))


def describe_exit(exitcode: int | None) -> str:
    """``"exit code 1"``, ``"signal SIGKILL"`` or ``"an unknown exit status"``."""
    if exitcode is None:
        return "an unknown exit status"
    if exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-exitcode).name}"
        return f"signal {-exitcode}"
    return f"exit code {exitcode}"


class Worker:
    """The parent's handle on one worker process and the task it runs."""

    def __init__(self, context: Any) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_main, args=(child_end,), name="pipekit-processmap", daemon=False
        )
        self.process.start()
        child_end.close()
        self.conn: Connection = parent_end
        self.pid: int = self.process.pid
        self.ready = False
        self.fn_key: object = None
        self.chunk: list[int] = []  # indices sent and not yet done
        self.current: int | None = None  # the index started and not yet done
        self.started_at = 0.0

    @property
    def busy(self) -> bool:
        return bool(self.chunk)

    def encode(self, fn_key: object, fn_bytes: bytes, chunk: list[tuple[int, Any]]) -> bytes:
        """A task as bytes; raises what pickling an item raises (the items' fault)."""
        payload = None if self.fn_key == fn_key else fn_bytes
        return ForkingPickler.dumps((fn_key, payload, chunk))

    def send(self, fn_key: object, task: bytes, chunk: list[tuple[int, Any]]) -> None:
        """Send an encoded task; raises ``OSError`` if the worker has died since."""
        self.conn.send_bytes(task)
        self.fn_key = fn_key
        self.chunk = [index for index, _ in chunk]
        self.current = None

    def started(self, index: int) -> None:
        self.current, self.started_at = index, time.monotonic()

    def finished(self, index: int) -> None:
        if index in self.chunk:
            self.chunk.remove(index)
        if self.current == index:
            self.current = None

    def exitcode(self) -> int | None:
        self.process.join(_KILL_GRACE_S)
        return self.process.exitcode

    def kill(self) -> None:
        """Kill at once (a hung item, an interrupt): SIGKILL, then reap."""
        if self.process.exitcode is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.join(_KILL_GRACE_S)
        self.conn.close()


class WorkerPool:
    """``n`` worker processes started with one multiprocessing context."""

    def __init__(self, n_workers: int, context: Any, environment: int) -> None:
        self.context = context
        self.environment = environment  # os.environ's fingerprint when the workers started
        self.workers: list[Worker] = [Worker(context) for _ in range(n_workers)]

    def replace(self, worker: Worker) -> Worker:
        """Kill ``worker`` (if still alive) and start a fresh one in its place."""
        worker.kill()
        fresh = Worker(self.context)
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def shutdown(self, *, kill: bool) -> None:
        """Stop every worker: politely (``kill=False``) or at once (``kill=True``)."""
        # Signal every worker first, then reap: the grace periods overlap instead of adding up.
        for worker in self.workers:
            with contextlib.suppress(OSError, ValueError):
                if kill:
                    worker.process.kill()
                else:
                    worker.conn.send(None)
        deadline = time.monotonic() + (0.0 if kill else _STOP_GRACE_S)
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            worker.kill()
