r"""Synthetic ocean data: sea-surface height with Gaussian eddies, and T/S/p profiles.

Both are deterministic (no random numbers) and CF-conventional, for the tests and
examples of :mod:`xr_toolz.ocn`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["DEFAULT_EDDIES", "ocean_profiles", "ssh_eddies"]

#: ``(lat, lon, amplitude m, e-folding radius km)``: a northern-hemisphere anticyclone
#: (high, clockwise) and cyclone (low, anticlockwise).
DEFAULT_EDDIES: tuple[tuple[float, float, float, float], ...] = (
    (35.0, -45.0, 0.25, 80.0),
    (40.0, -38.0, -0.20, 60.0),
)
_RADIUS = 6371008.8


def ssh_eddies(
    *,
    lat: tuple[float, float] = (30.0, 45.0),
    lon: tuple[float, float] = (-52.0, -30.0),
    resolution: float = 0.25,
    eddies: Sequence[tuple[float, float, float, float]] = DEFAULT_EDDIES,
    ntime: int = 0,
    drift: float = 0.1,
) -> xr.DataArray:
    r"""Sea-surface height ``ssh`` (m) as a sum of Gaussian eddies on a regional lat/lon grid.

    .. math::

        \eta = \sum_i A_i \exp\!\big(-(\Delta x_i^2 + \Delta y_i^2)/L_i^2\big), \quad
        \Delta x_i = R\cos\varphi_i(\lambda - \lambda_i), \; \Delta y_i = R(\varphi - \varphi_i)

    (local tangent-plane distances from each centre, ``R`` = 6371008.8 m). In the northern
    hemisphere a positive ``A`` is an anticyclone, a negative one a cyclone.

    Args:
        lat, lon: the grid's extent in degrees (inclusive; keep it off the equator).
        resolution: grid step in degrees.
        eddies: ``(lat, lon, amplitude m, radius km)`` of each eddy.
        ntime: 0 for a 2-D ``(lat, lon)`` field; else that many daily steps along ``time``,
            every eddy drifting west by ``drift`` degrees a day (for EKE).
        drift: westward drift in degrees of longitude per day.

    Returns:
        float64 ``ssh`` with dims ``([time,] lat, lon)`` and CF attrs
        (``sea_surface_height_above_geoid``, ``units="m"``).
    """
    la = np.arange(lat[0], lat[1] + resolution / 2, resolution)
    lo = np.arange(lon[0], lon[1] + resolution / 2, resolution)
    phi, lam = np.deg2rad(la)[:, None], np.deg2rad(lo)[None, :]
    steps = np.arange(max(ntime, 1), dtype=np.float64)
    eta = np.zeros((steps.size, la.size, lo.size))
    for t, day in enumerate(steps):
        for lat0, lon0, amp, radius_km in eddies:
            centre = np.deg2rad(lon0 - drift * day)
            dx = _RADIUS * np.cos(np.deg2rad(lat0)) * (lam - centre)
            dy = _RADIUS * (phi - np.deg2rad(lat0))
            eta[t] += amp * np.exp(-(dx**2 + dy**2) / (radius_km * 1e3) ** 2)
    coords = {
        "lat": ("lat", la, {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", lo, {"units": "degrees_east", "standard_name": "longitude"}),
    }
    attrs = {
        "units": "m",
        "standard_name": "sea_surface_height_above_geoid",
        "long_name": "sea surface height (Gaussian eddies)",
    }
    if ntime == 0:
        return xr.DataArray(eta[0], dims=("lat", "lon"), coords=coords, name="ssh", attrs=attrs)
    coords["time"] = ("time", steps, {"units": "days since 2020-01-01", "standard_name": "time"})
    return xr.DataArray(eta, dims=("time", "lat", "lon"), coords=coords, name="ssh", attrs=attrs)


def _pressure_dbar(depth: np.ndarray, lat: float) -> np.ndarray:
    """Saunders (1981): sea pressure (dbar) at ``depth`` (m) and latitude ``lat`` (deg)."""
    c1 = (5.92 + 5.25 * np.sin(np.deg2rad(lat)) ** 2) * 1e-3
    return ((1 - c1) - np.sqrt((1 - c1) ** 2 - 8.84e-6 * depth)) / 4.42e-6


def ocean_profiles(
    mld: Sequence[float] = (25.0, 60.0, 110.0),
    *,
    depth: np.ndarray | None = None,
    lat: Sequence[float] = (30.0, 40.0, 50.0),
    surface_temperature: Sequence[float] = (22.0, 16.0, 10.0),
    salinity: float = 35.0,
    lapse: float = 0.02,
    haline: float = 0.002,
) -> xr.Dataset:
    """Temperature/salinity/pressure profiles with a homogeneous surface layer of known depth.

    Profile ``i``: ``T = T_i`` and ``S = salinity`` above ``mld[i]``; below it ``T``
    falls by ``lapse`` degC per m and ``S`` rises by ``haline`` per m, so density
    increases steadily. The depth ``h`` of the homogeneous layer is returned as ``mld``;
    a density-threshold MLD lies just under it (by ``Δσ/(∂σ/∂z)``, a few metres here).

    Args:
        mld: the homogeneous layer's depth of each profile (m).
        depth: the levels (m, positive down); default 0..400 m every 5 m.
        lat: each profile's latitude (degrees north; for the pressure).
        surface_temperature: each profile's mixed-layer temperature (degC).
        salinity: the mixed-layer practical salinity.
        lapse, haline: the temperature decrease and salinity increase per m below ``h``.

    Returns:
        A Dataset on ``(profile, depth)``: in-situ ``temperature`` (degC), practical
        ``salinity`` (1), sea ``pressure`` (dbar, Saunders 1981), and per profile ``mld``
        (m), ``lat`` and ``lon`` (0).
    """
    z = np.arange(0.0, 401.0, 5.0) if depth is None else np.asarray(depth, dtype=np.float64)
    h = np.asarray(mld, dtype=np.float64)[:, None]
    below = np.maximum(z[None, :] - h, 0.0)
    t = np.asarray(surface_temperature, dtype=np.float64)[:, None] - lapse * below
    s = salinity + haline * below
    la = np.asarray(lat, dtype=np.float64)
    p = np.stack([_pressure_dbar(z, v) for v in la])
    dims = ("profile", "depth")
    return xr.Dataset(
        {
            "temperature": (dims, t, {"units": "degC", "standard_name": "sea_water_temperature"}),
            "salinity": (
                dims,
                s,
                {"units": "1", "standard_name": "sea_water_practical_salinity"},
            ),
            "pressure": (dims, p, {"units": "dbar", "standard_name": "sea_water_pressure"}),
            "mld": ("profile", h[:, 0], {"units": "m", "long_name": "homogeneous layer depth"}),
        },
        coords={
            "depth": ("depth", z, {"units": "m", "positive": "down", "standard_name": "depth"}),
            "lat": ("profile", la, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("profile", np.zeros_like(la), {"units": "degrees_east"}),
        },
    )
