"""read_tile against a rasterio.warp.reproject composite; iter_random_slices sampling."""

import datetime as dt
import math
import struct
import zlib

import numpy as np
import pyproj
import pytest
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import geocatalog as gc
from geocatalog import _tiles
from geocatalog._tiles import iter_random_slices, read_tile

Z = 15
PIXEL = 20.0


def tile_bounds(x: int, y: int, z: int) -> tuple[float, float, float, float]:
    """Web-mercator bounds of the XYZ tile (the standard slippy-map formula)."""
    half = math.pi * 6378137.0
    size = 2 * half / 2**z
    left, top = -half + x * size, half - y * size
    return (left, top - size, left + size, top)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_centre(x: int, y: int, z: int) -> tuple[float, float]:
    left, bottom, right, top = tile_bounds(x, y, z)
    to_lonlat = pyproj.Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    return to_lonlat.transform((left + right) / 2, (bottom + top) / 2)


TILE = tile_of(-0.004, 40.0, Z)  # near the UTM 30N / 31N boundary (0 E); ~940 m wide
LON, LAT = tile_centre(*TILE, Z)
# (name, utm zone, offset of the scene's top-left corner from the tile centre (m), date,
# (height, width)): a and b cover most of the tile, c all of it, d part of the bottom.
LAYOUT = [
    ("a_new", "EPSG:32630", (-700.0, 500.0), dt.datetime(2024, 4, 1), (32, 48)),
    ("b_mid", "EPSG:32631", (-100.0, 800.0), dt.datetime(2024, 3, 1), (64, 64)),
    ("c_old", "EPSG:32630", (-960.0, 960.0), dt.datetime(2024, 2, 1), (96, 96)),
    ("d_old", "EPSG:32631", (-300.0, -100.0), dt.datetime(2024, 2, 1), (80, 64)),
]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiles")
    out = {}
    for i, (name, crs, (dx, dy), when, (h, w)) in enumerate(LAYOUT):
        x, y = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(LON, LAT)
        transform = Affine(PIXEL, 0, round(x + dx), 0, -PIXEL, round(y + dy))
        scene = gc.testing.synthetic_scene(h, w, seed=i, crs=crs, transform=transform)
        out[name] = (gc.save_cog(scene, str(root / f"{name}.tif"), overviews=False), when)
    return out


@pytest.fixture(scope="module")
def catalog(scenes, tmp_path_factory):
    when = {path: date for path, date in scenes.values()}
    path = tmp_path_factory.mktemp("cat") / "tiles.parquet"
    return gc.open_catalog(
        gc.build_catalog([p for p, _ in scenes.values()], path, datetime_fn=when.__getitem__)
    )


def oracle(paths, bounds, shape, crs="EPSG:3857"):
    """Newest-first gap-filled composite, each whole source warped by rasterio itself."""
    left, bottom, right, top = bounds
    h, w = shape
    dst_transform = Affine((right - left) / w, 0, left, 0, -(top - bottom) / h, top)
    out = None
    for path in paths:
        with rasterio.open(path) as src:
            dst = np.full((src.count, h, w), src.nodata, dtype=src.dtypes[0])
            rasterio.warp.reproject(
                src.read(), dst, src_transform=src.transform, src_crs=src.crs,
                src_nodata=src.nodata, dst_transform=dst_transform, dst_crs=crs,
                dst_nodata=src.nodata, resampling=Resampling.nearest,
            )  # fmt: skip
            nodata = src.nodata
        if out is None:
            out = dst
        else:
            take = (out == nodata).all(0) & ~(dst == nodata).all(0)
            out[:, take] = dst[:, take]
    return out, dst_transform


def png_decode(data: bytes) -> np.ndarray:
    """Minimal PNG decoder for 8-bit, filter-0 images (what GeoTensor.to_png_bytes writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, _, colour, *_ = header
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, -1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, channels)


def test_read_tile_equals_reprojected_composite(catalog, scenes):
    bounds = tile_bounds(*TILE, Z)
    gt = read_tile(catalog, bounds, target_size=(256, 256), crs="EPSG:3857")
    order = ["a_new", "b_mid", "c_old", "d_old"]  # by date, the c/d tie by id
    want, transform = oracle([scenes[k][0] for k in order], bounds, (256, 256))
    assert gt.shape == (13, 256, 256) and gt.dtype == np.uint16 and gt.fill_value == 0
    assert gt.crs_string == "EPSG:3857"
    np.testing.assert_allclose(tuple(gt.transform)[:6], tuple(transform)[:6], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(gt.values), want)
    assert not (want == 0).all(0).any()  # the tile is full
    # Case 7 spells it as a Catalog method.
    np.testing.assert_array_equal(np.asarray(catalog.read_tile(bounds).values), want)
    # the c/d date tie matters: d_old first would show through where c_old now does
    swapped, _ = oracle([scenes[k][0] for k in ["a_new", "b_mid", "d_old", "c_old"]],
                        bounds, (256, 256))  # fmt: skip
    assert (swapped != want).any()
    for k in order:  # every item meets the tile
        alone, _ = oracle([scenes[k][0]], bounds, (256, 256))
        assert (~(alone == 0).all(0)).any(), k


def test_read_tile_rectangular_and_bands(catalog, scenes):
    bounds = tile_bounds(*TILE, Z)
    gt = read_tile(catalog, bounds, target_size=(64, 128), indexes=(3, 2, 1))
    want, _ = oracle([scenes[k][0] for k in ["a_new", "b_mid", "c_old", "d_old"]],
                     bounds, (64, 128))  # fmt: skip
    assert gt.shape == (3, 64, 128)
    np.testing.assert_array_equal(np.asarray(gt.values), want[[2, 1, 0]])


def test_read_tile_stops_when_full(catalog, monkeypatch):
    calls = []
    real = _tiles.load_raster

    def counting(sl, **kw):
        calls.append(sl.item_id)
        return real(sl, **kw)

    monkeypatch.setattr(_tiles, "load_raster", counting)
    # a small box inside the newest scene: one read
    ax, ay = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(
        LON, LAT
    )
    inner = (ax - 150, ay + 50, ax + 50, ay + 250)
    gt = read_tile(catalog, inner, (16, 16))
    assert calls == ["a_new"]
    assert not (np.asarray(gt.values) == 0).all(0).any()
    calls.clear()
    read_tile(catalog, tile_bounds(*TILE, Z))
    assert calls == ["a_new", "b_mid", "c_old"]  # c_old fills the rest: d_old is never read


def test_read_tile_empty_is_transparent(catalog):
    x, y = tile_of(10.0, 50.0, Z)
    gt = read_tile(catalog, tile_bounds(x, y, Z))
    assert gt.shape == (13, 256, 256) and gt.fill_value == 0
    assert (np.asarray(gt.values) == 0).all()
    image = png_decode(gt[[2, 1, 0]].to_png_bytes())
    assert image.shape == (256, 256, 4)
    assert (image[..., 3] == 0).all()


def test_read_tile_png_decodes_to_256(catalog):
    gt = read_tile(catalog, tile_bounds(*TILE, Z), indexes=(3, 2, 1))
    image = png_decode(gt.to_png_bytes())
    assert image.shape[:2] == (256, 256)


def test_read_tile_band_mismatch(tmp_path):
    paths = []
    for i, count in enumerate((13, 3)):
        scene = gc.testing.synthetic_scene(16, 16, seed=i)
        scene = scene.replace(values=np.asarray(scene.values)[:count])
        paths.append(gc.save_cog(scene, str(tmp_path / f"s{i}.tif"), overviews=False))
    cat = gc.open_catalog(gc.build_catalog(paths, tmp_path / "c.parquet"))
    box = (400000.0, 4499900.0, 400100.0, 4500000.0)
    with pytest.raises(gc.BandCountError, match=r"share a band count.*indexes=\("):
        read_tile(cat, box, (8, 8), "EPSG:32630")
    assert read_tile(cat, box, (8, 8), "EPSG:32630", indexes=(1, 2)).shape == (2, 8, 8)
    with pytest.raises(gc.GeoSliceError, match=r"read_tile: bands= was renamed indexes="):
        read_tile(cat, box, (8, 8), "EPSG:32630", bands=(1, 2))
    with pytest.raises(gc.GeoValueError, match=r"resampling='cubicspline' is spelled 'cubic_s"):
        read_tile(cat, box, (8, 8), "EPSG:32630", resampling="cubicspline")


def test_read_tile_integer_without_nodata_is_float_nan(tmp_path):
    scene = gc.testing.synthetic_scene(16, 16)
    path = str(tmp_path / "s.tif")
    with rasterio.open(path, "w", driver="GTiff", height=16, width=16, count=1, dtype="uint16",
                       crs="EPSG:32630", transform=scene.transform) as dst:  # fmt: skip
        dst.write(np.asarray(scene.values)[:1])
    cat = gc.open_catalog(gc.build_catalog([path], tmp_path / "c.parquet"))
    # half the box lies east of the 160 m wide raster
    gt = read_tile(cat, (400040.0, 4499840.0, 400280.0, 4499920.0), (8, 24), "EPSG:32630")
    assert gt.dtype == np.float32 and math.isnan(gt.fill_value)
    values = np.asarray(gt.values)[0]
    assert np.isfinite(values[:, :8]).all() and np.isnan(values[:, 8:]).all()
    np.testing.assert_array_equal(values[:, :8], np.asarray(scene.values)[0, 8:16, 8:16])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bbox": (1, 2, 0, 3)}, "left < right"),
        ({"bbox": (0, 0, 1, 1), "target_size": (0, 4)}, "target_size must be"),
        ({"bbox": (0, 0, 1, 1), "resampling": "fancy"}, "resampling must be one of"),
    ],
)
def test_read_tile_errors(catalog, kwargs, match):
    with pytest.raises(gc.GeoValueError, match=match):
        read_tile(catalog, **kwargs)


def test_random_slices_reproducible_and_exact(catalog, scenes):
    chip = (32, 40)
    a = list(iter_random_slices(catalog, chip, n=200, seed=3))
    assert a == list(iter_random_slices(catalog, chip, n=200, seed=3))
    assert a != list(iter_random_slices(catalog, chip, n=200, seed=4))
    sizes = {}
    for path, _ in scenes.values():
        with rasterio.open(path) as src:
            sizes[path] = (src.height, src.width)
    for sl in a:
        (r0, r1), (c0, c1) = sl.window
        h, w = sizes[sl.href]
        assert (r1 - r0, c1 - c0) == chip
        assert 0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w
    for sl in a[:5]:
        gt = sl.load()
        assert gt.shape[-2:] == chip
        (r0, r1), (c0, c1) = sl.window
        np.testing.assert_array_equal(
            np.asarray(gt.values), gc.read_raster(sl.href).values[:, r0:r1, c0:c1]
        )


def test_random_slices_uniform(catalog, scenes):
    chip = (48, 48)  # a_new (32 x 48) is too small; the others have 17*17, 49*49, 33*17
    slices = list(iter_random_slices(catalog, chip, n=20_000, seed=0))
    positions = {"a_new": 0, "b_mid": 17 * 17, "c_old": 49 * 49, "d_old": 33 * 17}
    total = sum(positions.values())
    ids = np.array([sl.item_id for sl in slices])
    for name, k in positions.items():
        share = (ids == name).mean()
        assert abs(share - k / total) < 4 * math.sqrt(k / total / len(slices)) + 1e-3, name
    rows = np.array([sl.window[0][0] for sl in slices if sl.item_id == "c_old"])
    cols = np.array([sl.window[1][0] for sl in slices if sl.item_id == "c_old"])
    for v in (rows, cols):  # uniform on 0..48: mean 24, sd 14.1, every value hit
        assert abs(v.mean() - 24) < 4 * 14.1 / math.sqrt(len(v))
        assert set(v.tolist()) == set(range(49))
        assert abs(v.std() - math.sqrt((49**2 - 1) / 12)) < 1.0


def test_random_slices_errors(catalog):
    with pytest.raises(gc.GeoValueError, match=r"no item .* fits a chip of \(200, 10\)"):
        next(iter_random_slices(catalog, (200, 10)))
    with pytest.raises(gc.GeoValueError, match="chip_size must be"):
        next(iter_random_slices(catalog, (32,)))
    with pytest.raises(gc.GeoValueError, match="n must be"):
        next(iter_random_slices(catalog, (8, 8), n=-1))
    assert list(iter_random_slices(catalog, (8, 8), n=0)) == []
