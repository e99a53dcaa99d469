import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene


def test_percentile_clip_matches_numpy_per_band():
    gt = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(synthetic_scene(64, 80, seed=1))
    v = np.asarray(gt.values)
    out = gz.radiometry.PercentileClip(p_min=2, p_max=98)(gt)
    lo = np.nanpercentile(v, 2, axis=(-2, -1), keepdims=True)
    hi = np.nanpercentile(v, 98, axis=(-2, -1), keepdims=True)
    np.testing.assert_allclose(out.values, np.clip(v, lo, hi), rtol=1e-6, equal_nan=True)
    assert np.array_equal(np.isnan(out.values), np.isnan(v))  # NaNs stay, nothing new
    assert out.transform == gt.transform


def test_percentile_clip_integer_input_and_other_axes():
    x = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)
    out = gz.radiometry.PercentileClip(p_min=25, p_max=75, axis=-1)(x)
    assert out.dtype == np.float32
    lo = np.percentile(x.astype(np.float64), 25, axis=-1, keepdims=True)
    hi = np.percentile(x.astype(np.float64), 75, axis=-1, keepdims=True)
    np.testing.assert_allclose(out, np.clip(x, lo, hi), rtol=1e-6)


def test_all_nan_band_stays_nan():
    x = np.ones((2, 4, 4), np.float32)
    x[0] = np.nan
    out = gz.radiometry.PercentileClip()(x)
    assert np.isnan(out[0]).all() and (out[1] == 1).all()


def test_percentile_clip_validates_config():
    with pytest.raises(pk.ConfigError, match=r"need 0 <= p_min < p_max <= 100, got p_min=98.0"):
        gz.radiometry.PercentileClip(p_min=98, p_max=2)
    with pytest.raises(pk.ConfigError, match="axis must be distinct"):
        gz.radiometry.PercentileClip(axis=(-1, -1))
    with pytest.raises(pk.ConfigError, match=r"method must be one of .*'auto'.*got 'sort'"):
        gz.radiometry.PercentileClip(method="sort")


def test_to_float32():
    gt = synthetic_scene(16, 16)
    out = gz.radiometry.ToFloat32()(gt)
    assert out.values.dtype == np.float32
    np.testing.assert_array_equal(out.values, np.asarray(gt.values).astype(np.float32))
    assert out.transform == gt.transform
