"""Carrier plumbing for geotoolz: the shared contract of :mod:`pipekit_array` plus band checks.

geotoolz operators take a GeoTensor, a DataArray or a bare array of shape
``(..., band, y, x)``; values, rewrapping and the nodata rule come from
``pipekit_array`` so that every package applies them the same way.
"""

from __future__ import annotations

from typing import Any

from pipekit_array import (
    band_names_of,
    fill_nodata,
    fill_pixels,
    fill_value_of,
    fits,
    float_dtype,
    float_values,
    namespace,
    nan_of,
    nodata_mask,
    rewrap,
    values_of,
)

from ._errors import BandIndexError, GeotoolzValueError

__all__ = [
    "band_axis_size",
    "band_names_of",
    "fill_nodata",
    "fill_pixels",
    "fill_value_of",
    "fits",
    "float_dtype",
    "float_values",
    "namespace",
    "nan_of",
    "nodata_mask",
    "rewrap",
    "values_of",
]


def band_axis_size(op: str, values: Any, arg: str, index: int) -> int:
    """Validate that ``values`` has a band axis at -3 and that ``index`` addresses a band."""
    shape = tuple(values.shape)
    if len(shape) < 3:
        raise GeotoolzValueError(
            f"{op} expects values of shape (..., band, y, x) with a band axis; got shape "
            f"{shape}. Select bands before this step or add an axis with values[None]."
        )
    n = shape[-3]
    if not -n <= index < n:
        raise BandIndexError(
            f"{op}: {arg}={index} is out of range for {n} bands (valid: {-n}..{n - 1})"
        )
    return n
