"""A reanalysis-like 2 m temperature cube: seasonal cycle, linear trend and seeded noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["reanalysis_like"]

#: Days per (mean Gregorian) year: the period of the seasonal harmonic and the trend unit.
DAYS_PER_YEAR = 365.25


def reanalysis_like(
    start: str = "2019-01-01",
    end: str = "2021-12-31",
    *,
    nlat: int = 8,
    nlon: int = 16,
    trend_per_year: float = 0.5,
    noise: float = 1.0,
    seed: int = 0,
    as_dataset: bool = False,
) -> xr.DataArray | xr.Dataset:
    r"""Daily 2 m temperature ``t2m`` (K) on a global lat/lon grid, deterministic per ``seed``.

    .. math::

        T(t, \varphi, \lambda) = 288 - 30 \sin^2\varphi
            - 15 \sin\varphi \cos\!\big(2\pi (t - 15)/365.25\big)
            + \beta\, t / 365.25 + \sigma\,\varepsilon

    with ``t`` the days since ``start`` (an integer day count, so the harmonic and trend are
    exact functions of the time coordinate), :math:`\varphi` the latitude (cell centres of
    ``nlat`` equal bands from -90 to 90), :math:`\beta` = ``trend_per_year`` (K/yr),
    :math:`\sigma` = ``noise`` and :math:`\varepsilon` standard normal from
    ``numpy.random.default_rng(seed)``. The seasonal amplitude changes sign with the
    hemisphere (northern winter is southern summer) and vanishes at the equator; the
    longitude does not enter, so every column of a latitude band shares its signal.

    The default period, 2019-01-01 to 2021-12-31, holds the leap year 2020 (Feb 29, and day
    of year 366 on 2020-12-31): 1096 days.

    Args:
        start, end: the first and last day (inclusive), any ``pandas.date_range`` string.
        nlat, nlon: grid size; longitudes are cell centres from 0 to 360 (east).
        trend_per_year: the linear trend :math:`\beta` in K per 365.25 days.
        noise: standard deviation :math:`\sigma` of the Gaussian noise in K (0: none).
        seed: seed of the noise generator.
        as_dataset: return ``xr.Dataset({"t2m": ...})`` instead of the DataArray.

    Returns:
        float64 ``t2m`` with dims ``("time", "lat", "lon")`` and CF attributes (``units``,
        ``standard_name``, ``long_name``) on the variable and its coordinates.

    Example:
        >>> from xr_toolz.testing import reanalysis_like
        >>> t2m = reanalysis_like()
        >>> t2m.sizes["time"], t2m.attrs["units"], bool((t2m.time.dt.dayofyear == 366).any())
        (1096, 'K', True)
    """
    if nlat < 1 or nlon < 1:
        raise ValueError(f"reanalysis_like: nlat and nlon must be >= 1, got {nlat}, {nlon}")
    time = pd.date_range(start, end, freq="D")
    if len(time) == 0:
        raise ValueError(f"reanalysis_like: no day from start={start!r} to end={end!r}")
    lat = -90.0 + (np.arange(nlat) + 0.5) * 180.0 / nlat
    lon = (np.arange(nlon) + 0.5) * 360.0 / nlon
    days = ((time - time[0]) / pd.Timedelta(days=1)).to_numpy(np.float64)

    sin_lat = np.sin(np.deg2rad(lat))
    base = 288.0 - 30.0 * sin_lat**2
    season = -15.0 * sin_lat[None, :] * np.cos(2 * np.pi * (days[:, None] - 15.0) / DAYS_PER_YEAR)
    trend = trend_per_year * days / DAYS_PER_YEAR
    signal = base[None, :] + season + trend[:, None]
    rng = np.random.default_rng(seed)
    values = signal[:, :, None] + noise * rng.standard_normal((len(time), nlat, nlon))

    da = xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={
            "time": ("time", time, {"standard_name": "time", "long_name": "time", "axis": "T"}),
            "lat": (
                "lat",
                lat,
                {
                    "units": "degrees_north",
                    "standard_name": "latitude",
                    "long_name": "latitude",
                    "axis": "Y",
                },
            ),
            "lon": (
                "lon",
                lon,
                {
                    "units": "degrees_east",
                    "standard_name": "longitude",
                    "long_name": "longitude",
                    "axis": "X",
                },
            ),
        },
        attrs={
            "units": "K",
            "standard_name": "air_temperature",
            "long_name": "2 metre temperature",
        },
        name="t2m",
    )
    if as_dataset:
        ds = da.to_dataset()
        ds.attrs = {"Conventions": "CF-1.8", "source": "xr_toolz.testing.reanalysis_like"}
        return ds
    return da
