"""Checks of the ocean-kinematics and forecast-skill notebooks, merged into ``XR_CHECKS``.

Each check rebuilds the notebook's generated input and re-derives every printed number in
plain NumPy, without the xr_toolz operators under test: geostrophy, ζ, strain and
Okubo–Weiss from ``np.gradient(..., edge_order=2)`` on the sphere (the same second-order
stencils, so agreement is to rounding), the mixed-layer depth by a threshold search on
TEOS-10 ``gsw.sigma0``; the forecast scores from the RMSE, pairwise CRPS, spread and
contingency formulas with ``cos(lat)`` weights, and the ranks binned with ``np.histogram``.
Each returns the number of figures the notebook must draw.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from xr_toolz.testing import DEFAULT_EDDIES, ensemble_forecast, ocean_profiles, ssh_eddies

G, OMEGA, RADIUS = 9.80665, 7.292115e-5, 6371008.8


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the notebook's output:\n{text}"
    return float(match.group(1))


def _kinematics(eta: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> dict[str, np.ndarray]:
    """u, v, ζ, strain components on a (time, lat, lon) field, centred differences on the sphere."""
    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    cos, tan = np.cos(phi)[:, None], np.tan(phi)[:, None]
    f = (2 * OMEGA * np.sin(phi))[:, None]

    def d_lam(a):
        return np.gradient(a, lam, axis=-1, edge_order=2) / (RADIUS * cos)

    def d_phi(a):
        return np.gradient(a, phi, axis=-2, edge_order=2) / RADIUS

    u, v = -G / f * d_phi(eta), G / f * d_lam(eta)
    zeta = d_lam(v) - d_phi(u * cos) / cos
    normal = d_lam(u) - d_phi(v) - v * tan / RADIUS
    shear = d_lam(v) + d_phi(u) + u * tan / RADIUS
    return {"u": u, "v": v, "f": f, "zeta": zeta, "sn": normal, "ss": shear}


def _threshold_mld(sigma: np.ndarray, z: np.ndarray, step: float = 0.03, ref: float = 10.0):
    """First depth below ``ref`` where σ reaches σ(ref) + step, linear between levels."""
    out = []
    for s in sigma:
        s_ref = np.interp(ref, z, s)
        zs = np.concatenate([[ref], z[z > ref]])
        ss = np.concatenate([[s_ref], s[z > ref]])
        k = int(np.argmax(ss >= s_ref + step))
        assert k > 0 and ss[k] >= s_ref + step
        out.append(
            zs[k - 1] + (s_ref + step - ss[k - 1]) * (zs[k] - zs[k - 1]) / (ss[k] - ss[k - 1])
        )
    return np.array(out)


def check_xr_ocean_kinematics(notebook, text, data_dir):
    import gsw

    ssh = ssh_eddies(resolution=0.1, ntime=10, drift=0.2)
    lat, lon = ssh.lat.values, ssh.lon.values
    k = _kinematics(ssh.values, lat, lon)
    speed0 = np.hypot(k["u"][0], k["v"][0])
    got = _number(text, r"max geostrophic speed \(day 0\): ([\d.]+) m/s")
    assert got == pytest.approx(speed0.max(), abs=6e-5)
    lat0, lon0, amp, radius = DEFAULT_EDDIES[0]  # the anticyclone's analytic peak speed
    f0 = 2 * OMEGA * np.sin(np.deg2rad(lat0))
    assert got == pytest.approx(G / f0 * amp * np.sqrt(2) / (radius * 1e3) * np.exp(-0.5), rel=0.01)
    rossby = k["zeta"][0] / k["f"]
    for lat0, lon0, amp, radius in DEFAULT_EDDIES:
        i, j = np.abs(lat - lat0).argmin(), np.abs(lon - lon0).argmin()
        value = _number(text, rf"zeta/f at \({lat0}N, {lon0}E\): ([+-][\d.]+)")
        assert value == pytest.approx(rossby[i, j], abs=6e-5)
        f0 = 2 * OMEGA * np.sin(np.deg2rad(lat0))
        assert value == pytest.approx(-4 * G * amp / (f0**2 * (radius * 1e3) ** 2), rel=0.1)
    w = k["sn"][0] ** 2 + k["ss"][0] ** 2 - k["zeta"][0] ** 2
    assert _number(text, r"sigma_W = ([\d.e+-]+) s-2") == pytest.approx(w.std(), rel=1e-4)
    fraction = _number(text, r"on a fraction ([\d.]+) of the grid cells")
    assert fraction == pytest.approx(np.mean(w < -0.2 * w.std()), abs=6e-5)
    strain = np.hypot(k["sn"][0], k["ss"][0])
    assert _number(text, r"max strain rate ([\d.e+-]+) s-1") == pytest.approx(
        strain.max(), rel=1e-4
    )
    zmax = np.abs(k["zeta"][0]).max()
    assert _number(text, r"max \|zeta\| ([\d.e+-]+) s-1") == pytest.approx(zmax, rel=1e-4)
    up, vp = k["u"] - k["u"].mean(0), k["v"] - k["v"].mean(0)
    eke = (0.5 * (up**2 + vp**2)).mean(0)
    assert _number(text, r"time-mean EKE: max ([\d.e+-]+)") == pytest.approx(eke.max(), rel=1e-4)
    assert _number(text, r"domain mean ([\d.e+-]+) m2 s-2") == pytest.approx(eke.mean(), rel=1e-4)

    prof = ocean_profiles()
    sa = gsw.SA_from_SP(prof.salinity.values, prof.pressure.values, 0.0, prof.lat.values[:, None])
    ct = gsw.CT_from_t(sa, prof.temperature.values, prof.pressure.values)
    sigma, z = gsw.sigma0(sa, ct), prof.depth.values
    mld = _threshold_mld(sigma, z)
    n2 = G * np.diff(sigma, axis=1) / (np.diff(z) * 1025.0)
    for i, h in enumerate(prof.mld.values):
        line = re.search(rf"profile {i} .*?homogeneous layer {h:.0f} m, MLD ([\d.]+) m, max N2 "
                         r"([\d.e+-]+) s-2", text)  # fmt: skip
        assert line, text
        assert float(line.group(1)) == pytest.approx(mld[i], abs=6e-3)
        assert h < mld[i] < h + 10  # a threshold MLD lies just under the homogeneous layer
        assert float(line.group(2)) == pytest.approx(n2[i].max(), rel=1e-3)
    assert "jit output: DataArray ('time', 'lat', 'lon')" in text
    # float32 under jit vs float64 NumPy: rounding of the differences, ~1e-6 of max |W|.
    assert _number(text, r"relative to max \|W\|: ([\d.e+-]+)") < 1e-5
    assert _number(text, r"MLD max \|numpy - jit\| = ([\d.e+-]+) m") < 5e-3
    return 3  # SSH + quivers, ζ/f and Okubo–Weiss maps, σ0 / N² profiles with the MLD


def _weighted(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted mean over the last two axes (lat, lon)."""
    w = np.broadcast_to(weight, values.shape)
    return (w * values).sum(axis=(-2, -1)) / w.sum(axis=(-2, -1))


def check_xr_forecast_skill(notebook, text, data_dir):
    ds = ensemble_forecast(n_members=20, n_leads=10, nlat=24, nlon=48, seed=0)
    y, x = ds.analysis.values, ds.forecast.values  # (T, Y, X), (M, T, Y, X)
    lat, m = ds.lat.values, x.shape[0]
    weight = np.cos(np.deg2rad(lat))[:, None]
    mean = x.mean(axis=0)
    rmse = np.sqrt(_weighted((mean - y) ** 2, weight))
    pairs = np.abs(x[:, None] - x[None, :]).mean(axis=(0, 1))
    crps_point = np.abs(x - y).mean(axis=0) - 0.5 * pairs
    crps = _weighted(crps_point, weight)
    spread = np.sqrt(_weighted(x.var(axis=0, ddof=1), weight))
    ratio = np.sqrt((m + 1) / m) * spread / rmse
    obs_event, fc_event = y >= 285.0, mean >= 285.0
    hits = (obs_event & fc_event).sum(axis=(1, 2))
    misses = (obs_event & ~fc_event).sum(axis=(1, 2))
    false = (~obs_event & fc_event).sum(axis=(1, 2))
    box = (lat >= -20) & (lat <= 20)
    rmse_box = np.sqrt(_weighted(((mean - y) ** 2)[:, box], weight[box]))
    assert f"tropical box: {box.sum()} latitudes x 48 longitudes" in text
    want = np.stack([rmse, crps, spread, ratio, hits / (hits + misses), false / (hits + false),
                     hits / (hits + misses + false), rmse_box], axis=1)  # fmt: skip
    for lead in range(10):
        line = re.search(
            rf"lead {lead} d: RMSE ([\d.]+) K, CRPS ([\d.]+) K, spread ([\d.]+) K, ratio "
            r"([\d.]+), POD ([\d.]+), FAR ([\d.]+), CSI ([\d.]+), tropics RMSE ([\d.]+) K",
            text,
        )
        assert line, f"no line for lead {lead} in:\n{text}"
        got = [float(v) for v in line.groups()]
        np.testing.assert_allclose(got, want[lead], atol=6e-5, err_msg=f"lead {lead}")
    mean_ratio = _number(text, r"mean spread-skill ratio over leads: ([\d.]+)")
    assert mean_ratio == pytest.approx(ratio.mean(), abs=6e-5)
    assert mean_ratio == pytest.approx(1.0, abs=0.05)  # reliable by construction
    rank = (x < y[None]).sum(axis=0).ravel()  # 0..M, no ties among continuous draws
    counts, _ = np.histogram(rank, bins=np.arange(m + 2) - 0.5)
    assert f"counts: {counts.tolist()}" in text
    expected = counts.sum() / counts.size
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert _number(text, r"chi2 ([\d.]+)") == pytest.approx(chi2, abs=6e-3)
    crps_map = crps_point.mean(axis=0)
    assert _number(text, r"CRPS map: min ([\d.]+) K") == pytest.approx(crps_map.min(), abs=6e-5)
    assert _number(text, r"CRPS map: .*?max ([\d.]+) K") == pytest.approx(crps_map.max(), abs=6e-5)
    return 3  # scores vs lead, rank histogram, CRPS map
