r"""Array kernels of the ocean diagnostics: arrays + integer axes + host coordinates.

Every kernel runs on NumPy and, unchanged, under ``jax.jit`` (coordinates, stencils and
Coriolis parameters are host NumPy, static under jit). The horizontal ones reuse the
finite differences of :mod:`xr_toolz.calc` (:func:`~xr_toolz.calc._kernels.gradient_kernel`,
:func:`~xr_toolz.calc._kernels.curl_kernel`). On a sphere of radius ``R`` (latitude
``φ``), with ``u`` eastward and ``v`` northward:

.. math::

    s_n = \frac{u_\lambda}{R\cos\varphi} - \frac{v_\varphi}{R} - \frac{v\tan\varphi}{R},
    \qquad
    s_s = \frac{v_\lambda}{R\cos\varphi} + \frac{u_\varphi}{R} + \frac{u\tan\varphi}{R},

the normal and shear strain (twice the traceless rate-of-strain tensor's components, with
the sphere's metric terms; on a cartesian grid the ``tan`` terms vanish), and
``ζ = ∂v/∂x − ∂u/∂y`` as :class:`xr_toolz.calc.Curl`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipekit_array import namespace

from .._geostrophy import OMEGA, coriolis_parameter, geostrophic_balance as geostrophic_velocity
from ..calc._grid import Grid
from ..calc._kernels import curl_kernel, gradient_kernel
from ..calc._stencil import _along

__all__ = [
    "OMEGA",
    "brunt_vaisala",
    "coriolis_parameter",
    "eddy_kinetic_energy",
    "geostrophic_velocity",
    "mixed_layer_depth",
    "okubo_weiss",
    "relative_vorticity",
    "strain_components",
]


def _vec(vector: np.ndarray, like: Any, axis: int) -> Any:
    xp = namespace(like)
    return _along(xp.asarray(vector, dtype=like.dtype), axis % like.ndim, like.ndim)


def relative_vorticity(u: Any, v: Any, grid: Grid, x_axis: int, y_axis: int) -> Any:
    """``ζ = ∂v/∂x − ∂u/∂y``: the calculus Curl (flux form on the sphere)."""
    return curl_kernel(u, v, grid, x_axis, y_axis)


def strain_components(u: Any, v: Any, grid: Grid, x_axis: int, y_axis: int) -> tuple[Any, Any]:
    """The normal strain ``s_n`` and shear strain ``s_s`` (s-1), metric terms included."""
    ux, uy = gradient_kernel(u, grid, x_axis, y_axis)
    vx, vy = gradient_kernel(v, grid, x_axis, y_axis)
    if not grid.spherical:
        return ux - vy, vx + uy
    tan = _vec((grid.sin_lat / grid.cos_lat) / grid.radius, u, y_axis)
    return ux - vy - v * tan, vx + uy + u * tan


def okubo_weiss(u: Any, v: Any, grid: Grid, x_axis: int, y_axis: int) -> Any:
    """``W = s_n² + s_s² − ζ²`` (s-2): negative where rotation dominates (eddy cores)."""
    sn, ss = strain_components(u, v, grid, x_axis, y_axis)
    zeta = relative_vorticity(u, v, grid, x_axis, y_axis)
    return sn * sn + ss * ss - zeta * zeta


def _nanmean(x: Any, axes: tuple[int, ...]) -> Any:
    xp = namespace(x)
    valid = ~xp.isnan(x)
    total = xp.sum(xp.where(valid, x, xp.zeros_like(x)), axis=axes, keepdims=True)
    count = xp.sum(xp.astype(valid, x.dtype), axis=axes, keepdims=True)
    return total / xp.maximum(count, xp.ones_like(count))  # all-NaN: NaN - 0 stays NaN


def eddy_kinetic_energy(u: Any, v: Any, axes: tuple[int, ...] | None) -> Any:
    """``½(u'² + v'²)``; ``u' = u − mean(u)`` over ``axes`` (NaN left out), or u itself if None."""
    if axes is not None:
        u, v = u - _nanmean(u, axes), v - _nanmean(v, axes)
    return 0.5 * (u * u + v * v)


def _slice(ndim: int, axis: int, sl: slice) -> tuple[slice, ...]:
    return tuple(sl if i == axis else slice(None) for i in range(ndim))


def brunt_vaisala(rho: Any, depth: np.ndarray, axis: int, g: float, rho0: float | None) -> Any:
    r"""``N² = (g/ρ₀) Δρ/Δz`` between adjacent levels (depth positive down, s-2).

    ``ρ`` is potential density; ``ρ₀`` the Boussinesq constant, or (None) the mean of the
    two levels' densities. The result lies on the ``n − 1`` mid-points.
    """
    axis = axis % rho.ndim
    upper = rho[_slice(rho.ndim, axis, slice(None, -1))]
    lower = rho[_slice(rho.ndim, axis, slice(1, None))]
    dz = _vec(np.diff(np.asarray(depth, dtype=np.float64)), rho, axis)
    scale = 0.5 * (upper + lower) if rho0 is None else rho0
    return g * (lower - upper) / (dz * scale)


def _reference(depth: np.ndarray, ref_depth: float) -> tuple[int, int, float]:
    """Levels ``(i0, i1)`` and weight ``w`` of the linear interpolation at ``ref_depth``."""
    if ref_depth <= depth[0]:
        return 0, 0, 0.0
    i1 = int(np.searchsorted(depth, ref_depth))
    i0 = i1 - 1
    return i0, i1, float((ref_depth - depth[i0]) / (depth[i1] - depth[i0]))


def mixed_layer_depth(
    rho: Any, depth: np.ndarray, axis: int, threshold: float, ref_depth: float
) -> Any:
    """The depth where ``ρ`` first exceeds ``ρ(ref_depth) + threshold`` below ``ref_depth``.

    ``ρ(ref_depth)`` is interpolated linearly between levels (the shallowest level when
    ``ref_depth`` lies above it); the crossing depth is interpolated linearly between the
    last level (or the reference point) under the threshold and the first at or over it.
    NaN where the profile never crosses, or where the reference density is NaN.
    """
    xp = namespace(rho)
    r = xp.moveaxis(rho, axis % rho.ndim, -1)
    z = np.asarray(depth, dtype=np.float64)
    i0, i1, w = _reference(z, ref_depth)
    rref = r[..., i0] * (1.0 - w) + r[..., i1] * w
    top = max(ref_depth, float(z[0]))
    below = np.flatnonzero(z > top)
    za = np.concatenate([[top], z[below]])
    ra = xp.concat([rref[..., None], xp.take(r, xp.asarray(below), axis=-1)], axis=-1)
    target = rref + threshold
    crossed = ra >= target[..., None]
    found = xp.any(crossed, axis=-1)
    k1 = xp.argmax(xp.astype(crossed, xp.int32), axis=-1)
    shape = (1,) * (ra.ndim - 1) + (za.size,)
    ks = xp.reshape(xp.asarray(np.arange(za.size), dtype=k1.dtype), shape)
    zs = xp.reshape(xp.asarray(za, dtype=ra.dtype), shape)
    zeros = xp.zeros_like(ra)

    def pick(values: Any, k: Any) -> Any:
        return xp.sum(xp.where(ks == k[..., None], values, zeros), axis=-1)

    r0, r1 = pick(ra, k1 - 1), pick(ra, k1)
    z0, z1 = pick(zs + zeros, k1 - 1), pick(zs + zeros, k1)
    step = xp.where(found, r1 - r0, xp.ones_like(r1))  # no 0/0 where nothing crossed
    mld = z0 + (target - r0) * (z1 - z0) / step
    return xp.where(found, mld, xp.full_like(mld, np.nan))
