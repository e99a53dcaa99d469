"""geocatalog.testing.gaussian_plume: mass budget (continuity), spreads, units, determinism."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from geocatalog import GeoValueError
from geocatalog.testing import gaussian_plume, kg_m2_per_ppm_m, pasquill_gifford_sigmas

RES = 20.0


@pytest.mark.parametrize(("flux_kg_h", "wind"), [(1000.0, 2.0), (3600.0, 5.0), (250.0, 8.0)])
def test_every_crosswind_line_carries_q_over_u(flux_kg_h, wind):
    # Continuity: the mass per metre downwind is Q / U at every distance (independent of
    # sigma_y and of the stability class).
    field = gaussian_plume(128, 96, flux_kg_h=flux_kg_h, wind_speed=wind, res=RES)
    per_metre = field.values[0].sum(axis=0) * RES  # column sums, wind towards +x (east)
    source_col = 96 // 4
    np.testing.assert_allclose(per_metre[source_col + 2 : 80], flux_kg_h / 3600.0 / wind, rtol=1e-3)
    assert np.all(field.values[0][:, : source_col - 1] == 0.0)  # nothing upwind


@pytest.mark.parametrize("stability", ["A", "C", "F"])
def test_continuity_holds_for_a_northward_wind(stability):
    field = gaussian_plume(
        96, 160, flux_kg_h=2000.0, wind_speed=4.0, wind_towards_deg=0.0, stability=stability,
        source_rowcol=(90.5, 80.5), res=RES,
    )  # fmt: skip
    per_metre = field.values[0].sum(axis=1) * RES  # row sums; north is up (row decreases)
    np.testing.assert_allclose(per_metre[20:85], 2000.0 / 3600.0 / 4.0, rtol=2e-3)


def test_mass_in_a_downwind_band_of_an_oblique_plume():
    # Wind towards 30 degrees (north-north-east): the mass of the pixels whose centres lie
    # 300-1300 m downwind is Q/U times 1000 m, up to the pixels cut by the band's edges.
    q, u = 1500.0 / 3600.0, 3.0
    field = gaussian_plume(160, 160, flux_kg_h=1500.0, wind_speed=u, wind_towards_deg=30.0,
                           source_rowcol=(140.5, 40.5), res=RES, stability="B")  # fmt: skip
    rows, cols = np.mgrid[0:160, 0:160] + 0.5
    east, north = (cols - 40.5) * RES, -(rows - 140.5) * RES
    downwind = east * math.sin(math.radians(30)) + north * math.cos(math.radians(30))
    band = (downwind >= 300) & (downwind < 1300)
    mass = field.values[0][band].sum() * RES * RES
    assert mass == pytest.approx(q / u * 1000.0, rel=0.02)


def test_centreline_value_and_briggs_spreads_by_hand():
    # Class D at x = 1000 m: sigma_y = 0.08 * 1000 / sqrt(1.1) = 76.277 m,
    # sigma_z = 0.06 * 1000 / sqrt(2.5) = 37.947 m (Briggs rural).
    sy, sz = pasquill_gifford_sigmas(np.array([1000.0]), "D")
    assert float(sy[0]) == pytest.approx(80.0 / math.sqrt(1.1), rel=1e-12)
    assert float(sz[0]) == pytest.approx(60.0 / math.sqrt(2.5), rel=1e-12)
    # A 1 m grid sampled at pixel centres (oversample=1): the pixel whose centre is 1000 m
    # downwind on the centreline holds Q / (U sqrt(2 pi) sigma), sigma^2 = sigma_y^2 + 5^2.
    field = gaussian_plume(3, 1003, flux_kg_h=3600.0, wind_speed=2.0, res=1.0, oversample=1,
                           source_rowcol=(1.5, 0.5))  # fmt: skip
    sigma = math.hypot(80.0 / math.sqrt(1.1), 5.0)
    assert field.values[0, 1, 1000] == pytest.approx(1.0 / (2.0 * math.sqrt(2 * math.pi) * sigma))


def test_ppm_m_units_follow_the_ideal_gas_by_hand():
    # 1 ppm m at 101325 Pa, 273.15 K: 1e-6 * 101325 * 0.01604 / (8.314462618 * 273.15)
    assert kg_m2_per_ppm_m() == pytest.approx(7.156251e-7, rel=1e-6)
    assert kg_m2_per_ppm_m(90_000.0, 300.0) == pytest.approx(
        1e-6 * 90_000 * 0.01604 / (8.314462618 * 300.0), rel=1e-12
    )
    kg = gaussian_plume(32, 32)
    ppm = gaussian_plume(32, 32, units="ppm_m")
    np.testing.assert_allclose(ppm.values * 7.156251e-7, kg.values, rtol=1e-6)


def test_georeferencing_and_determinism():
    a = gaussian_plume(16, 24, res=30.0)
    b = gaussian_plume(16, 24, res=30.0)
    assert a.values.tobytes() == b.values.tobytes()
    assert a.shape == (1, 16, 24) and a.res == (30.0, 30.0) and a.crs_string == "EPSG:32633"


def test_bad_arguments_are_named():
    with pytest.raises(GeoValueError, match=r"stability must be one of .* got 'G'"):
        gaussian_plume(8, 8, stability="G")
    with pytest.raises(GeoValueError, match=r"gaussian_plume: wind_speed must be > 0, got 0.0"):
        gaussian_plume(8, 8, wind_speed=0.0)
    with pytest.raises(GeoValueError, match=r"units must be 'kg_m2' or 'ppm_m', got 'ppb'"):
        gaussian_plume(8, 8, units="ppb")


def test_plume_model_is_framework_free():
    code = (
        "import sys, geocatalog.testing as t\n"
        "t.gaussian_plume(16, 16)\n"
        "bad = [m for m in ('pipekit', 'geotoolz') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_s2_pair_injects_beer_lambert_absorption_in_b11_and_b12():
    from geocatalog.testing import synthetic_s2_methane_pair

    pair = synthetic_s2_methane_pair(48, 48, k_b11=-6e-7, k_b12=-3.7e-6, seed=4, noise_sd=0.0,
                                     reference_gain=1.0)  # fmt: skip
    dx = pair.enhancement.values[0]
    ratio = pair.target.values / pair.reference.values
    np.testing.assert_allclose(ratio[3], np.exp(-3.7e-6 * dx), rtol=1e-6)
    np.testing.assert_allclose(ratio[2], np.exp(-6e-7 * dx), rtol=1e-6)
    np.testing.assert_allclose(ratio[:2], 1.0, rtol=1e-6)
    b12_over_b11 = pair.reference.values[3] / pair.reference.values[2]
    assert b12_over_b11.max() - b12_over_b11.min() > 0.2  # a heterogeneous SWIR surface
    with pytest.raises(GeoValueError, match=r"k_b11 and k_b12 are unit absorptions .* <= 0"):
        synthetic_s2_methane_pair(8, 8, k_b11=1e-6, k_b12=-1e-6)
