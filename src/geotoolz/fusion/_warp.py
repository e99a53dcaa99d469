"""Where each destination pixel centre falls on a source grid in another CRS.

Two grids in different CRSs have no separable (per-axis) map: each destination pixel centre
is projected on its own. :func:`warp_positions` does that on the host in float64 with pyproj
(the same PROJ that GDAL's warper uses), then reduces the source coordinates to centre-index
positions ``u = index + weight``, the convention of :mod:`._grid`. Large targets project a
lattice every ``_CELL`` pixels and interpolate between, checked at every cell centre. Under
jit with traced offsets it runs as a ``jax.pure_callback``: the positions depend only on
the integer offsets, never on the values, so gradients still flow to the values through
the sampling.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pyproj
from pyproj.exceptions import CRSError, ProjError

from geocatalog import GeoTensor

from ._errors import CRSMismatchError
from ._grid import _is_traced

__all__ = ["sample_warped"]


@functools.lru_cache(maxsize=64)
def _transformer(dst_crs: str, src_crs: str) -> pyproj.Transformer:
    """Destination CRS -> source CRS, x/y (easting/northing, lon/lat) order on both sides."""
    try:
        return pyproj.Transformer.from_crs(dst_crs, src_crs, always_xy=True)
    except (CRSError, ProjError) as err:
        raise CRSMismatchError(
            f"AlignAndStack: no coordinate operation from {dst_crs!r} to {src_crs!r} ({err}); "
            "reproject the input to the target's CRS first."
        ) from err


# Above this many target pixels, positions are interpolated from exact projections of a
# coarse lattice (every _CELL pixels) when that is within _TOLERANCE pixel of exact at
# every cell centre; exact projection costs ~0.2 s per million pixels (pyproj, 2 cores).
_EXACT_MAX_PIXELS = 128 * 128
_CELL = 16
_TOLERANCE = 1e-4


def _linear_weights(points: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """``(len(points), len(knots))``: piecewise-linear interpolation from the knots."""
    j = np.clip(np.searchsorted(knots, points, side="right") - 1, 0, len(knots) - 2)
    t = (points - knots[j]) / (knots[j + 1] - knots[j])
    weights = np.zeros((len(points), len(knots)))
    weights[np.arange(len(points)), j] = 1.0 - t
    weights[np.arange(len(points)), j + 1] = t
    return weights


def _host_positions(
    dst_grid: tuple[Any, ...], src_grid: tuple[Any, ...], nearest: bool, dtype: Any
) -> Any:
    """A NumPy function ``(k_dst, k_src) -> (row, row_weight, col, col_weight, inside)``."""
    (dst_lat, h, w), (src_lat, n_rows, n_cols) = dst_grid, src_grid
    transformer = _transformer(dst_lat.crs, src_lat.crs)

    def project(k_dst: np.ndarray, k_src: np.ndarray, rows: Any, cols: Any) -> Any:
        """Source centre-index coordinates of target pixels ``rows x cols`` (float64)."""
        ys = dst_lat.e * (rows + 0.5 + k_dst[0]) + dst_lat.f
        xs = dst_lat.a * (cols + 0.5 + k_dst[1]) + dst_lat.c
        x, y = np.meshgrid(xs, ys)
        with np.errstate(invalid="ignore"):
            sx, sy = transformer.transform(x, y, errcheck=False)
            u_row = (np.asarray(sy) - src_lat.f) / src_lat.e - k_src[0] - 0.5
            u_col = (np.asarray(sx) - src_lat.c) / src_lat.a - k_src[1] - 0.5
        return u_row, u_col

    def interpolated(k_dst: np.ndarray, k_src: np.ndarray) -> Any:
        """Positions from a coarse lattice, or None where that is not close enough."""
        knots_r = np.unique(np.r_[np.arange(0, h, _CELL), h - 1]).astype(np.float64)
        knots_c = np.unique(np.r_[np.arange(0, w, _CELL), w - 1]).astype(np.float64)
        coarse = project(k_dst, k_src, knots_r, knots_c)
        if not all(np.isfinite(u).all() for u in coarse):
            return None
        wr = _linear_weights(np.arange(h, dtype=np.float64), knots_r)
        wc = _linear_weights(np.arange(w, dtype=np.float64), knots_c)
        fine = [wr @ u @ wc.T for u in coarse]
        mid_r = np.floor((knots_r[:-1] + knots_r[1:]) / 2)
        mid_c = np.floor((knots_c[:-1] + knots_c[1:]) / 2)
        exact = project(k_dst, k_src, mid_r, mid_c)
        at = np.ix_(mid_r.astype(np.intp), mid_c.astype(np.intp))
        error = max(float(np.max(np.abs(f[at] - e))) for f, e in zip(fine, exact, strict=True))
        return fine if error <= _TOLERANCE else None

    def compute(k_dst: Any, k_src: Any) -> tuple[np.ndarray, ...]:
        k_dst = np.asarray(k_dst, np.float64)
        k_src = np.asarray(k_src, np.float64)
        u = interpolated(k_dst, k_src) if h * w > _EXACT_MAX_PIXELS else None
        if u is None:
            u = project(k_dst, k_src, np.arange(h), np.arange(w))
        u_row, u_col = u
        finite = np.isfinite(u_row) & np.isfinite(u_col)
        u_row, u_col = np.where(finite, u_row, -1.0), np.where(finite, u_col, -1.0)
        centre_row, centre_col = np.floor(u_row + 0.5), np.floor(u_col + 0.5)
        inside = (
            finite
            & (centre_row >= 0) & (centre_row < n_rows)
            & (centre_col >= 0) & (centre_col < n_cols)
        )  # fmt: skip
        if nearest:
            row, col = centre_row, centre_col
            row_weight = col_weight = np.zeros_like(u_row)
        else:
            row, col = np.floor(u_row), np.floor(u_col)
            row_weight, col_weight = u_row - row, u_col - col
        return (
            row.astype(np.int32), row_weight.astype(dtype),
            col.astype(np.int32), col_weight.astype(dtype), inside,
        )  # fmt: skip

    return compute


def _positions(src: GeoTensor, dst: GeoTensor, nearest: bool, dtype: Any) -> tuple[Any, ...]:
    compute = _host_positions(
        (dst.lattice, dst.height, dst.width),
        (src.lattice, src.height, src.width),
        nearest,
        np.dtype(dtype),
    )
    if not _is_traced(dst.offset, src.offset):
        return compute(np.asarray(dst.offset), np.asarray(src.offset))
    shape = (dst.height, dst.width)
    result = (
        jax.ShapeDtypeStruct(shape, jnp.int32), jax.ShapeDtypeStruct(shape, dtype),
        jax.ShapeDtypeStruct(shape, jnp.int32), jax.ShapeDtypeStruct(shape, dtype),
        jax.ShapeDtypeStruct(shape, jnp.bool_),
    )  # fmt: skip
    return jax.pure_callback(compute, result, dst.offset, src.offset, vmap_method="sequential")


def sample_warped(
    xp: Any, values: Any, src: GeoTensor, dst: GeoTensor, nearest: bool, nan: Any
) -> Any:
    """``values`` (``(..., H_src, W_src)``) sampled at ``dst``'s pixel centres: ``(..., H, W)``.

    Bilinear from the 2 x 2 source centres around each position (NaN if any is NaN), or the
    nearest one; NaN where the centre falls outside the source footprint or cannot be
    projected.
    """
    row, row_weight, col, col_weight, inside = _positions(src, dst, nearest, values.dtype)
    if not isinstance(row, np.ndarray):
        values = jnp.asarray(values)
        xp = jnp
    n_rows, n_cols = src.height, src.width
    lead = tuple(values.shape[:-2])
    flat = xp.reshape(values, (*lead, n_rows * n_cols))

    def at(r: Any, c: Any) -> Any:
        index = xp.clip(r, 0, n_rows - 1) * n_cols + xp.clip(c, 0, n_cols - 1)
        picked = xp.take(flat, xp.reshape(index, (-1,)), axis=-1)
        return xp.reshape(picked, (*lead, *index.shape))

    def spread(a: Any) -> Any:  # (H, W) -> (1, ..., H, W), to meet the leading axes
        return xp.reshape(xp.asarray(a), (1,) * len(lead) + tuple(a.shape))

    if nearest:
        out = at(row, col)
    else:
        wr, wc = spread(row_weight), spread(col_weight)
        top, bottom = at(row, col), at(row + 1, col)
        top = top + wc * (at(row, col + 1) - top)
        bottom = bottom + wc * (at(row + 1, col + 1) - bottom)
        out = top + wr * (bottom - top)
    return xp.where(spread(inside), out, nan)
