"""Conformance examples: geotoolz.patch_ops (merged into examples.EXAMPLES).

On one scene ``ActiveSampler`` returns a ``ChipSelection``; the suite compares its arrays
(scores, chip offsets, sampler indices) as a dict, on the NumPy path and under jit, across
locations (no retrace) and vmapped over stacked scenes. A score op holding a ModelOp is
not here: the suite reads YAML-ability from the class flag ``forbid_in_yaml``, which a
container of a forbidden op does not carry (tests/geotoolz/test_active_sampler.py checks
that dumping one is refused and that the seed's ModelOp score ranks like the oracle).
"""

from __future__ import annotations

from typing import Any

import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa

from ._case import Case

# Small chips, so that the suite's half-size scenes (20 x 24) still hold 12 of them.
GRID = gp.SpatialPatcher(gp.SpatialRectangular(8), gp.SpatialRegularStride(6),
                         aggregation=gp.SpatialByIndex())  # fmt: skip
PAD = gp.SpatialPatcher(gp.SpatialRectangular((8, 10), "pad"), gp.SpatialRegularStride(7),
                        aggregation=gp.SpatialByIndex())  # fmt: skip

BRIGHTNESS = pk.Sequential([gz.radiometry.ToFloat32(), pa.MeanScalar()])
# Cloud-masked NDVI: an all-cloud chip scores NaN, exercising the NaN rule on both paths.
GREENNESS = pk.Sequential([
    gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
    gz.indices.NDVI(red_idx=2, nir_idx=3),
    pa.MeanScalar(),
])  # fmt: skip


def call_select(op: pk.Operator, x: Any) -> dict[str, Any]:
    sel = op(x)
    return {"scores": sel.scores, "offsets": sel.offsets, "index": sel.index}


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.patch_ops.ActiveSampler": [
        Case(gz.patch_ops.ActiveSampler(GRID, BRIGHTNESS, k=5), call=call_select),
        Case(
            gz.patch_ops.ActiveSampler(PAD, GREENNESS, k=4, mode="bottom", batch_size=3),
            call=call_select,
        ),
    ],
}
