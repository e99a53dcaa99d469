"""Module-level helpers for CatalogPipeline tests: importable by spawned workers.

Run as a script (``python -m tests.geocatalog.pipeline_workers CATALOG OUT_DIR``) it is
the run the kill test interrupts: Case 1's pipeline over the catalog, in two worker
processes, with a loader slow enough that the kill lands mid-run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geocatalog as gc
import pipekit as pk
from geocatalog.integrations._catalog_pipeline import CatalogPipeline

ROOT = Path(__file__).parents[2]
CASE1_YAML = ROOT / "examples" / "case1_ndvi.yaml"


def case1_op() -> pk.Operator:
    return pk.loads_yaml(CASE1_YAML.read_text())


def slow_load(sl: gc.GeoSlice) -> gc.GeoTensor:
    """``gc.load_raster`` after 0.25 s: stretches a run so a kill lands in the middle."""
    time.sleep(0.25)
    return gc.load_raster(sl)


def main(catalog_path: str, out_dir: str) -> None:
    executor = pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue")
    pipeline = CatalogPipeline(
        gc.open_catalog(catalog_path), case1_op(), executor, slow_load, out_dir, batch_size=4
    )
    pipeline.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
