"""geotoolz.correction against hand computations, NumPy formulas and a second d(DOY) formula."""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_scene
from tests.conformance._examples_correction import toa_scene

corr = gz.correction


def spencer_distance(day: int) -> float:
    """d from Spencer (1971): (r0/r)^2 as a Fourier series in the day angle."""
    g = 2 * math.pi * (day - 1) / 365
    e0 = (1.000110 + 0.034221 * math.cos(g) + 0.001280 * math.sin(g)
          + 0.000719 * math.cos(2 * g) + 0.000077 * math.sin(2 * g))  # fmt: skip
    return 1 / math.sqrt(e0)


def gt_of(values: np.ndarray, fill: float | int | None = None) -> GeoTensor:
    from affine import Affine

    return GeoTensor(values, Affine(10, 0, 399960, 0, -10, 4500000), "EPSG:32630", fill_value=fill)


# -- Earth-Sun distance ------------------------------------------------------------------


def test_earth_sun_distance_by_hand_and_against_spencer():
    # perihelion (4 January): 1 - 0.01672 cos 0
    assert corr.earth_sun_distance(4) == pytest.approx(0.98328, abs=1e-12)
    # day 186: cos(0.9856 * 182 deg) = cos(179.3792 deg) = -0.99994132
    assert corr.earth_sun_distance(186) == pytest.approx(1 + 0.01672 * 0.99994132, abs=1e-8)
    worst = max(abs(corr.earth_sun_distance(d) - spencer_distance(d)) for d in range(1, 367))
    assert worst < 1e-3  # the docstring's stated agreement


@pytest.mark.parametrize("day", [0, 367, 1.5, True])
def test_day_of_year_is_checked(day):
    with pytest.raises(pk.ConfigError, match=r"day_of_year must be an int in 1\.\.366"):
        corr.RadianceToReflectance(esun=1000.0, sun_zenith=30.0, day_of_year=day)


# -- DNToRadiance -------------------------------------------------------------------------


def test_dn_to_radiance_per_band_by_hand_and_nodata():
    dn = np.array([[[0, 100, 200]], [[0, 10, 65535]]], np.uint16)  # pixel 0: nodata
    out = corr.DNToRadiance(gain=[0.5, 2.0], offset=[-1.0, 3.0])(gt_of(dn, fill=0))
    assert out.dtype == np.float32 and np.isnan(out.fill_value)
    want = np.array([[[np.nan, 49.0, 99.0]], [[np.nan, 23.0, 131073.0]]], np.float32)
    np.testing.assert_array_equal(np.asarray(out.values), want)


def test_dn_to_radiance_scalar_on_jax_equals_numpy():
    dn = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    op = corr.DNToRadiance(gain=0.01, offset=-0.1)
    np.testing.assert_allclose(op(dn), 0.01 * dn - 0.1, rtol=1e-6, atol=1e-7)
    jitted = np.asarray(eqx.filter_jit(op)(jnp.asarray(dn)))  # XLA may fuse to an FMA
    np.testing.assert_allclose(jitted, op(dn), rtol=1e-6, atol=1e-7)


def test_dn_to_radiance_band_count_error_teaches():
    op = corr.DNToRadiance(gain=[1.0, 2.0, 3.0])
    with pytest.raises(gz.GeotoolzValueError, match=r"gain has 3 values, but the input has 2 band"):
        op(np.ones((2, 1, 1)))
    with pytest.raises(pk.ConfigError, match=r"DNToRadiance: offset must be a finite number"):
        corr.DNToRadiance(offset=[0.0, float("nan")])


# -- RadianceToReflectance ----------------------------------------------------------------


def test_radiance_to_reflectance_by_hand():
    L = np.array([[[100.0, 50.0]], [[20.0, 0.0]]])
    op = corr.RadianceToReflectance(esun=[1500.0, 1000.0], sun_zenith=30.0, day_of_year=4)
    d2 = 0.98328**2
    cos30 = math.sqrt(3) / 2
    want = np.pi * L * d2 / (np.array([1500.0, 1000.0])[:, None, None] * cos30)
    np.testing.assert_allclose(op(L), want, rtol=1e-12)
    assert op(L)[0, 0, 0] == pytest.approx(0.23382, abs=1e-5)  # pi*100*0.96684/(1500*0.86603)


def test_radiance_to_reflectance_per_pixel_zenith_band_is_consumed_and_qa_kept():
    L = np.array([[[100.0, 100.0, 100.0]], [[0.0, 60.0, 90.0]], [[1024.0, 0.0, 2048.0]]])
    op = corr.RadianceToReflectance(esun=1000.0, sun_zenith_band=1, earth_sun_distance=1.0,
                                    keep_bands=[-1])  # fmt: skip
    out = op(L)
    assert out.shape == (2, 1, 3)  # the zenith band is dropped
    np.testing.assert_allclose(out[0, 0, :2], [np.pi * 100 / 1000, np.pi * 100 / 500], rtol=1e-12)
    assert np.isnan(out[0, 0, 2])  # sun on the horizon: no reflectance
    np.testing.assert_array_equal(out[1], L[2])  # QA passes through


def test_radiance_to_reflectance_argument_errors():
    with pytest.raises(pk.ConfigError, match="exactly one of sun_zenith"):
        corr.RadianceToReflectance(esun=1.0, day_of_year=3)
    with pytest.raises(pk.ConfigError, match="exactly one of day_of_year"):
        corr.RadianceToReflectance(esun=1.0, sun_zenith=3.0)
    with pytest.raises(pk.ConfigError, match=r"sun_zenith must be .* in \[0, 90\)"):
        corr.RadianceToReflectance(esun=1.0, sun_zenith=95.0, day_of_year=3)
    with pytest.raises(pk.ConfigError, match="esun must be > 0"):
        corr.RadianceToReflectance(esun=[1.0, 0.0], sun_zenith=3.0, day_of_year=3)
    op = corr.RadianceToReflectance(esun=[1.0, 2.0], sun_zenith_band=-1, day_of_year=3,
                                    keep_bands=[0])  # fmt: skip
    with pytest.raises(gz.GeotoolzValueError,
                       match=r"esun has 2 values, but the input has 1 bands to correct "
                             r"\(besides kept bands \[0\] and sun zenith band 2\)"):  # fmt: skip
        op(np.ones((3, 1, 1)))
    with pytest.raises(gz.BandIndexError, match=r"sun_zenith_band=-1 is also in keep_bands"):
        corr.RadianceToReflectance(esun=1.0, sun_zenith_band=-1, day_of_year=3,
                                   keep_bands=[2])(np.ones((3, 1, 1)))  # fmt: skip


# -- DarkObjectSubtraction ----------------------------------------------------------------


def test_dos1_reflectance_by_hand_leaves_nodata_out():
    # Band 0 valid values 0.03 0.05 0.07 0.20 (and a nodata pixel of fill -1).
    # P25: h = 3 * 0.25 = 0.75 -> 0.03 + 0.75 * 0.02 = 0.045; haze = 0.045 - 0.01 = 0.035.
    x = np.array([[[-1.0, 0.03, 0.05, 0.07, 0.20]], [[-1.0, 0.5, 0.5, 0.5, 0.5]]])
    out = corr.DarkObjectSubtraction(percentile=25)(gt_of(x, fill=-1.0))
    v = np.asarray(out.values)
    assert np.isnan(v[:, 0, 0]).all()
    np.testing.assert_allclose(v[0, 0, 1:], [0.03 - 0.035, 0.015, 0.035, 0.165], atol=1e-12)
    np.testing.assert_allclose(v[1, 0, 1:], 0.5 - 0.49, atol=1e-12)  # dark 0.5 -> haze 0.49
    # not "subtract the whole percentile": the dark object keeps its 1 % reflectance
    x1 = np.array([[[0.06, 0.10]]])
    np.testing.assert_allclose(corr.DarkObjectSubtraction(percentile=0)(x1), [[[0.01, 0.05]]])


def test_dos1_scaled_reflectance_and_haze_clipped_at_zero():
    x = np.array([[[600.0, 2000.0]], [[40.0, 900.0]]], np.float32)  # DN = 10000 rho
    out = corr.DarkObjectSubtraction(percentile=0, scale=10_000)(x)
    # band 0: dark 600, 1 % = 100 DN -> haze 500; band 1: dark 40 < 100 -> haze 0
    np.testing.assert_allclose(out, [[[100.0, 1500.0]], [[40.0, 900.0]]])


def test_dos1_radiance_by_hand():
    # 1 % reflector radiance: 0.01 * 1000 * cos 60 / (pi * 1^2) = 5 / pi
    L = np.array([[[5.0, 5.0, 30.0]]])
    op = corr.DarkObjectSubtraction(percentile=0, esun=1000.0, sun_zenith=60.0,
                                    earth_sun_distance=1.0)  # fmt: skip
    l1 = 5 / np.pi
    np.testing.assert_allclose(op(L), [[[l1, l1, 30.0 - (5.0 - l1)]]], rtol=1e-12)
    # a reflectance computed from the output gives the dark object 1 %
    rho = corr.RadianceToReflectance(esun=1000.0, sun_zenith=60.0, earth_sun_distance=1.0)
    assert rho(op(L))[0, 0, 0] == pytest.approx(0.01)


def test_dos_argument_errors():
    with pytest.raises(pk.ConfigError, match=r"given without esun"):
        corr.DarkObjectSubtraction(sun_zenith=30.0)
    with pytest.raises(pk.ConfigError, match=r"needs sun_zenith"):
        corr.DarkObjectSubtraction(esun=1000.0, day_of_year=4)
    with pytest.raises(pk.ConfigError, match=r"scale=10000.0 applies to reflectance input"):
        corr.DarkObjectSubtraction(esun=1000.0, sun_zenith=3.0, day_of_year=4, scale=10000)
    with pytest.raises(pk.ConfigError, match=r"percentile must be a percentile in \[0, 100\]"):
        corr.DarkObjectSubtraction(percentile=101)


# -- TOAToBOA (COST) ----------------------------------------------------------------------


def test_toa_to_boa_by_hand():
    # one band + SZA + QA; rho TOA 0.06 0.10 0.30 0.08; SZA 60 (tau 0.5) except pixel 3
    # (SZA 0, tau 1). dark = P0 = 0.06; haze = 0.06 - 0.01 tau.
    rho = np.array([[[0.06, 0.10, 0.30, 0.08]], [[60.0, 60.0, 60.0, 0.0]], [[0, 1024, 0, 0]]])
    out = corr.TOAToBOA(sun_zenith_band=-2, scale=1.0, dark_percentile=0)(rho)
    haze = np.array([0.055, 0.055, 0.055, 0.05])
    tau = np.array([0.5, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(out[0, 0], (rho[0, 0] - haze) / tau, atol=1e-12)
    np.testing.assert_allclose(out[0, 0], [0.01, 0.09, 0.49, 0.03], atol=1e-12)
    np.testing.assert_array_equal(out[1], rho[2])  # QA passed through, SZA dropped


def test_toa_to_boa_inverts_the_cost_forward_model():
    # rho_TOA = haze + tau * rho_s with a dark object of exactly 1 %: COST recovers rho_s.
    rng = np.random.default_rng(0)
    rho_s = rng.uniform(0.01, 0.5, size=(3, 20, 20))
    rho_s[:, 0, 0] = 0.01  # the darkest pixel of each band (percentile 0)
    tau = math.cos(math.radians(35.0))
    haze = np.array([0.08, 0.05, 0.02])[:, None, None]
    toa = haze + tau * rho_s
    stack = np.concatenate([toa * 10_000, np.full((1, 20, 20), 35.0)])
    out = corr.TOAToBOA(sun_zenith_band=-1, keep_bands=[], dark_percentile=0)(stack)
    np.testing.assert_allclose(out / 10_000, rho_s, atol=1e-12)


def test_toa_to_boa_defaults_fit_the_case8_layout_after_mask_clouds():
    """[B02, B03, B04, B08, SZA, QA60] DN -> MaskClouds -> TOAToBOA(-2) -> NDVI."""
    scene = toa_scene()
    masked = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(scene)
    assert masked.shape[-3] == 6  # MaskClouds keeps the QA band
    pipe = pk.Sequential([gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
                          corr.TOAToBOA(sun_zenith_band=-2),
                          gz.indices.NDVI(red_idx=2, nir_idx=3)])  # fmt: skip
    boa = corr.TOAToBOA(sun_zenith_band=-2)(masked)
    assert boa.shape[-3] == 5  # SZA consumed
    # NumPy oracle of the whole chain
    v = np.asarray(scene.values).astype(np.float64)
    qa = v[5].astype(np.uint32)
    bad = ((qa & (1 << 10 | 1 << 11)) != 0) | np.all(v == 0, axis=0)
    refl = np.where(bad, np.nan, v[:4] / 10_000)
    tau = np.cos(np.radians(np.where(bad, np.nan, v[4])))
    dark = np.nanpercentile(refl, 1.0, axis=(-2, -1))[:, None, None]
    want = (refl - np.maximum(dark - 0.01 * tau, 0)) / tau
    np.testing.assert_allclose(np.asarray(boa.values[:4]), want * 10_000, rtol=2e-5, atol=0.05)
    np.testing.assert_array_equal(np.asarray(boa.values[4]), v[5].astype(np.float32))  # QA kept
    ndvi = (want[3] - want[2]) / (want[3] + want[2])
    np.testing.assert_allclose(np.asarray(pipe(scene).values), ndvi, rtol=1e-4, atol=1e-5)


def test_toa_to_boa_scale_changes_units_only():
    scene = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(toa_scene())
    values = np.asarray(scene.values).copy()
    values[:4] /= 10_000  # reflectance instead of DN
    dn = corr.TOAToBOA()(scene)
    refl = corr.TOAToBOA(scale=1.0)(scene.replace(values=values))
    np.testing.assert_allclose(np.asarray(refl.values[:4]), np.asarray(dn.values[:4]) / 10_000,
                               rtol=1e-4, atol=1e-7)  # fmt: skip


def test_toa_to_boa_needs_a_band_axis_and_a_real_band():
    with pytest.raises(gz.GeotoolzValueError, match=r"TOAToBOA expects values of shape"):
        corr.TOAToBOA()(np.ones((4, 4)))
    with pytest.raises(gz.BandIndexError, match=r"sun_zenith_band=-2 is out of range for 1"):
        corr.TOAToBOA(keep_bands=[])(np.ones((1, 4, 4)))
    with pytest.raises(gz.GeotoolzValueError, match=r"no band left to correct"):
        corr.TOAToBOA()(np.ones((2, 4, 4)))


def test_toa_to_boa_vmap_over_scenes_uses_each_scenes_dark_object():
    a = synthetic_scene(16, 16, seed=1)
    b = synthetic_scene(16, 16, seed=2)
    stack = []
    for gt in (a, b):
        v = np.asarray(gt.values)
        stack.append(np.concatenate([v[:4], np.full((1, 16, 16), 30, np.uint16), v[-1:]]))
    batch = jnp.asarray(np.stack(stack))
    op = corr.TOAToBOA()
    out = eqx.filter_vmap(op)(batch)
    for i in range(2):
        np.testing.assert_allclose(np.asarray(out[i]), op(stack[i]), rtol=1e-5, atol=1e-2)
