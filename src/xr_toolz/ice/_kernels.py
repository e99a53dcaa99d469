r"""Pure array kernels of ``xr_toolz.ice``: functions of arrays and integer axes.

The namespace comes from the concentration (``pipekit_array.namespace``), so each kernel
runs on NumPy and under ``jax.jit`` on JAX arrays with the same numbers; geometry (cell
areas, centres, scale factors) arrives as host NumPy arrays, which become constants of the
trace. Concentrations are fractions in [0, 1]; NaN marks land or missing cells.

- :func:`extent_kernel`: :math:`E = \sum_i A_i\,[c_i \ge c_*]`
- :func:`area_kernel`: :math:`S = \sum_i A_i\, c_i\,[c_i \ge c_*]`
- :func:`edge_distance_kernel`: the signed distance of each cell centre to the nearest
  centre on the other side of the ice edge (an exact Euclidean distance transform).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from pipekit_array import float_dtype, namespace

__all__ = ["PolarStereo", "area_kernel", "edge_distance_kernel", "extent_kernel", "scale_at"]


def _area_like(xp: Any, conc: Any, area: Any, axes: tuple[int, int]) -> Any:
    """``area`` (ny, nx) in ``conc``'s float dtype, shaped to broadcast along ``axes``."""
    shape = [1] * conc.ndim
    shape[axes[0]], shape[axes[1]] = area.shape
    a = np.asarray(area, dtype=np.float64)
    a = a if axes[0] < axes[1] else a.T
    return xp.reshape(xp.asarray(a, dtype=float_dtype(xp, conc)), tuple(shape))


def extent_kernel(conc: Any, area: Any, threshold: float, axes: tuple[int, int]) -> Any:
    """Sum of ``area`` over the cells of ``conc`` at or above ``threshold`` (NaN: left out).

    ``axes`` are the ``(y, x)`` axes of ``conc`` (reduced); ``area`` has shape
    ``(conc.shape[axes[0]], conc.shape[axes[1]])``. The result keeps the other axes.
    """
    xp = namespace(conc)
    a = _area_like(xp, conc, area, axes)
    ice = conc >= xp.asarray(threshold, dtype=conc.dtype)  # NaN compares False
    return xp.sum(xp.where(ice, a, xp.zeros_like(a)), axis=tuple(axes))


def area_kernel(conc: Any, area: Any, threshold: float, axes: tuple[int, int]) -> Any:
    """Sum of ``conc * area`` over the cells at or above ``threshold`` (NaN: left out)."""
    xp = namespace(conc)
    a = _area_like(xp, conc, area, axes)
    ice = conc >= xp.asarray(threshold, dtype=conc.dtype)
    weighted = xp.where(ice, conc * a, xp.zeros_like(conc * a))
    return xp.sum(weighted, axis=tuple(axes))


def _map(xp: Any, f: Callable[[Any], Any], xs: Any) -> Any:
    """``stack([f(x) for x in xs])``: a loop on NumPy, ``jax.lax.map`` (one trace) on JAX."""
    if xp.__name__.startswith("jax"):
        import jax

        return jax.lax.map(f, xs)
    return xp.stack([f(x) for x in xs]) if xs.shape[0] else xp.zeros((0,))


def _nearest(xp: Any, target: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """Squared distance and flat index of the nearest ``target`` cell to every cell.

    Separable exact EDT (Saito & Toriwaki 1994): along each row the nearest target column
    (left and right scans with a running max/min of the target indices), then down each
    column ``min_{i'} (y_i - y_{i'})^2 + g(i', j)^2`` over all rows ``i'``. Costs
    ``O(ny * nx + ny^2 * nx)`` per slice; no target gives ``inf``.
    """
    ny, nx = target.shape
    col = xp.arange(nx)
    big = nx + ny + 1  # an index no row has
    left = xp.where(target, col[None, :], -big * xp.ones_like(col[None, :]))
    right = xp.where(target, col[None, :], 2 * big * xp.ones_like(col[None, :]))
    left = xp.maximum.accumulate(left, axis=1)
    right = xp.flip(xp.minimum.accumulate(xp.flip(right, axis=1), axis=1), axis=1)
    ok_l, ok_r = left >= 0, right < nx
    li, ri = xp.clip(left, 0, nx - 1), xp.clip(right, 0, nx - 1)
    inf = xp.asarray(np.inf, dtype=x.dtype)
    dl = xp.where(ok_l, (x[None, :] - xp.take(x, li)) ** 2, inf)
    dr = xp.where(ok_r, (x[None, :] - xp.take(x, ri)) ** 2, inf)
    g2 = xp.minimum(dl, dr)  # (ny, nx) squared distance along the row
    gcol = xp.where(dl <= dr, li, ri)
    d2 = (y[:, None] - y[None, :]) ** 2  # (ny_out, ny_src)
    total = d2[:, :, None] + g2[None, :, :]  # (ny_out, ny_src, nx)
    row = xp.argmin(total, axis=1)  # (ny_out, nx)
    best = xp.min(total, axis=1)
    flat = row * nx + xp.take_along_axis(gcol, row, axis=0)
    return best, flat


class PolarStereo(NamedTuple):
    """Constants of a polar stereographic projection, lengths in the unit of the grid.

    ``x0, y0``: the pole's projected position; ``a``: the semi-major axis; ``e``: the
    eccentricity; ``c``: Snyder's constant in ``rho = c * t`` (see :mod:`._grid`).
    """

    x0: float
    y0: float
    a: float
    e: float
    c: float


def scale_at(xp: Any, px: Any, py: Any, proj: PolarStereo) -> Any:
    r"""Point scale factor ``k`` at projected points ``(px, py)``, traceable.

    :math:`\rho` from the pole, :math:`t = \rho / c`, the latitude by the fixed-point
    iteration :math:`\varphi \leftarrow \pi/2 - 2\arctan\big(t\,[(1 - e\sin\varphi)/
    (1 + e\sin\varphi)]^{e/2}\big)` (Snyder 1987 eq. 7-9; 8 steps reach float64
    round-off), then :math:`k = \rho / (a\, m(\varphi))`; at the pole its limit.
    """
    e = proj.e
    rho = xp.sqrt((px - proj.x0) ** 2 + (py - proj.y0) ** 2)
    t = rho / proj.c
    phi = np.pi / 2 - 2 * xp.atan(t)
    for _ in range(8):
        es = e * xp.sin(phi)
        phi = np.pi / 2 - 2 * xp.atan(t * ((1 - es) / (1 + es)) ** (e / 2))
    m = xp.cos(phi) / xp.sqrt(1 - (e * xp.sin(phi)) ** 2)
    pole = proj.c * math.sqrt((1 + e) ** (1 + e) * (1 - e) ** (1 - e)) / (2 * proj.a)
    at_pole = rho <= proj.c * 1e-12
    safe_m = xp.where(at_pole, xp.ones_like(m), m)
    return xp.where(at_pole, xp.full_like(m, pole), rho / (proj.a * safe_m))


def edge_distance_kernel(
    conc: Any,
    threshold: float,
    axes: tuple[int, int],
    x: Any,
    y: Any,
    proj: PolarStereo | None = None,
) -> Any:
    r"""Signed distance (in the units of ``x``/``y``) of each cell to the ice edge.

    An ice cell (``conc >= threshold``) gets :math:`+d`, the distance from its centre to
    the nearest open-water centre (valid, below ``threshold``); a water cell gets
    :math:`-d` to the nearest ice centre; NaN cells (land, missing) stay NaN and are
    neither ice nor water. With no cell on the other side the result is :math:`\pm\infty`.
    With ``x``/``y`` the projected centres this is ``scipy.ndimage.distance_transform_edt``
    with ``sampling=(dy, dx)`` (exact Euclidean, any rectilinear spacing). With ``proj``
    the nearest centre's projected distance becomes a distance on the ellipsoid by
    integrating :math:`1/k` along the segment with Simpson's rule,
    :math:`d_\text{true} \approx \tfrac{d}{6}\,(1/k_i + 4/k_\text{mid} + 1/k_j)`
    (conformal projection: within 2e-5 of the geodesic up to 1000 km, 3e-4 beyond).
    """
    xp = namespace(conc)
    dtype = float_dtype(xp, conc)
    conc = xp.astype(conc, dtype)
    moved = xp.moveaxis(conc, tuple(axes), (-2, -1))
    batch = moved.shape[:-2]
    ny, nx = moved.shape[-2:]
    flat = xp.reshape(moved, (-1, ny, nx))
    xa = xp.asarray(np.asarray(x, dtype=np.float64), dtype=dtype)
    ya = xp.asarray(np.asarray(y, dtype=np.float64), dtype=dtype)
    thr = xp.asarray(threshold, dtype=dtype)
    px, py = xa[None, :] + 0 * ya[:, None], ya[:, None] + 0 * xa[None, :]

    def one(c: Any) -> Any:
        valid = ~xp.isnan(c)
        ice = valid & (c >= thr)
        water = valid & (c < thr)
        d2_w, idx_w = _nearest(xp, water, xa, ya)  # for ice cells: to the nearest water
        d2_i, idx_i = _nearest(xp, ice, xa, ya)  # for water cells: to the nearest ice
        d = xp.where(ice, xp.sqrt(d2_w), -xp.sqrt(d2_i))
        if proj is not None:
            idx = xp.where(ice, idx_w, idx_i)
            qx, qy = xp.take(xa, idx % nx), xp.take(ya, idx // nx)
            k_i, k_j = scale_at(xp, px, py, proj), scale_at(xp, qx, qy, proj)
            k_m = scale_at(xp, (px + qx) / 2, (py + qy) / 2, proj)
            d = d * (1 / k_i + 4 / k_m + 1 / k_j) / 6
        return xp.where(valid, d, xp.asarray(np.nan, dtype=dtype))

    out = _map(xp, one, flat)
    out = xp.reshape(out, (*batch, ny, nx))
    return xp.moveaxis(out, (-2, -1), tuple(axes))
