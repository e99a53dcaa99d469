"""Horizontal calculus on xarray grids: gradient, divergence, curl and Laplacian.

Cartesian grids (x/y in metres) and longitude/latitude grids in degrees (on a sphere of
radius 6371008.8 m, with the metric terms), second-order differences on non-uniform
coordinates; dimensions by name or detected from CF attributes. Vectors are Datasets with
variables ``u`` (x, eastward) and ``v`` (y, northward). Each kernel runs on NumPy and
under ``jax.jit`` with the same numbers (:mod:`xr_toolz.calc._kernels`).

Example:
    >>> import numpy as np, xarray as xr
    >>> import pipekit as pk, xr_toolz as xt
    >>> lat, lon = np.linspace(-60, 60, 7), np.linspace(0, 90, 10)
    >>> f = xr.DataArray(np.ones((7, 10)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    >>> float(abs(xt.calc.Laplacian()(f)).max()) < 1e-20
    True
"""

from ._errors import CalcTypeError as CalcTypeError, CalcValueError as CalcValueError
from ._grid import EARTH_RADIUS as EARTH_RADIUS
from ._operators import (
    Curl as Curl,
    Divergence as Divergence,
    Gradient as Gradient,
    Laplacian as Laplacian,
)

__all__ = [
    "EARTH_RADIUS",
    "CalcTypeError",
    "CalcValueError",
    "Curl",
    "Divergence",
    "Gradient",
    "Laplacian",
]
