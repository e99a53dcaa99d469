"""Area-weighted averaging onto a coarser grid in the same CRS, one axis at a time.

Along one axis, destination pixel ``i`` covers the source interval ``[u - m/2, u + m/2]``
(centre-index coordinates, ``u`` from :mod:`._grid`, ``m`` the pixel-size ratio), and
source pixel ``j`` covers ``[j - 1/2, j + 1/2]``. Their overlap is the weight; on two axes
the weight of a source pixel is the product of its row and column overlaps, the area of
the intersection. NaN pixels weigh nothing: the result is ``sum(w v) / sum(w)`` over valid
pixels (NaN where no valid pixel overlaps), GDAL's ``average`` on an axis-aligned grid.

The interval spans at most ``ceil(m) + 1`` source pixels, from ``j0 = floor(u - m/2 + 1/2)``
on, so each axis is that many gathers: memory grows with the output, not with a dense
``(n_dst, n_src)`` matrix.
"""

from __future__ import annotations

import math
from typing import Any

from ._grid import Positions

__all__ = ["average_axis"]


def average_axis(
    xp: Any, num: Any, den: Any, where: Positions, m: float, n: int, axis: int
) -> tuple[Any, Any]:
    """Overlap-weighted sums of ``num`` and ``den`` along ``axis`` (-2 or -1).

    ``where`` holds the bilinear positions ``u = index + weight`` of the destination centres.
    """
    start = xp.asarray(where.weight) + (0.5 - m / 2.0)  # u - floor(u) + 1/2 - m/2
    step = xp.floor(start)
    first = xp.asarray(where.index) + xp.astype(step, xp.asarray(where.index).dtype)
    lo = start - step - 0.5  # the interval's left edge, relative to the centre of `first`
    hi = lo + m
    shape = [1] * num.ndim
    shape[axis] = -1
    total_num = total_den = None
    for t in range(math.ceil(m) + 1):
        j = first + t
        overlap = xp.clip(xp.minimum(hi, t + 0.5) - xp.maximum(lo, t - 0.5), 0.0, None)
        overlap = xp.where((j >= 0) & (j < n), overlap, 0.0)
        weight = xp.reshape(xp.astype(overlap, num.dtype), tuple(shape))
        index = xp.clip(j, 0, n - 1)
        part_num = weight * xp.take(num, index, axis=axis)
        part_den = weight * xp.take(den, index, axis=axis)
        if total_num is None:
            total_num, total_den = part_num, part_den
        else:
            total_num, total_den = total_num + part_num, total_den + part_den
    return total_num, total_den
