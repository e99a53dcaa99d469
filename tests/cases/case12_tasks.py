"""Seed Case 12's task unit, importable by worker processes.

Stand-in: ``GeoSlice`` (geocatalog issue) is a plain dict here — ``href`` + pixel
``window`` + content ``hash`` — and ``gc.load_raster(sl)`` is ``gc.read_raster(href, window)``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geocatalog as gc
import pipekit as pk


def slice_hash(slice_dict: dict) -> str:
    """Deterministic content hash of a slice (what Case 12 names outputs by)."""
    body = {k: v for k, v in slice_dict.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def run_op(op_yaml: str, slice_dict: dict, out_dir: str) -> dict:
    """One orchestrator task: load the pipeline, read the slice, run, write a COG."""
    op = pk.loads_yaml(Path(op_yaml).read_text())
    (r0, r1), (c0, c1) = slice_dict["window"]
    gt = gc.read_raster(slice_dict["href"], window=((r0, r1), (c0, c1)))
    out = op(gt)
    out_uri = str(Path(out_dir) / f"{slice_dict['hash']}.tif")  # idempotent: named by content
    gc.save_cog(out, out_uri)
    return {"out_uri": out_uri, "stats": out.summary_stats()}
