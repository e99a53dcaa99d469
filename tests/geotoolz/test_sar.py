"""SAR operators: decibels and the Lee speckle filter against independent NumPy/SciPy oracles."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.ndimage import uniform_filter

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_s1_scene


def gamma_speckle(enl, shape, seed=0):
    """Homogeneous unit-mean intensity speckle of ``enl`` looks: Gamma(enl, 1/enl)."""
    return np.random.default_rng(seed).gamma(enl, 1.0 / enl, size=shape).astype(np.float32)


def lee_reference(z, window, enl):
    """Lee (1980) in float64 with scipy's box filter, borders by scipy's mode="reflect"."""
    z = np.asarray(z, np.float64)
    size = (1,) * (z.ndim - 2) + (window, window)
    mean = uniform_filter(z, size=size, mode="reflect")
    var = np.maximum(uniform_filter(z * z, size=size, mode="reflect") - mean * mean, 0.0)
    sv2 = np.reshape(1.0 / np.asarray(enl, np.float64), (*np.shape(enl), 1, 1))
    signal = np.maximum((var - mean * mean * sv2) / (1.0 + sv2), 0.0)
    gain = np.divide(signal, var, out=np.zeros_like(var), where=var > 0)
    return mean + gain * (z - mean)


def enl_reference(z, window):
    """1 / median of the unbiased local CV^2 over boxes inside the image (scipy + np.median)."""
    z = np.asarray(z, np.float64)
    r, n = window // 2, window * window
    size = (1,) * (z.ndim - 2) + (window, window)
    mean = uniform_filter(z, size=size, mode="reflect")
    var = uniform_filter(z * z, size=size, mode="reflect") - mean * mean
    cv2 = (var / mean**2 * n / (n - 1))[..., r:-r, r:-r]
    return 1.0 / np.median(cv2, axis=(-2, -1))


# ----------------------------------------------------------------------------- LinearToDB


def test_linear_to_db_formula_and_non_positive_values():
    x = np.array([[[1.0, 10.0, 0.01, 0.0, -2.0, np.nan, np.inf]]], np.float32)
    out = gz.sar.LinearToDB()(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, :3], [0.0, 10.0, -20.0], atol=1e-6)
    assert np.isnan(out[0, 0, 3:6]).all() and out[0, 0, 6] == np.inf


def test_linear_to_db_geotensor_integer_jit_and_grad():
    s1 = synthetic_s1_scene(32, 32, seed=3)
    out = gz.sar.LinearToDB()(s1)
    np.testing.assert_allclose(out.values, 10 * np.log10(s1.values.astype(np.float64)), rtol=1e-6)
    assert out.transform == s1.transform and np.isnan(out.fill_value)
    assert gz.sar.LinearToDB()(np.array([[4, 0]], np.uint16)).dtype == np.float32
    jitted = eqx.filter_jit(gz.sar.LinearToDB())(jax.tree.map(jnp.asarray, s1))
    np.testing.assert_allclose(jitted.values, out.values, rtol=1e-6)
    x = jnp.array([[1.0, 0.0, -1.0]])
    grad = jax.grad(lambda v: jnp.nansum(gz.sar.LinearToDB()(v)))(x)
    np.testing.assert_allclose(grad, [[10 / np.log(10), 0.0, 0.0]], rtol=1e-6)


# ----------------------------------------------------------------------------- Lee filter


@pytest.mark.parametrize("window", [3, 7, 9])
def test_lee_equals_scipy_reference_borders_included(window):
    s1 = synthetic_s1_scene(96, 80, seed=1)  # heterogeneous: water, fields, rough land
    z = np.asarray(s1.values)
    out = gz.sar.LeeSpeckle(window=window, enl=4.4)(s1)
    assert out.dtype == np.float32 and out.transform == s1.transform
    want = lee_reference(z, window, 4.4)
    np.testing.assert_allclose(out.values, want, rtol=1e-5)  # measured: 2e-6
    jitted = eqx.filter_jit(gz.sar.LeeSpeckle(window=window, enl=4.4))(jnp.asarray(z))
    np.testing.assert_allclose(jitted, want, rtol=1e-5)


def test_lee_window_larger_than_image_reflects_like_scipy():
    z = gamma_speckle(2.0, (1, 4, 5), seed=4)
    out = gz.sar.LeeSpeckle(window=11, enl=2.0)(z)
    np.testing.assert_allclose(out, lee_reference(z, 11, 2.0), rtol=1e-5)


def test_lee_estimated_enl_equals_reference():
    s1 = synthetic_s1_scene(64, 64, seed=2)
    z = np.asarray(s1.values)
    enl = enl_reference(z, 7)
    np.testing.assert_allclose(gz.sar.estimate_enl(s1), enl, rtol=1e-5)
    out = gz.sar.LeeSpeckle()(s1)
    np.testing.assert_allclose(out.values, lee_reference(z, 7, enl), rtol=1e-5)


@pytest.mark.parametrize("enl", [1.0, 2.0, 4.4, 10.0])
def test_estimator_recovers_enl_of_gamma_speckle(enl):
    z = gamma_speckle(enl, (2, 256, 256), seed=int(enl * 10))
    got = gz.sar.estimate_enl(z)
    # The median estimator is biased high by 2-7 % (1-10 looks) with 7 x 7 boxes.
    np.testing.assert_allclose(got, enl, rtol=0.1)
    np.testing.assert_allclose(eqx.filter_jit(gz.sar.estimate_enl)(jnp.asarray(z)), got, rtol=1e-5)


def test_filter_reduces_speckle_on_homogeneous_area():
    z = 0.05 * gamma_speckle(4.4, (1, 128, 128), seed=7)  # one homogeneous field
    cv_before = z.std() / z.mean()  # 1 / sqrt(4.4) = 0.48
    for op in (gz.sar.LeeSpeckle(window=7, enl=4.4), gz.sar.LeeSpeckle(window=7)):
        out = op(z)
        cv_after = out.std() / out.mean()
        assert cv_after < 0.4 * cv_before, (cv_before, cv_after)
        np.testing.assert_allclose(out.mean(), z.mean(), rtol=0.01)  # radiometry preserved


def test_filter_keeps_strong_edges():
    z = np.full((1, 32, 32), 0.01, np.float32)
    z[..., 16:] = 1.0  # a 20 dB step, no speckle: var_z >> mean^2 / ENL at the edge
    out = gz.sar.LeeSpeckle(window=7, enl=4.4)(z)
    box = uniform_filter(z.astype(np.float64), size=(1, 7, 7), mode="reflect")
    edge = slice(13, 19)
    assert np.abs(out[..., edge] - z[..., edge]).max() < 0.5 * np.abs(box - z)[..., edge].max()


def test_constant_image_and_zero_variance_give_k_zero():
    z = np.full((2, 16, 16), 0.2, np.float32)
    np.testing.assert_allclose(gz.sar.LeeSpeckle(enl=4.4)(z), z, rtol=1e-6)
    out = gz.sar.LeeSpeckle()(z)  # no box has variance: ENL unknown, input returned
    np.testing.assert_allclose(out, z, rtol=1e-6)
    assert np.isnan(gz.sar.estimate_enl(z)).all()


def masked_lee_reference(z, window, enl, fill):
    """Lee by a loop over pixels: each box's statistics over its valid pixels only (float64).

    Boxes reflect at the border like scipy (``np.pad(mode="symmetric")``); nodata is NaN or
    ``fill``; a nodata pixel is NaN in the output.
    """
    z = np.asarray(z, np.float64)
    z = np.where(z == fill, np.nan, z)
    r = window // 2
    padded = np.pad(z, r, mode="symmetric")
    sv2 = 1.0 / enl
    out = np.full_like(z, np.nan)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            box = padded[i : i + window, j : j + window]
            box = box[~np.isnan(box)]
            if np.isnan(z[i, j]):
                continue
            mean, var = box.mean(), max(box.var(), 0.0)
            signal = max((var - mean * mean * sv2) / (1.0 + sv2), 0.0)
            gain = signal / var if var > 0 else 0.0
            out[i, j] = mean + gain * (z[i, j] - mean)
    return out


def test_nodata_is_left_out_of_the_boxes_and_stays_nodata():
    z = gamma_speckle(4.4, (1, 20, 20), seed=1)
    z[0, 10, 4] = np.nan
    z[0, :, 0] = 0.0  # a nodata edge of the declared fill value
    z[0, 3, 3:6] = 0.0
    gt = synthetic_s1_scene(seed=1)[..., :20, :20]
    gt = gt.replace(values=np.repeat(z, 2, axis=0), fill_value=0.0)
    want = masked_lee_reference(z[0], 5, 4.4, fill=0.0)
    out = gz.sar.LeeSpeckle(window=5, enl=4.4)(gt)
    assert np.isnan(out.fill_value)
    np.testing.assert_array_equal(np.isnan(out.values[0]), np.isnan(want))
    np.testing.assert_allclose(out.values[0], want, rtol=1e-5, atol=1e-6, equal_nan=True)
    jitted = eqx.filter_jit(gz.sar.LeeSpeckle(window=5, enl=4.4))(jax.tree.map(jnp.asarray, gt))
    np.testing.assert_allclose(np.asarray(jitted.values[1]), want, rtol=1e-5, atol=1e-6,
                               equal_nan=True)  # fmt: skip
    # The estimator uses only boxes free of nodata: a few nodata pixels barely move it.
    clean = gamma_speckle(4.4, (64, 64), seed=3)
    holed = clean.copy()
    holed[::9, ::7] = np.nan
    enl_clean = gz.sar.estimate_enl(clean[None], window=7)[0]
    enl_holed = gz.sar.estimate_enl(holed[None], window=7)[0]
    assert abs(enl_holed / enl_clean - 1) < 0.1 and np.isfinite(enl_holed)


def test_lee_integer_input_vmap_and_grad():
    assert gz.sar.LeeSpeckle(enl=1.0)(np.ones((8, 8), np.uint16)).dtype == np.float32
    z = jnp.asarray(gamma_speckle(4.4, (3, 2, 24, 24), seed=2))
    op = gz.sar.LeeSpeckle()
    batched = eqx.filter_vmap(op)(z)
    for i in range(3):
        np.testing.assert_allclose(batched[i], op(np.asarray(z[i])), rtol=1e-5)
    grad = jax.grad(lambda v: op(v).sum())(z[0])
    assert bool(jnp.isfinite(grad).all()) and float(jnp.abs(grad).sum()) > 0


def test_lee_validates_config():
    with pytest.raises(pk.ConfigError, match=r"LeeSpeckle: window must be an odd integer >= 3.*8"):
        gz.sar.LeeSpeckle(window=8)
    with pytest.raises(pk.ConfigError, match=r"LeeSpeckle: window must be an odd integer"):
        gz.sar.LeeSpeckle(window=7.0)
    with pytest.raises(pk.ConfigError, match=r"LeeSpeckle: enl must be a positive.*-1.0"):
        gz.sar.LeeSpeckle(enl=-1)
    with pytest.raises(pk.ConfigError, match=r"enl must be None .*'4'"):
        gz.sar.LeeSpeckle(enl="4")
    with pytest.raises(ValueError, match=r"two spatial axes; received shape \(5,\)"):
        gz.sar.LeeSpeckle()(np.ones(5))
