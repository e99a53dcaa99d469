"""Conformance examples: geopatcher's pipekit operators (merged into examples.EXAMPLES).

Each op runs inside a whole chip pipeline (GridSampler -> ApplyToChips -> Stitch), since
the carriers between them (Chips) are not results; the pipeline returns a GeoTensor on the
host path and on the JAX path alike.
"""

from __future__ import annotations

from typing import Any

import geopatcher as gp
import geotoolz as gz
import pipekit as pk
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch

from ._case import Case

# Small chips so that the conformance suite's half-size chips (20 x 24) still hold several.
PATCHER = gp.SpatialPatcher(
    gp.SpatialRectangular(8), gp.SpatialRegularStride(6), gp.SpatialHann(), gp.SpatialOverlapAdd()
)
PAD = gp.SpatialPatcher(gp.SpatialRectangular((8, 10), "pad"), gp.SpatialRegularStride(7),
                        gp.SpatialGaussian())  # fmt: skip
NDVI = gz.indices.NDVI(red_idx=2, nir_idx=3)
MASK = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])


def call_sampler(op: pk.Operator, x: Any) -> Any:
    return Stitch()(ApplyToChips(NDVI)(op(x)))


def call_apply(op: pk.Operator, x: Any) -> Any:
    return Stitch()(op(GridSampler(PATCHER)(x)))


def call_stitch(op: pk.Operator, x: Any) -> Any:
    return op(ApplyToChips(NDVI, batch_size=4)(GridSampler(PAD)(x)))


EXAMPLES: dict[str, list[Case]] = {
    "geopatcher.integrations.pipekit.GridSampler": [
        Case(GridSampler(PATCHER), call=call_sampler),
        Case(GridSampler(PAD), call=call_sampler),
    ],
    "geopatcher.integrations.pipekit.ApplyToChips": [
        Case(ApplyToChips(NDVI), call=call_apply),
        Case(ApplyToChips(MASK, batch_size=3), call=call_apply),
    ],
    "geopatcher.integrations.pipekit.Stitch": [
        Case(Stitch(gp.SpatialOverlapAdd()), call=call_stitch),
    ],
}
