"""Seed Case 13 — diff two pinned pipelines and A/B them over a catalog sample.

The seed's code as written, on ``examples/pipelines/methane_v3.yaml`` against
``methane_v4_candidate.yaml``: ``config_diff`` prints what changed, ``AB`` runs both on
``catalog.sample(n)`` with the carrier-neutral ``pa.metrics.RMSE()``, and the report's
summary gives the distribution of per-scene RMSE (quantiles, histogram, modes: "mean RMSE
alone hides bimodal regressions"). The catalog indexes generated EMIT-like radiance scenes
with CH4 plumes of different rates; the report is also written as JSON and a histogram.

    uv run python examples/case13_ab/run_ab.py --out /tmp/case13 [--n 4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_emit_scene

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"


def make_catalog(root: Path, n_scenes: int) -> gc.Catalog:
    """``n_scenes`` generated 32 x 40 EMIT-like radiance COGs with plumes, indexed."""
    root.mkdir(parents=True, exist_ok=True)
    ch4 = gz.methane.ch4_absorption_spectrum()
    paths = []
    for i in range(n_scenes):
        plume = gc.testing.gaussian_plume(
            32, 40, flux_kg_h=1500.0 + 300 * i, wind_speed=3.0, units="ppm_m", res=30.0,
            source_rowcol=(16.0, 8.5),
        )  # fmt: skip
        scene = synthetic_emit_scene(
            32, 40, seed=30 + i, enhancement=plume.values.reshape(32, 40), absorption=ch4,
            transform=plume.transform, crs=plume.crs_string,
        )  # fmt: skip
        paths.append(str(gc.save_cog(scene.radiance, root / f"emit_{i:03d}.tif")))
    return gc.open_catalog(gc.build_catalog(paths, str(root / "emit.parquet")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="case13_out", type=Path)
    parser.add_argument("--n", type=int, default=4, help="scenes in the catalog and sample")
    args = parser.parse_args(argv)
    catalog = make_catalog(args.out / "scenes", args.n)

    old = pk.loads_yaml((PIPELINES / "methane_v3.yaml").read_text())
    new = pk.loads_yaml((PIPELINES / "methane_v4_candidate.yaml").read_text())
    print(pk.diff.config_diff(old, new))
    reg = pk.diff.AB(old, new, metric=pa.metrics.RMSE())
    report = reg.run(catalog.sample(args.n))
    summary = report.summary()
    print(report)

    hrefs = [row["href"] for row in catalog.sample(args.n)]
    record = {"hrefs": hrefs, "rmse": report.values.tolist(), "summary": summary}
    (args.out / "ab_report.json").write_text(json.dumps(record, indent=1, default=float))
    report.save_histogram(args.out / "rmse_histogram.png")
    print(f"report: {args.out / 'ab_report.json'}, histogram: {args.out / 'rmse_histogram.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
