"""Module-level helpers for CatalogPipeline tests: importable by spawned workers.

Run as a script (``python -m tests.geocatalog.pipeline_workers CATALOG OUT_DIR GATE READY``)
it is the run the kill test interrupts: Case 1's pipeline over the catalog, in two worker
processes, with a loader gated by two FIFOs so the test decides, without any clock, how
far the run gets before the kill.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import geocatalog as gc
import pipekit as pk
from geocatalog.integrations._catalog_pipeline import CatalogPipeline

ROOT = Path(__file__).parents[2]
CASE1_YAML = ROOT / "examples" / "case1_ndvi.yaml"


def case1_op() -> pk.Operator:
    return pk.loads_yaml(CASE1_YAML.read_text())


def gated_load(gate: str, ready: str, sl: gc.GeoSlice) -> gc.GeoTensor:
    """``gc.load_raster`` once the test lets it: announce on ``ready``, wait for a byte on ``gate``.

    Both are FIFOs the test holds open read-write, so these opens never block; the read
    blocks until the test writes a byte (one byte lets one load through).
    """
    fd = os.open(ready, os.O_WRONLY)
    try:
        os.write(fd, b"r")
    finally:
        os.close(fd)
    fd = os.open(gate, os.O_RDONLY)
    try:
        os.read(fd, 1)
    finally:
        os.close(fd)
    return gc.load_raster(sl)


def main(catalog_path: str, out_dir: str, gate: str, ready: str) -> None:
    executor = pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue")
    loader = functools.partial(gated_load, gate, ready)
    pipeline = CatalogPipeline(
        gc.open_catalog(catalog_path), case1_op(), executor, loader, out_dir, batch_size=4
    )
    pipeline.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
