"""PNG encoding, checked by decoding with rasterio's PNG driver against hand-computed pixels."""

import warnings

import numpy as np
import pytest
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from geocatalog import BandCountError, GeoTensor, GridShapeError

UTM = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)


def _decode(png: bytes) -> np.ndarray:
    """Decode PNG bytes with GDAL: ``(band, H, W)`` uint8."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(png) as memfile, memfile.open() as src:
            assert src.driver == "PNG"
            return src.read()


def _stretch(x, lo, hi):
    return np.round(np.clip((x - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def test_grayscale_default_stretch_uses_finite_min_max():
    values = np.array([[0.0, 1.0, 2.5], [3.0, 4.0, 10.0]], dtype=np.float32)
    img = _decode(GeoTensor(values, UTM, "EPSG:32630").to_png_bytes())
    assert img.shape == (1, 2, 3)
    np.testing.assert_array_equal(img[0], _stretch(values.astype(np.float64), 0.0, 10.0))
    assert img[0, 0, 0] == 0 and img[0, 1, 2] == 255 and img[0, 0, 2] == 64  # 2.5/10*255 = 63.75


def test_explicit_vmin_vmax_clip():
    values = np.linspace(0, 3000, 12, dtype=np.float64).reshape(1, 3, 4)
    img = _decode(GeoTensor(values, UTM, "EPSG:32630").to_png_bytes(vmin=500, vmax=2500))
    np.testing.assert_array_equal(img[0], _stretch(values[0], 500.0, 2500.0))


def test_rgb_uint16_with_fill_becomes_rgba_with_transparent_fill():
    values = np.array(
        [[[0, 100], [200, 0]], [[0, 100], [150, 400]], [[0, 20], [30, 400]]], dtype=np.uint16
    )
    gt = GeoTensor(values, UTM, "EPSG:32630", fill_value=0)
    img = _decode(gt.to_png_bytes())
    assert img.shape == (4, 2, 2)
    # pixel (0, 0) holds the fill value in every band: nodata, transparent. Pixel (1, 1)
    # holds it in band 0 only: data (GDAL's dataset mask), a 0 red beside valid green/blue.
    valid = values[:, [0, 1, 1], [1, 0, 1]]
    expected = _stretch(values.astype(np.float64), float(valid.min()), float(valid.max()))
    expected[:, 0, 0] = 0
    np.testing.assert_array_equal(img[:3], expected)
    np.testing.assert_array_equal(img[3], [[0, 255], [255, 255]])


def test_one_band_at_the_fill_value_is_data():
    # A grey colormap's black, (0, 0, 0, 255) with fill 0, is opaque: only a pixel whose
    # every band is the fill value is nodata (the carrier rule, pipekit_array.nodata_mask).
    values = np.zeros((4, 1, 3), dtype=np.uint8)
    values[3, 0, 0] = 255  # opaque black
    values[:, 0, 1] = (10, 0, 20, 255)
    gt = GeoTensor(values, UTM, "EPSG:32630", fill_value=0)
    img = _decode(gt.to_png_bytes())
    np.testing.assert_array_equal(img[:, 0, 0], [0, 0, 0, 255])
    np.testing.assert_array_equal(img[:, 0, 1], [10, 0, 20, 255])
    np.testing.assert_array_equal(img[:, 0, 2], [0, 0, 0, 0])


def test_nan_pixels_are_transparent_in_grayscale():
    values = np.array([[np.nan, 1.0], [2.0, 3.0]])
    img = _decode(GeoTensor(values, UTM, "EPSG:32630").to_png_bytes())
    assert img.shape == (2, 2, 2)  # grey + alpha
    np.testing.assert_array_equal(img[0], [[0, 0], [128, 255]])
    np.testing.assert_array_equal(img[1], [[0, 255], [255, 255]])


def test_uint8_is_written_as_is_and_rgba_alpha_is_kept():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 256, size=(4, 5, 7), dtype=np.uint8)
    img = _decode(GeoTensor(values, UTM, "EPSG:32630").to_png_bytes())
    np.testing.assert_array_equal(img, values)
    gray = values[0]
    np.testing.assert_array_equal(
        _decode(GeoTensor(gray, UTM, "EPSG:32630").to_png_bytes())[0], gray
    )


def test_constant_image_maps_to_zero():
    img = _decode(GeoTensor(np.full((3, 3), 7.0), UTM, "EPSG:32630").to_png_bytes())
    assert (img == 0).all()


@pytest.mark.parametrize("bands", [2, 5, 13])
def test_band_counts_are_explained(bands):
    gt = GeoTensor(np.zeros((bands, 3, 3)), UTM, "EPSG:32630")
    with pytest.raises(
        BandCountError,
        match=rf"1 band \(grayscale\), 3 bands \(RGB\) or 4 bands \(RGBA\); received {bands}",
    ):
        gt.to_png_bytes()


def test_shape_errors_are_explained():
    with pytest.raises(GridShapeError, match=r"\(H, W\) or \(band, H, W\)"):
        GeoTensor(np.zeros((2, 3, 3, 3)), UTM, "EPSG:32630").to_png_bytes()
