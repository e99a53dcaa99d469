"""Cloud masks from QA bit flags (Sentinel-2 QA60, Landsat QA_PIXEL style)."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_index

from .._carrier import (
    band_axis_size,
    fill_pixels,
    fits,
    float_dtype,
    namespace,
    nodata_mask,
    rewrap,
    values_of,
)
from .._errors import GeotoolzValueError

__all__ = ["ApplyMask", "MaskClouds", "MaskFromQABits"]


def _check_bits(op: str, bits: tuple[int, ...]) -> tuple[int, ...]:
    bits = tuple(bits)
    if not bits:
        raise pk.ConfigError(f"{op}: bits must list at least one bit index, got ()")
    for b in bits:
        if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b < 32:
            raise pk.ConfigError(
                f"{op}: bits must be integers in 0..31 (bit positions of the QA band), got {b!r}; "
                "Sentinel-2 QA60 uses 10 (opaque cloud) and 11 (cirrus)"
            )
    return bits


def qa_flag_mask(x: Any, qa_band: int, bits: tuple[int, ...], op: str) -> Any:
    """Boolean ``(..., y, x)``: True where any of ``bits`` is set in band ``qa_band`` of ``x``.

    A nodata QA pixel (NaN, or the carrier's fill value) has no known flags: not flagged.
    """
    values = values_of(x)
    xp = namespace(values)
    band_axis_size(op, values, "qa_band", qa_band)
    qa = values[..., qa_band, :, :]
    # Nodata QA (a float QA band's NaN, a fill of 65535 that would set every bit) is read
    # as "no flags known"; the pixel stays nodata in the data bands through fill_where.
    qa = xp.where(nodata_mask(x, qa), xp.zeros_like(qa), qa)
    qa = xp.astype(qa, xp.uint32)
    flags = sum(1 << b for b in bits)
    return (qa & xp.asarray(flags, dtype=xp.uint32)) != 0


def fill_where(x: Any, mask: Any, fill_value: float, keep_band: int | None) -> Any:
    """``x``'s values with every band set to ``fill_value`` where ``mask`` (``(..., y, x)``).

    Integer values become float32 when the fill does not fit their dtype (NaN, -1 in
    uint16, 0.5). The input's own nodata (NaN or its fill value) becomes ``fill_value``
    too, in every band, so the output has one nodata value. ``keep_band`` is left out of
    ``mask`` only (a QA band keeps its flags where clouds are masked).
    """
    values = values_of(x)
    xp = namespace(values)
    dtype = values.dtype if fits(xp, values.dtype, fill_value) else float_dtype(xp, values)
    out = xp.astype(values, dtype)
    full = mask[..., None, :, :]
    if keep_band is not None:
        n = values.shape[-3]
        kept = xp.arange(n) == (keep_band % n)
        full = full & ~xp.reshape(kept, (1,) * (values.ndim - 3) + (n, 1, 1))
    # Nodata pixels (every band at the fill value) are one (..., y, x) mask; only NaN
    # needs an element-wise test, and only floats hold NaN.
    full = full | fill_pixels(x)[..., None, :, :]
    if xp.isdtype(values.dtype, "real floating"):
        full = full | xp.isnan(values)
    return xp.where(full, xp.asarray(fill_value, dtype=dtype), out)


class MaskFromQABits(pk.Operator):
    """Cloud (or any flag) mask from bit flags of a QA band.

    ``mask = (QA & sum(2**b for b in bits)) != 0``: True where *any* listed bit is set.
    Returns a boolean GeoTensor (or array) of shape ``(..., y, x)``: the band axis is
    consumed. A floating QA band is truncated to integers; NaN QA pixels count as unflagged.

    Args:
        qa_band: index of the QA band on axis -3 (``-1`` = last band).
        bits: bit positions (0 = least significant). Sentinel-2 QA60: 10 = opaque
            clouds, 11 = cirrus.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.zeros((2, 1, 3), np.uint16)
        >>> x[1, 0] = [0, 1 << 10, 1 << 11]
        >>> gz.cloud.MaskFromQABits(qa_band=-1, bits=[10])(x)
        array([[False,  True, False]])
    """

    qa_band: int = eqx.field(static=True)
    bits: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, qa_band: int, bits: tuple[int, ...] | list[int]) -> None:
        self.qa_band = check_index("MaskFromQABits", "qa_band", qa_band)
        self.bits = _check_bits("MaskFromQABits", bits)

    def _apply(self, x: Any) -> Any:
        mask = qa_flag_mask(x, self.qa_band, self.bits, "MaskFromQABits")
        return rewrap(x, mask, fill_value=None)


class ApplyMask(pk.Operator):
    """Fill pixels where ``mask_op(x)`` is True with ``fill_value``, in every band.

    ``out[..., b, y, x] = fill_value if mask[..., y, x] else x[..., b, y, x]``. Integer
    input becomes float32 when ``fill_value`` does not fit its dtype (NaN, negative
    values in unsigned data, fractions); otherwise the dtype is kept. NaNs
    already present stay NaN. ``keep_band`` (optional) names one band left unmasked, e.g.
    the QA band the mask came from. The output's ``fill_value`` is ``fill_value``.

    Args:
        mask_op: an operator returning a boolean ``(..., y, x)`` mask for ``x``.
        fill_value: value written under the mask (default NaN).
        keep_band: band index to leave untouched, or None.
    """

    mask_op: pk.Operator
    fill_value: float = eqx.field(static=True)
    keep_band: int | None = eqx.field(static=True)

    def __init__(
        self, mask_op: pk.Operator, fill_value: float = math.nan, keep_band: int | None = None
    ) -> None:
        if not isinstance(mask_op, pk.Operator):
            raise pk.ConfigError(
                f"ApplyMask: mask_op must be an Operator (e.g. MaskFromQABits), "
                f"got {type(mask_op).__name__}"
            )
        self.mask_op = mask_op
        self.fill_value = float(fill_value)
        self.keep_band = (
            None if keep_band is None else check_index("ApplyMask", "keep_band", keep_band)
        )

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        mask = values_of(self.mask_op(x))
        if tuple(mask.shape) != tuple(values.shape[:-3]) + tuple(values.shape[-2:]):
            raise GeotoolzValueError(
                f"ApplyMask: mask_op returned shape {tuple(mask.shape)}; expected "
                f"{tuple(values.shape[:-3]) + tuple(values.shape[-2:])} for values "
                f"{tuple(values.shape)} (one mask per pixel, no band axis)"
            )
        out = fill_where(x, mask, self.fill_value, self.keep_band)
        return rewrap(x, out, fill_value=self.fill_value)


class MaskClouds(pk.Operator):
    """Mask cloudy pixels flagged in a QA band; the QA band itself is kept as it is.

    ``flagged = (QA & sum(2**b for b in bits)) != 0``; every band but ``qa_band`` becomes
    ``fill_value`` (default NaN) where flagged. The QA band keeps its flag values (as the
    output dtype) so later steps can still read why a pixel is missing. Integer input
    becomes float32 when ``fill_value`` does not fit its dtype (e.g. NaN); the input's
    nodata (NaN, or a pixel whose every band is the fill value: a Sentinel-2 edge of DN 0)
    becomes ``fill_value`` in every band, the QA band included.

    Equivalent to ``ApplyMask(MaskFromQABits(qa_band, bits), fill_value, keep_band=qa_band)``.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.full((2, 1, 2), 100, np.uint16)
        >>> x[1, 0, 1] = 1 << 10
        >>> gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(x)[:, 0]
        array([[ 100.,   nan],
               [ 100., 1024.]], dtype=float32)
    """

    qa_band: int = eqx.field(static=True)
    bits: tuple[int, ...] = eqx.field(static=True)
    fill_value: float = eqx.field(static=True)

    def __init__(
        self, qa_band: int, bits: tuple[int, ...] | list[int], fill_value: float = math.nan
    ) -> None:
        self.qa_band = check_index("MaskClouds", "qa_band", qa_band)
        self.bits = _check_bits("MaskClouds", bits)
        self.fill_value = float(fill_value)

    def _apply(self, x: Any) -> Any:
        mask = qa_flag_mask(x, self.qa_band, self.bits, "MaskClouds")
        out = fill_where(x, mask, self.fill_value, keep_band=self.qa_band)
        return rewrap(x, out, fill_value=self.fill_value)
