"""GeoTensor.to_rgb_array, checked against np.nanpercentile and the stretch formula by hand."""

import ast
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

import geocatalog
from geocatalog import BandCountError, GeoTensor, GeoValueError, GridShapeError
from geocatalog.testing import synthetic_scene

UTM = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)


def stretch(band: np.ndarray, p_min: float = 2.0, p_max: float = 98.0) -> np.ndarray:
    """The oracle: np.nanpercentile of the band, then round(clip(...) * 255); NaN -> 0."""
    lo, hi = np.nanpercentile(band, (p_min, p_max))
    scaled = np.round(np.clip((band - lo) / (hi - lo), 0, 1) * 255)
    return np.where(np.isnan(scaled), 0, scaled).astype(np.uint8)


def test_three_bands_are_stretched_each_to_its_own_percentiles():
    gt = synthetic_scene(40, 48, seed=3)[[2, 1, 0]]
    values = np.asarray(gt.values).astype(np.float64)
    rgb = gt.to_rgb_array()
    assert rgb.shape == (40, 48, 3) and rgb.dtype == np.uint8  # no nodata: no alpha
    for b in range(3):
        np.testing.assert_array_equal(rgb[..., b], stretch(values[b]))
    # per band, not one stretch for all: each band reaches 0 and 255
    assert (rgb.reshape(-1, 3).min(0) == 0).all() and (rgb.reshape(-1, 3).max(0) == 255).all()


def test_custom_percentiles():
    gt = synthetic_scene(24, 24, seed=5)[[3, 2, 1]]
    rgb = gt.to_rgb_array(p_min=10, p_max=60)
    np.testing.assert_array_equal(rgb[..., 0], stretch(np.asarray(gt.values[0], float), 10, 60))


def test_nodata_is_transparent_and_left_out_of_the_percentiles():
    gt = synthetic_scene(30, 30, seed=1)[[2, 1, 0]]
    values = np.array(gt.values)
    values[:, :, :4] = 0  # every band at the fill value: nodata
    values[0, 10, 10] = 0  # one band only: data (a 0 red)
    rgb = gt.replace(values=values).to_rgb_array()
    assert rgb.shape == (30, 30, 4)
    nodata = np.zeros((30, 30), bool)
    nodata[:, :4] = True
    np.testing.assert_array_equal(rgb[..., 3], np.where(nodata, 0, 255))
    assert (rgb[nodata] == 0).all()
    floats = np.where(nodata, np.nan, values.astype(np.float64))
    for b in range(3):
        np.testing.assert_array_equal(rgb[..., b][~nodata], stretch(floats[b])[~nodata])
    assert rgb[10, 10, 0] == 0 and rgb[10, 10, 3] == 255


def test_one_float_band_is_grey_and_nan_is_transparent():
    rng = np.random.default_rng(0)
    band = rng.normal(size=(16, 20))
    band[3, 4] = np.nan
    band[5, 6] = np.inf
    rgb = GeoTensor(band, UTM, "EPSG:32630").to_rgb_array()
    assert rgb.shape == (16, 20, 4)
    grey = stretch(np.where(np.isfinite(band), band, np.nan))
    grey[3, 4] = grey[5, 6] = 0
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], grey)
    assert rgb[3, 4, 3] == 0 and rgb[5, 6, 3] == 0 and (rgb[..., 3] == 255).sum() == 16 * 20 - 2


def test_uint8_is_kept_and_rgba_passes_through():
    rng = np.random.default_rng(1)
    rgb8 = rng.integers(1, 256, size=(3, 5, 7), dtype=np.uint8)
    np.testing.assert_array_equal(
        GeoTensor(rgb8, UTM, "EPSG:32630").to_rgb_array(), np.moveaxis(rgb8, 0, -1)
    )
    grey8 = rgb8[:1]
    np.testing.assert_array_equal(
        GeoTensor(grey8, UTM, "EPSG:32630").to_rgb_array(),
        np.repeat(grey8, 3, 0).transpose(1, 2, 0),
    )
    rgba = rng.integers(0, 256, size=(4, 5, 7), dtype=np.uint8)
    rgba[:, 0, 0] = 0  # the fill value in every band: alpha stays 0
    rgba[:3, 0, 1] = 0  # opaque black (alpha != fill): data
    rgba[3, 0, 1] = 255
    out = GeoTensor(rgba, UTM, "EPSG:32630", fill_value=0).to_rgb_array()
    np.testing.assert_array_equal(out, np.moveaxis(rgba, 0, -1))


def test_constant_band_maps_to_zero():
    rgb = GeoTensor(np.full((3, 4, 4), 7.0), UTM, "EPSG:32630").to_rgb_array()
    assert rgb.shape == (4, 4, 3) and (rgb == 0).all()


def test_all_nodata_is_fully_transparent():
    rgb = GeoTensor(np.zeros((3, 4, 4), np.uint16), UTM, "EPSG:32630", 0).to_rgb_array()
    assert rgb.shape == (4, 4, 4) and (rgb == 0).all()


def test_errors_teach():
    gt = synthetic_scene(8, 8)
    with pytest.raises(BandCountError, match=r"to_rgb_array writes 1 band .* received 13 bands"):
        gt.to_rgb_array()
    with pytest.raises(BandCountError, match=r"4 bands as RGBA and needs them uint8.*uint16"):
        gt[:4].to_rgb_array()
    with pytest.raises(GridShapeError, match=r"to_rgb_array needs values of shape \(H, W\)"):
        GeoTensor(np.zeros((2, 3, 4, 4)), UTM, "EPSG:32630").to_rgb_array()
    with pytest.raises(GeoValueError, match=r"to_rgb_array: need 0 <= p_min < p_max <= 100"):
        gt[[2, 1, 0]].to_rgb_array(p_min=50, p_max=50)


def test_geocatalog_core_imports_no_matplotlib():
    # to_rgb_array is NumPy only: geocatalog's core needs no viz extra (and never geotoolz,
    # checked for every module by tests/test_private_imports.py).
    src = Path(geocatalog.__file__).parent
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "matplotlib" for n in names), path
