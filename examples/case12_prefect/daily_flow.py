"""Seed Case 12's task units without an orchestrator: the same body in worker processes.

``run_op`` is Case 12's task body: the pipeline comes from YAML, the slice arrives as plain
JSON (``GeoSlice.to_dict()``), the output is named by the slice hash, so a retried task
rewrites the same file with the same bytes. Worker *processes* (``pk.parallel.ProcessMap``)
prove what an orchestrator shipping tasks to workers needs: every operator pickles. The
Prefect flow itself (``@task(retries=3)``, ``@flow``, a catalog, S3) is ``flow.py`` here.

Run the demo (a generated scene cut into four slices, processed in two worker processes)::

    uv run python examples/case12_prefect/daily_flow.py --out /tmp/daily
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import geocatalog as gc
import pipekit as pk

HERE = Path(__file__).resolve().parent
OP_YAML = str(HERE.parent / "case1_ndvi.yaml")


def run_op(op_yaml: str, slice_dict: dict, out_dir: str) -> dict:
    """One task: load the pipeline, rebuild the slice from JSON, read, run, write a COG."""
    op = pk.loads_yaml(Path(op_yaml).read_text())
    sl = gc.GeoSlice.from_dict(slice_dict)
    gt = gc.load_raster(sl)
    out = op(gt)
    out_uri = gc.save_cog(out, str(Path(out_dir) / f"{slice_dict['hash']}.tif"))
    return {"out_uri": out_uri, "stats": out.summary_stats()}


def daily_slices(href: str, size: int = 128) -> list[dict]:
    """The slices of one day: the scene cut into ``size`` x ``size`` windows, as JSON."""
    with_grid = gc.read_raster(href)
    slices = []
    for r0 in range(0, with_grid.height, size):
        for c0 in range(0, with_grid.width, size):
            window = ((r0, min(r0 + size, with_grid.height)), (c0, min(c0 + size, with_grid.width)))
            sl = gc.GeoSlice(href=href, window=window, datetime="2024-09-15T10:30:00Z")
            slices.append(json.loads(json.dumps(sl.to_dict())))  # what an orchestrator ships
    return slices


def daily_flow(href: str, out_dir: str, n_workers: int = 2) -> list[dict]:
    """The flow: one ``run_op`` per slice, in worker processes, results in slice order."""
    task = functools.partial(run_op, OP_YAML, out_dir=out_dir)
    return pk.parallel.ProcessMap(n_workers=n_workers, on_error="raise").map(
        task, daily_slices(href)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="daily_out", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scene = gc.save_cog(gc.testing.synthetic_scene(256, 256, seed=12), str(out / "scene.tif"))
    for result in daily_flow(scene, str(out)):
        print(result["out_uri"], f"valid={result['stats']['valid_fraction']:.3f}")


if __name__ == "__main__":
    main()
