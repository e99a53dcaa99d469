import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import S2_BANDS, synthetic_scene


def test_ndvi_formula_on_the_scene():
    gt = synthetic_scene(64, 64, seed=2)
    v = np.asarray(gt.values).astype(np.float64)
    red, nir = v[S2_BANDS.index("B04")], v[S2_BANDS.index("B08")]
    out = gz.indices.NDVI(red_idx=2, nir_idx=3)(gt)
    assert out.shape == (64, 64) and out.values.dtype == np.float32
    np.testing.assert_allclose(out.values, (nir - red) / (nir + red), rtol=1e-6)
    assert out.transform == gt.transform


def test_normalized_difference_zero_sum_and_nan():
    x = np.array([[[1.0, 0.0, np.nan, -1.0]], [[3.0, 0.0, 1.0, 1.0]]], np.float32)
    out = gz.indices.NormalizedDifference(a_idx=0, b_idx=1)(x)
    np.testing.assert_array_equal(out, np.array([[-0.5, np.nan, np.nan, np.nan]], np.float32))
    ndvi = gz.indices.NDVI(red_idx=0, nir_idx=1)(x)
    np.testing.assert_array_equal(ndvi, np.array([[0.5, np.nan, np.nan, np.nan]], np.float32))


def test_integer_dn_does_not_wrap():
    x = np.array([[[100]], [[4000]]], np.uint16)  # red > NIR would wrap in uint16
    np.testing.assert_allclose(gz.indices.NDVI(red_idx=1, nir_idx=0)(x), [[-3900 / 4100]])


def test_index_errors():
    with pytest.raises(pk.ConfigError, match="NDVI: red_idx must be a band index"):
        gz.indices.NDVI(red_idx=2.0, nir_idx=3)
    with pytest.raises(IndexError, match=r"NDVI: nir_idx=20 is out of range for 13 bands"):
        gz.indices.NDVI(red_idx=2, nir_idx=20)(synthetic_scene(8, 8))
