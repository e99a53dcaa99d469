import math

import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene


def reference_mask(values, qa_band, bits):
    qa = values[qa_band].astype(np.int64)
    out = np.zeros(qa.shape, bool)
    for b in bits:
        out |= ((qa >> b) & 1).astype(bool)
    return out


def test_mask_from_qa_bits_matches_bit_arithmetic():
    gt = synthetic_scene(64, 64, seed=3)
    v = np.asarray(gt.values)
    for bits in ([10], [11], [10, 11]):
        mask = gz.cloud.MaskFromQABits(qa_band=-1, bits=bits)(gt)
        assert mask.shape == (64, 64) and mask.dtype == bool
        np.testing.assert_array_equal(mask.values, reference_mask(v, -1, bits))
        assert mask.transform == gt.transform
    assert reference_mask(v, -1, [10, 11]).any()  # the scene does have clouds


def test_mask_clouds_fills_every_band_but_qa():
    gt = synthetic_scene(64, 64, seed=3)
    v = np.asarray(gt.values)
    out = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(gt)
    flagged = reference_mask(v, -1, [10, 11])
    assert out.values.dtype == np.float32  # uint16 DN -> float32 so NaN fits
    expected = np.where(flagged[None], np.nan, v.astype(np.float32))
    expected[-1] = v[-1]  # QA band kept as is
    np.testing.assert_array_equal(out.values, expected)
    assert math.isnan(out.fill_value)
    assert out.transform == gt.transform and out.crs == gt.crs


def test_apply_mask_masks_every_band_and_can_keep_one():
    x = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    x[1] = [[0, 1024, 0], [2048, 0, 3072]]
    mask_op = gz.cloud.MaskFromQABits(qa_band=1, bits=[10, 11])
    out = gz.cloud.ApplyMask(mask_op, fill_value=-9)(x)
    m = np.array([[0, 1, 0], [1, 0, 1]], bool)
    np.testing.assert_array_equal(out, np.where(m, -9, x))
    kept = gz.cloud.ApplyMask(mask_op, fill_value=-9, keep_band=1)(x)
    np.testing.assert_array_equal(kept[1], x[1])
    np.testing.assert_array_equal(kept[0], np.where(m, -9, x[0]))


def test_existing_nans_stay_nan_and_float_qa_nan_counts_as_clear():
    x = np.ones((2, 1, 3), np.float32)
    x[0, 0, 0] = np.nan
    x[1, 0] = [np.nan, 1024, 0]
    out = gz.cloud.MaskClouds(qa_band=1, bits=[10])(x)
    np.testing.assert_array_equal(out[0, 0], [np.nan, np.nan, 1.0])


def test_errors_name_operator_argument_and_fix():
    with pytest.raises(pk.ConfigError, match=r"MaskClouds: bits must be integers in 0..31.*got 40"):
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 40])
    with pytest.raises(pk.ConfigError, match="MaskFromQABits: bits must list at least one bit"):
        gz.cloud.MaskFromQABits(qa_band=-1, bits=[])
    with pytest.raises(pk.ConfigError, match="qa_band must be a band index"):
        gz.cloud.MaskClouds(qa_band="QA60", bits=[10])
    with pytest.raises(IndexError, match=r"qa_band=13 is out of range for 13 bands"):
        gz.cloud.MaskClouds(qa_band=13, bits=[10])(synthetic_scene(8, 8))
    with pytest.raises(ValueError, match=r"expects values of shape \(..., band, y, x\)"):
        gz.cloud.MaskClouds(qa_band=0, bits=[10])(np.zeros((4, 4)))
    with pytest.raises(pk.ConfigError, match="mask_op must be an Operator"):
        gz.cloud.ApplyMask(np.isnan)
