"""Small predicate and index operators for :class:`Branch` and :class:`Switch`.

They act elementwise on a bare array (NumPy eagerly, JAX under jit); put a reduction such as
``pipekit_array.MeanScalar()`` in front to turn a scene into the one value a Branch or
Switch decides on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from jaxtyping import ArrayLike, Bool, Int, Real

import pipekit as pk

__all__ = ["Digitize", "GreaterThan"]

AnyArray = np.ndarray | jax.Array


def _real_values(owner: str, x: Any) -> tuple[Any, Any]:
    """``(xp, values)`` with integer/bool input cast to float32 (strict promotion safe)."""
    if isinstance(x, bool | int | float):
        x = np.asarray(x)
    if not is_array_api_obj(x):
        raise TypeError(
            f"{owner} compares a bare array (NumPy or JAX); got {type(x).__name__}. Reduce a "
            "carrier to an array first, e.g. pipekit_array.MeanScalar() | "
            f"pipekit_jax.{owner}(...)"
        )
    xp = array_namespace(x)
    if xp.isdtype(x.dtype, "complex floating"):
        raise TypeError(f"{owner} compares real values; got dtype {x.dtype}")
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float32)
    return xp, x


def _finite(owner: str, arg: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise pk.ConfigError(f"{owner}: {arg} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise pk.ConfigError(f"{owner}: {arg} must be finite, got {value!r}")
    return value


class GreaterThan(pk.Operator):
    """Elementwise ``x > threshold`` as a bool array: a :class:`Branch` predicate.

    NaN compares false. Integer input is compared as float32. On a 0-d input (e.g. the
    output of ``pipekit_array.MeanScalar()``) it gives the 0-d bool a Branch expects.

    Args:
        threshold: the (finite) value to compare against.

    Example:
        >>> import numpy as np
        >>> import pipekit_jax as pj
        >>> pj.GreaterThan(0.5)(np.array([0.2, 0.7, np.nan]))
        array([False,  True, False])
    """

    threshold: float = eqx.field(static=True)

    def __init__(self, threshold: float) -> None:
        self.threshold = _finite("GreaterThan", "threshold", threshold)

    def _apply(self, x: Real[ArrayLike, "*shape"]) -> Bool[AnyArray, "*shape"]:
        xp, values = _real_values("GreaterThan", x)
        return xp.asarray(values > self.threshold)


class Digitize(pk.Operator):
    """Bin index of each value, as ``numpy.digitize(x, edges)``: a :class:`Switch` index.

    For increasing ``edges`` ``e_0 < ... < e_{n-1}`` the index is the number of edges that
    are ``<= x``: ``0`` below ``e_0``, ``i`` for ``e_{i-1} <= x < e_i``, ``n`` from
    ``e_{n-1}`` on; NaN gives ``n`` (as NumPy, which sorts NaN last). The result is int32
    on both paths, so ``Switch(index_op=... | Digitize(edges), ops=[...])`` with
    ``len(edges) + 1`` ops picks one op per bin. Integer input is compared as float32.

    Args:
        edges: strictly increasing finite bin edges (at least one).

    Example:
        >>> import numpy as np
        >>> import pipekit_jax as pj
        >>> pj.Digitize((0.0, 1.0))(np.array([-0.5, 0.0, 0.5, 1.0, np.nan]))
        array([0, 1, 1, 2, 2], dtype=int32)
    """

    edges: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, edges: Sequence[float]) -> None:
        if isinstance(edges, str) or not isinstance(edges, Sequence) or not edges:
            raise pk.ConfigError(
                f"Digitize: edges must be a non-empty list of increasing numbers, got {edges!r}"
            )
        values = tuple(_finite("Digitize", f"edges[{i}]", e) for i, e in enumerate(edges))
        bad = [i for i in range(1, len(values)) if not values[i - 1] < values[i]]
        if bad:
            raise pk.ConfigError(
                f"Digitize: edges must be strictly increasing; edges[{bad[0] - 1}] = "
                f"{values[bad[0] - 1]} >= edges[{bad[0]}] = {values[bad[0]]} in {list(values)}"
            )
        self.edges = values

    def _apply(self, x: Real[ArrayLike, "*shape"]) -> Int[AnyArray, "*shape"]:
        xp, values = _real_values("Digitize", x)
        index = xp.zeros(values.shape, dtype=xp.int32)
        for edge in self.edges:
            # not (x < edge), rather than x >= edge: NaN lands in the last bin, as in NumPy.
            index = index + xp.astype(~(values < edge), xp.int32)
        return index
