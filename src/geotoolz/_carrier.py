"""Carrier plumbing: geotoolz operators take a GeoTensor or a bare array of shape (..., y, x)."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace

from geocatalog import GeoTensor

__all__ = ["band_axis_size", "float_dtype", "namespace", "rewrap", "values_of"]


def values_of(x: Any) -> Any:
    """The pixel array of a GeoTensor, or ``x`` itself when it is an array."""
    return x.values if isinstance(x, GeoTensor) else x


def namespace(values: Any) -> Any:
    """The array namespace of ``values``: NumPy (via array_api_compat) or ``jax.numpy``."""
    return array_namespace(values)


def rewrap(x: Any, values: Any, fill_value: Any = "keep") -> Any:
    """Put ``values`` back into ``x``'s carrier, keeping its georeferencing."""
    if not isinstance(x, GeoTensor):
        return values
    if fill_value == "keep" and isinstance(fill_value, str):
        return x.replace(values=values)
    return x.replace(values=values, fill_value=fill_value)


def float_dtype(xp: Any, values: Any) -> Any:
    """The floating dtype results are computed in: the input's if floating, else float32."""
    if xp.isdtype(values.dtype, "real floating"):
        return values.dtype
    return xp.float32


def band_axis_size(op: str, values: Any, arg: str, index: int) -> int:
    """Validate that ``values`` has a band axis at -3 and that ``index`` addresses a band."""
    shape = tuple(values.shape)
    if len(shape) < 3:
        raise ValueError(
            f"{op} expects values of shape (..., band, y, x) with a band axis; got shape "
            f"{shape}. Select bands before this step or add an axis with values[None]."
        )
    n = shape[-3]
    if not -n <= index < n:
        raise IndexError(
            f"{op}: {arg}={index} is out of range for {n} bands (valid: {-n}..{n - 1})"
        )
    return n


def nan_of(dtype: Any) -> Any:
    """A NaN of ``dtype`` that NumPy and JAX accept under strict promotion."""
    return np.asarray(np.nan, dtype=np.dtype(str(np.dtype(dtype))))
