"""Seed Case 12's task unit, importable by worker processes.

As written in the seed, with our names: ``gc.GeoSlice.from_dict`` + ``gc.load_raster``,
and ``gc.save_cog`` to a local folder in place of ``s3://daily/``.
"""

from __future__ import annotations

from pathlib import Path

import geocatalog as gc
import pipekit as pk


def run_op(op_yaml: str, slice_dict: dict, out_dir: str) -> dict:
    op = pk.loads_yaml(Path(op_yaml).read_text())
    sl = gc.GeoSlice.from_dict(slice_dict)
    gt = gc.load_raster(sl)
    out = op(gt)
    out_uri = gc.save_cog(out, str(Path(out_dir) / f"{slice_dict['hash']}.tif"))
    return {"out_uri": out_uri, "stats": out.summary_stats()}
