r"""Synthetic Arctic sea-ice concentration on the NSIDC polar stereographic 25 km grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["polar_sea_ice"]

#: Mean geodesic distance (km) of the synthetic ice edge from the pole, and its seasonal
#: amplitude: a March maximum near 73° N and a September minimum near 84° N, roughly.
EDGE_MEAN_KM = 1300.0
EDGE_AMPLITUDE_KM = 600.0


def polar_sea_ice(
    start: str = "2020-01-01",
    periods: int = 12,
    *,
    ny: int = 144,
    nx: int = 144,
    resolution: float = 25_000.0,
    miz_width_km: float = 250.0,
    noise: float = 0.05,
    seed: int = 0,
    units: str = "1",
) -> xr.DataArray:
    r"""Monthly sea-ice concentration ``siconc`` on an EPSG:3413 grid centred on the pole.

    With :math:`s` the geodesic distance (km) of a cell centre from the North Pole along the
    meridian (from its latitude, on a 6371 km sphere) and :math:`t` the month index,

    .. math::

        R(t) = 1300 + 600 \cos\!\big(2\pi (t - 2)/12\big) + 100 \cos(3\lambda),\qquad
        c = \operatorname{clip}\!\Big(\tfrac12 + \frac{R(t) - s}{w} + \sigma\varepsilon,\
            0, 1\Big)

    (largest in March, :math:`t = 2`, smallest in September), so the ice pack is solid
    (``c = 1``) well inside :math:`R`, open water outside, and a marginal ice zone of
    width :math:`w` = ``miz_width_km`` between; the seeded noise
    (``numpy.random.default_rng(seed)``, standard deviation ``noise``) only perturbs that
    zone. Land is NaN: a coast south of 75° N between 100° W and 60° W, and a round island
    of 400 km radius centred at x = 800 km, y = -1600 km.

    Args:
        start, periods: the first month and the number of months (monthly, month start).
        ny, nx: grid size; cell centres symmetric about the pole, ``resolution`` apart.
        resolution: the cell size in metres (25 km as NSIDC's grid).
        miz_width_km: the width of the marginal ice zone.
        noise: standard deviation of the concentration noise in the zone (0: none).
        seed: seed of the noise generator.
        units: ``"1"`` (fraction) or ``"%"`` (percent).

    Returns:
        float64 ``siconc`` with dims ``("time", "y", "x")``, ``x``/``y`` projected
        coordinates in metres, 2-D ``lat``/``lon`` coordinates (pyproj), the CF grid
        mapping as the scalar coordinate ``crs`` (``grid_mapping="crs"``), CF attributes.

    Example:
        >>> from xr_toolz.testing import polar_sea_ice
        >>> sic = polar_sea_ice()
        >>> sic.dims, sic.attrs["grid_mapping"], int(sic.crs.attrs["standard_parallel"])
        (('time', 'y', 'x'), 'crs', 70)
    """
    import pyproj

    if ny < 2 or nx < 2 or periods < 1:
        raise ValueError(
            f"polar_sea_ice: ny, nx must be >= 2 and periods >= 1, got {ny}, {nx}, {periods}"
        )
    if units not in ("1", "%"):
        raise ValueError(f"polar_sea_ice: units must be '1' or '%', got {units!r}")
    crs = pyproj.CRS("EPSG:3413")
    x = (np.arange(nx) - (nx - 1) / 2.0) * resolution
    y = ((ny - 1) / 2.0 - np.arange(ny)) * resolution  # north-up rows, as NSIDC
    X, Y = np.meshgrid(x, y)
    lon, lat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(X, Y)
    time = pd.date_range(start, periods=periods, freq="MS")
    month = np.arange(periods, dtype=np.float64)

    s = np.deg2rad(90.0 - lat) * 6371.0
    wave = 100.0 * np.cos(3.0 * np.deg2rad(lon))
    edge = EDGE_MEAN_KM + EDGE_AMPLITUDE_KM * np.cos(2.0 * np.pi * (month - 2.0) / 12.0)
    c = 0.5 + (edge[:, None, None] + wave[None] - s[None]) / miz_width_km
    rng = np.random.default_rng(seed)
    zone = (c > 0.0) & (c < 1.0)
    c = np.clip(c + noise * rng.standard_normal(c.shape) * zone, 0.0, 1.0)
    land = ((lat < 75.0) & (lon > -100.0) & (lon < -60.0)) | (
        np.hypot(X - 800e3, Y + 1600e3) < 400e3
    )
    c = np.where(land[None], np.nan, c)
    if units == "%":
        c = 100.0 * c

    xy = {"units": "m", "axis": "X", "standard_name": "projection_x_coordinate"}
    cf = crs.to_cf()
    return xr.DataArray(
        c,
        dims=("time", "y", "x"),
        coords={
            "time": time,
            "y": ("y", y, {**xy, "axis": "Y", "standard_name": "projection_y_coordinate"}),
            "x": ("x", x, xy),
            "lat": (("y", "x"), lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": (("y", "x"), lon, {"units": "degrees_east", "standard_name": "longitude"}),
            "crs": ((), np.int32(0), cf),
        },
        name="siconc",
        attrs={
            "units": units,
            "standard_name": "sea_ice_area_fraction",
            "long_name": "sea ice concentration (synthetic)",
            "grid_mapping": "crs",
        },
    )
