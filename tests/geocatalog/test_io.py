"""read_raster / save_cog: exact round trips, windows, COG layout and atomic writes."""

import math
import os

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

import geocatalog._io as gio
from geocatalog import (
    BatchedGeoTensorError,
    FillValueError,
    GeoTensor,
    GeoValueError,
    MissingCRSError,
    read_raster,
    save_cog,
    stack,
)
from geocatalog.testing import synthetic_scene

UTM_SOUTH = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 9990000.0)
DEG = 0.000269494585235856


def _listing(directory):
    return sorted(os.listdir(directory))


@pytest.mark.parametrize(
    ("values", "transform", "crs", "fill_value"),
    [
        (np.arange(35, dtype=np.float32).reshape(5, 7), UTM_SOUTH, "EPSG:32630", None),
        (
            np.where(np.eye(6, 9, dtype=bool), np.nan, 1.5).astype(np.float64)[None].repeat(2, 0),
            Affine(DEG, 0.0, -3.123456789, 0.0, -DEG, 40.987654321),
            "EPSG:4326",
            float("nan"),
        ),
        (
            np.random.default_rng(0).integers(0, 10_000, (13, 33, 20), dtype=np.uint16),
            Affine(20.0, 0.0, 600000.0, 0.0, -20.0, 5300040.0),
            "EPSG:32633",
            0,
        ),
    ],
)
def test_cog_roundtrip_is_exact(tmp_path, values, transform, crs, fill_value):
    gt = GeoTensor(values, transform, crs, fill_value=fill_value)
    path = tmp_path / "out.tif"
    assert save_cog(gt, path) == path
    assert _listing(tmp_path) == ["out.tif"]  # no temp or .aux.xml side files
    back = read_raster(path) if values.ndim == 3 else read_raster(path, indexes=1)
    assert back.transform == transform
    assert back.crs == pyproj.CRS.from_user_input(crs) and back.crs_string == gt.crs_string
    assert back.dtype == values.dtype and back.shape == values.shape
    np.testing.assert_array_equal(back.values, values)
    if fill_value is not None and math.isnan(fill_value):
        assert math.isnan(back.fill_value)
    else:
        assert back.fill_value == fill_value
    with rasterio.open(path) as src:  # an independent look at the file
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.transform == transform and src.profile["tiled"]


def test_cog_has_overviews_and_requested_options(tmp_path):
    gt = synthetic_scene(1100, 600)
    save_cog(gt, tmp_path / "a.tif", compress="zstd", blocksize=256)
    save_cog(gt, tmp_path / "b.tif", overviews=False)
    with rasterio.open(tmp_path / "a.tif") as src:
        assert src.overviews(1) == [2, 4, 8] and src.block_shapes[0] == (256, 256)
        assert src.compression.name.lower() == "zstd"
        # nearest overviews keep the QA bit mask made of bits 10 and 11 only
        qa = src.read(13, out_shape=(550, 300))
        assert set(np.unique(qa)) <= {0, 1024, 2048}
    with rasterio.open(tmp_path / "b.tif") as src:
        assert src.overviews(1) == []


@pytest.mark.parametrize("window", [Window(5, 3, 15, 7), ((3, 10), (5, 20))])
def test_windowed_read_equals_slicing_and_rasterio(tmp_path, window, rio_window_transform):
    gt = synthetic_scene(40, 30, transform=UTM_SOUTH)
    path = save_cog(gt, str(tmp_path / "scene.tif"))
    sub = read_raster(path, window)
    assert sub.same_grid(gt[..., 3:10, 5:20]) and sub.lattice == gt.lattice
    np.testing.assert_array_equal(sub.values, gt.values[:, 3:10, 5:20])
    with rasterio.open(path) as src:
        expected = Window(5, 3, 15, 7)
        assert sub.transform == rio_window_transform(src.transform, 3, 5)
        assert sub.transform == Affine(10.0, 0.0, 400010.0, 0.0, -10.0, 9989970.0)
        np.testing.assert_array_equal(sub.values, src.read(window=expected))


def test_missing_file_is_a_clean_file_not_found(tmp_path):
    missing = tmp_path / "nope.tif"
    with pytest.raises(FileNotFoundError, match="no raster file") as info:
        read_raster(missing)
    assert info.value.filename == str(missing)


@pytest.mark.parametrize(
    ("window", "match"),
    [
        (Window(0, 0, 50, 5), "must lie inside the raster"),
        (Window(0.5, 0, 5, 5), "must be integers"),
        ("3:4", "rasterio.windows.Window or"),
    ],
)
def test_bad_windows_are_explained(tmp_path, window, match):
    path = save_cog(synthetic_scene(8, 8), tmp_path / "s.tif")
    with pytest.raises(GeoValueError, match=match):
        read_raster(path, window)


def test_failure_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "scene.tif"
    path.write_bytes(b"previous version")
    # a real GDAL failure: JPEG cannot hold 13 float bands
    bad = synthetic_scene(16, 16)
    bad = bad.replace(values=bad.values.astype(np.float32))
    with pytest.raises(Exception, match=r"(?i)jpeg"):
        save_cog(bad, path, compress="jpeg")
    assert _listing(tmp_path) == ["scene.tif"]
    assert path.read_bytes() == b"previous version"


def test_failure_at_the_final_rename_cleans_up(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(gio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        save_cog(synthetic_scene(8, 8), tmp_path / "x.tif")
    assert _listing(tmp_path) == []


def test_write_errors_are_explained(tmp_path):
    scene = synthetic_scene(8, 8)
    with pytest.raises(
        FillValueError, match=r"fill_value -1 cannot be stored as nodata of a uint16"
    ):
        save_cog(scene.replace(fill_value=-1), tmp_path / "a.tif")
    with pytest.raises(BatchedGeoTensorError, match="one scene"):
        save_cog(stack([scene, scene]), tmp_path / "a.tif")
    with pytest.raises(GeoValueError, match="compress must be one of"):
        save_cog(scene, tmp_path / "a.tif", compress="gzip")
    with pytest.raises(GeoValueError, match="multiple of 16"):
        save_cog(scene, tmp_path / "a.tif", blocksize=100)
    assert _listing(tmp_path) == []


def test_masks_and_half_floats_are_widened(tmp_path):
    transform = Affine(10.0, 0.0, 0.0, 0.0, -10.0, 0.0)
    mask = GeoTensor(np.eye(4, dtype=bool), transform, "EPSG:32630")
    back = read_raster(save_cog(mask, tmp_path / "m.tif"), indexes=1)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back.values, np.eye(4))
    half = GeoTensor(np.full((2, 3), 0.5, dtype=np.float16), transform, "EPSG:32630")
    assert read_raster(save_cog(half, tmp_path / "h.tif")).dtype == np.float32


def test_custom_crs_comes_back_equivalent(tmp_path):
    laea = "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m"
    gt = GeoTensor(np.ones((3, 4), np.float32), Affine(100, 0, 4e6, 0, -100, 3e6), laea)
    back = read_raster(save_cog(gt, tmp_path / "l.tif"))
    assert back.crs.equals(pyproj.CRS.from_user_input(laea))
    assert back.transform == gt.transform


def test_raster_without_crs_is_explained(tmp_path):
    path = tmp_path / "plain.tif"
    profile = {"driver": "GTiff", "height": 2, "width": 2, "count": 1, "dtype": "uint8"}
    with rasterio.open(path, "w", transform=Affine(1, 0, 0, 0, -1, 2), **profile) as dst:
        dst.write(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(MissingCRSError, match="has no CRS"):
        read_raster(path)
