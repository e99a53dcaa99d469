"""Finite-difference stencils on possibly non-uniform coordinates, and the array kernel.

The weights depend only on the coordinates, which xarray keeps on the host as NumPy, so
they are computed once in NumPy (Fornberg's algorithm, exact Lagrange weights for any
spacing). The kernel :func:`derivative` is then a weighted sum of ``S`` gathers along one
axis: pure array code in the input's namespace, identical on NumPy and under ``jax.jit``.

Stencils (the same as ``numpy.gradient(..., edge_order=2)`` for the first derivative):

- first derivative: the 3 points ``i-1, i, i+1`` inside; ``0, 1, 2`` and ``N-3, N-2, N-1``
  at the edges (second-order one-sided);
- second derivative: the 3 points ``i-1, i, i+1`` inside (second order on uniform and
  smoothly varying grids); 4 points ``0..3`` and ``N-4..N-1`` at the edges, since 3
  one-sided points are only first-order accurate for a second derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipekit_array import namespace

__all__ = ["Stencil", "derivative", "fd_weights", "stencil"]


def fd_weights(z: float, x: np.ndarray, m: int) -> np.ndarray:
    """Weights ``w``, ``sum(w * f(x)) ~= f^(m)(z)`` (Fornberg 1988); exact for degree < len(x)."""
    n = len(x)
    c = np.zeros((n, m + 1))
    c1, c4 = 1.0, x[0] - z
    c[0, 0] = 1.0
    for i in range(1, n):
        mn = min(i, m)
        c2, c5, c4 = 1.0, c4, x[i] - z
        for j in range(i):
            c3 = x[i] - x[j]
            c2 *= c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[i, k] = c1 * (k * c[i - 1, k - 1] - c5 * c[i - 1, k]) / c2
                c[i, 0] = -c1 * c5 * c[i - 1, 0] / c2
            for k in range(mn, 0, -1):
                c[j, k] = (c4 * c[j, k] - k * c[j, k - 1]) / c3
            c[j, 0] = c4 * c[j, 0] / c3
        c1 = c2
    return c[:, m]


@dataclass(frozen=True)
class Stencil:
    """Per-point gather indices ``(N, S)`` and weights ``(N, S)`` along one axis (host NumPy)."""

    index: np.ndarray
    weights: np.ndarray


def stencil(coord: np.ndarray, order: int, period: float | None = None) -> Stencil:
    """The first (``order=1``) or second (``order=2``) derivative stencil on ``coord``.

    With ``period`` (signed like the coordinate's direction, e.g. 2π for longitude in
    radians) the axis wraps: every point, the first and last included, uses the centred
    3 points, the neighbour across the seam shifted by one period.
    """
    x = np.asarray(coord, dtype=np.float64)
    n = len(x)
    width = 3 if order == 1 else 4
    index = np.zeros((n, width), dtype=np.int32)
    weights = np.zeros((n, width))
    for i in range(n):
        if period is not None:
            pts = np.array([(i - 1) % n, i, (i + 1) % n])
            pos = x[pts] + np.array([-period * (i == 0), 0.0, period * (i == n - 1)])
            index[i, :3], index[i, 3:] = pts, i
            weights[i, :3] = fd_weights(x[i], pos, order)
            continue
        if 0 < i < n - 1:
            pts = np.array([i - 1, i, i + 1])
        elif i == 0:
            pts = np.arange(width)
        else:
            pts = np.arange(n - width, n)
        w = fd_weights(x[i], x[pts], order)
        index[i, : len(pts)] = pts
        index[i, len(pts) :] = pts[-1]  # padding: a real index with weight 0
        weights[i, : len(pts)] = w
    return Stencil(index=index, weights=weights)


def _along(vector: Any, axis: int, ndim: int) -> Any:
    """``vector`` (length N) shaped to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = -1
    return vector.reshape(tuple(shape))


def derivative(values: Any, st: Stencil, axis: int) -> Any:
    """The derivative of ``values`` along ``axis`` with stencil ``st`` (NumPy or JAX).

    ``sum_j w[:, j] * take(values, index[:, j], axis)``: NaN in a stencil point gives NaN
    (nodata stays nodata and spreads to the neighbours that use it).
    """
    xp = namespace(values)
    axis = axis % values.ndim
    out = None
    for j in range(st.index.shape[1]):
        w = xp.asarray(st.weights[:, j], dtype=values.dtype)
        term = _along(w, axis, values.ndim) * xp.take(values, xp.asarray(st.index[:, j]), axis=axis)
        out = term if out is None else out + term
    return out
