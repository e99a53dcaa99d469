"""geotoolz.fusion.BandNormalize and SelectBands against NumPy formulas; NaN-safe gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog as gc
import geotoolz as gz
import pipekit as pk


def test_band_normalize_is_the_standardisation_with_nodata_kept():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=(5.0, -10.0), scale=(2.0, 3.0), size=(6, 7, 2)).transpose(2, 0, 1)
    x = x.astype(np.float32)
    x[0, 1, 2] = np.nan
    op = gz.fusion.BandNormalize(mean=(5.0, -10.0), std=(2.0, 3.0))
    want = (x - np.array([5.0, -10.0])[:, None, None]) / np.array([2.0, 3.0])[:, None, None]
    np.testing.assert_allclose(op(x), want, rtol=1e-6, atol=1e-6)  # NaN stays NaN
    filled = gz.radiometry.FillNodata(0.0)(op(x))
    np.testing.assert_allclose(filled, np.where(np.isnan(want), 0.0, want), rtol=1e-6, atol=1e-6)
    gt = gc.testing.synthetic_s1_scene(16, 16, seed=1)
    values = np.array(gt.values)
    values[:, 3, :] = -1.0  # a row of the declared nodata value
    gt = gt.replace(values=values, fill_value=-1.0)
    out = gz.fusion.BandNormalize(mean=(0.1, 0.02), std=(0.1, 0.02))(gt)
    assert out.transform == gt.transform and out.values.dtype == np.float32
    assert np.isnan(out.values[:, 3]).all() and not np.isnan(np.delete(out.values, 3, 1)).any()
    assert np.isnan(out.fill_value)


def test_fill_nodata_fills_nan_and_fill_value_pixels_only():
    x = np.array([[[1, 0, 7], [0, 5, 65535]]], np.uint16)
    gt = gc.GeoTensor(x, gc.testing.synthetic_scene(2, 3).transform, "EPSG:32630", fill_value=0)
    out = gz.radiometry.FillNodata(9)(gt)
    np.testing.assert_array_equal(out.values, np.where(x == 0, 9, x))
    assert out.values.dtype == np.uint16 and out.fill_value is None
    half = gz.radiometry.FillNodata(0.5)(gt)  # 0.5 does not fit uint16: float32
    assert half.values.dtype == np.float32 and half.values[0, 0, 1] == 0.5
    f = np.array([[1.0, np.nan]], np.float32)
    np.testing.assert_array_equal(gz.radiometry.FillNodata(-1.0)(f), [[1.0, -1.0]])
    with pytest.raises(pk.ConfigError, match="FillNodata: value must be a finite number"):
        gz.radiometry.FillNodata(float("nan"))


def test_band_normalize_gradient_is_finite_where_the_input_is_nan():
    x = jnp.asarray([[[1.0, jnp.nan]], [[2.0, 3.0]]], jnp.float32)
    op = gz.fusion.BandNormalize(mean=(0.0, 0.0), std=(1.0, 1.0))
    grads = jax.grad(lambda o: jnp.sum(o(x) ** 2))(op)
    # d/dgain of sum((g x + b)^2) = sum(2 (g x + b) x) over the non-NaN values
    np.testing.assert_allclose(grads.gain.ravel(), [2.0, 2 * (4.0 + 9.0)])
    np.testing.assert_allclose(grads.bias.ravel(), [2.0, 2 * 5.0])


def test_select_bands_and_errors():
    x = np.arange(24.0).reshape(4, 2, 3)
    np.testing.assert_array_equal(gz.fusion.SelectBands((3, 0))(x), x[[3, 0]])
    with pytest.raises(ValueError, match="bands"):
        gz.fusion.SelectBands((4,))(x)
    with pytest.raises(pk.ConfigError, match="tuple of ints"):
        gz.fusion.SelectBands(())
    with pytest.raises(pk.ConfigError, match="one number per band"):
        gz.fusion.BandNormalize(mean=(1.0,), std=(1.0, 2.0))
    with pytest.raises(pk.ConfigError, match="positive"):
        gz.fusion.BandNormalize(mean=(1.0,), std=(0.0,))
