"""MatchedFilter and its covariance estimators against scikit-learn, a NumPy loop and physics."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_emit_scene
from geotoolz.methane import (
    MatchedFilter,
    ch4_absorption_spectrum,
    empirical_covariance,
    ledoit_wolf_covariance,
    oas_covariance,
)

from ._mf_reference import reference_matched_filter

ESTIMATORS = [
    (empirical_covariance, EmpiricalCovariance),
    (ledoit_wolf_covariance, LedoitWolf),
    (oas_covariance, OAS),
]
ABSORPTION = ch4_absorption_spectrum()


def swir(scene):
    """Bands 1500-2500 nm without the 1780-1980 nm water band: where CH4 is measured."""
    wl = np.array(scene.wavelengths)
    keep = np.flatnonzero((wl > 1500) & (wl < 2500) & ~((wl > 1780) & (wl < 1980)))
    radiance = scene.radiance[keep[0] : keep[-1] + 1][keep - keep[0]]
    return radiance, tuple(wl[keep]), tuple(np.array(scene.fwhm)[keep])


def blob(height, width, peak, sigma, centre):
    yy, xx = np.mgrid[:height, :width]
    g = peak * np.exp(-0.5 * (((yy - centre[0]) / sigma) ** 2 + ((xx - centre[1]) / sigma) ** 2))
    return np.where(g > 1e-3, g, 0.0)  # no plume where it is below 1e-3 ppm·m


@pytest.fixture(scope="module")
def small():
    """40 bands x 24 rows x 20 columns (2100-2450 nm) with a plume, and its filter."""
    plume = blob(24, 20, 1500.0, 2.0, (12, 9))
    scene = synthetic_emit_scene(
        24, 20, n_bands=40, wavelength_range=(2100.0, 2450.0),
        enhancement=plume, absorption=ABSORPTION, seed=5,
    )  # fmt: skip
    return scene


# ---------------------------------------------------------------- covariance estimators


@pytest.mark.parametrize(("ours", "theirs"), ESTIMATORS)
@pytest.mark.parametrize("masked", [False, True])
def test_covariance_equals_sklearn(ours, theirs, masked):
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6))
    samples = rng.normal(size=(3, 40, 6)) @ mixing + 5.0  # three groups of 40 samples
    valid = rng.random((3, 40)) > (0.3 if masked else -1.0)
    samples[~valid] = np.nan  # masked rows may hold anything
    est = ours(samples, valid)
    for g in range(3):
        fit = theirs().fit(samples[g][valid[g]])
        np.testing.assert_allclose(est.location[g], fit.location_, rtol=1e-12)
        np.testing.assert_allclose(est.covariance[g], fit.covariance_, rtol=1e-10, atol=1e-12)
        assert est.n_valid[g] == valid[g].sum()
        if hasattr(fit, "shrinkage_"):
            np.testing.assert_allclose(est.shrinkage[g], fit.shrinkage_, rtol=1e-10)


@pytest.mark.parametrize(("ours", "theirs"), ESTIMATORS)
def test_covariance_under_jit_float32(ours, theirs):
    rng = np.random.default_rng(1)
    samples = (rng.normal(size=(50, 5)) @ rng.normal(size=(5, 5))).astype(np.float32)
    valid = rng.random(50) > 0.2
    est = jax.jit(ours)(jnp.asarray(samples), jnp.asarray(valid))
    fit = theirs().fit(samples[valid].astype(np.float64))
    np.testing.assert_allclose(np.asarray(est.covariance), fit.covariance_, rtol=2e-5, atol=2e-5)


def test_covariance_without_valid_samples_is_zero():
    est = ledoit_wolf_covariance(np.ones((4, 3)), np.zeros(4, bool))
    np.testing.assert_array_equal(est.covariance, np.zeros((3, 3)))
    assert est.n_valid == 0


# ---------------------------------------------------------------- against the NumPy loop


@pytest.mark.parametrize("covariance", ["empirical", "ledoit_wolf", "oas"])
@pytest.mark.parametrize("per_column", [True, False])
def test_equals_numpy_reference_with_nodata(small, covariance, per_column):
    radiance = small.radiance
    values = np.array(radiance.values, dtype=np.float64)
    values[:, 3:6, 4] = np.nan  # a NaN hole in column 4
    values[7, 10, 2] = np.nan  # one NaN element: the whole pixel is nodata
    values[:, 15:18, 11] = radiance.fill_value  # fill value in every band
    values[:, :, 17] = np.nan  # a dead detector column
    nodata = np.zeros(values.shape[1:], bool)
    nodata[15:18, 11] = True
    x = radiance.replace(values=values)
    mf = MatchedFilter(
        wavelengths=small.wavelengths, fwhm=small.fwhm, covariance=covariance,
        per_column=per_column, ridge=1e-3,
    )  # fmt: skip
    got = mf(x)
    assert got.shape == (1, 24, 20) and np.isnan(got.fill_value)
    want = reference_matched_filter(
        values, mf.unit_absorption(), covariance=covariance, per_column=per_column,
        ridge=1e-3, nodata=nodata,
    )  # fmt: skip
    np.testing.assert_allclose(got.values[0], want, rtol=1e-7, atol=1e-6)
    assert np.isnan(got.values[0, :, 17]).all() and np.isnan(got.values[0, 15:18, 11]).all()
    assert np.isnan(got.values[0, 10, 2]) and np.isfinite(got.values[0, :, 16]).all()


@pytest.mark.parametrize("covariance", ["empirical", "oas"])
def test_iterations_equal_numpy_reference(small, covariance):
    values = np.asarray(small.radiance.values, dtype=np.float64)
    mf = MatchedFilter(
        wavelengths=small.wavelengths, fwhm=small.fwhm, covariance=covariance,
        per_column=False, iterations=3,
    )  # fmt: skip
    got = mf(values)[0]
    want = reference_matched_filter(
        values, mf.unit_absorption(), covariance=covariance, per_column=False, iterations=3
    )
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert np.all(got >= 0)
    # the sparse prior zeroes most of the background, and the plume least
    plume = small.enhancement
    assert np.mean(got == 0) > 0.5
    assert np.mean(got[plume > 150] > 0) > 2 * np.mean(got[plume < 1] > 0)


def test_target_tuple_equals_ch4_target(small):
    by_bands = MatchedFilter(wavelengths=small.wavelengths, fwhm=small.fwhm, per_column=False)
    by_k = MatchedFilter(target=tuple(by_bands.unit_absorption()), per_column=False)
    np.testing.assert_array_equal(by_k(small.radiance).values, by_bands(small.radiance).values)


# ---------------------------------------------------------------- the physics


@pytest.fixture(scope="module")
def plume_scene():
    plume = blob(96, 64, 1500.0, 3.0, (40, 30))
    scene = synthetic_emit_scene(
        96, 64, n_bands=135, wavelength_range=(1500.0, 2500.0),  # EMIT's 7.4 nm spacing
        enhancement=plume, absorption=ABSORPTION, seed=3, snr=1000.0,
    )  # fmt: skip
    return scene, plume


@pytest.mark.parametrize(
    ("covariance", "per_column"), [("empirical", False), ("oas", True), ("ledoit_wolf", True)]
)
def test_detects_injected_plume(plume_scene, covariance, per_column):
    scene, plume = plume_scene
    radiance, wl, fwhm = swir(scene)
    mf = MatchedFilter(wavelengths=wl, fwhm=fwhm, covariance=covariance, per_column=per_column)
    alpha = np.asarray(mf(radiance).values[0], np.float64)
    inside = plume > 0.1 * plume.max()
    r = np.corrcoef(alpha[inside], plume[inside])[0, 1]
    assert r >= 0.9, r
    background = alpha[plume < 1.0]
    assert abs(background.mean()) < 30.0, background.mean()  # ppm·m; its sd is ~100-150
    # amplitude: the filter returns R·ΔX for a pixel of albedo factor R (~1.2 here)
    slope = np.polyfit(plume[inside], alpha[inside], 1)[0]
    assert 0.8 < slope < 1.5, slope


def test_no_plume_no_signal():
    clean = synthetic_emit_scene(
        96, 64, n_bands=135, wavelength_range=(1500.0, 2500.0), seed=3, snr=1000.0
    )
    radiance, wl, fwhm = swir(clean)
    alpha = MatchedFilter(wavelengths=wl, fwhm=fwhm, per_column=False)(radiance).values[0]
    assert abs(float(np.mean(alpha))) < 1e-3 * float(np.std(alpha))  # centred by construction
    assert float(np.max(alpha)) < 1000.0


# ---------------------------------------------------------------- eager, jit, vmap


@pytest.mark.parametrize(
    ("covariance", "iterations"), [("empirical", 0), ("ledoit_wolf", 0), ("oas", 2)]
)
def test_eager_jit_vmap_agree(small, covariance, iterations):
    mf = MatchedFilter(
        wavelengths=small.wavelengths, fwhm=small.fwhm, covariance=covariance,
        iterations=iterations, per_column=covariance != "empirical",
    )  # fmt: skip
    x = small.radiance
    eager = mf(x)
    assert isinstance(eager.values, np.ndarray) and eager.values.dtype == np.float32
    jitted = eqx.filter_jit(lambda op, v: op(v))(mf, jax.tree.map(jnp.asarray, x))
    # float32 on both paths: agreement to 1e-3 of the background spread (seen: ~3e-5)
    tol = 1e-3 * float(np.nanstd(eager.values))
    np.testing.assert_allclose(np.asarray(jitted.values), eager.values, atol=tol)
    other = synthetic_emit_scene(
        24, 20, n_bands=40, wavelength_range=(2100.0, 2450.0), seed=9
    ).radiance
    stacked = gc.stack([x, other])
    batched = eqx.filter_vmap(lambda op, v: op(v), in_axes=(None, 0))(mf, stacked)
    for i, single in enumerate([x, other]):
        want = mf(single).values
        got = np.asarray(batched.values[i])
        np.testing.assert_allclose(got, want, atol=tol)


# ---------------------------------------------------------------- arguments


def test_config_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: target='ch4' needs wavelengths"):
        MatchedFilter()
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: covariance must be one of"):
        MatchedFilter(target=(-1e-5, 0.0), covariance="shrunk")
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: fwhm must have one value per band"):
        MatchedFilter(wavelengths=(2300.0, 2310.0), fwhm=(8.0,))
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: iterations must be an int >= 0"):
        MatchedFilter(target=(-1e-5,), iterations=-1)
    with pytest.raises(pk.ConfigError, match=r"unit absorption is 0 in every band"):
        MatchedFilter(wavelengths=(550.0, 650.0), fwhm=(10.0, 10.0))
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: ridge must be a number > 0"):
        MatchedFilter(target=(-1e-5,), ridge=0.0)


def test_band_count_mismatch_teaches(small):
    mf = MatchedFilter(target=(-1e-5, -2e-5, 0.0))
    with pytest.raises(gz.GeotoolzValueError, match=r"MatchedFilter: expects radiance .* 3 bands"):
        mf(small.radiance)


def test_yaml_round_trip_keeps_tuples(small):
    mf = MatchedFilter(wavelengths=small.wavelengths, fwhm=small.fwhm, covariance="oas")
    again = pk.loads_yaml(pk.dumps_yaml(mf))
    assert again.wavelengths == mf.wavelengths and pk.config_hash(again) == pk.config_hash(mf)


@pytest.mark.parametrize(("covariance", "per_column"), [("empirical", False), ("oas", True)])
def test_cholesky_solver_equals_reference_and_stays_close_under_jit(small, covariance, per_column):
    values = np.array(small.radiance.values, dtype=np.float64)
    values[:, 3:6, 4] = np.nan
    x = small.radiance.replace(values=values)
    mf = MatchedFilter(wavelengths=small.wavelengths, fwhm=small.fwhm, covariance=covariance,
                       per_column=per_column, ridge=1e-3, solver="cholesky")  # fmt: skip
    want = reference_matched_filter(values, mf.unit_absorption(), covariance=covariance,
                                    per_column=per_column, ridge=1e-3)  # fmt: skip
    got = np.asarray(mf(x).values[0])
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-6)  # float64 input: exact
    x32 = small.radiance
    eager = np.asarray(mf(x32).values)
    jitted = eqx.filter_jit(lambda op, v: op(v))(mf, jax.tree.map(jnp.asarray, x32))
    # float32 on both paths: Cholesky of Σ agrees to ~5e-3 of the spread (QR: ~3e-5)
    tol = 1e-2 * float(np.nanstd(eager))
    np.testing.assert_allclose(np.asarray(jitted.values), eager, atol=tol)
    with pytest.raises(pk.ConfigError, match=r"MatchedFilter: solver must be one of"):
        MatchedFilter(target=(-1.0, 0.0), solver="lu")


@pytest.mark.parametrize("n_cols", [20, 19])  # 4 | 20: whole chunks; 19 is prime: padded
def test_chunked_over_columns_equals_reference(small, n_cols, monkeypatch):
    from geotoolz.methane import _matched_filter

    radiance = small.radiance[..., :n_cols]
    values = np.array(radiance.values, dtype=np.float64)
    values[:, 3:6, 4] = np.nan
    values[:, 15:18, 11] = radiance.fill_value
    nodata = np.zeros(values.shape[1:], bool)
    nodata[15:18, 11] = True
    x = radiance.replace(values=values)
    mf = MatchedFilter(wavelengths=small.wavelengths, fwhm=small.fwhm,
                       covariance="ledoit_wolf", ridge=1e-3)  # fmt: skip
    # 4 columns of 24 rows x 40 bands per step (the scenes here are otherwise one step)
    monkeypatch.setattr(_matched_filter, "_CHUNK_BYTES", 4 * 24 * 40 * 8)
    want = reference_matched_filter(values, mf.unit_absorption(), covariance="ledoit_wolf",
                                    ridge=1e-3, nodata=nodata)  # fmt: skip
    np.testing.assert_allclose(mf(x).values[0], want, rtol=1e-7, atol=1e-6)
    monkeypatch.setattr(_matched_filter, "_CHUNK_BYTES", 4 * 24 * 40 * 4)  # float32 bytes
    x32 = x.replace(values=values.astype(np.float32))
    jitted = eqx.filter_jit(lambda op, v: op(v))(mf, jax.tree.map(jnp.asarray, x32))
    got = np.asarray(jitted.values[0])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, atol=1e-3 * float(np.nanstd(want)))
