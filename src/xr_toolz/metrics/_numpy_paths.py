"""Eager NumPy fast paths of the metric kernels: unweighted RMSE and Pearson in place.

Host arrays only. Over leading axes (``dim="time"`` on time-first data) they stream row
by row, so each step's temporaries stay in cache; elsewhere they reduce whole arrays in
place (no transpose, no weight array). :mod:`._kernels` calls them before its general
array-API path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _numpy_unweighted(ref: Any, pred: Any, weights: Any | None) -> bool:
    """Whether the eager NumPy fast paths apply: host arrays, no weights."""
    return weights is None and isinstance(ref, np.ndarray) and isinstance(pred, np.ndarray)


def _np_float(ref: np.ndarray, pred: np.ndarray) -> Any:
    dtype = np.result_type(ref, pred)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.float32 if ref.dtype == np.float32 else np.float64
    return dtype


def _leading_rows(
    ref: np.ndarray, pred: np.ndarray, axes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(n, rest)`` row views of C-contiguous inputs reduced over their leading axes.

    Eager NumPy streams such a reduction a row (one time step) at a time: each step's
    temporaries stay in cache, so the inputs are read once and no full-size difference
    array is written and read back (about 2x faster than whole-array NumPy on a year of
    0.25-degree maps: benchmarks/README.md, xr_toolz section).
    """
    k = len(axes)
    if not (0 < k < ref.ndim and axes == tuple(range(k))):
        return None
    if not (ref.flags.c_contiguous and pred.flags.c_contiguous):
        return None
    n = math.prod(ref.shape[:k])
    return ref.reshape(n, -1), pred.reshape(n, -1)


def _np_rmse(ref: np.ndarray, pred: np.ndarray, axes: Sequence[int], skipna: bool) -> Any:
    """Eager NumPy RMSE without weights, reduced in place over ``axes`` (no transpose, no
    weight array): row by row over leading axes, else one difference array squared in
    place. With ``skipna`` the NaN of the difference (a NaN in either input) is left out."""
    if ref.shape != pred.shape:
        return None
    axes = tuple(sorted({a % ref.ndim for a in axes})) if ref.ndim else ()
    dtype = _np_float(ref, pred)
    kept = tuple(s for i, s in enumerate(ref.shape) if i not in axes)
    rows = _leading_rows(ref, pred, axes)
    if rows is not None:
        total, count = _np_rows_sq(rows[0], rows[1], dtype, skipna)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count == 0, np.nan, total / np.maximum(count, 1))
        return np.sqrt(mean).astype(dtype, copy=False).reshape(kept)
    d = np.subtract(pred, ref, dtype=dtype)
    np.multiply(d, d, out=d)
    n = math.prod(ref.shape[a] for a in axes)
    bad = np.isnan(d) if skipna else None
    if bad is not None and bad.any():
        count = n - np.count_nonzero(bad, axis=axes)
        total = np.sum(d, axis=axes, where=~bad)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count == 0, np.nan, total / np.maximum(count, 1))
            return np.sqrt(mean).astype(d.dtype, copy=False)
    if n == 0:
        return np.full(np.sum(d, axis=axes).shape, np.nan, d.dtype)
    return np.sqrt(np.sum(d, axis=axes) / d.dtype.type(n))


def _np_rows_sq(r: np.ndarray, p: np.ndarray, dtype: Any, skipna: bool) -> tuple[Any, Any]:
    """``(sum (p - r)^2, count)`` over the rows; with ``skipna`` NaN rows' entries skipped."""
    total = np.zeros(r.shape[1], dtype)
    d = np.empty(r.shape[1], dtype)
    bad = np.empty(r.shape[1], bool)
    missing = np.zeros(r.shape[1], np.int64) if skipna else None
    for t in range(r.shape[0]):
        np.subtract(p[t], r[t], out=d, dtype=dtype)
        np.multiply(d, d, out=d)
        if missing is not None and np.isnan(d, out=bad).any():
            missing += bad
            d[bad] = 0
        total += d
    count = r.shape[0] if missing is None else r.shape[0] - missing
    return total, count


def _np_pearson(ref: np.ndarray, pred: np.ndarray, axes: Sequence[int]) -> Any:
    """Eager NumPy Pearson without weights or NaN: anomalies, then products in place
    (row by row over leading axes, see :func:`_leading_rows`)."""
    axes = tuple(sorted({a % ref.ndim for a in axes})) if ref.ndim else ()
    dtype = _np_float(ref, pred)
    rows = _leading_rows(ref, pred, axes)
    if rows is not None:
        kept = tuple(s for i, s in enumerate(ref.shape) if i not in axes)
        num, srr, spp = _np_rows_moments(rows[0], rows[1], dtype)
        den = np.sqrt(srr * spp)
        shape = kept
    else:
        dr = np.subtract(ref, np.mean(ref, axis=axes, dtype=dtype, keepdims=True), dtype=dtype)
        dp = np.subtract(pred, np.mean(pred, axis=axes, dtype=dtype, keepdims=True), dtype=dtype)
        num = np.sum(np.multiply(dr, dp), axis=axes)
        np.multiply(dr, dr, out=dr)
        np.multiply(dp, dp, out=dp)
        den = np.sqrt(np.sum(dr, axis=axes) * np.sum(dp, axis=axes))
        shape = num.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den == 0, np.nan, num / np.where(den == 0, 1, den))
    return np.clip(out, -1.0, 1.0).astype(dtype, copy=False).reshape(shape)


def _np_rows_moments(r: np.ndarray, p: np.ndarray, dtype: Any) -> tuple[Any, Any, Any]:
    """Two passes over the rows: the means, then the anomaly products' sums."""
    n, width = r.shape
    mr, mp = np.zeros(width, dtype), np.zeros(width, dtype)
    for t in range(n):
        mr += r[t]
        mp += p[t]
    mr /= n
    mp /= n
    num, srr, spp = (np.zeros(width, dtype) for _ in range(3))
    dr, dp, tmp = (np.empty(width, dtype) for _ in range(3))
    for t in range(n):
        np.subtract(r[t], mr, out=dr, dtype=dtype)
        np.subtract(p[t], mp, out=dp, dtype=dtype)
        num += np.multiply(dr, dp, out=tmp)
        srr += np.multiply(dr, dr, out=tmp)
        spp += np.multiply(dp, dp, out=tmp)
    return num, srr, spp
