"""load_raster / read_from_url / COG bytes, checked against rasterio's own reproject and read."""

import base64
import functools
import http.server
import io
import json
import os
import threading

import numpy as np
import pytest
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling
from rasterio.io import MemoryFile

import geocatalog as gc
from geocatalog._load import gdal_path, load_raster, read_from_url, to_cog_bytes, to_cog_bytes_b64
from geocatalog._slice import GeoSlice
from geocatalog.testing import synthetic_scene

UTM = "EPSG:32630"
BOX = (400100, 4499300, 400555, 4499770)


@pytest.fixture(scope="module")
def cog(tmp_path_factory):
    """A 96 x 80 uint16 13-band COG (nodata 0), 10 m UTM 30N grid."""
    path = tmp_path_factory.mktemp("load") / "scene.tif"
    gc.save_cog(synthetic_scene(96, 80, seed=3), path, blocksize=128)
    return str(path)


@pytest.fixture(scope="module")
def float_cog(tmp_path_factory):
    """A float32 2-band raster without nodata."""
    path = tmp_path_factory.mktemp("load") / "float.tif"
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 64, 48)).astype(np.float32)
    gt = gc.GeoTensor(values, Affine(10, 0, 399960, 0, -10, 4500000), "EPSG:32630")
    gc.save_cog(gt, path, overviews=False)
    return str(path)


def _oracle(path, dst, bands, resampling):
    """rasterio.warp.reproject of the WHOLE source onto the grid of ``dst``."""
    with rasterio.open(path) as src:
        data = src.read(list(bands))
        nodata = src.nodata
        src_transform, src_crs = src.transform, src.crs
    fill = nodata if nodata is not None else np.nan
    out = np.full(dst.shape, fill, dtype=data.dtype)
    rasterio.warp.reproject(
        data, out, src_transform=src_transform, src_crs=src_crs, src_nodata=nodata,
        dst_transform=dst.transform, dst_crs=dst.crs_string, dst_nodata=fill,
        resampling=getattr(Resampling, resampling),
    )  # fmt: skip
    return out


@pytest.mark.parametrize("resampling", ["nearest", "bilinear"])
@pytest.mark.parametrize(
    ("crs", "resolution", "bounds"),
    [
        ("EPSG:4326", 7e-5, rasterio.warp.transform_bounds(UTM, "EPSG:4326", *BOX)),  # reproject
        ("EPSG:32630", 25, (400100, 4499300, 400555, 4499770)),  # same CRS, coarser
        ("EPSG:3857", 12.5, None),  # whole raster
    ],
)
def test_reprojection_equals_rasterio(cog, resampling, crs, resolution, bounds):
    gt = load_raster(cog, bounds=bounds, crs=crs, resolution=resolution, indexes=(3, 4),
                     resampling=resampling)  # fmt: skip
    assert gt.crs_string == crs and gt.res == pytest.approx((resolution, resolution))
    a, _, c, _, e, f = gt.transform[:6]
    assert c / a == pytest.approx(round(c / a)) and f / e == pytest.approx(round(f / e))  # -tap
    if bounds is not None:
        left, bottom, right, top = gt.bounds
        assert left <= bounds[0] and bottom <= bounds[1] and right >= bounds[2]
        assert top >= bounds[3]
    expected = _oracle(cog, gt, (3, 4), resampling)
    assert gt.dtype == np.uint16 and gt.fill_value == 0
    assert (gt.values != 0).mean() > 0.5
    np.testing.assert_array_equal(gt.values, expected)


def test_float_source_without_nodata_fills_nan(float_cog):
    gt = load_raster(float_cog, crs="EPSG:4326", resolution=5e-5, resampling="bilinear")
    assert np.isnan(gt.fill_value) and np.isnan(gt.values).any()
    np.testing.assert_array_equal(gt.values, _oracle(float_cog, gt, (1, 2), "bilinear"))


def test_native_bounds_equal_read_raster_slice(cog):
    full = gc.read_raster(cog)
    # 400005 lies inside column 4, 4499001 inside row 99 -> rounded outward
    gt = load_raster(cog, bounds=(400005.0, 4499391.0, 400311.0, 4499799.5))
    expected = full[..., 20:61, 4:36]
    assert gt.transform == expected.transform and gt.lattice == expected.lattice
    np.testing.assert_array_equal(gt.values, expected.values)
    assert gt.fill_value == full.fill_value == 0
    win = load_raster(cog, window=((5, 17), (3, 40)), indexes=[13, 1])
    np.testing.assert_array_equal(win.values, full.values[[12, 0], 5:17, 3:40])
    assert win.transform == full[..., 5:17, 3:40].transform


def test_native_bounds_outside_are_filled(cog):
    full = gc.read_raster(cog, indexes=[2])
    gt = load_raster(cog, bounds=(399900, 4499500, 400000, 4500100), indexes=2)
    assert gt.shape == (1, 60, 10) and gt.transform == Affine(10, 0, 399900, 0, -10, 4500100)
    assert (gt.values[:, :10] == 0).all() and (gt.values[:, :, :6] == 0).all()
    np.testing.assert_array_equal(gt.values[:, 10:, 6:], full.values[:, :50, :4])


def test_native_bounds_in_other_crs(cog):
    box = rasterio.warp.transform_bounds(
        "EPSG:32630", "EPSG:4326", 400100, 4499300, 400300, 4499600
    )
    gt = load_raster(cog, bounds=box, bounds_crs="EPSG:4326", indexes=1)
    left, bottom, right, top = gt.bounds
    assert gt.crs_string == "EPSG:32630"
    assert left <= 400100 and bottom <= 4499300 and right >= 400300 and top >= 4499600


def test_shape_spans_bounds_exactly(cog):
    bounds = (400000, 4499300, 400500, 4499800)
    gt = load_raster(cog, bounds=bounds, crs="EPSG:32630", shape=(25, 50), indexes=1)
    assert gt.shape == (1, 25, 50) and gt.bounds == bounds and gt.res == (10.0, 20.0)
    np.testing.assert_array_equal(gt.values, _oracle(cog, gt, (1,), "nearest"))


def test_slice_through_json_loads_identically(cog):
    sl = GeoSlice(cog, bounds=(400100, 4499300, 400555, 4499770), crs=32630, resolution=20,
                  indexes=(4,), datetime="2024-05-01T10:00:00Z")  # fmt: skip
    back = GeoSlice.from_dict(json.loads(json.dumps(sl.to_dict())))
    a, b = sl.load(resampling="bilinear"), load_raster(back, resampling="bilinear")
    assert a.same_grid(b) and a.crs_string == b.crs_string
    np.testing.assert_array_equal(a.values, b.values)
    # keyword arguments override the slice's fields; a window replaces its bounds
    c = load_raster(sl, window=((0, 10), (0, 10)), crs=None, resolution=10)
    assert c.shape == (1, 10, 10) and c.bounds == (399960.0, 4499900.0, 400060.0, 4500000.0)


def test_read_from_url_local_and_file(cog):
    expected = load_raster(cog, bounds=(400100, 4499300, 400555, 4499770), indexes=(1, 2))
    for url in (cog, "file://" + cog):
        gt = read_from_url(url, bounds=(400100, 4499300, 400555, 4499770), indexes=(1, 2))
        assert gt.same_grid(expected)
        np.testing.assert_array_equal(gt.values, expected.values)
    assert gdal_path("http://h/a.tif") == "/vsicurl/http://h/a.tif"
    with pytest.raises(gc.GeoValueError, match="unsupported URL scheme 'ftp'"):
        read_from_url("ftp://h/a.tif")


def test_errors(cog, tmp_path):
    with pytest.raises(gc.GeoValueError, match="resampling must be one of"):
        load_raster(cog, crs=4326, resampling="cubicc")
    with pytest.raises(
        gc.GeoValueError, match=r"spelled 'cubic_spline'.*resampling='cubic_spline'"
    ):
        load_raster(cog, crs=4326, resampling="cubicspline")
    with pytest.raises(gc.GeoSliceError, match=r"load_raster: bands= was renamed indexes="):
        load_raster(cog, bands=(1, 2))
    with pytest.raises(gc.GeoValueError, match=r"in \[1, 13\]"):
        load_raster(cog, indexes=14)
    with pytest.raises(FileNotFoundError):
        load_raster(tmp_path / "missing.tif")
    with pytest.raises(gc.GeoValueError, match="GeoSlice or a path"):
        load_raster(42)


def test_cog_bytes_round_trip():
    gt = synthetic_scene(40, 24, seed=5)
    data = to_cog_bytes(gt)
    assert base64.b64decode(to_cog_bytes_b64(gt)) == data
    with MemoryFile(data) as mem, mem.open() as src:
        assert src.driver == "GTiff" and src.nodata == 0 and src.crs.to_epsg() == 32630
        assert src.transform == gt.transform and src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        np.testing.assert_array_equal(src.read(), gt.values)


def test_reads_only_the_needed_window(cog, monkeypatch):
    """The reprojecting path reads one window around the target, not the whole raster."""
    windows = []
    read = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        windows.append(kwargs.get("window"))
        return read(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    gt = load_raster(cog, bounds=(400300, 4499400, 400400, 4499500), crs=UTM, resolution=20,
                     indexes=1, resampling="bilinear")  # fmt: skip
    (win,) = windows
    # target 400300..400400 x 4499400..4499500 = cols 34..44, rows 50..60, padded by 3
    assert (win.col_off, win.row_off, win.width, win.height) == (31, 47, 16, 16)
    np.testing.assert_array_equal(gt.values, _oracle(cog, gt, (1,), "bilinear"))


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single ``Range: bytes=a-b`` requests (what GDAL sends)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        start, _, stop = rng.removeprefix("bytes=").partition("-")
        start, stop = int(start), min(int(stop or size - 1), size - 1)
        with open(path, "rb") as fh:
            fh.seek(start)
            body = fh.read(stop - start + 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{stop}/{size}")
        self.send_header("Content-Length", str(stop - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(body)


def test_read_from_http_with_ranges(cog):
    directory, name = os.path.split(cog)
    handler = functools.partial(_RangeHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{name}"
        with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", CPL_VSIL_CURL_USE_HEAD="NO"):
            gt = read_from_url(url, bounds=BOX, indexes=(1, 2))
    finally:
        server.shutdown()
        server.server_close()
    expected = load_raster(cog, bounds=BOX, indexes=(1, 2))
    assert gt.same_grid(expected)
    np.testing.assert_array_equal(gt.values, expected.values)


def test_geotensor_cog_byte_methods_decode_back():
    import base64

    from rasterio.io import MemoryFile

    from geocatalog.testing import synthetic_scene

    gt = synthetic_scene(32, 40, seed=3)
    data = gt.to_cog_bytes()
    assert base64.b64decode(gt.to_cog_bytes_b64()) == data
    with MemoryFile(data) as mem, mem.open() as src:
        assert src.transform == gt.transform
        np.testing.assert_array_equal(src.read(), np.asarray(gt.values))
