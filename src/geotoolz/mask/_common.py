"""Reading a mask from a carrier and writing one back: the nodata rule of geotoolz.mask.

A mask is any array whose nonzero elements are True (bool, 0/1 integers, 0.0/1.0 floats);
operators work on the last two axes, per band and per leading (batch) axis. Nodata (an
element that is NaN, or a pixel whose every band equals the carrier's fill value) counts
as background wherever a neighbourhood or component is formed, and is written back as
nodata (the fill value; NaN for floats without one) in the output, so nodata in is
nodata out.
"""

from __future__ import annotations

import math
from typing import Any

from .._carrier import fill_value_of, namespace, nan_of, nodata_mask, values_of
from .._errors import GeotoolzValueError

__all__ = ["read_mask", "restore_nodata"]


def read_mask(op: str, x: Any) -> tuple[Any, Any, Any]:
    """``(mask, nodata, values)`` of ``x``: ``mask`` is True where a valid element is nonzero.

    Raises when ``x`` has fewer than two axes, or when its fill value is 0 or 1: such a fill
    makes every background (or foreground) pixel nodata, and restoring it would undo the
    operation silently.
    """
    values = values_of(x)
    if len(values.shape) < 2:
        raise GeotoolzValueError(
            f"{op} expects a mask of shape (..., y, x) with two spatial axes; received shape "
            f"{tuple(values.shape)}. Reshape a flat array to (H, W) first."
        )
    fill = fill_value_of(x)
    if fill is not None and not (isinstance(fill, float) and math.isnan(fill)) and fill in (0, 1):
        raise GeotoolzValueError(
            f"{op}: the input's fill_value {fill!r} is a mask value, so every pixel of that "
            "value would be read as nodata; give the mask a fill value outside {0, 1} "
            "(e.g. gt.replace(fill_value=255)) or none (gt.replace(fill_value=None))"
        )
    xp = namespace(values)
    nodata = nodata_mask(x, values)
    if xp.isdtype(values.dtype, "bool"):
        nonzero = values
    else:
        nonzero = values != xp.zeros((), dtype=values.dtype)
    return nonzero & ~nodata, nodata, values


def restore_nodata(x: Any, out: Any, nodata: Any) -> Any:
    """``out`` with ``x``'s nodata spelling (its fill value, or NaN for floats) at ``nodata``."""
    xp = namespace(out)
    fill = fill_value_of(x)
    floating = xp.isdtype(out.dtype, "real floating")
    if fill is None or (isinstance(fill, float) and math.isnan(fill)):
        if not floating:
            return out  # integers or bools without a fill value hold no nodata
        return xp.where(nodata, nan_of(out.dtype), out)
    return xp.where(nodata, xp.asarray(fill, dtype=out.dtype), out)
