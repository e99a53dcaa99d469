r"""Geostrophic wind from geopotential height on a longitude/latitude grid.

On a sphere of radius :math:`R`, with longitude :math:`\lambda` and latitude
:math:`\varphi` in radians, geopotential height :math:`Z` (m) and
:math:`f = 2\Omega\sin\varphi`:

.. math::

    u_g = -\frac{g_0}{f}\,\frac{1}{R}\,\frac{\partial Z}{\partial\varphi}, \qquad
    v_g = \frac{g_0}{f}\,\frac{1}{R\cos\varphi}\,\frac{\partial Z}{\partial\lambda}.

The gradient of a scalar has no metric (Christoffel) terms on the sphere, so these are the
horizontal gradient of :mod:`xr_toolz.calc` (same stencils: second-order centred inside,
second-order one-sided at the edges, on non-uniform coordinates) scaled by
:math:`g_0/f`. Near the equator :math:`f \to 0` and geostrophic balance fails, so rows
with :math:`|\varphi|` below ``equator_mask`` degrees are NaN.

Against ``metpy.calc.geostrophic_wind(Z, dx, dy, latitude)`` with
``dx, dy = metpy.calc.lat_lon_grid_deltas(lon, lat)`` (MetPy 1.7): the stencils are the
same (MetPy's ``first_derivative`` is the 3-point non-uniform formula with second-order
one-sided edges) and neither adds correction terms, but MetPy's spacings are pyproj
``Geod(ellps="sphere")`` distances: radius 6370997 m (ours 6371008.8 m by default, a
1.85e-6 relative difference; pass ``radius=6370997.0`` to remove it) and ``dx`` is the
great-circle chord between neighbours on a parallel, :math:`2R\arcsin(\cos\varphi
\sin(\Delta\lambda/2))`, not the arc along the parallel :math:`R\cos\varphi\Delta\lambda`.
So :math:`u_g` agrees to rounding and :math:`v_g` differs by the factor
chord/arc :math:`\approx 1 - (\Delta\lambda/2)^2 \sin^2\varphi/6` (1.3e-5 at 1 degree and
60N, 3e-4 at 5 degrees); the arc is the derivative the sphere's gradient defines.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit.validate import check_bool
from pipekit_array import namespace, values_of

from .._geostrophy import OMEGA, g_over_f, geostrophic_balance
from ..calc._grid import EARTH_RADIUS, Grid, grid_of, resolve_dims
from ._units import G0, HEIGHT, AtmInputError, si_scale

__all__ = ["OMEGA", "GeostrophicWind", "geostrophic_wind"]


def geostrophic_wind(
    z: Any,
    grid: Grid,
    x_axis: int,
    y_axis: int,
    equator_mask: float = 5.0,
    scale: float = 1.0,
) -> tuple[Any, Any]:
    """``(u_g, v_g)`` in m s-1 from ``z * scale``, geopotential height in m, on ``grid``.

    ``scale`` converts the input's units to metres (``1/g0`` for geopotential in m2 s-2);
    it multiplies the host factor ``g0/f``, not the data. The balance itself is
    :func:`xr_toolz._geostrophy.geostrophic_balance`, shared with the ocean's.
    """
    assert grid.sin_lat is not None
    lat = np.rad2deg(np.arcsin(grid.sin_lat))
    factor = scale * g_over_f(lat, G0, equator_mask)
    return geostrophic_balance(z, grid, x_axis, y_axis, factor)


class GeostrophicWind(pk.Operator):
    r"""Geostrophic wind ``(u_g, v_g)`` (m s-1) from geopotential height on a lat/lon grid.

    :math:`u_g = -(g_0/f)\,\partial Z/\partial y`, :math:`v_g = (g_0/f)\,\partial Z/\partial x`,
    :math:`f = 2\Omega\sin\varphi`, with the spherical gradient of :mod:`xr_toolz.calc`
    (see :mod:`xr_toolz.atm._dynamics` for the formulas and how this differs from MetPy).

    Args:
        height: the Dataset variable holding geopotential height (``units`` m, gpm, km)
            or geopotential (``m2 s-2``, divided by :math:`g_0 = 9.80665`). A DataArray
            input is itself the height.
        x_dim, y_dim: the longitude and latitude dimensions (degrees), or None to detect.
        equator_mask: rows with ``|lat| <`` this many degrees are NaN (f -> 0 there).
        radius: the sphere's radius in metres.
        periodic_x: wrap longitude (a global grid going once around the circle).
        u, v: names of the output's eastward and northward components.

    Returns:
        ``xr.Dataset({u: u_g, v: v_g})`` on the height's dims and coords, CF
        ``geostrophic_eastward_wind`` / ``geostrophic_northward_wind``; it feeds
        ``xr_toolz.calc.Curl()`` (geostrophic vorticity) directly.

    Example:
        >>> import numpy as np, xarray as xr
        >>> lat, lon = np.arange(30.0, 61.0, 5.0), np.arange(0.0, 31.0, 5.0)
        >>> z = xr.DataArray(5500.0 - 2.0 * lat[:, None] + 0 * lon, dims=("lat", "lon"),
        ...                  coords={"lat": lat, "lon": lon}, attrs={"units": "m"})
        >>> wind = GeostrophicWind()(xr.Dataset({"z": z}))
        >>> round(float(wind["u"][3, 3]), 2), float(wind["v"][3, 3])
        (1.71, 0.0)
    """

    height: str = eqx.field(static=True)
    x_dim: str | None = eqx.field(static=True)
    y_dim: str | None = eqx.field(static=True)
    equator_mask: float = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    periodic_x: bool = eqx.field(static=True)
    u: str = eqx.field(static=True)
    v: str = eqx.field(static=True)

    def __init__(
        self,
        height: str = "z",
        *,
        x_dim: str | None = None,
        y_dim: str | None = None,
        equator_mask: float = 5.0,
        radius: float = EARTH_RADIUS,
        periodic_x: bool = False,
        u: str = "u",
        v: str = "v",
    ) -> None:
        owner = type(self).__name__
        for arg, value, optional in (
            ("height", height, False),
            ("x_dim", x_dim, True),
            ("y_dim", y_dim, True),
            ("u", u, False),
            ("v", v, False),
        ):
            if not ((value is None and optional) or (isinstance(value, str) and value)):
                raise pk.ConfigError(
                    f"{owner}: {arg} must be a name (non-empty str)"
                    f"{' or None to detect it' if optional else ''}, got {value!r}"
                )
        if u == v:
            raise pk.ConfigError(f"{owner}: u and v must be different names, got {u!r} for both")
        ok = isinstance(equator_mask, int | float) and not isinstance(equator_mask, bool)
        if not ok or not 0.0 <= equator_mask < 90.0:
            raise pk.ConfigError(
                f"{owner}: equator_mask must be a number of degrees in [0, 90) (|lat| below "
                f"it is NaN; 0 masks only the equator row itself), got {equator_mask!r}"
            )
        ok = isinstance(radius, int | float) and not isinstance(radius, bool)
        if not ok or not (math.isfinite(radius) and radius > 0):
            raise pk.ConfigError(
                f"{owner}: radius must be a positive number of metres, got {radius!r}"
            )
        check_bool(owner, "periodic_x", periodic_x)
        self.height = height
        self.x_dim = x_dim
        self.y_dim = y_dim
        self.equator_mask = float(equator_mask)
        self.radius = float(radius)
        self.periodic_x = bool(periodic_x)
        self.u = u
        self.v = v

    def _field(self, x: Any) -> xr.DataArray:
        owner = type(self).__name__
        if isinstance(x, xr.DataArray):
            return x
        if not isinstance(x, xr.Dataset):
            raise AtmInputError(
                f"{owner} takes an xarray.Dataset holding {self.height!r} (or the height "
                f"DataArray itself), got {type(x).__name__}"
            )
        if self.height not in x.data_vars:
            raise AtmInputError(
                f"{owner}: height={self.height!r} is not a variable of the Dataset (it has "
                f"{sorted(map(str, x.data_vars))}); pass height= with the geopotential "
                f"height (m) or geopotential (m2 s-2) variable's name"
            )
        return x[self.height]

    def _apply(self, x: Any) -> xr.Dataset:
        owner = type(self).__name__
        z = self._field(x)
        xd, yd = resolve_dims(owner, z, self.x_dim, self.y_dim)
        grid = grid_of(owner, z, xd, yd, "spherical", self.radius, self.periodic_x)
        scale, _ = si_scale(owner, z, "height", HEIGHT)  # offset 0 for every height unit
        values = values_of(z)
        if values.dtype.kind != "f":  # integer heights: differences need floats
            values = namespace(values).astype(values, np.float64)
        ug, vg = geostrophic_wind(
            values, grid, z.dims.index(xd), z.dims.index(yd), self.equator_mask, scale
        )
        coords = z.coords
        out = {}
        for name, data, std in (
            (self.u, ug, "geostrophic_eastward_wind"),
            (self.v, vg, "geostrophic_northward_wind"),
        ):
            attrs = {"units": "m s-1", "standard_name": std, "long_name": std.replace("_", " ")}
            out[name] = xr.DataArray(data, dims=z.dims, coords=coords, attrs=attrs)
        return xr.Dataset(out)
