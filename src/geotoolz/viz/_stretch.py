"""StretchToUint8: per-band percentile stretch of any bands to 8-bit display values."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit_array import nanpercentile

from .._carrier import float_values, namespace, rewrap, values_of

__all__ = ["StretchToUint8"]


class StretchToUint8(pk.Operator):
    """Stretch each band to its own percentiles as uint8: ``1 + round(254 t)``, nodata 0.

    With ``P`` the NaN-aware percentiles of the band's valid pixels
    (:func:`pipekit_array.nanpercentile`, NumPy's linear method, exact under jit too):

    .. math:: t = \\mathrm{clip}\\left(\\frac{x - P[p_{min}]}{P[p_{max}] - P[p_{min}]},
              0, 1\\right), \\qquad \\mathrm{out} = 1 + \\mathrm{round}(254\\,t)

    so values at or below ``P[p_min]`` are 1, at or above ``P[p_max]`` 255 (NumPy's
    round half to even). Nodata (NaN, or a pixel whose every band is the input's fill
    value) is 0 and the output's ``fill_value`` is 0. A band with ``P[p_max] ==
    P[p_min]`` (constant) is 1; a band without valid pixels is 0.

    Why 1..255 and not 0..255: with 0 kept for nodata, a valid pixel dark in every band
    (deep water below the 2nd percentile in R, G and B) is ``(1, 1, 1)``, not ``(0, 0,
    0)``, which the carrier's nodata rule (every band at the fill value) would read as
    nodata downstream (``to_png_bytes`` would make it transparent). GDAL users get the same
    with ``gdal_translate -ot Byte -scale lo hi 1 255 -a_nodata 0``. An element that is NaN
    in one band only is 0 in that band (a uint8 has no NaN), its pixel stays data.

    Args:
        p_min, p_max: percentiles in [0, 100], ``p_min < p_max``.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[0.0, 1.0, 2.0, np.nan, 4.0]]])
        >>> gz.viz.StretchToUint8(p_min=0, p_max=100)(x)
        array([[[  1,  65, 128,   0, 255]]], dtype=uint8)
    """

    p_min: float = eqx.field(static=True)
    p_max: float = eqx.field(static=True)

    def __init__(self, p_min: float = 2.0, p_max: float = 98.0) -> None:
        numbers = all(
            isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p)
            for p in (p_min, p_max)
        )
        if not numbers or not 0.0 <= p_min < p_max <= 100.0:
            raise pk.ConfigError(
                f"StretchToUint8: need numbers 0 <= p_min < p_max <= 100 (the percentiles "
                f"mapped to 1 and 255), got p_min={p_min!r}, p_max={p_max!r}"
            )
        self.p_min, self.p_max = float(p_min), float(p_max)

    def _apply(self, x: Any) -> Any:
        values = float_values(x, values=values_of(x))  # nodata is NaN
        xp = namespace(values)
        lo, hi = nanpercentile(values, (self.p_min, self.p_max), axis=(-2, -1))
        lo = xp.astype(lo, values.dtype)[..., None, None]
        hi = xp.astype(hi, values.dtype)[..., None, None]
        span = hi - lo
        flat = ~(span > 0)  # a constant band (or NaN: a band without valid pixels)
        nodata = xp.isnan(values)
        t = (values - lo) / xp.where(flat, xp.ones_like(span), span)
        t = xp.clip(xp.where(flat | nodata, xp.zeros_like(t), t), 0.0, 1.0)
        scaled = xp.round(t * 254.0) + 1.0
        out = xp.where(nodata, xp.zeros_like(scaled), scaled)
        return rewrap(x, xp.astype(out, xp.uint8), fill_value=0)
