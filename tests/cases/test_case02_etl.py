"""Seed Case 2: ETL over a catalog with ``pipelines/ndvi_etl.yaml``, as written.

The YAML holds what the seed says it does (``geotoolz.cloud``, ``geotoolz.correction``,
``geotoolz.indices`` and ``geotoolz.io.WriteCOG``). The catalog indexes generated
Sentinel-2-like scenes instead of ``s3://bucket/s2_eu.parquet``; the pool is fresh
(``keep_pool=False``) so the workers start in this test's working directory, where the
YAML's relative ``WriteCOG`` path lands.
"""

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk

ROOT = Path(__file__).parents[2]


def make_catalog(root: Path, n: int = 4) -> str:
    paths = []
    for i in range(n):
        transform = Affine(10.0, 0.0, 399960.0 + 480.0 * i, 0.0, -10.0, 4500000.0)
        scene = gc.testing.synthetic_scene(48, 48, seed=20 + i, transform=transform)
        paths.append(str(gc.save_cog(scene, root / f"S2_{i:03d}.tif")))
    day = dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)
    return gc.build_catalog(paths, str(root / "s2_eu.parquet"), datetime_fn=lambda p: day)


def oracle(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(haze-corrected stack, NDVI) of one scene file in plain NumPy."""
    with rasterio.open(path) as src:
        v = src.read().astype(np.float64)
    qa = v[-1].astype(np.uint32)
    bad = ((qa & (1 << 10 | 1 << 11)) != 0) | np.all(v == 0, axis=0)
    x = np.where(bad, np.nan, v)
    x[-1] = v[-1]  # MaskClouds keeps the QA band as it is
    dark = np.nanpercentile(x[:-1], 1.0, axis=(-2, -1))[:, None, None]
    boa = x.copy()
    boa[:-1] = x[:-1] - np.maximum(dark - 0.01 * 10_000, 0.0)
    lo = np.nanpercentile(boa, 2.0, axis=(-2, -1))[:, None, None]
    hi = np.nanpercentile(boa, 98.0, axis=(-2, -1))[:, None, None]
    c = np.clip(boa, lo, hi)
    return boa, (c[3] - c[2]) / (c[3] + c[2])


def test_case2_as_written(tmp_path, monkeypatch):
    (tmp_path / "pipelines").mkdir()
    shutil.copy(ROOT / "examples" / "pipelines" / "ndvi_etl.yaml", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    catalog_path = make_catalog(tmp_path)

    catalog = gc.open_catalog(catalog_path)
    with open("pipelines/ndvi_etl.yaml") as f:  # the seed's open(...).read(), closed
        etl = pk.loads_yaml(f.read())
    report = gz.catalog_ops.CatalogPipeline(
        catalog=catalog,
        op=etl,
        parallel=pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue", keep_pool=False),
        loader=gc.load_raster,  # injection: geocatalog's loader
        out_dir=tmp_path / "ndvi",
    ).run()
    assert report.counts == {"ok": 4, "skipped": 0, "failed": 0}

    boa_files = sorted((tmp_path / "boa").glob("*.tif"))
    assert len(boa_files) == 4  # WriteCOG inside the YAML wrote one product per scene
    boas = []
    for f in boa_files:
        with rasterio.open(f) as src:
            boas.append(src.read())
    for sl in catalog.iter_slices():
        want_boa, want_ndvi = oracle(sl.href)
        with rasterio.open(tmp_path / "ndvi" / f"{sl.hash}.tif") as src:
            np.testing.assert_allclose(src.read(1), want_ndvi, rtol=1e-4, atol=1e-5)
        # exactly one written product holds this scene's corrected stack
        hits = [b for b in boas if np.allclose(b, want_boa, rtol=1e-5, atol=1e-2, equal_nan=True)]
        assert len(hits) == 1
