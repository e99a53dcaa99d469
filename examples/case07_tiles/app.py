"""Seed Case 7 — a z/x/y PNG tile server: catalog mosaic -> YAML layer operator -> PNG.

``create_app(catalog_path, layers_yaml)`` opens the catalog and builds the layer operators
once; each request computes the web-mercator bounds of tile z/x/y (standard formula, no
mercantile), mosaics the catalog onto a 256 x 256 EPSG:3857 grid with
``Catalog.read_tile``, applies ``LAYERS[layer]`` and encodes the result as PNG. ``/`` is a
Leaflet web map of one layer (Leaflet served from its local install, no CDN). Run the demo
(generated scenes near 0.5 E, 40 N, in a temp dir) under uvicorn with::

    uv run python examples/case07_tiles/app.py --port 8000
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import html
import math
import os
import string
import tempfile
from pathlib import Path

import numpy as np
from affine import Affine
from fastapi import FastAPI, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pyproj import Transformer

import geocatalog as gc
import pipekit as pk

HERE = Path(__file__).resolve().parent
LAYERS_YAML = HERE / "tile_layers.yaml"
MAP_HTML = HERE / "map.html"
#: The map page never zooms in further than this (the demo scenes are 30 m pixels).
MAP_MAX_ZOOM = 16
TILE_SIZE = 256
MAX_ZOOM = 24
#: Half the side of the web-mercator square, metres (EPSG:3857 spans +-pi * R).
ORIGIN = math.pi * 6378137.0


@dataclasses.dataclass(frozen=True)
class Render:
    """How a layer's output becomes a PNG (YAML layers stay pure operators).

    Attributes:
        vmin, vmax: fixed linear stretch; None stretches each tile to its own min/max.
    """

    vmin: float | None = None
    vmax: float | None = None


#: Render options per layer name; layers not listed use ``Render()``.
RENDER: dict[str, Render] = {
    "ndvi": Render(vmin=-1.0, vmax=1.0),
    # the layer picks B04, B03, B02 (geotoolz.viz.TrueColor); DN 0..3000 is reflectance 0..0.3.
    "truecolor": Render(vmin=0.0, vmax=3000.0),
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
    if nodata.any():
        values = np.asarray(out.values, dtype=np.float32)
        out = out.replace(values=np.where(nodata, np.float32(np.nan), values), fill_value=np.nan)
    return out.to_png_bytes(vmin=options.vmin, vmax=options.vmax)


def find_leaflet(candidates: tuple[Path, ...] | None = None) -> Path | None:
    """The first folder holding ``leaflet.js`` and ``leaflet.css``, or None.

    Looked up, in order: ``$CASE07_LEAFLET_DIR``, Debian's ``libjs-leaflet``
    (``/usr/share/javascript/leaflet``), then npm's ``node_modules/leaflet/dist`` under the
    repository and the working directory. The page never loads Leaflet from a CDN.
    """
    if candidates is None:
        env = os.environ.get("CASE07_LEAFLET_DIR")
        candidates = (
            *((Path(env),) if env else ()),
            Path("/usr/share/javascript/leaflet"),
            HERE.parents[1] / "node_modules" / "leaflet" / "dist",
            Path.cwd() / "node_modules" / "leaflet" / "dist",
        )
    for folder in candidates:
        if (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file():
            return folder
    return None


def leaflet_missing_message(candidates: str) -> str:
    return (
        f"Case 7 map page: Leaflet (leaflet.js + leaflet.css) was not found in {candidates}. "
        "Install it with `apt-get install -y libjs-leaflet` (Debian/Ubuntu) or "
        "`npm install leaflet` in the repository, or set CASE07_LEAFLET_DIR to a folder "
        "holding leaflet.js and leaflet.css. The tile endpoint /tiles/... works without it."
    )


def catalog_lonlat_bounds(catalog: gc.Catalog) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` in degrees: the union of the items' bboxes."""
    bbox = catalog.to_arrow().column("bbox").combine_chunks()
    xmin, ymin, xmax, ymax = (np.asarray(bbox.field(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
    if xmin.size == 0:
        return -180.0, -85.0, 180.0, 85.0
    return float(xmin.min()), float(ymin.min()), float(xmax.max()), float(ymax.max())


def map_page(layer: str, bounds: tuple[float, float, float, float], leaflet_dir: Path) -> str:
    """The Leaflet page (``map.html``) showing ``layer`` fitted to ``bounds`` (degrees)."""
    west, south, east, north = bounds
    return string.Template(MAP_HTML.read_text(encoding="utf-8")).substitute(
        layer=html.escape(layer), west=west, south=south, east=east, north=north,
        max_zoom=MAP_MAX_ZOOM, leaflet_dir=html.escape(str(leaflet_dir)),
    )  # fmt: skip


def parse_cog_query(bidx: list[str], rescale: str) -> tuple[tuple[int, ...], float, float] | str:
    """TiTiler-style ``bidx`` (1-based bands) and ``rescale=min,max``, or why they are wrong."""
    try:
        indexes = tuple(int(b) for b in bidx)
        vmin, vmax = (float(v) for v in rescale.split(","))
    except ValueError:
        return (
            f"bidx must be integers and rescale 'min,max'; received bidx={bidx!r}, "
            f"rescale={rescale!r} (e.g. ?bidx=3&bidx=2&bidx=1&rescale=0,3000)"
        )
    if len(indexes) not in (1, 3, 4) or min(indexes) < 1 or not vmin < vmax:
        return (
            f"bidx must be 1, 3 or 4 band numbers >= 1 and rescale min < max; received "
            f"bidx={list(indexes)}, rescale={rescale!r}"
        )
    return indexes, vmin, vmax


def create_app(
    catalog_path: str | Path,
    layers_yaml: str | Path,
    *,
    map_layer: str = "truecolor",
    leaflet_dir: Path | None = None,
    cog: str | Path | None = None,
) -> FastAPI:
    """Build the tile app; the catalog is opened and the layers are built here, once.

    Routes: ``/`` the Leaflet map of ``map_layer`` (503 with install steps when Leaflet is
    not found), ``/leaflet/...`` Leaflet's own files, ``/tiles/{layer}/{z}/{x}/{y}.png`` the
    layer tiles, and with ``cog`` also ``/cog/{z}/{x}/{y}.png?bidx=..&rescale=min,max``:
    one COG read straight onto the tile grid (``gc.load_raster``), no catalog, no layer,
    the same work TiTiler's ``/tiles/WebMercatorQuad/{z}/{x}/{y}.png`` does.
    """
    catalog = gc.open_catalog(catalog_path)
    layers = pk.loads_yaml_dict(Path(layers_yaml).read_text(encoding="utf-8"))  # Case 7's LAYERS
    if map_layer not in layers:
        raise ValueError(
            f"create_app: map_layer must be one of {sorted(layers)}; got {map_layer!r}"
        )
    leaflet_dir = leaflet_dir if leaflet_dir is not None else find_leaflet()
    app = FastAPI(title="pipekit tile server (seed Case 7)")
    app.state.catalog, app.state.layers = catalog, layers
    bounds = catalog_lonlat_bounds(catalog)

    @app.get("/", response_class=HTMLResponse)
    def web_map() -> Response:
        if leaflet_dir is None:
            where = "$CASE07_LEAFLET_DIR, /usr/share/javascript/leaflet, node_modules/leaflet/dist"
            return PlainTextResponse(leaflet_missing_message(where), status_code=503)
        return HTMLResponse(map_page(map_layer, bounds, leaflet_dir))

    if leaflet_dir is not None:
        app.mount("/leaflet", StaticFiles(directory=leaflet_dir), name="leaflet")

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

    if cog is not None:
        cog_path = str(cog)

        @app.get("/cog/{z}/{x}/{y}.png")
        def cog_tile(
            z: str, x: str, y: str,
            bidx: list[str] = Query(default=["3", "2", "1"]),  # noqa: B008 (FastAPI idiom)
            rescale: str = "0,3000",
        ) -> Response:  # fmt: skip
            parsed, query = parse_tile(z, x, y), parse_cog_query(bidx, rescale)
            if isinstance(parsed, str) or isinstance(query, str):
                return JSONResponse({"detail": parsed if isinstance(parsed, str) else query}, 400)
            indexes, vmin, vmax = query
            try:
                gt = gc.load_raster(
                    cog_path, bounds=tile_bounds(*parsed), bounds_crs="EPSG:3857",
                    crs="EPSG:3857", shape=(TILE_SIZE, TILE_SIZE), indexes=indexes,
                )  # fmt: skip
            except gc.NoOverlapError:  # outside the COG: a fully transparent tile
                gt = gc.GeoTensor(
                    np.full((len(indexes), TILE_SIZE, TILE_SIZE), np.nan, np.float32),
                    Affine.identity(), "EPSG:3857", fill_value=np.nan,
                )  # fmt: skip
            return Response(gt.to_png_bytes(vmin=vmin, vmax=vmax), media_type="image/png")

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Seed Case 7: z/x/y PNG tiles and a web map.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--catalog", help="serve this catalog (default: generated demo data)")
    parser.add_argument("--cog", help="serve this one COG (a one-item catalog, and /cog/...)")
    parser.add_argument("--data-dir", help="where the demo data goes (default: a temp dir)")
    parser.add_argument("--layer", default="truecolor", help="layer the map page shows")
    parser.add_argument("--no-access-log", action="store_true", help="quiet uvicorn")
    args = parser.parse_args(argv)
    root = Path(args.data_dir or tempfile.mkdtemp(prefix="case07_tiles_"))
    if args.cog:
        root.mkdir(parents=True, exist_ok=True)
        catalog_path = gc.build_catalog([args.cog], str(root / "cog.parquet"))
    else:
        catalog_path = args.catalog or make_demo_catalog(root)
    app = create_app(catalog_path, LAYERS_YAML, map_layer=args.layer, cog=args.cog)
    try:
        import uvicorn
    except ImportError:
        raise SystemExit(
            "Case 7 app.py: uvicorn is not installed; `uv sync` installs it (dev group), or "
            "run `uv run --with uvicorn python examples/case07_tiles/app.py`."
        ) from None
    west, south, east, north = catalog_lonlat_bounds(app.state.catalog)
    x, y = lonlat_to_tile((west + east) / 2, (south + north) / 2, 13)
    base = f"http://{args.host}:{args.port}"
    print(f"catalog: {catalog_path}\nmap:     {base}/")
    print(f"tile:    {base}/tiles/{args.layer}/13/{x}/{y}.png")
    uvicorn.run(app, host=args.host, port=args.port, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
