"""Array kernels of the calculus operators: arrays + integer axes + a host :class:`Grid`.

Each runs on NumPy and, unchanged, under ``jax.jit`` on JAX arrays (the grid is static
host data closed over by the traced function). Spherical forms (radius ``R``, longitude
``λ`` and latitude ``φ`` in radians, ``u`` eastward and ``v`` northward):

.. math::

    \\nabla f = \\Big(\\frac{1}{R\\cos\\varphi}\\,\\partial_\\lambda f,\\;
                     \\frac{1}{R}\\,\\partial_\\varphi f\\Big), \\qquad
    \\nabla\\cdot\\mathbf{u} = \\frac{1}{R\\cos\\varphi}\\big(\\partial_\\lambda u
        + \\partial_\\varphi (v\\cos\\varphi)\\big),

    \\zeta = \\frac{1}{R\\cos\\varphi}\\big(\\partial_\\lambda v
        - \\partial_\\varphi (u\\cos\\varphi)\\big), \\qquad
    \\nabla^2 f = \\frac{\\partial^2_\\lambda f}{R^2\\cos^2\\varphi}
        + \\frac{\\partial^2_\\varphi f - \\tan\\varphi\\,\\partial_\\varphi f}{R^2}.

The flux forms ``∂φ(v cos φ)`` / ``∂φ(u cos φ)`` carry the metric terms
(``-v tan φ / R``, ``+u tan φ / R``) inside the difference. Rows at a pole (cos φ = 0)
are singular in these coordinates and give very large or non-finite values.
"""

from __future__ import annotations

from typing import Any

from pipekit_array import namespace

from ._grid import Grid
from ._stencil import _along, derivative

__all__ = ["curl_kernel", "divergence_kernel", "gradient_kernel", "laplacian_kernel"]


def _metric(xp: Any, vector: Any, like: Any, axis: int) -> Any:
    return _along(xp.asarray(vector, dtype=like.dtype), axis % like.ndim, like.ndim)


def gradient_kernel(f: Any, grid: Grid, x_axis: int, y_axis: int) -> tuple[Any, Any]:
    """``(∂f/∂x, ∂f/∂y)`` in units of f per metre."""
    fx = derivative(f, grid.d1x, x_axis)
    fy = derivative(f, grid.d1y, y_axis)
    if not grid.spherical:
        return fx, fy
    xp = namespace(f)
    return fx * _metric(xp, 1.0 / (grid.radius * grid.cos_lat), f, y_axis), fy / grid.radius


def divergence_kernel(u: Any, v: Any, grid: Grid, x_axis: int, y_axis: int) -> Any:
    """``∂u/∂x + ∂v/∂y`` (with the sphere's metric terms on a lat/lon grid)."""
    if not grid.spherical:
        return derivative(u, grid.d1x, x_axis) + derivative(v, grid.d1y, y_axis)
    xp = namespace(u)
    cos = _metric(xp, grid.cos_lat, v, y_axis)
    inv = _metric(xp, 1.0 / (grid.radius * grid.cos_lat), u, y_axis)
    return (derivative(u, grid.d1x, x_axis) + derivative(v * cos, grid.d1y, y_axis)) * inv


def curl_kernel(u: Any, v: Any, grid: Grid, x_axis: int, y_axis: int) -> Any:
    """The vertical component ``∂v/∂x − ∂u/∂y`` (relative vorticity for a velocity)."""
    if not grid.spherical:
        return derivative(v, grid.d1x, x_axis) - derivative(u, grid.d1y, y_axis)
    xp = namespace(u)
    cos = _metric(xp, grid.cos_lat, u, y_axis)
    inv = _metric(xp, 1.0 / (grid.radius * grid.cos_lat), u, y_axis)
    return (derivative(v, grid.d1x, x_axis) - derivative(u * cos, grid.d1y, y_axis)) * inv


def laplacian_kernel(f: Any, grid: Grid, x_axis: int, y_axis: int) -> Any:
    """``∂²f/∂x² + ∂²f/∂y²`` (Laplace–Beltrami on the sphere) from 3-point second differences."""
    fxx = derivative(f, grid.d2x, x_axis)
    fyy = derivative(f, grid.d2y, y_axis)
    if not grid.spherical:
        return fxx + fyy
    xp = namespace(f)
    r2 = grid.radius * grid.radius
    inv_cos2 = _metric(xp, 1.0 / (r2 * grid.cos_lat**2), f, y_axis)
    tan = _metric(xp, (grid.sin_lat / grid.cos_lat) / r2, f, y_axis)
    return fxx * inv_cos2 + fyy / r2 - tan * derivative(f, grid.d1y, y_axis)
