"""Seed Case 7: z/x/y PNG tiles from a catalog mosaic through YAML layer operators.

Drives ``examples/case07_tiles/app.py`` in process with FastAPI's TestClient over a small
catalog of generated scenes on two UTM zones (EPSG:32630 / 32631) near 0.5 E, 40 N.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

import geocatalog as gc
import pipekit as pk

with warnings.catch_warnings():
    # Starlette >= 1.x prefers the httpx2 package and warns once, at import, when only
    # httpx is installed (our dev dependency); the client itself works the same.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
APP_PY = ROOT / "examples" / "case07_tiles" / "app.py"
Z = 13


def _load_app_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("case07_tiles_app", APP_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


tiles = _load_app_module()


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes -> ``(band, H, W)`` uint8 (alpha last when present)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(data) as mem, mem.open() as src:
            assert src.driver == "PNG"
            return src.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    catalog_path = tiles.make_demo_catalog(tmp_path_factory.mktemp("case07"))
    with TestClient(tiles.create_app(catalog_path, tiles.LAYERS_YAML)) as client:
        yield client, catalog_path


def _data_tile() -> tuple[int, int]:
    return tiles.lonlat_to_tile(0.5, 40.0, Z)


def test_tile_bounds_standard_formula() -> None:
    assert tiles.tile_bounds(0, 0, 0) == pytest.approx(
        (-tiles.ORIGIN, -tiles.ORIGIN, tiles.ORIGIN, tiles.ORIGIN)
    )
    left, bottom, right, top = tiles.tile_bounds(1, 1, 0)  # north-east quadrant
    assert (left, bottom) == pytest.approx((0.0, 0.0), abs=1e-6)
    assert (right, top) == pytest.approx((tiles.ORIGIN, tiles.ORIGIN))
    assert tiles.lonlat_to_tile(0.5, 40.0, 1) == (1, 0)


def test_layers_render_to_256_png(served: tuple[TestClient, str]) -> None:
    client, catalog_path = served
    x, y = _data_tile()
    shown: dict[str, np.ndarray] = {}
    for layer, n_colour in (("ndvi", 1), ("truecolor", 3)):
        resp = client.get(f"/tiles/{layer}/{Z}/{x}/{y}.png")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "image/png"
        img = decode_png(resp.content)
        assert img.shape[1:] == (256, 256)
        assert img.shape[0] in (n_colour, n_colour + 1)  # alpha only where some pixel is masked
        shown[layer] = img

    # The ndvi tile is exactly LAYERS["ndvi"] applied to the mosaic, rendered -1..1.
    layers: dict[str, Any] = pk.loads_yaml_dict(tiles.LAYERS_YAML.read_text(encoding="utf-8"))
    mosaic = gc.open_catalog(catalog_path).read_tile(
        tiles.tile_bounds(Z, x, y), target_size=(256, 256), crs="EPSG:3857"
    )
    assert mosaic.shape == (13, 256, 256)
    expected = decode_png(layers["ndvi"](mosaic).to_png_bytes(vmin=-1.0, vmax=1.0))
    np.testing.assert_array_equal(shown["ndvi"], expected)

    # Mostly data (vegetation NDVI ~0.8 is bright), clouds transparent.
    ndvi = shown["ndvi"]
    opaque = ndvi[-1] == 255 if ndvi.shape[0] == 2 else np.ones((256, 256), bool)
    assert opaque.mean() > 0.5
    assert ndvi[0][opaque].max() > 200
    # truecolor: the whole tile is covered, so every pixel is opaque and not all grey.
    rgb = shown["truecolor"]
    assert rgb.shape[0] == 3
    assert np.ptp(rgb.astype(int)) > 50


def test_empty_area_is_transparent(served: tuple[TestClient, str]) -> None:
    client, _ = served
    x, y = tiles.lonlat_to_tile(-100.0, 40.0, Z)  # Kansas: no scene there
    for layer in ("ndvi", "truecolor"):
        resp = client.get(f"/tiles/{layer}/{Z}/{x}/{y}.png")
        assert resp.status_code == 200, resp.text
        img = decode_png(resp.content)
        assert img.shape[1:] == (256, 256)
        assert (img[-1] == 0).all(), f"{layer}: empty tile should be fully transparent"


def test_unknown_layer_404_lists_layers(served: tuple[TestClient, str]) -> None:
    client, _ = served
    x, y = _data_tile()
    resp = client.get(f"/tiles/nope/{Z}/{x}/{y}.png")
    assert resp.status_code == 404
    detail = resp.json()["detail"]
    assert "nope" in detail and "ndvi" in detail and "truecolor" in detail


@pytest.mark.parametrize(
    "zxy",
    ["13/-1/0", "13/8192/0", "13/0/8192", "-1/0/0", "25/0/0", "1/2/0", "a/0/0", "13/1.5/0"],
)
def test_bad_tile_400(served: tuple[TestClient, str], zxy: str) -> None:
    client, _ = served
    resp = client.get(f"/tiles/ndvi/{zxy}.png")
    assert resp.status_code == 400, resp.text
    assert "detail" in resp.json()


def test_map_page_without_leaflet_says_how_to_install(
    served: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, catalog_path = served
    assert tiles.find_leaflet((tmp_path,)) is None  # an empty folder has no leaflet.js
    monkeypatch.setattr(tiles, "find_leaflet", lambda: None)
    with TestClient(tiles.create_app(catalog_path, tiles.LAYERS_YAML)) as client:
        resp = client.get("/")
    assert resp.status_code == 503
    assert "apt-get install -y libjs-leaflet" in resp.text and "npm install leaflet" in resp.text


def test_cog_route_matches_a_rasterio_warp(served: tuple[TestClient, str], tmp_path: Path) -> None:
    # Oracle: rasterio.warp.reproject of the whole COG's bands 3, 2, 1 onto the tile grid
    # (nearest), stretched 0..3000 to uint8 in NumPy; nodata (0) is transparent.
    import rasterio
    from rasterio.warp import Resampling, reproject

    cog = str(gc.save_cog(gc.testing.synthetic_scene(256, 256, seed=7), tmp_path / "one.tif"))
    catalog_path = gc.build_catalog([cog], str(tmp_path / "one.parquet"))
    with rasterio.open(cog) as src:
        lon, lat = pyproj_lonlat(src)
        data, src_transform, src_crs = src.read([3, 2, 1]), src.transform, src.crs
    z = 14
    x, y = tiles.lonlat_to_tile(lon, lat, z)
    left, bottom, right, top = tiles.tile_bounds(z, x, y)
    warped = np.zeros((3, 256, 256), np.uint16)
    reproject(data, warped, src_transform=src_transform, src_crs=src_crs, src_nodata=0,
              dst_transform=Affine((right - left) / 256, 0, left, 0, -(top - bottom) / 256, top),
              dst_crs="EPSG:3857", dst_nodata=0, resampling=Resampling.nearest)  # fmt: skip
    want = np.round(np.clip(warped / 3000.0, 0, 1) * 255).astype(np.uint8)
    valid = (warped != 0).all(axis=0)
    assert 0.2 < valid.mean() < 1.0  # the tile straddles the COG's edge

    app = tiles.create_app(catalog_path, tiles.LAYERS_YAML, cog=cog)
    with TestClient(app) as client:
        got = decode_png(client.get(f"/cog/{z}/{x}/{y}.png?bidx=3&bidx=2&bidx=1").content)
        outside = client.get("/cog/14/0/0.png")
        bad = client.get(f"/cog/{z}/{x}/{y}.png?bidx=3&bidx=2&rescale=1")
    assert got.shape == (4, 256, 256)
    np.testing.assert_array_equal(got[3] == 255, valid)
    np.testing.assert_array_equal(got[:3][:, valid], want[:, valid])
    assert outside.status_code == 200 and (decode_png(outside.content)[-1] == 0).all()
    assert bad.status_code == 400 and "rescale" in bad.json()["detail"]


def pyproj_lonlat(src: Any) -> tuple[float, float]:
    """Lon/lat 3/4 of the way to the COG's bottom-right corner (a z14 tile there is part
    data, part outside: the 2.56 km scene is about 1.4 z14 tiles wide at 40.6 N)."""
    from pyproj import Transformer

    b = src.bounds
    x, y = b.left + 0.75 * (b.right - b.left), b.top - 0.75 * (b.top - b.bottom)
    return Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(x, y)
