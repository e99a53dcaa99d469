"""Geostrophic balance, shared by ``ocn.GeostrophicVelocity`` (sea-surface height) and
``atm.GeostrophicWind`` (geopotential height): ``u = −(g/f) ∂h/∂y``, ``v = (g/f) ∂h/∂x``.

One host factor (``g/f`` along latitude, NaN in the equatorial band where ``f → 0``) and
one array kernel (the gradient of :mod:`xr_toolz.calc` times that factor), so the ocean
and the atmosphere cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipekit_array import namespace

from .calc._grid import Grid
from .calc._kernels import gradient_kernel
from .calc._stencil import _along

__all__ = ["OMEGA", "coriolis_parameter", "g_over_f", "geostrophic_balance"]

#: Earth's rotation rate (rad s-1), the value gsw and MetPy use.
OMEGA = 7.292115e-5


def coriolis_parameter(lat_deg: np.ndarray, omega: float = OMEGA) -> np.ndarray:
    """``f = 2 Ω sin(lat)`` (s-1) on host coordinates in degrees (equals ``gsw.f``)."""
    return 2.0 * omega * np.sin(np.deg2rad(np.asarray(lat_deg, dtype=np.float64)))


def g_over_f(lat_deg: np.ndarray, g: float, equator_mask: float) -> np.ndarray:
    """Host ``g / f`` (s) along latitude, NaN where ``|lat| < equator_mask`` or ``f = 0``."""
    lat = np.asarray(lat_deg, dtype=np.float64)
    f = coriolis_parameter(lat)
    masked = (np.abs(lat) < equator_mask) | (f == 0.0)
    return np.where(masked, np.nan, g / np.where(masked, 1.0, f))


def geostrophic_balance(
    h: Any, grid: Grid, x_axis: int, y_axis: int, factor: np.ndarray
) -> tuple[Any, Any]:
    """``(−factor ∂h/∂y, factor ∂h/∂x)``; ``factor`` is host ``g/f`` along ``y_axis``.

    Pure array code (NumPy or JAX; ``grid`` and ``factor`` are static host data). The
    field's finite mean is removed first: the gradient of a constant is 0, and in float32
    heights of ~5500 m would put ulp(5500 m) = 5e-4 m into every stencil product.
    """
    xp = namespace(h)
    axes = (x_axis % h.ndim, y_axis % h.ndim)
    finite = xp.isfinite(h)
    count = xp.sum(xp.astype(finite, h.dtype), axis=axes, keepdims=True)
    ref = xp.sum(xp.where(finite, h, 0.0), axis=axes, keepdims=True) / xp.maximum(count, 1.0)
    dhdx, dhdy = gradient_kernel(h - ref, grid, x_axis, y_axis)
    gf = _along(xp.asarray(factor, dtype=h.dtype), y_axis % h.ndim, h.ndim)
    return -gf * dhdy, gf * dhdx
