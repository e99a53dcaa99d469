"""Seed Case 12 — a Prefect flow of per-slice task units: daily methane maps to S3.

``daily_methane_flow(date, catalog_path)`` opens a GeoParquet catalog, takes the slices
acquired on ``date`` (``Catalog.iter_slices_for_date``) and submits one ``run_op`` task per
slice; each task loads the pipeline from YAML (the seed's ``methane_v3.yaml``), rebuilds the
slice from plain JSON (``GeoSlice.from_dict``), reads it (``gc.load_raster``), runs it and
writes a COG named by the slice's content hash: ``{out_root}/{hash}.tif``. Prefect owns
retries, parallelism and monitoring; pipekit/geocatalog/geotoolz own what is computed.

Idempotent, so retries and reruns are safe:

- the output URI depends only on the slice (its content hash), never on a run id or uuid;
- ``gc.save_cog`` writes atomically (a local rename, or one S3 PUT), so an object that
  exists is complete;
- before reading or computing anything, ``run_op`` asks the storage whether the output
  exists (:func:`output_exists`: one HEAD request on S3, a stat locally). If it does, the
  task reads back only the output for its stats and returns ``skipped=True``: a rerun of a
  finished day reads no input and writes nothing.

The output root is the ``out_root`` argument, else ``$CASE12_OUT_ROOT``, else the seed's
``s3://daily`` (endpoint and credentials from the standard ``AWS_*`` variables). Outputs
are named by the slice, not the pipeline: give each pipeline version its own root
(``s3://daily/methane_v3``), or a new version would skip the old version's outputs.

Run the demo (three generated EMIT-like scenes, two of them on the date, in a catalog under
the folder; outputs to ``<folder>/daily`` unless ``--out`` is given)::

    uv run python examples/case12_prefect/flow.py --demo /tmp/case12

On real data: ``flow.py --catalog catalog.parquet --date 2024-09-15 [--out s3://daily]``.
Without ``PREFECT_API_URL`` Prefect starts a temporary local server for the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pyarrow.fs as pafs
from affine import Affine
from prefect import flow, task

import geocatalog as gc
import geotoolz as gz
import pipekit as pk

HERE = Path(__file__).resolve().parent
OP_YAML = str(HERE.parent / "pipelines" / "methane_v3.yaml")
OUT_ROOT_ENV = "CASE12_OUT_ROOT"
DEFAULT_OUT_ROOT = "s3://daily"
DEMO_DATE = "2024-09-15"


def output_uri(out_root: str, slice_hash: str) -> str:
    """Where a slice's output goes: ``{out_root}/{hash}.tif`` (a local folder or a URI)."""
    return f"{out_root.rstrip('/')}/{slice_hash}.tif"


def output_exists(uri: str) -> bool:
    """Whether ``uri`` holds a file already (writes are atomic: if it exists, it is whole).

    Asked of the storage through pyarrow (``AWS_*`` variables, ``AWS_ENDPOINT_URL`` for
    S3-compatible servers), not by opening it with GDAL: GDAL remembers a 404 for the rest
    of the process, so this task's own read-back after its write would fail.
    """
    if "://" not in uri:
        uri = str(Path(uri).resolve())
    fs, path = pafs.FileSystem.from_uri(uri)
    return fs.get_file_info(path).type == pafs.FileType.File


@task(retries=3, retry_delay_seconds=60)
def run_op(op_yaml: str, slice_dict: dict, out_root: str = DEFAULT_OUT_ROOT) -> dict:
    """One slice: skip if its output exists, else read, run the YAML pipeline, write a COG.

    Returns:
        ``{"out_uri", "stats", "skipped"}``; ``stats`` is ``GeoTensor.summary_stats()`` of
        the output (read back from ``out_uri`` when skipped), plain JSON.
    """
    out_uri = output_uri(out_root, slice_dict["hash"])
    if output_exists(out_uri):
        return {"out_uri": out_uri, "stats": gc.read_raster(out_uri).summary_stats(),
                "skipped": True}  # fmt: skip
    op = pk.loads_yaml(Path(op_yaml).read_text())
    sl = gc.GeoSlice.from_dict(slice_dict)
    gt = gc.load_raster(sl)
    out = op(gt)
    out_uri = gc.save_cog(out, out_uri)
    return {"out_uri": out_uri, "stats": out.summary_stats(), "skipped": False}


@flow
def daily_methane_flow(
    date: str, catalog_path: str, op_yaml: str = OP_YAML, out_root: str | None = None
) -> list[dict]:
    """Run ``op_yaml`` on every slice of ``catalog_path`` acquired on ``date`` (UTC day).

    ``out_root`` defaults to ``$CASE12_OUT_ROOT`` or ``s3://daily``; it is resolved here,
    once, so every task of the run writes under the same root whatever its worker's
    environment. Results come back in catalog order.
    """
    out_root = out_root or os.environ.get(OUT_ROOT_ENV, DEFAULT_OUT_ROOT)
    catalog = gc.open_catalog(catalog_path)
    futures = [
        run_op.submit(op_yaml, sl.to_dict(), out_root) for sl in catalog.iter_slices_for_date(date)
    ]
    return [f.result() for f in futures]


def make_demo_catalog(
    folder: str | os.PathLike, date: str = DEMO_DATE, size: tuple[int, int] = (64, 48)
) -> str:
    """Three EMIT-like radiance COGs side by side (UTM 11N, 60 m), indexed in a catalog.

    Scenes 0 and 1 are acquired on ``date`` at 18:00 UTC and 18:01 UTC, scene 2 the next day.
    Scene 0 holds a 3000 ppm·m CH4 plume over rows ``[H/2, 3H/4)`` and columns ``[W/4, 3W/4)``.
    Returns the catalog's path (``folder/catalog.parquet``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    height, width = size
    day = dt.datetime.fromisoformat(date).replace(hour=18, tzinfo=dt.UTC)
    absorption = gz.methane.ch4_absorption_spectrum()
    when: dict[str, dt.datetime] = {}
    for i, acquired in enumerate((day, day + dt.timedelta(minutes=1), day + dt.timedelta(1))):
        plume = np.zeros((height, width))
        if i == 0:
            plume[height // 2 : 3 * height // 4, width // 4 : 3 * width // 4] = 3000.0
        transform = Affine(60.0, 0.0, 500040.0 + i * width * 60.0, 0.0, -60.0, 3900000.0)
        scene = gc.testing.synthetic_emit_scene(
            height, width, seed=i, enhancement=plume, absorption=absorption, transform=transform
        )
        path = str(gc.save_cog(scene.radiance, folder / f"EMIT_L1B_RAD_demo_{i}.tif"))
        when[path] = acquired
    return gc.build_catalog(sorted(when), folder / "catalog.parquet", datetime_fn=when.__getitem__)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", help="GeoParquet catalog (geocatalog.build_catalog)")
    parser.add_argument("--date", help=f"UTC day, YYYY-MM-DD (demo: {DEMO_DATE})")
    parser.add_argument(
        "--out", help=f"output root (default ${OUT_ROOT_ENV} or {DEFAULT_OUT_ROOT})"
    )
    parser.add_argument("--op-yaml", default=OP_YAML, help="pipeline YAML (methane_v3)")
    parser.add_argument("--demo", metavar="FOLDER", help="build a demo catalog there and run it")
    args = parser.parse_args(argv)
    if args.demo:
        args.catalog = args.catalog or make_demo_catalog(args.demo, args.date or DEMO_DATE)
        args.date = args.date or DEMO_DATE
        args.out = args.out or str(Path(args.demo) / "daily")
    if not (args.catalog and args.date):
        parser.error("give --catalog and --date, or --demo FOLDER")
    out_root = args.out or os.environ.get(OUT_ROOT_ENV, DEFAULT_OUT_ROOT)
    if "://" not in out_root:
        Path(out_root).mkdir(parents=True, exist_ok=True)
    results = daily_methane_flow(args.date, args.catalog, args.op_yaml, out_root)
    for result in results:
        print(json.dumps({"out_uri": result["out_uri"], "skipped": result["skipped"],
                          "valid_fraction": result["stats"]["valid_fraction"]}))  # fmt: skip
    return results


if __name__ == "__main__":
    main()
