"""Random-key plumbing shared by containers (Sequential, Graph)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["split_key"]


def split_key(key: Any, n: int) -> list[Any]:
    """Split ``key`` into ``n`` independent keys.

    A ``numpy.random.Generator`` is split with ``Generator.spawn`` (the NumPy path); anything
    else is treated as a JAX PRNG key and split with ``jax.random.split``.
    """
    if n == 0:
        return []
    if isinstance(key, np.random.Generator):
        return list(key.spawn(n))
    import jax

    return list(jax.random.split(key, n))
