"""Worker functions for the ProcessMap/DaskMap tests: importable, so spawned workers find them."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import numpy as np

import pipekit as pk

#: Items of the key test: these raise, and ``KILLER`` kills its worker process.
RAISERS = frozenset({3, 11, 20, 33, 47})
KILLER = 25


def square(x: int) -> int:
    return x * x


def square_or_fail(x: int) -> int:
    """Raise ValueError on RAISERS, die on KILLER (only in a child process), else square."""
    if x in RAISERS:
        raise ValueError(f"bad item {x}")
    if x == KILLER and multiprocessing.parent_process() is not None:
        os._exit(1)
    return x * x


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def sum_batch(xs: list[int]) -> list[int]:
    return [sum(xs)] * len(xs)


PIPELINE_YAML = """
_target_: pipekit.Sequential
ops:
- _target_: pipekit.Identity
- _target_: pipekit.Identity
"""


class Scaled(pk.Operator):
    """A pipeline-like operator that builds its own input from a seed inside the worker."""

    factor: float = 2.0

    def _apply(self, seed: Any) -> Any:
        rng = np.random.default_rng(seed)
        return pk.loads_yaml(PIPELINE_YAML)(rng.random((4, 4), dtype=np.float32) * self.factor)


def worker_pid(_: object) -> int:
    """The worker's process id (to tell pools apart)."""
    import os

    return os.getpid()


def worker_env(name: str) -> tuple[int, str | None]:
    """The worker's process id and its value of environment variable ``name``."""
    import os

    return os.getpid(), os.environ.get(name)


def exit_or_square(x: object) -> int:
    """``os._exit(3)`` on ``"exit"`` (only in a child process), else ``x * x``."""
    if x == "exit" and multiprocessing.parent_process() is not None:
        os._exit(3)
    return x * x  # type: ignore[operator]


def hang_or_square(x: object) -> int:
    """Sleep far past any test's timeout on ``"hang"``, else ``x * x``."""
    if x == "hang":
        import time

        time.sleep(60)
    return x * x  # type: ignore[operator]


def sleep_and_return(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def mark_and_sleep(folder: str) -> None:
    """Write ``{folder}/{pid}`` (this worker has started an item), then sleep 30 s."""
    import time

    with open(os.path.join(folder, str(os.getpid())), "w") as fh:
        fh.write("running")
    time.sleep(30)
