"""Aggregations: how chip results are combined into a result for the field."""

from __future__ import annotations

import dataclasses

from ._config import piece

__all__ = ["SpatialByIndex", "SpatialOverlapAdd"]


@piece
@dataclasses.dataclass(frozen=True)
class SpatialOverlapAdd:
    """Weighted mean of the chips covering each pixel, with the patcher's window as weights.

    ``out[p] = Σ_k w_k(p) y_k(p) / Σ_k w_k(p)`` over the chips ``k`` covering pixel ``p``;
    pixels no chip covers (``boundary="drop"``, gaps between chips) get the fill value (NaN
    for floating results). Chip outputs must keep the chip's spatial size.
    """


@piece
@dataclasses.dataclass(frozen=True)
class SpatialByIndex:
    """No stitching: the chip results in sampler order, each with its location.

    Use it when the result of a chip is not a raster of the chip (a score, a label, a
    vector), or to keep the chips apart (Case 10 scores chips for active learning).
    """
