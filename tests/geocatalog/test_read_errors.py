"""Raster read failures name the file and GDAL's cause; reads that can only give fill are errors."""

import warnings

import numpy as np
import pytest
import rasterio
from affine import Affine

import geocatalog as gc
from geocatalog.testing import synthetic_scene


@pytest.fixture
def truncated(tmp_path):
    path = gc.save_cog(synthetic_scene(256, 256), tmp_path / "whole.tif", overviews=False)
    data = path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_truncated_tif_names_file_and_cause(truncated):
    # oracle: what rasterio itself says when reading the file
    with rasterio.open(truncated) as src, pytest.raises(rasterio.errors.RasterioIOError) as rio:
        src.read()
    for read in (gc.read_raster, gc.load_raster):
        with pytest.raises(gc.RasterReadError, match="cannot read the raster") as info:
            read(truncated)
        message = str(info.value)
        assert str(truncated) in message and str(rio.value) in message
        assert "TIFFRead" in message or "IReadBlock" in message  # GDAL's own cause, not just
        assert isinstance(info.value, OSError)  # "Read failed. See previous exception"


def test_not_a_raster_names_file_and_cause(tmp_path):
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"this is not a GeoTIFF" * 8)
    match = r"read_raster: cannot open the raster '.*junk\.tif'.*not recognized as being in a"
    with pytest.raises(gc.RasterReadError, match=match):
        gc.read_raster(junk)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.tif"
    with pytest.raises(FileNotFoundError, match=r"load_raster: no raster file.*nope\.tif"):
        gc.load_raster(missing)


def test_crs_without_geotransform_is_an_error(tmp_path):
    path = tmp_path / "nogt.tif"
    profile = dict(driver="GTiff", height=4, width=4, count=1, dtype="uint8", crs="EPSG:32630")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.ones((1, 4, 4), np.uint8))
    for read in (gc.read_raster, gc.load_raster):
        with pytest.raises(gc.MissingTransformError, match=r"nogt\.tif' has no geotransform"):
            read(path)


@pytest.fixture
def cog(tmp_path):
    gt = gc.GeoTensor(np.ones((1, 20, 30), np.float32), Affine(10, 0, 400000, 0, -10, 4500000),
                      "EPSG:32630")  # fmt: skip
    return gc.save_cog(gt, tmp_path / "a.tif", overviews=False)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(bounds=(500000, 4000000, 500100, 4000100)),  # native grid, far away
        dict(bounds=(400300, 4499800, 400400, 4499900)),  # touches the right edge only
        dict(bounds=(-3.7, 40.4, -3.6, 40.5)),  # degrees given as metres
        dict(bounds=(-3.7, 40.4, -3.6, 40.5), crs="EPSG:32630", resolution=10),
        dict(bounds=(-1, 40.6, -0.9, 40.7), bounds_crs="EPSG:4326", crs=4326, resolution=1e-4),
        dict(window=((100, 110), (0, 10))),
    ],
)
def test_bounds_outside_the_raster_are_an_error(cog, kwargs):
    # oracle: the raster's own bounds from rasterio
    with rasterio.open(cog) as src:
        left, bottom, right, top = src.bounds
    with pytest.raises(gc.NoOverlapError, match=r"load_raster: .* does not overlap the raster"):
        gc.load_raster(cog, **kwargs)
    assert (left, bottom, right, top) == (400000, 4499800, 400300, 4500000)


def test_partial_overlap_still_reads_and_fills(cog):
    gt = gc.load_raster(cog, bounds=(400250, 4499950, 400350, 4500050))
    assert gt.shape == (1, 10, 10)
    assert np.isnan(gt.values).sum() == 100 - 25 and np.nansum(gt.values) == 25


def _georeferenced_cog(tmp_path):
    gt = gc.GeoTensor(np.ones((1, 64, 64), np.uint16), Affine(30, 0, 400000, 0, -30, 4500000),
                      "EPSG:32630", fill_value=0)  # fmt: skip
    return gc.save_cog(gt, tmp_path / "geo.tif", overviews=False)


def test_a_warning_from_elsewhere_during_open_is_not_this_files(tmp_path, monkeypatch):
    # The warnings machinery is process-wide: a NotGeoreferencedWarning that another thread
    # emits while this file is being opened (rasterio.warp.reproject emits one per call)
    # must not make a georeferenced file "missing its geotransform".
    path = _georeferenced_cog(tmp_path)
    real_open = rasterio.open

    def open_while_another_thread_warns(*args, **kwargs):
        warnings.warn("no geotransform", rasterio.errors.NotGeoreferencedWarning, stacklevel=2)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(rasterio, "open", open_while_another_thread_warns)
    gt = gc.load_raster(path)
    assert gt.transform == Affine(30, 0, 400000, 0, -30, 4500000)


# rasterio's reproject warns NotGeoreferencedWarning for its in-memory datasets and
# silences it with warnings.catch_warnings, which is not thread-safe: with pytest's
# "error" filter, threads restoring each other's filters turn that warning into an
# exception in rasterio itself. What this test checks is our read path (no
# MissingTransformError from a warning of another thread), so the warning is ignored here.
@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_concurrent_reprojected_reads_all_succeed(tmp_path):
    # A tile server's request threads: each load_raster warps onto web mercator.
    from concurrent.futures import ThreadPoolExecutor

    path = _georeferenced_cog(tmp_path)
    bounds = (400000, 4498080, 401920, 4500000)

    def read(_: int) -> int:
        gt = gc.load_raster(
            path, bounds=bounds, bounds_crs="EPSG:32630", crs="EPSG:3857", shape=(32, 32)
        )
        return int((np.asarray(gt.values) == 1).sum())

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(read, range(400)))
    assert min(counts) > 0  # every read returned data (none raised)
