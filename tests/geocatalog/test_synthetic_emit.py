"""The synthetic EMIT-like cube: bands, determinism, and the CH4 plume against Beer-Lambert."""

import numpy as np
import pytest

import geocatalog as gc
from geocatalog.testing import emit_reflectance, synthetic_emit_scene
from geotoolz.methane import ch4_absorption_spectrum, ch4_unit_absorption

ABSORPTION = ch4_absorption_spectrum()


def test_bands_and_carrier():
    scene = synthetic_emit_scene(6, 5, seed=2)
    assert scene.radiance.shape == (285, 6, 5) and scene.radiance.dtype == np.float32
    wl = np.array(scene.wavelengths)
    np.testing.assert_allclose([wl[0], wl[-1]], [380.0, 2500.0])
    np.testing.assert_allclose(np.diff(wl), 2120.0 / 284)  # EMIT's ~7.4 nm
    assert 8.0 < min(scene.fwhm) < max(scene.fwhm) < 9.0
    assert scene.radiance.fill_value == -9999.0 and scene.radiance.crs == "EPSG:32611"
    np.testing.assert_array_equal(scene.enhancement, np.zeros((6, 5)))
    # radiance is positive and peaks in the visible; saturated water bands are dark
    bright = scene.radiance.values.mean(axis=(1, 2))
    assert 400 < wl[np.argmax(bright)] < 900
    assert bright[np.argmin(np.abs(wl - 1380))] < 0.02 * bright.max()


def test_deterministic_by_seed():
    a = synthetic_emit_scene(8, 6, n_bands=30, seed=4).radiance.values
    b = synthetic_emit_scene(8, 6, n_bands=30, seed=4).radiance.values
    c = synthetic_emit_scene(8, 6, n_bands=30, seed=5).radiance.values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_reflectance_shapes():
    wl = np.array([450.0, 670.0, 860.0, 1650.0, 2200.0])
    veg, soil, water = emit_reflectance(wl)
    assert veg[2] > 5 * veg[1]  # the red edge
    assert soil[3] > soil[0] and water[0] > water[2]
    assert np.all(emit_reflectance(np.linspace(380, 2500, 200)) > 0)


def test_plume_follows_beer_lambert():
    """Small ΔX: relative change of each band = k·ΔX with k the band-averaged absorption."""
    plume = np.zeros((4, 3))
    plume[1, 1] = 20.0  # ppm·m: deep in the linear regime
    kwargs = {"n_bands": 60, "wavelength_range": (2050.0, 2490.0), "seed": 1, "snr": 1e7}
    with_plume = synthetic_emit_scene(4, 3, enhancement=plume, absorption=ABSORPTION, **kwargs)
    without = synthetic_emit_scene(4, 3, **kwargs)
    relative = with_plume.radiance.values[:, 1, 1] / without.radiance.values[:, 1, 1] - 1.0
    k = ch4_unit_absorption(with_plume.wavelengths, with_plume.fwhm, amf=2.0)
    strong = k < 0.3 * k.min()
    # the generator weights each band by the solar x atmosphere spectrum, k by the SRF only
    np.testing.assert_allclose(relative[strong], 20.0 * k[strong], rtol=0.1)
    # pixels without a plume are untouched (bit for bit: the draws do not depend on it)
    untouched = np.ones((4, 3), bool)
    untouched[1, 1] = False
    np.testing.assert_array_equal(
        with_plume.radiance.values[:, untouched], without.radiance.values[:, untouched]
    )


def test_large_plume_saturates():
    plume = np.full((2, 2), 20000.0)
    kwargs = {"n_bands": 20, "wavelength_range": (2300.0, 2380.0), "seed": 1, "snr": 1e7}
    a = synthetic_emit_scene(2, 2, enhancement=plume, absorption=ABSORPTION, **kwargs)
    b = synthetic_emit_scene(2, 2, **kwargs)
    ratio = a.radiance.values / b.radiance.values
    k = ch4_unit_absorption(a.wavelengths, a.fwhm)
    # Beer-Lambert inside the band is weaker than the linear k·ΔX, and stays above 0
    assert np.all(ratio > 0) and np.all(ratio[:, 0, 0] - 1 > 20000.0 * k)


def test_errors_teach():
    with pytest.raises(gc.GeoValueError, match=r"an enhancement needs absorption="):
        synthetic_emit_scene(4, 4, enhancement=np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"enhancement must be a finite \(4, 4\) map"):
        synthetic_emit_scene(4, 4, enhancement=np.ones((3, 4)), absorption=ABSORPTION)
    with pytest.raises(ValueError, match=r"height and width must be positive integers"):
        synthetic_emit_scene(0, 4)
