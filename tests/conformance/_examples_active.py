"""Conformance examples: geotoolz.patch_ops (merged into examples.EXAMPLES).

On one scene ``ActiveSampler`` returns a ``ChipSelection``; the suite compares its arrays
(scores, chip offsets, sampler indices) as a dict, on the NumPy path and under jit, across
locations (no retrace) and vmapped over stacked scenes. The third case scores chips with
Case 10's uncertainty: a ``pipekit_jax.Ensemble`` of ConvNets behind a YAML-able ModelOp
and ``MeanScalar(field="sigma")``; a ModelOp around a plain equinox model is refused in
YAML and covered by tests/geotoolz/test_active_sampler.py.
"""

from __future__ import annotations

from typing import Any

import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj
from pipekit_jax import nn

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


# Case 10's score: mean per-pixel sigma of a 3-member ensemble (a YAML-able ModelOp).
UNCERTAINTY = pk.Sequential([
    gz.radiometry.ToFloat32(),
    pa.ModelOp(pj.Ensemble.from_seeds(nn.ConvNet(13, 2, widths=(4,)), (0, 1, 2)),
               method="predict_with_uncertainty"),
    pa.MeanScalar(field="sigma"),
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
        Case(gz.patch_ops.ActiveSampler(GRID, UNCERTAINTY, k=3), call=call_select),
    ],
}
