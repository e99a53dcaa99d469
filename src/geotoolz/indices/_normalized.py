"""Normalised-difference spectral indices."""

from __future__ import annotations

from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_index

from .._carrier import band_axis_size, float_values, namespace, nan_of, rewrap, values_of

__all__ = ["NDVI", "NormalizedDifference", "normalized_difference"]


def normalized_difference(
    x: Any, a_idx: int, b_idx: int, op: str, names: tuple[str, str] = ("a_idx", "b_idx")
) -> Any:
    """``(a - b) / (a + b)`` of two bands on axis -3, NaN where ``a + b == 0`` or at nodata.

    ``x`` is an array or a carrier; a pixel that is nodata (NaN or ``x``'s fill value) in
    either band is NaN.
    """
    values = values_of(x)
    xp = namespace(values)
    band_axis_size(op, values, names[0], a_idx)
    band_axis_size(op, values, names[1], b_idx)
    # Only the two bands are converted: under jit the others are never read.
    a = float_values(x, values=values[..., a_idx, :, :])
    b = float_values(x, values=values[..., b_idx, :, :])
    dtype = a.dtype
    den = a + b
    zero = den == 0
    # Divide by 1 where the sum is 0, then overwrite: no 0/0 warning on the NumPy path.
    ratio = (a - b) / xp.where(zero, xp.ones_like(den), den)
    return xp.where(zero, nan_of(dtype), ratio)


class NormalizedDifference(pk.Operator):
    """Normalised difference of two bands: ``(x[a_idx] - x[b_idx]) / (x[a_idx] + x[b_idx])``.

    Bands are read on axis -3; the output drops that axis: ``(..., band, y, x) -> (..., y,
    x)``. Integer input is computed in float32. Nodata (NaN or the input's fill value) in
    either band gives NaN; where the sum is exactly 0 the result is NaN (not ±inf). The
    output's fill value is NaN.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[3.0, 0.0]], [[1.0, 0.0]]])
        >>> gz.indices.NormalizedDifference(a_idx=0, b_idx=1)(x)
        array([[0.5, nan]])
    """

    a_idx: int = eqx.field(static=True)
    b_idx: int = eqx.field(static=True)

    def __init__(self, a_idx: int, b_idx: int) -> None:
        self.a_idx = check_index("NormalizedDifference", "a_idx", a_idx)
        self.b_idx = check_index("NormalizedDifference", "b_idx", b_idx)

    def _apply(self, x: Any) -> Any:
        out = normalized_difference(x, self.a_idx, self.b_idx, "NormalizedDifference")
        return rewrap(x, out, fill_value=float("nan"))


class NDVI(pk.Operator):
    """Normalised Difference Vegetation Index: ``(NIR - red) / (NIR + red)``.

    Rouse et al. (1974). Reads bands ``nir_idx`` and ``red_idx`` on axis -3 and drops the
    band axis; values lie in [-1, 1] for non-negative reflectances (water < 0, dense
    vegetation > 0.6). Nodata in either band (NaN, or the input's ``fill_value``: 0, 65535,
    -9999, ...) gives NaN; ``NIR + red == 0`` gives NaN. Integer
    DNs are computed in float32 (the DN scale cancels). The QA band is not read.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[0.1]], [[0.5]]])  # red, NIR
        >>> gz.indices.NDVI(red_idx=0, nir_idx=1)(x)
        array([[0.66666667]])
    """

    red_idx: int = eqx.field(static=True)
    nir_idx: int = eqx.field(static=True)

    def __init__(self, red_idx: int, nir_idx: int) -> None:
        self.red_idx = check_index("NDVI", "red_idx", red_idx)
        self.nir_idx = check_index("NDVI", "nir_idx", nir_idx)

    def _apply(self, x: Any) -> Any:
        out = normalized_difference(x, self.nir_idx, self.red_idx, "NDVI", ("nir_idx", "red_idx"))
        return rewrap(x, out, fill_value=float("nan"))
