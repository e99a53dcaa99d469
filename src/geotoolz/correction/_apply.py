"""Shared array steps of the correction operators: split the bands, reassemble the output."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._carrier import band_names_of, float_values, namespace, rewrap, values_of
from ._bands import BandLayout, band_layout, degrees_to_cos

__all__ = ["Bands", "finish"]


class Bands:
    """The input as floats (nodata NaN), its namespace and its band layout."""

    def __init__(
        self, owner: str, x: Any, keep_bands: tuple[int, ...], sun_zenith_band: int | None = None
    ) -> None:
        values = values_of(x)
        self.xp = namespace(values)
        self.layout: BandLayout = band_layout(owner, values, keep_bands, sun_zenith_band)
        self.values = float_values(x, values=values)
        self.dtype = self.values.dtype

    def cos_zenith(self) -> Any:
        """``cos`` of the sun zenith band (degrees), shape ``(..., 1, y, x)``; NaN at night."""
        b = self.layout.sun_zenith
        assert b is not None  # only called by operators given a sun_zenith_band
        return degrees_to_cos(self.xp, self.values[..., b : b + 1, :, :])


def finish(x: Any, bands: Bands, corrected: Any) -> Any:
    """Kept bands from the input, the others from ``corrected``; the sun zenith band dropped.

    The output's ``fill_value`` is NaN: nodata (and every pixel the correction cannot
    define, e.g. a sun below the horizon) is NaN in every float output.
    """
    xp, layout = bands.xp, bands.layout
    out = corrected
    if layout.kept:
        shape = (1,) * (bands.values.ndim - 3) + (layout.n, 1, 1)
        kept = xp.asarray(np.reshape(layout.kept_mask(), shape))
        out = xp.where(kept, bands.values, corrected)
    changes: dict[str, Any] = {"fill_value": float("nan")}
    if layout.sun_zenith is not None:
        out = xp.take(out, xp.asarray(np.asarray(layout.out, dtype=np.int32)), axis=-3)
        names = band_names_of(x)
        if names is not None:  # the bands that remain keep their names
            changes["band_names"] = tuple(names[i] for i in layout.out)
    return rewrap(x, xp.astype(out, bands.dtype), **changes)
