"""CH4 absorption table and Gaussian band averages against hand numerical integrals."""

import numpy as np
import pytest

import geotoolz as gz
from geotoolz.methane import ch4_absorption_spectrum, ch4_unit_absorption


def _window_mean(wl, coef, lo, hi):
    inside = (wl > lo) & (wl < hi)
    return coef[inside].mean()


def test_spectrum_shape_range_and_sign():
    wl, coef = ch4_absorption_spectrum()
    assert wl.shape == coef.shape == (31800,)
    assert wl.dtype == coef.dtype == np.float64
    assert np.all(np.diff(wl) > 0)
    np.testing.assert_allclose([wl[0], wl[-1]], [1399.59, 2522.04], atol=0.01)
    assert np.all(coef >= 0)
    # fresh copies: editing one leaves the next call alone
    coef[:] = -1.0
    assert np.all(ch4_absorption_spectrum()[1] >= 0)


def test_strong_bands_exceed_the_2100_2200_continuum():
    wl, coef = ch4_absorption_spectrum()
    continuum = _window_mean(wl, coef, 2100, 2200)
    band_23 = _window_mean(wl, coef, 2300, 2400)
    band_165 = _window_mean(wl, coef, 1640, 1680)
    assert band_23 > 10 * continuum
    assert band_165 > 2 * continuum
    # the 2.3 µm band is the strongest methane feature in the SWIR
    assert band_23 > 3 * band_165


def test_narrow_band_equals_spectrum_at_its_centre():
    wl, coef = ch4_absorption_spectrum()
    idx = np.array([2000, 15000, 26000, 31000])
    centres = wl[idx]
    # on a table point the kink adds σ·φ(0)·Δslope: 1e-6 nm makes it < 1e-5 relative
    k = ch4_unit_absorption(centres, np.full(idx.size, 1e-6), amf=2.0)
    np.testing.assert_allclose(k, -2.0 * coef[idx], rtol=1e-5, atol=1e-14)
    # between two table points: the linear interpolant
    mid = 0.5 * (wl[15000] + wl[15001])
    k_mid = ch4_unit_absorption([mid], [1e-5], amf=3.0)
    np.testing.assert_allclose(k_mid, -3.0 * np.interp(mid, wl, coef), rtol=1e-6)


@pytest.mark.parametrize(
    ("centre", "fwhm"),
    [(2350.0, 8.5), (1666.0, 7.4), (1610.0, 90.0), (2190.0, 180.0), (1402.0, 20.0)],
)
def test_gaussian_band_average_matches_a_hand_integral(centre, fwhm):
    wl, coef = ch4_absorption_spectrum()
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    # dense uniform grid over ±10σ, spectrum linearly interpolated, 0 outside the table
    grid = np.linspace(centre - 10 * sigma, centre + 10 * sigma, 400_001)
    f = np.interp(grid, wl, coef, left=0.0, right=0.0)
    srf = np.exp(-0.5 * ((grid - centre) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    expected = -2.0 * np.trapezoid(srf * f, grid)
    k = ch4_unit_absorption([centre], [fwhm])
    np.testing.assert_allclose(k, [expected], rtol=2e-4)


def test_sentinel2_swir_bands():
    k = ch4_unit_absorption([1610.0, 2190.0], [90.0, 180.0])
    assert np.all(k < 0)
    # B12 holds the 2.3 µm wing, B11 only the weaker 1.65 µm band
    assert k[1] < k[0]


def test_amf_scales_linearly():
    k2 = ch4_unit_absorption([2300.0, 2350.0], [8.0, 8.0], amf=2.0)
    k3 = ch4_unit_absorption([2300.0, 2350.0], [8.0, 8.0], amf=3.0)
    np.testing.assert_allclose(k3, 1.5 * k2, rtol=1e-12)


def test_bands_outside_the_table_have_no_absorption():
    k = ch4_unit_absorption([550.0, 865.0], [10.0, 10.0])
    np.testing.assert_array_equal(k, [0.0, 0.0])


def test_argument_errors_teach():
    with pytest.raises(gz.GeotoolzValueError, match=r"ch4_unit_absorption: fwhm_nm must have"):
        ch4_unit_absorption([2300.0, 2350.0], [8.0])
    with pytest.raises(ValueError, match=r"fwhm_nm finite and > 0"):
        ch4_unit_absorption([2300.0], [0.0])
    with pytest.raises(ValueError, match=r"amf must be a finite number > 0"):
        ch4_unit_absorption([2300.0], [8.0], amf=-1.0)
