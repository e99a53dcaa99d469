"""Decibel conversion of SAR intensity."""

from __future__ import annotations

from typing import Any

import pipekit as pk

from .._carrier import float_values, namespace, nan_of, rewrap

__all__ = ["LinearToDB", "linear_to_db"]


def linear_to_db(values: Any) -> Any:
    """``10 log10(values)`` where ``values > 0``, NaN elsewhere (zero, negative, NaN, nodata).

    ``values`` is an array or a carrier (its fill-value pixels are nodata, hence NaN).
    Integer input is computed in float32, floating input in its own dtype. Runs on NumPy
    (no warning for zeros: they never reach ``log10``) and on JAX, where the gradient is
    finite everywhere (0 at the NaN pixels).
    """
    v = float_values(values)
    xp, dtype = namespace(v), v.dtype
    positive = v > 0
    safe = xp.where(positive, v, xp.ones_like(v))
    return xp.where(positive, 10.0 * xp.log10(safe), nan_of(dtype))


class LinearToDB(pk.Operator):
    """Convert linear SAR intensity (e.g. sigma0) to decibels: ``10 log10(x)``.

    Every band is converted; the shape is kept. Non-positive values (a zero nodata fill, a
    negative calibration artefact) have no logarithm and become NaN, as NaN stays NaN; the
    output's ``fill_value`` is NaN. Integer input is computed in float32. Apply it to
    intensity (power), not amplitude: amplitude in dB is ``20 log10``, i.e. this
    operator's output on ``amplitude**2``.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.sar.LinearToDB()(np.array([[1.0, 0.1, 0.0, -1.0]], np.float32))
        array([[  0., -10.,  nan,  nan]], dtype=float32)
    """

    def _apply(self, x: Any) -> Any:
        return rewrap(x, linear_to_db(x), fill_value=float("nan"))
