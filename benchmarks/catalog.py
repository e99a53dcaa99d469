"""GeoParquet catalog: build, open and bbox+time query vs DuckDB, pyarrow.dataset and NumPy.

Synthetic Sentinel-2-like catalogs: 1,000 one-degree tiles (a 50 x 20 grid over Europe),
each revisited ``n / 1000`` times over two years; queries are 0.5-2 degree boxes with a
30-day window. All four methods must return the same ids (asserted); footprints are boxes,
so the bbox test is exact for every method.

    uv run --group bench python benchmarks/catalog.py [--sizes 100000 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import shapely

from geocatalog._catalog import open_catalog
from geocatalog._catalog_build import catalog_table, write_catalog

EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_US = 2 * 365 * 86400 * 10**6


def synthetic_table(n: int, seed: int = 0) -> pa.Table:
    """Catalog rows without rasterio: 1,000 tiles x ``n // 1000`` revisits."""
    rng = np.random.default_rng(seed)
    tile = np.arange(n) % 1000
    x0 = -10.0 + (tile % 50) + rng.normal(0, 0.01, n)
    y0 = 35.0 + (tile // 50) + rng.normal(0, 0.01, n)
    bounds = np.c_[x0, y0, x0 + 1.0, y0 + 1.0]
    epoch_us = int(EPOCH.timestamp() * 1e6)
    times = epoch_us + rng.integers(0, SPAN_US, n)
    cols = {
        "id": pa.array([f"S2_{t:04d}_{i:07d}" for i, t in enumerate(tile)]),
        "href": pa.array([f"s3://bucket/{i}.tif" for i in range(n)]),
        "datetime": pa.array(times, pa.timestamp("us", tz="UTC")),
        "crs": pa.array(np.full(n, "EPSG:32632", dtype=object), pa.string()),
        "cloud_cover": pa.array(rng.uniform(0, 100, n)),
    }
    return catalog_table(shapely.to_wkb(shapely.box(*bounds.T)), bounds, cols)


def queries(k: int, seed: int = 1) -> list[tuple[tuple[float, ...], dt.datetime, dt.datetime]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        cx, cy, half = rng.uniform(-9, 39), rng.uniform(36, 54), rng.uniform(0.25, 1.0)
        start = EPOCH + dt.timedelta(days=float(rng.uniform(0, 700)))
        out.append(((cx - half, cy - half, cx + half, cy + half), start, start + dt.timedelta(30)))
    return out


def timed(fn, qs) -> tuple[list[float], list[list[str]]]:
    times, results = [], []
    for q in qs:
        t0 = time.perf_counter()
        results.append(sorted(fn(*q)))
        times.append(time.perf_counter() - t0)
    return times, results


def run(n: int, k: int, tmp: str) -> None:
    import duckdb

    path = os.path.join(tmp, f"cat_{n}.parquet")
    t0 = time.perf_counter()
    table = synthetic_table(n)
    t_rows = time.perf_counter() - t0
    write_catalog(table, path, row_group_size=10_000)
    t_build = time.perf_counter() - t0
    opens = []
    for _ in range(7):
        t0 = time.perf_counter()
        cat = open_catalog(path)
        opens.append(time.perf_counter() - t0)
    qs = queries(k)
    first = []  # a fresh open and its first query: what a one-shot job (Case 12) pays
    for b, s, e in qs[:7]:
        t0 = time.perf_counter()
        open_catalog(path).query(b, start=s, end=e)
        first.append(time.perf_counter() - t0)

    def ours(b, s, e):
        return cat.query(b, start=s, end=e).ids

    con = duckdb.connect()
    sql = (
        f"SELECT id FROM read_parquet('{path}') WHERE bbox.xmin <= $3 AND bbox.xmax >= $1 "
        "AND bbox.ymin <= $4 AND bbox.ymax >= $2 AND datetime >= $5 AND datetime < $6"
    )

    def duck(b, s, e):
        return [r[0] for r in con.execute(sql, [*b, s, e]).fetchall()]

    dset = ds.dataset(path, format="parquet")

    def arrow(b, s, e):
        f = (
            (pc.field("bbox", "xmin") <= b[2]) & (pc.field("bbox", "xmax") >= b[0])
            & (pc.field("bbox", "ymin") <= b[3]) & (pc.field("bbox", "ymax") >= b[1])
            & (pc.field("datetime") >= pa.scalar(s, pa.timestamp("us", "UTC")))
            & (pc.field("datetime") < pa.scalar(e, pa.timestamp("us", "UTC")))
        )  # fmt: skip
        return dset.to_table(columns=["id"], filter=f).column("id").to_pylist()

    store = cat._store
    ids = store.column("id")
    store.head()  # the full-scan baseline scans whole columns in memory: read them untimed

    def numpy_scan(b, s, e):
        ts, te = (int(x.timestamp() * 1e6) for x in (s, e))
        m = (store.xmin <= b[2]) & (store.xmax >= b[0]) & (store.ymin <= b[3])
        m &= (store.ymax >= b[1]) & (store.time >= ts) & (store.time < te)
        return ids[m].tolist()

    cold, ref = timed(ours, qs)  # first pass reads footprint row groups on demand
    rows = [("ours, first pass", cold)]
    for name, fn in (("ours", ours), ("duckdb SQL", duck), ("pyarrow.dataset", arrow),
                     ("numpy full-scan mask", numpy_scan)):  # fmt: skip
        times, got = timed(fn, qs)
        assert got == ref, f"{name} disagrees with ours"
        rows.append((name, times))
    ms = 1e3
    hits = statistics.mean(len(r) for r in ref)
    print(f"\nn = {n:,}  ({k} queries, mean {hits:.1f} hits)")
    print(f"  synthetic rows {t_rows:.2f} s; build (sort + write) {t_build - t_rows:.2f} s; "
          f"file {os.path.getsize(path) / 2**20:.1f} MiB; "
          f"open p50 {statistics.median(opens) * ms:.2f} ms; "
          f"open + first query p50 {statistics.median(first) * ms:.2f} ms")  # fmt: skip
    print(f"  {'method':24s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, times in rows:
        p50, p95 = np.percentile(np.array(times) * ms, [50, 95])
        print(f"  {name:24s} {p50:8.3f} {p95:8.3f}")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web-mercator bounds (left, bottom, right, top) of tile z/x/y."""
    half = 20037508.342789244
    size = 2 * half / 2**z
    return (-half + x * size, half - (y + 1) * size, -half + (x + 1) * size, half - y * size)


def read_tile_rows(tmp: str, repeats: int = 20) -> None:
    """ms per ``Catalog.read_tile`` of a 256² web-mercator tile over 4 overlapping COGs."""
    import datetime as dt

    from affine import Affine

    import geocatalog as gc

    paths, dates = [], {}
    for i, (crs, x0) in enumerate(
        [
            ("EPSG:32631", 230_000),
            ("EPSG:32631", 235_000),
            ("EPSG:32630", 740_000),
            ("EPSG:32630", 745_000),
        ]
    ):
        transform = Affine(30.0, 0.0, x0, 0.0, -30.0, 4_440_000.0)
        scene = gc.testing.synthetic_scene(512, 512, seed=i, crs=crs, transform=transform)
        path = gc.save_cog(scene, os.path.join(tmp, f"tile_src_{i}.tif"))
        paths.append(path)
        dates[path] = dt.datetime(2024, 1 + i, 1, tzinfo=dt.UTC)
    cat = gc.open_catalog(
        gc.build_catalog(paths, os.path.join(tmp, "tiles.parquet"), datetime_fn=dates.__getitem__)
    )
    # Tiles around the overlap of the first scene with the others.
    box = cat.to_arrow().column("bbox")[0].as_py()
    lon, lat = box["xmax"] - 0.02, (box["ymin"] + box["ymax"]) / 2
    for z in (12, 13):
        x = int((lon + 180.0) / 360.0 * 2**z)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * 2**z)
        bounds = tile_bounds(z, x, y)
        n_items = len(cat.query(bounds, crs="EPSG:3857"))
        cat.read_tile(bounds)  # warm GDAL's caches
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            cat.read_tile(bounds)
            times.append(time.perf_counter() - start)
        p50, p95 = np.percentile(np.array(times) * 1e3, [50, 95])
        print(f"  read_tile z{z}/{x}/{y} 256² x 13 bands, {n_items} items: "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            run(n, args.queries, tmp)
        print("\nread_tile (Case 7), local deflate COGs:")
        read_tile_rows(tmp)


if __name__ == "__main__":
    main()
