"""Radiometric operators: dtype conversion and per-band percentile clipping."""

from __future__ import annotations

import math
from typing import Any, get_args

import equinox as eqx
import numpy as np

import pipekit as pk
from pipekit_array import PercentileMethod, nanpercentile

from .._carrier import fits, float_dtype, float_values, namespace, nodata_mask, rewrap, values_of
from .._errors import GeotoolzValueError

__all__ = ["FillNodata", "PercentileClip", "ToFloat32"]

# Up to this many slices (bands, by default) are clipped as separate sub-computations under
# JAX so that dead-code elimination can drop unread bands; beyond it, one vectorised call.
_MAX_UNROLLED = 16


class ToFloat32(pk.Operator):
    """Cast pixel values to float32 (``values.astype(float32)``), keeping georeferencing.

    Integer DNs become the same numbers as floats. Nodata (pixels equal to the input's
    ``fill_value``, and NaN) becomes NaN, and the output's ``fill_value`` is NaN: a DN 0
    edge of a Sentinel-2 scene must not turn into a reflectance of 0.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.radiometry.ToFloat32()(np.array([[1, 2]], np.uint16)).dtype
        dtype('float32')
    """

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        return rewrap(x, float_values(x, namespace(values).float32), fill_value=float("nan"))


class FillNodata(pk.Operator):
    """Replace nodata with a value: ``where(nodata, value, x)``; the output has no nodata.

    The one operator that turns nodata into data, on purpose and in plain sight: every
    other operator keeps nodata (NaN or the input's ``fill_value``) as nodata. Use it where
    a later step cannot take missing values, e.g. a convolution after
    ``geotoolz.fusion.BandNormalize`` (``value=0.0`` is the standardised mean). The dtype
    is kept when ``value`` fits it, else integers become float32; the output's
    ``fill_value`` is None. Gradients flow to the valid pixels only (0 at filled ones).

    Args:
        value: the number written at nodata pixels (finite).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.radiometry.FillNodata(0.0)(np.array([[1.0, np.nan]], np.float32))
        array([[1., 0.]], dtype=float32)
    """

    value: float = eqx.field(static=True)

    def __init__(self, value: float = 0.0) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise pk.ConfigError(
                f"FillNodata: value must be a finite number (what nodata pixels become, e.g. "
                f"0.0), got {value!r}"
            )
        self.value = float(value)

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        xp = namespace(values)
        dtype = values.dtype if fits(xp, values.dtype, self.value) else float_dtype(xp, values)
        out = xp.where(
            nodata_mask(x, values), xp.asarray(self.value, dtype=dtype), xp.astype(values, dtype)
        )
        return rewrap(x, out, fill_value=None)


class PercentileClip(pk.Operator):
    """Clip each slice to its own NaN-aware percentiles: ``clip(x, P[p_min], P[p_max])``.

    ``P[p]`` is NumPy's ``nanpercentile`` with the default ("linear") method, computed over
    ``axis`` (default ``(-2, -1)``: the spatial axes, so one pair of thresholds per band):
    for the ``n`` non-NaN values sorted ``v_0..v_{n-1}``, ``h = (n - 1) p / 100`` and
    ``P[p] = v_floor(h) + (h - floor(h)) (v_ceil(h) - v_floor(h))``. Nodata (NaN, and pixels
    equal to the input's ``fill_value``) is left out of the thresholds and is NaN in the
    output (``fill_value`` NaN); a slice with no valid value stays all-NaN. Integer input
    is returned as float32; the QA band, if present, is clipped like
    any band (mask clouds first, and read QA flags before this step).

    Under jit the thresholds come from an exact selection that avoids a full sort (see
    :func:`pipekit_array.nanpercentile`); gradients treat the thresholds as constants. Up to
    16 slices (bands) are clipped as separate sub-computations, so XLA drops the bands that
    later steps never read (Case 1's NDVI reads 2 of 13).

    Args:
        p_min, p_max: percentiles in [0, 100], ``p_min < p_max``.
        axis: axes the percentiles are taken over.
        method: selection under JAX. ``"auto"`` = host NumPy selection on CPU (compiles in
            ~0.2 s), XLA radix select elsewhere; ``"radix"`` runs everywhere but on CPU
            is no faster and compiles in ~2-3 s for 13 bands; see
            ``benchmarks/README.md``. The NumPy path ignores it.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[0.0, 1.0, 2.0, 3.0, np.nan, 100.0]]])
        >>> gz.radiometry.PercentileClip(p_min=0, p_max=75)(x)
        array([[[ 0.,  1.,  2.,  3., nan,  3.]]])
    """

    p_min: float = eqx.field(static=True)
    p_max: float = eqx.field(static=True)
    axis: tuple[int, ...] = eqx.field(static=True)
    method: PercentileMethod = eqx.field(static=True)

    def __init__(
        self,
        p_min: float = 2.0,
        p_max: float = 98.0,
        axis: tuple[int, ...] | int = (-2, -1),
        method: PercentileMethod = "auto",
    ) -> None:
        p_min, p_max = float(p_min), float(p_max)
        if not 0.0 <= p_min < p_max <= 100.0:
            raise pk.ConfigError(
                f"PercentileClip: need 0 <= p_min < p_max <= 100, got p_min={p_min}, p_max={p_max}"
            )
        axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if not axis or len(set(axis)) != len(axis):
            raise pk.ConfigError(f"PercentileClip: axis must be distinct axes, got {axis}")
        if method not in get_args(PercentileMethod):
            raise pk.ConfigError(
                f"PercentileClip: method must be one of {get_args(PercentileMethod)}, "
                f"got {method!r}"
            )
        self.p_min, self.p_max, self.axis, self.method = p_min, p_max, axis, method

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        xp = namespace(values)
        ndim = values.ndim
        axes = tuple(sorted(a % ndim for a in self.axis if -ndim <= a < ndim))
        if len(axes) != len(self.axis):
            raise GeotoolzValueError(
                f"PercentileClip: axis={self.axis} does not fit values of shape "
                f"{tuple(values.shape)}"
            )
        values = float_values(x, values=values)
        kept = [i for i in range(ndim) if i not in axes]
        n_slices = math.prod(values.shape[i] for i in kept)
        if isinstance(values, np.ndarray) or not 0 < n_slices <= _MAX_UNROLLED:
            out = self._clip_vectorised(xp, values, axes)
        else:
            out = self._clip_per_slice(xp, values, axes, kept)
        return rewrap(x, out, fill_value=float("nan"))

    def _clip_vectorised(self, xp: Any, values: Any, axes: tuple[int, ...]) -> Any:
        lo, hi = nanpercentile(values, (self.p_min, self.p_max), axis=axes, method=self.method)
        # Re-insert the reduced axes so the thresholds broadcast against the values.
        shape = tuple(1 if i in axes else n for i, n in enumerate(values.shape))
        lo = xp.astype(xp.reshape(lo, shape), values.dtype)
        hi = xp.astype(xp.reshape(hi, shape), values.dtype)
        return xp.clip(values, lo, hi)

    def _clip_per_slice(self, xp: Any, values: Any, axes: tuple[int, ...], kept: list[int]) -> Any:
        # One independent sub-computation per slice (per band by default), so that XLA drops
        # the bands later steps never read: NDVI after this step reads 2 of 13 bands.
        kept_shape = tuple(values.shape[i] for i in kept)
        pieces = []
        for idx in np.ndindex(*kept_shape):
            key: list[Any] = [slice(None)] * values.ndim
            for axis, i in zip(kept, idx, strict=True):
                key[axis] = i
            piece = values[tuple(key)]
            axes_all = tuple(range(piece.ndim))
            lo, hi = nanpercentile(
                piece, (self.p_min, self.p_max), axis=axes_all, method=self.method
            )
            pieces.append(xp.clip(piece, xp.astype(lo, piece.dtype), xp.astype(hi, piece.dtype)))
        reduced_shape = tuple(values.shape[i] for i in axes)
        out = xp.reshape(xp.stack(pieces), kept_shape + reduced_shape)
        order = kept + list(axes)
        return xp.permute_dims(out, tuple(order.index(i) for i in range(values.ndim)))
