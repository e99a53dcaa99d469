"""Combining a mask's bands (or, and, xor) and inverting a mask."""

from __future__ import annotations

from typing import Any, Literal

import equinox as eqx

import pipekit as pk

from .._carrier import band_axis_size, namespace, rewrap
from ._common import read_mask, restore_nodata

__all__ = ["CombineMasks", "InvertMask"]

CombineMode = Literal["or", "and", "xor"]
COMBINE_MODES: tuple[str, ...] = ("or", "and", "xor")


class CombineMasks(pk.Operator):
    """Combine the bands of a mask (axis -3) into one: any (or), all (and) or odd count (xor).

    Output ``(..., 1, y, x)`` in the input's dtype (0/1) and fill value; ``xor`` is True
    where an odd number of bands is True (``np.logical_xor.reduce``). Nodata elements are
    left out of the reduction (a band that is NaN at a pixel neither sets ``or`` nor breaks
    ``and``); a pixel where every band is nodata is nodata in the output.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> m = np.array([[[1, 0, 1, 0]], [[1, 1, 0, 0]]], np.uint8)  # 2 bands, 1 x 4
        >>> gz.mask.CombineMasks("xor")(m)
        array([[[0, 1, 1, 0]]], dtype=uint8)
    """

    mode: CombineMode = eqx.field(static=True)

    def __init__(self, mode: CombineMode = "or") -> None:
        if mode not in COMBINE_MODES:
            raise pk.ConfigError(
                f"CombineMasks: mode must be one of {COMBINE_MODES} (any band, every band, an "
                f"odd number of bands True), got {mode!r}"
            )
        self.mode = mode

    def _apply(self, x: Any) -> Any:
        mask, nodata, values = read_mask("CombineMasks", x)
        band_axis_size("CombineMasks", values, "mode", 0)
        xp = namespace(values)
        if self.mode == "or":
            out = xp.any(mask, axis=-3, keepdims=True)
        elif self.mode == "and":
            out = xp.all(mask | nodata, axis=-3, keepdims=True)
        else:
            count = xp.sum(xp.astype(mask, xp.int32), axis=-3, keepdims=True)
            out = (count % 2) == 1
        all_nodata = xp.all(nodata, axis=-3, keepdims=True)
        out = out & ~all_nodata
        combined = restore_nodata(x, xp.astype(out, values.dtype), all_nodata)
        return rewrap(x, combined, band_names=None)


class InvertMask(pk.Operator):
    """Swap True and False of a mask (``1 - m`` for 0/1), leaving nodata as nodata.

    Output in the input's dtype and fill value; nonzero is True, so a 0/255 mask becomes
    1/0. Nodata (NaN, pixels at the fill value) is not background here: it stays nodata.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.mask.InvertMask()(np.array([[1.0, 0.0, np.nan]], np.float32))
        array([[ 0.,  1., nan]], dtype=float32)
    """

    def _apply(self, x: Any) -> Any:
        mask, nodata, values = read_mask("InvertMask", x)
        xp = namespace(values)
        inverted = ~mask & ~nodata
        return rewrap(x, restore_nodata(x, xp.astype(inverted, values.dtype), nodata))
