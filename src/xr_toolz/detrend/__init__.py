"""Climatology, anomalies and detrending along a named time dimension (issue 16).

The Operators take a DataArray or Dataset and keep dims, coords and attrs; the kernels
(:func:`group_mean`, :func:`remove_group_mean`, :func:`poly_detrend`) are pure array
functions that run on NumPy and under ``jax.jit``.
"""

from ._kernels import (
    group_mean as group_mean,
    poly_detrend as poly_detrend,
    remove_group_mean as remove_group_mean,
)
from ._operators import (
    Climatology as Climatology,
    Detrend as Detrend,
    RemoveClimatology as RemoveClimatology,
)

__all__ = [
    "Climatology",
    "Detrend",
    "RemoveClimatology",
    "group_mean",
    "poly_detrend",
    "remove_group_mean",
]
