"""Case 7 tile server vs TiTiler: the same COG, the same z/x/y tiles, 8 concurrent clients.

Run: ``uv sync --group bench`` (installs titiler-core), then
``uv run python benchmarks/tiles.py [--size 2048] [--zooms 12,13,14] [--repeats 5]``.

One generated COG (``synthetic_scene`` on UTM 30N, 10 m pixels, 13 uint16 bands, nodata
0, ``gc.save_cog``: deflate, 512 px blocks, nearest overviews). Both servers are real
uvicorn processes on 127.0.0.1, started here and stopped at the end, access log off:

* **titiler** — ``titiler.core.factory.TilerFactory`` router,
  ``/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=COG&bidx=3&bidx=2&bidx=1&rescale=0,3000``:
  rio-tiler opens the COG per request, reads bands 3, 2, 1 through a WarpedVRT onto the
  tile (nearest, from the overview matching the zoom), rescales 0..3000 to uint8 and
  writes PNG with an alpha mask from nodata.
* **ours /cog** — ``examples/case07_tiles/app.py --cog COG``,
  ``/cog/{z}/{x}/{y}.png?bidx=3&bidx=2&bidx=1&rescale=0,3000``: ``gc.load_raster`` of
  bands 3, 2, 1 onto the tile grid (opens the COG per request, reads the full-resolution
  source window the tile needs, no overviews, then ``rasterio.warp.reproject`` nearest),
  ``to_png_bytes(vmin=0, vmax=3000)`` (rounds; rio-tiler truncates), alpha from nodata.
  The same job as TiTiler's.
* **ours /tiles/truecolor** — the Case 7 layer endpoint on the one-COG catalog: catalog
  query, ``read_tile`` of all 13 bands, ``ToFloat32 -> PercentileClip``, render bands
  [2, 1, 0]. More work than the others; shown for what the user-facing endpoint costs.

Each pass requests every tile once from a shared queue by ``--clients`` httpx async
clients; p50 is the median request latency of a pass, tiles/s the tiles over the pass's
wall time. A warm-up pass per server first; the servers alternate order each repeat; the
table shows medians over ``--repeats`` passes. Also printed: the share of pixels where the
/cog tiles equal TiTiler's (both nearest from the same file).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from affine import Affine
from matplotlib import image as mpimg

import geocatalog as gc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from examples.case07_tiles.app import lonlat_to_tile  # noqa: E402
from tests.cases._servers import free_port, serve  # noqa: E402

QUERY = "bidx=3&bidx=2&bidx=1&rescale=0,3000"


def make_cog(root: Path, size: int) -> tuple[str, tuple[float, float, float, float]]:
    """Write the benchmark COG; return its path and lon/lat bounds."""
    transform = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)
    scene = gc.testing.synthetic_scene(size, size, seed=0, crs="EPSG:32630", transform=transform)
    path = str(gc.save_cog(scene, root / "bench.tif"))
    from rasterio.warp import transform_bounds

    left, top = transform.c, transform.f
    return path, transform_bounds("EPSG:32630", "EPSG:4326", left, top - 10 * size,
                                  left + 10 * size, top)  # fmt: skip


def tile_list(bounds: tuple[float, float, float, float], zooms: list[int]) -> list[tuple[int, ...]]:
    """Every z/x/y tile meeting ``bounds`` (degrees) at each zoom."""
    west, south, east, north = bounds
    out = []
    for z in zooms:
        x0, y0 = lonlat_to_tile(west, north, z)
        x1, y1 = lonlat_to_tile(east, south, z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


async def one_pass(urls: list[str], clients: int) -> tuple[float, float]:
    """(p50 latency s, tiles/s) of fetching every url once with ``clients`` workers."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            url = queue.get_nowait()
            start = time.perf_counter()
            resp = await client.get(url)
            latencies.append(time.perf_counter() - start)
            if resp.status_code != 200 or resp.headers["content-type"] != "image/png":
                raise RuntimeError(f"{url}: {resp.status_code} {resp.text[:300]}")

    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - start
    return statistics.median(latencies), len(urls) / wall


def rgba(png: bytes) -> np.ndarray:
    img = mpimg.imread(io.BytesIO(png), format="png")
    if img.shape[-1] == 3:
        img = np.concatenate([img, np.ones((*img.shape[:2], 1), img.dtype)], axis=-1)
    return np.round(img * 255).astype(np.uint8)


def agreement(a_urls: list[str], b_urls: list[str]) -> tuple[float, float, float]:
    """Shares of pixels: same alpha; equal RGBA; RGBA within 1 level (rounding vs truncation).

    Transparent pixels count as equal whatever their colour.
    """
    same_alpha = equal = near = total = 0
    with httpx.Client(timeout=120) as client:
        for a, b in zip(a_urls, b_urls, strict=True):
            x, y = rgba(client.get(a).content), rgba(client.get(b).content)
            x[x[..., 3] == 0], y[y[..., 3] == 0] = 0, 0
            diff = np.abs(x.astype(int) - y.astype(int)).max(axis=-1)
            same_alpha += int((x[..., 3] == y[..., 3]).sum())
            equal += int((diff == 0).sum())
            near += int((diff <= 1).sum())
            total += diff.size
    return same_alpha / total, equal / total, near / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="COG side, pixels (10 m)")
    parser.add_argument("--zooms", default="12,13,14")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    zooms = [int(z) for z in args.zooms.split(",")]
    import titiler.core

    with tempfile.TemporaryDirectory(prefix="bench_tiles_") as tmp:
        root = Path(tmp)
        cog, bounds = make_cog(root, args.size)
        tiles = tile_list(bounds, zooms)
        (root / "titiler_app.py").write_text(
            "from fastapi import FastAPI\nfrom titiler.core.factory import TilerFactory\n"
            "app = FastAPI()\napp.include_router(TilerFactory().router)\n"
        )
        ports = {"titiler": free_port(), "ours": free_port()}
        ti = f"http://127.0.0.1:{ports['titiler']}"
        us = f"http://127.0.0.1:{ports['ours']}"
        rows = {
            "titiler": [f"{ti}/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={cog}&{QUERY}"
                        for z, x, y in tiles],
            "ours /cog": [f"{us}/cog/{z}/{x}/{y}.png?{QUERY}" for z, x, y in tiles],
            "ours /tiles/truecolor": [f"{us}/tiles/truecolor/{z}/{x}/{y}.png" for z, x, y in tiles],
        }  # fmt: skip
        ti_cmd = [sys.executable, "-m", "uvicorn", "titiler_app:app", "--app-dir", tmp,
                  "--port", str(ports["titiler"]), "--no-access-log"]  # fmt: skip
        us_cmd = [sys.executable, str(ROOT / "examples" / "case07_tiles" / "app.py"),
                  "--cog", cog, "--data-dir", tmp, "--port", str(ports["ours"]),
                  "--no-access-log"]  # fmt: skip
        with (
            serve(ti_cmd, f"{ti}/docs", log=root / "titiler.log"),
            serve(us_cmd, f"{us}/", log=root / "ours.log"),
        ):
            for urls in rows.values():  # warm-up: imports, GDAL caches, first-call costs
                asyncio.run(one_pass(urls, args.clients))
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in rows}
            for rep in range(args.repeats):
                names = list(rows) if rep % 2 == 0 else list(rows)[::-1]
                for name in names:
                    results[name].append(asyncio.run(one_pass(rows[name], args.clients)))
            same = agreement(rows["ours /cog"], rows["titiler"])

    print(f"{platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"titiler-core {titiler.core.__version__}, GDAL {gc_gdal()}")  # fmt: skip
    print(
        f"COG {args.size}x{args.size} 10 m, 13 bands uint16; {len(tiles)} tiles at z "
        f"{args.zooms}; {args.clients} clients; medians of {args.repeats} passes"
    )
    ref_p50 = statistics.median(r[0] for r in results["titiler"])
    ref_tps = statistics.median(r[1] for r in results["titiler"])
    print(
        f"{'server':<24}{'p50 ms':>9}{'tiles/s':>9}{'p50 / titiler':>15}{'tiles/s / titiler':>19}"
    )
    for name, res in results.items():
        p50 = statistics.median(r[0] for r in res)
        tps = statistics.median(r[1] for r in res)
        print(f"{name:<24}{p50 * 1e3:>9.1f}{tps:>9.1f}{p50 / ref_p50:>15.2f}{tps / ref_tps:>19.2f}")
    print(f"/cog vs TiTiler pixels: same alpha {same[0]:.2%}, equal RGBA {same[1]:.2%}, "
          f"within 1 level {same[2]:.2%}")  # fmt: skip
    assert math.isfinite(ref_p50)


def gc_gdal() -> str:
    import rasterio

    return rasterio.__gdal_version__


if __name__ == "__main__":
    main()
