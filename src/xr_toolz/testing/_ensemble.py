"""A synthetic ensemble forecast and its verifying analysis, reliable by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["ensemble_forecast"]


def ensemble_forecast(
    init: str = "2020-01-01",
    *,
    n_members: int = 10,
    n_leads: int = 10,
    nlat: int = 8,
    nlon: int = 16,
    spread0: float = 0.5,
    spread_growth: float = 0.3,
    seed: int = 0,
) -> xr.Dataset:
    r"""One daily forecast from ``init`` of an ``n_members`` ensemble of 2 m temperature.

    .. math::

        c(\ell, \varphi, \lambda) &= 288 - 30\sin^2\varphi + \sin(\lambda)\,
            \cos(2\pi\ell/10) \\
        \sigma(\ell) &= \sigma_0 + g\,\ell \\
        \mathrm{analysis} &= c + \sigma(\ell)\,\varepsilon_0, \qquad
        \mathrm{forecast}_k = c + \sigma(\ell)\,\varepsilon_k

    with :math:`\ell` the lead in days (0 .. ``n_leads - 1``), :math:`\sigma_0` =
    ``spread0``, :math:`g` = ``spread_growth`` (K per day) and :math:`\varepsilon_k`
    independent standard normals from ``numpy.random.default_rng(seed)``. The analysis
    is one more draw of the members' distribution, so the ensemble is reliable: its
    spread grows with lead as its error does (spread-skill ratio near 1, flat rank
    histogram, CRPS growing with lead), which the tests of the ensemble metrics rely on.

    Args:
        init: the initialisation day (any ``pandas.Timestamp`` string).
        n_members: ensemble size M (>= 1).
        n_leads: number of daily lead times (>= 1); lead 0 is the initialisation.
        nlat, nlon: global grid size (cell centres), as ``reanalysis_like``.
        spread0, spread_growth: :math:`\sigma_0 > 0` and :math:`g \ge 0`.
        seed: seed of the noise generator.

    Returns:
        Dataset with ``analysis`` (time, lat, lon) and ``forecast`` (member, time, lat,
        lon), both float64 in K with CF attributes; ``time`` is the valid time
        ``init + lead`` and ``lead`` a timedelta coordinate along it, so
        ``CRPS(dim=("lat", "lon"))(ds.analysis, ds.forecast)`` scores each lead.

    Example:
        >>> from xr_toolz.testing import ensemble_forecast
        >>> ds = ensemble_forecast(n_members=4, n_leads=3)
        >>> ds.forecast.dims, ds.analysis.attrs["units"]
        (('member', 'time', 'lat', 'lon'), 'K')
    """
    if n_members < 1 or n_leads < 1 or nlat < 1 or nlon < 1:
        raise ValueError(
            f"ensemble_forecast: n_members, n_leads, nlat and nlon must be >= 1, got "
            f"{n_members}, {n_leads}, {nlat}, {nlon}"
        )
    if not spread0 > 0 or not spread_growth >= 0:
        raise ValueError(
            f"ensemble_forecast: spread0 must be > 0 and spread_growth >= 0, got "
            f"{spread0}, {spread_growth}"
        )
    lead_days = np.arange(n_leads)
    lead = pd.to_timedelta(lead_days, unit="D")
    time = pd.Timestamp(init) + lead
    lat = -90.0 + (np.arange(nlat) + 0.5) * 180.0 / nlat
    lon = (np.arange(nlon) + 0.5) * 360.0 / nlon

    base = 288.0 - 30.0 * np.sin(np.deg2rad(lat)) ** 2
    wave = np.sin(np.deg2rad(lon))[None, :] * np.cos(2 * np.pi * lead_days / 10.0)[:, None]
    centre = base[None, :, None] + wave[:, None, :]  # (time, lat, lon)
    sigma = (spread0 + spread_growth * lead_days)[:, None, None]
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_members + 1, n_leads, nlat, nlon))
    analysis = centre + sigma * noise[0]
    forecast = centre[None] + sigma[None] * noise[1:]

    t2m = {"units": "K", "standard_name": "air_temperature"}
    coords = {
        "member": ("member", np.arange(n_members), {"long_name": "ensemble member"}),
        "time": ("time", time, {"standard_name": "time", "long_name": "valid time", "axis": "T"}),
        "lead": ("time", lead, {"long_name": "forecast lead time"}),
        "lat": (
            "lat",
            lat,
            {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"},
        ),
        "lon": (
            "lon",
            lon,
            {"units": "degrees_east", "standard_name": "longitude", "axis": "X"},
        ),
    }
    return xr.Dataset(
        {
            "analysis": (
                ("time", "lat", "lon"),
                analysis,
                {**t2m, "long_name": "2 metre temperature analysis"},
            ),
            "forecast": (
                ("member", "time", "lat", "lon"),
                forecast,
                {**t2m, "long_name": "2 metre temperature ensemble forecast"},
            ),
        },
        coords=coords,
        attrs={
            "Conventions": "CF-1.8",
            "source": "xr_toolz.testing.ensemble_forecast",
            "forecast_reference_time": str(pd.Timestamp(init)),
        },
    )
