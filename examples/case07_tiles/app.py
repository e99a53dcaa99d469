"""Seed Case 7 — a z/x/y PNG tile server: catalog mosaic -> YAML layer operator -> PNG.

``create_app(catalog_path, layers_yaml)`` opens the catalog and builds the layer operators
once; each request computes the web-mercator bounds of tile z/x/y (standard formula, no
mercantile), mosaics the catalog onto a 256 x 256 EPSG:3857 grid with
``Catalog.read_tile``, applies ``LAYERS[layer]`` and encodes the result as PNG. Run the demo
(generated scenes near 0.5 E, 40 N) with::

    uv run --with uvicorn python examples/tile_server/app.py
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
from affine import Affine
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from pyproj import Transformer

import geocatalog as gc
import pipekit as pk

HERE = Path(__file__).resolve().parent
LAYERS_YAML = HERE / "tile_layers.yaml"
TILE_SIZE = 256
MAX_ZOOM = 24
#: Half the side of the web-mercator square, metres (EPSG:3857 spans +-pi * R).
ORIGIN = math.pi * 6378137.0


@dataclasses.dataclass(frozen=True)
class Render:
    """How a layer's output becomes a PNG (YAML layers stay pure operators).

    Attributes:
        bands: band indexes to show (1 for grey, 3 for RGB); None keeps the output as is.
        vmin, vmax: fixed linear stretch; None stretches each tile to its own min/max.
    """

    bands: tuple[int, ...] | None = None
    vmin: float | None = None
    vmax: float | None = None


#: Render options per layer name; layers not listed use ``Render()``.
RENDER: dict[str, Render] = {
    "ndvi": Render(vmin=-1.0, vmax=1.0),
    # B04, B03, B02 of geocatalog.testing.S2_BANDS; DN 0..3000 is reflectance 0..0.3.
    "truecolor": Render(bands=(2, 1, 0), vmin=0.0, vmax=3000.0),
}


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web-mercator ``(left, bottom, right, top)`` of XYZ tile z/x/y (y counted from the north)."""
    size = 2.0 * ORIGIN / 2**z
    left, top = -ORIGIN + x * size, ORIGIN - y * size
    return left, top - size, left + size, top


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile ``(x, y)`` at zoom ``z`` that contains ``(lon, lat)`` (degrees)."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int] | str:
    """``(z, x, y)`` as ints, or a message saying why they do not name a tile."""
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        return f"z, x and y must be integers; received z={z!r}, x={x!r}, y={y!r}"
    if not 0 <= zi <= MAX_ZOOM:
        return f"z must be in 0..{MAX_ZOOM}; received {zi}"
    n = 2**zi
    if not (0 <= xi < n and 0 <= yi < n):
        return f"x and y must be in 0..{n - 1} at zoom {zi}; received x={xi}, y={yi}"
    return zi, xi, yi


def render_png(out: gc.GeoTensor, source: gc.GeoTensor, options: Render) -> bytes:
    """Encode a layer's output as PNG; pixels that are nodata in ``source`` stay transparent.

    Operators such as PercentileClip may lift a mosaic's integer nodata (0) into a real
    value, so the render step re-applies the source tile's nodata mask (all bands fill or
    NaN, as in ``read_tile``) before encoding.
    """
    src = np.asarray(source.values)
    if np.issubdtype(src.dtype, np.floating):
        nodata = np.isnan(src).all(axis=0)
    elif source.fill_value is not None:
        nodata = (src == source.fill_value).all(axis=0)
    else:
        nodata = np.zeros(src.shape[-2:], dtype=bool)
    if options.bands is not None:
        out = out[list(options.bands)]
    if nodata.any():
        values = np.asarray(out.values, dtype=np.float32)
        out = out.replace(values=np.where(nodata, np.float32(np.nan), values), fill_value=np.nan)
    return out.to_png_bytes(vmin=options.vmin, vmax=options.vmax)


def create_app(catalog_path: str | Path, layers_yaml: str | Path) -> FastAPI:
    """Build the tile app; the catalog is opened and the layers are built here, once."""
    catalog = gc.open_catalog(catalog_path)
    layers = pk.loads_yaml_dict(Path(layers_yaml).read_text(encoding="utf-8"))  # Case 7's LAYERS
    app = FastAPI(title="pipekit tile server (seed Case 7)")
    app.state.catalog, app.state.layers = catalog, layers

    @app.get("/tiles/{layer}/{z}/{x}/{y}.png")
    def tile(layer: str, z: str, x: str, y: str) -> Response:
        if layer not in layers:
            return JSONResponse(
                {"detail": f"unknown layer {layer!r}; available: {sorted(layers)}"},
                status_code=404,
            )
        parsed = parse_tile(z, x, y)
        if isinstance(parsed, str):
            return JSONResponse({"detail": parsed}, status_code=400)
        bbox = tile_bounds(*parsed)
        gt = catalog.read_tile(bbox, target_size=(TILE_SIZE, TILE_SIZE), crs="EPSG:3857")
        png = render_png(layers[layer](gt), gt, RENDER.get(layer, Render()))
        return Response(png, media_type="image/png")

    return app


def make_demo_catalog(root: str | Path, size: int = 256, res: float = 30.0) -> str:
    """Write 4 generated scenes around (0.5 E, 40 N) and index them; return the catalog path.

    Two scenes are on UTM 31N (EPSG:32631), two on UTM 30N (EPSG:32630), overlapping, with
    different dates, so tiles exercise reprojection and newest-first mosaicking.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # (crs, centre lon, centre lat, seed, day of May 2024)
    specs = [
        ("EPSG:32631", 0.49, 40.01, 0, 1),
        ("EPSG:32631", 0.51, 39.99, 1, 5),
        ("EPSG:32630", 0.49, 39.99, 2, 3),
        ("EPSG:32630", 0.51, 40.01, 3, 7),
    ]
    paths: list[str] = []
    dates: dict[str, dt.datetime] = {}
    half = size * res / 2.0
    for crs, lon, lat, seed, day in specs:
        cx, cy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
        left, top = round(cx - half, -1), round(cy + half, -1)
        transform = Affine(res, 0.0, left, 0.0, -res, top)
        scene = gc.testing.synthetic_scene(size, size, seed=seed, crs=crs, transform=transform)
        path = str(root / f"S2_demo_{seed}.tif")
        gc.save_cog(scene, path)
        paths.append(path)
        dates[path] = dt.datetime(2024, 5, day, 10, 30, tzinfo=dt.UTC)
    return gc.build_catalog(paths, str(root / "demo.parquet"), datetime_fn=dates.__getitem__)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="tile_server_"))
    app = create_app(make_demo_catalog(root), LAYERS_YAML)
    x, y = lonlat_to_tile(0.5, 40.0, 13)
    print(f"demo catalog: {root}")
    print(f"try: http://127.0.0.1:8000/tiles/ndvi/13/{x}/{y}.png")
    print(f"     http://127.0.0.1:8000/tiles/truecolor/13/{x}/{y}.png")
    try:
        import uvicorn
    except ImportError:
        print(
            "uvicorn is not installed; run with `uv run --with uvicorn python "
            "examples/tile_server/app.py`, or use fastapi.testclient.TestClient(app)."
        )
        return
    uvicorn.run(app, host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
