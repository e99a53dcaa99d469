"""Checks of the xr_toolz notebooks' printed numbers, merged into ``test_notebooks.CHECKS``.

Each check rebuilds the notebook's small synthetic input and re-derives every printed number
without xr_toolz's operators: the climatology from xarray's ``groupby`` and the trend from
``np.polyfit``; the spectra from ``np.fft.fft2`` with the rings binned in plain NumPy; the
station scores from the RMSE / mean error / Pearson formulas on a nearest index found with
``np.argmin``. Each returns the number of figures the notebook must draw.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

from xr_toolz.testing import reanalysis_like

from ._notebook_checks_xr_ocean_skill import check_xr_forecast_skill, check_xr_ocean_kinematics


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the notebook's output:\n{text}"
    return float(match.group(1))


def _linear_residual(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(slope per step, residual)`` of a least-squares line per column of ``y`` (n, m)."""
    t = np.arange(y.shape[0], dtype=np.float64)
    slope, intercept = np.polyfit(t, y, 1)
    return slope, y - (slope[None, :] * t[:, None] + intercept[None, :])


def check_xr_climatology(notebook, text, data_dir):
    t2m = reanalysis_like("2000-01-01", "2009-12-31", nlat=18, nlon=36, trend_per_year=0.03,
                          seed=1)  # fmt: skip
    assert "leap days: 3" in text  # 2000, 2004, 2008
    assert "dayofyear groups: 366, months: 12" in text
    point = t2m.sel(lat=45.0, lon=5.0)
    monthly = point.groupby("time.month").mean().values
    assert _number(text, r"monthly normal at .*?: min ([\d.]+) K") == pytest.approx(
        monthly.min(), abs=6e-4
    )
    assert _number(text, r"monthly normal at .*?max ([\d.]+) K") == pytest.approx(
        monthly.max(), abs=6e-4
    )
    by_day = t2m.groupby("time.dayofyear")
    anomaly = (by_day - by_day.mean()).values  # xarray's own group arithmetic
    assert _number(text, r"anomaly std \(all points, all days\): ([\d.]+) K") == pytest.approx(
        anomaly.std(), abs=6e-5
    )
    assert _number(text, r"t2m std: ([\d.]+) K") == pytest.approx(t2m.values.std(), abs=6e-5)
    flat = anomaly.reshape(anomaly.shape[0], -1)
    slope, residual = _linear_residual(flat)
    per_decade = (slope * 3652.5).reshape(anomaly.shape[1:])
    i, j = list(t2m.lat.values).index(45.0), list(t2m.lon.values).index(5.0)
    assert _number(text, r"removed trend at .*?: (-?[\d.]+) K/decade") == pytest.approx(
        per_decade[i, j], abs=6e-5
    )
    mean_trend = _number(text, r"removed trend, mean over grid points: (-?[\d.]+) K/decade")
    assert mean_trend == pytest.approx(per_decade.mean(), abs=6e-5)
    assert mean_trend == pytest.approx(0.3, abs=0.02)  # the generator's 0.03 K/yr
    assert _number(text, r"detrended anomaly std: ([\d.]+) K") == pytest.approx(
        residual.std(), abs=6e-5
    )
    assert "jit output: DataArray ('time', 'lat', 'lon')" in text
    # float32 under jit vs float64 NumPy, on ~290 K values: a few float32 ulps (~3e-5 K).
    assert _number(text, r"max \|numpy - jit\| = ([\d.e+-]+) K") < 5e-4
    return 3  # climatology curve, anomaly map, trend time series


def _power_law_field(n: int = 256, dx: float = 2000.0, seed: int = 42) -> np.ndarray:
    """The notebook's input: random phases, ``|amplitude| = k^-2``, scaled to 0.5 K rms."""
    rng = np.random.default_rng(seed)
    kx = np.fft.fftfreq(n, dx)
    k = np.hypot(*np.meshgrid(kx, kx, indexing="ij"))
    phase = np.fft.fft2(rng.standard_normal((n, n)))
    phase /= np.abs(phase)
    amplitude = np.zeros_like(k)
    amplitude[k > 0] = k[k > 0] ** -2.0
    values = np.fft.ifft2(phase * amplitude).real
    return values * (0.5 / values.std())


def check_xr_spectra(notebook, text, data_dir):
    n, dx = 256, 2000.0
    values = _power_law_field(n, dx)
    variance = values.var()
    assert f"variance {variance:.6f} K^2" in text
    assert "density units K^2 m^2, freq units 1/m" in text
    # Parseval in NumPy: the density is |F|^2 dx dy / (N M); df = 1 / (N dx).
    density = np.abs(np.fft.fft2(values)) ** 2 * dx * dx / (n * n)
    parseval = density.sum() / (n * dx) ** 2
    assert parseval == pytest.approx(np.mean(values**2), rel=1e-12)
    assert _number(text, r"sum\(P\) df_y df_x = ([\d.]+) K\^2") == pytest.approx(parseval, abs=6e-7)
    # Rings: int(256 / 4) equal-width bins of the radius from its min to max, the first
    # edge lowered by 0.1 % of the range, closed on the right (pandas.cut, as xrft bins).
    f = np.fft.fftfreq(n, dx)
    radius = np.hypot(*np.meshgrid(f, f, indexing="ij")).ravel()
    nbins = n // 4
    edges = np.linspace(radius.min(), radius.max(), nbins + 1)
    edges[0] -= 1e-3 * (radius.max() - radius.min())
    ring = np.digitize(radius, edges, right=True) - 1
    count = np.bincount(ring, minlength=nbins)
    kr = np.bincount(ring, radius, minlength=nbins) / count
    iso = np.bincount(ring, density.ravel(), minlength=nbins) / count * kr
    assert f"isotropic spectrum: {nbins} rings, units K^2 m" in text
    fit = (kr > 4 / (n * dx)) & (kr < 0.8 * 0.5 / dx)
    slope = np.polyfit(np.log10(kr[fit]), np.log10(iso[fit]), 1)[0]
    got = _number(text, r"fitted slope (-?[\d.]+) over")
    assert got == pytest.approx(slope, abs=6e-5)
    assert got == pytest.approx(-3.0, abs=0.1)
    assert f"over {int(fit.sum())} rings" in text
    ring_sum = 2 * np.pi * iso.sum() * np.diff(kr).mean()
    assert _number(text, r"2 pi sum\(iso\) dfreq_r = ([\d.]+) K\^2") == pytest.approx(
        ring_sum, abs=6e-7
    )
    return 3  # the field, the 2-D density, the isotropic spectrum with its fit


# The notebook's: name: (lat °N, lon °E, offset K). No station sits exactly halfway between
# two grid points: pandas' "nearest" and argmin break such a tie differently (Denver at
# 255.0°E, between 252.5 and 257.5, did).
STATIONS = {
    "Reykjavik": (64.1, 338.1, 0.8),
    "Madrid": (40.4, 356.3, -0.3),
    "Nairobi": (-1.3, 36.8, 0.0),
    "Delhi": (28.6, 77.2, 1.5),
    "Tokyo": (35.7, 139.7, -0.6),
    "Sydney": (-33.9, 151.2, 0.4),
    "Santiago": (-33.4, 289.4, -1.2),
    "Denver": (39.7, 255.01, 0.2),
}


def check_xr_reanalysis_insitu(notebook, text, data_dir):
    field = reanalysis_like("2020-01-01", "2020-12-31", nlat=36, nlon=72, seed=3)
    names = list(STATIONS)
    lat, lon, offset = (np.array([STATIONS[s][i] for s in names]) for i in range(3))
    # The observations: bilinear interpolation (the notebook's input, rebuilt), noise, offset.
    where = {"lat": xr.DataArray(lat, dims="station"), "lon": xr.DataArray(lon, dims="station")}
    at_station = field.interp(where).values
    obs = at_station + 0.5 * np.random.default_rng(7).standard_normal(at_station.shape) + offset
    # Nearest grid point by argmin of the distance in each coordinate.
    i = np.abs(field.lat.values[:, None] - lat[None, :]).argmin(axis=0)
    j = np.abs(field.lon.values[:, None] - lon[None, :]).argmin(axis=0)
    model = field.values[:, i, j]  # (time, station)
    error = model - obs
    rmse = np.sqrt(np.mean(error**2, axis=0))
    bias = error.mean(axis=0)
    for s, name in enumerate(names):
        line = re.search(rf"{name}\s+offset ([+-][\d.]+) K, grid \(\s*(-?[\d.]+),\s*([\d.]+)\): "
                         r"RMSE ([\d.]+) K, bias ([+-][\d.]+) K, r (-?[\d.]+)", text)  # fmt: skip
        assert line, f"no line for {name} in:\n{text}"
        got = [float(v) for v in line.groups()]
        r = np.corrcoef(obs[:, s], model[:, s])[0, 1]
        want = [offset[s], field.lat.values[i[s]], field.lon.values[j[s]], rmse[s], bias[s], r]
        np.testing.assert_allclose(got, want, atol=6e-5, err_msg=name)
    weight = np.broadcast_to(np.cos(np.deg2rad(lat)), error.shape)
    weighted = np.sqrt(np.sum(weight * error**2) / np.sum(weight))
    pooled = re.search(r"pooled RMSE ([\d.]+) K, cos_lat-weighted ([\d.]+) K; pooled bias "
                       r"([+-][\d.]+) K", text)  # fmt: skip
    assert pooled, text
    np.testing.assert_allclose(
        [float(v) for v in pooled.groups()],
        [np.sqrt(np.mean(error**2)), weighted, error.mean()],
        atol=6e-5,
    )
    assert f"worst station: {names[int(rmse.argmax())]}" in text
    return 2  # stations on the map coloured by RMSE, the worst station's year


XR_CHECKS = {
    "xr_climatology.ipynb": check_xr_climatology,
    "xr_forecast_skill.ipynb": check_xr_forecast_skill,
    "xr_ocean_kinematics.ipynb": check_xr_ocean_kinematics,
    "xr_reanalysis_insitu.ipynb": check_xr_reanalysis_insitu,
    "xr_spectra.ipynb": check_xr_spectra,
}
