"""Seed Case 2 — ETL over a catalog with CatalogPipeline, runnable on generated scenes.

The catalog indexes a handful of generated Sentinel-2-like scenes (instead of
``s3://bucket/s2_eu.parquet``); the rest is Case 2 as written. Run it twice: the second
run skips every slice (outputs are named by slice hash and written atomically), and a run
killed half-way is finished by running it again::

    uv run python examples/case02_etl/run_etl.py --out /tmp/etl

The pipeline is ``examples/pipelines/ndvi_etl.yaml``; its ``WriteCOG`` step writes the
haze-corrected stacks under ``{out}/boa/`` (the run works in ``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk

HERE = Path(__file__).resolve().parent


def make_catalog(root: Path, n_scenes: int = 6) -> str:
    """Write ``n_scenes`` generated 64 x 64 scenes side by side and index them."""
    scenes = root / "scenes"
    scenes.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_scenes):
        path = scenes / f"S2_T30TVK_{i:03d}.tif"
        if not path.exists():
            # Side by side on a 10 m UTM 30N grid, 640 m apart.
            transform = Affine(10.0, 0.0, 399960.0 + 640.0 * i, 0.0, -10.0, 4500000.0)
            scene = gc.testing.synthetic_scene(64, 64, seed=i, transform=transform)
            gc.save_cog(scene, str(path))
        paths.append(str(path))
    day = dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)
    return gc.build_catalog(paths, str(root / "s2_eu.parquet"), datetime_fn=lambda p: day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="etl_out", help="work folder")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    root = Path(args.out).resolve()
    root.mkdir(parents=True, exist_ok=True)
    pipelines = HERE.parent / "pipelines"
    os.chdir(root)  # WriteCOG's relative path_template lands in the work folder

    catalog = gc.open_catalog(make_catalog(root))
    etl = pk.loads_yaml(open(pipelines / "ndvi_etl.yaml").read())  # noqa: SIM115 (Case 2 as written)
    report = gz.catalog_ops.CatalogPipeline(
        catalog=catalog,
        op=etl,
        parallel=pk.parallel.ProcessMap(n_workers=args.workers, on_error="log_and_continue"),
        loader=gc.load_raster,  # injection: geocatalog's loader
        out_dir=root / "ndvi",
    ).run()
    print(f"manifest: {report.manifest}")
    print(" ".join(f"{k}={v}" for k, v in report.counts.items()))
    for record in report.by_status("failed"):
        print(f"failed {record.item_id}: {record.error}")


if __name__ == "__main__":
    main()
