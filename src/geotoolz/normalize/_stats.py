"""Shared plumbing of the normalize operators: band tables, per-band reductions, fit checks.

Fitted statistics are array leaves of the operator (float32, one entry per band), and the
same numbers are its config: the constructor takes them as plain float lists and a
property of the argument's name reads them back from the leaves, so YAML, pickle and
``pipekit_jax.save`` (YAML plus ``weights.eqx``) all carry the fitted numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import pipekit as pk

from .._carrier import float_values, namespace, values_of
from .._errors import GeotoolzValueError

__all__ = [
    "NotFittedError",
    "as_band_table",
    "band_matrix",
    "check_bands",
    "check_valid_counts",
    "leaf_namespace",
    "table_to_config",
]


class NotFittedError(GeotoolzValueError):
    """A normalize operator was called before its statistics were fitted (``op.fit(x)``)."""


def as_band_table(op: str, arg: str, value: Any, *, positive: bool = False) -> np.ndarray:
    """A config list of per-band floats as a float32 leaf; checked finite (and > 0)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise pk.ConfigError(
            f"{op}: {arg} must be a list of per-band floats (as .fit writes it), got {value!r}"
        )
    try:
        floats = [float(v) for v in value]
    except (TypeError, ValueError):
        raise pk.ConfigError(
            f"{op}: {arg} must be a list of per-band floats, got {value!r}"
        ) from None
    if not floats or not all(math.isfinite(v) for v in floats):
        raise pk.ConfigError(
            f"{op}: {arg} must be a non-empty list of finite floats (one per band), got {floats!r}"
        )
    if positive and not all(v > 0 for v in floats):
        raise pk.ConfigError(f"{op}: {arg} must be > 0 in every band, got {floats!r}")
    return np.asarray(floats, dtype=np.float32)


def table_to_config(leaf: Any) -> tuple[float, ...] | None:
    """A leaf back as config: a tuple of Python floats (exact float32 values), or None."""
    if leaf is None:
        return None
    return tuple(float(v) for v in np.asarray(leaf).reshape(-1))


def band_matrix(op: str, x: Any) -> Any:
    """``x``'s values as floats (nodata NaN), reshaped ``(band, n)``: every pixel of a band.

    The band axis is -3; leading axes (a stack of scenes) are pooled with the pixels.
    """
    values = values_of(x)
    if len(values.shape) < 3:
        raise GeotoolzValueError(
            f"{op}.fit: expects values of shape (..., band, y, x); got shape "
            f"{tuple(values.shape)}. Add a band axis (x[None]) for a single band."
        )
    values = float_values(x, values=values)
    xp = namespace(values)
    n_bands = values.shape[-3]
    order = (values.ndim - 3, *(i for i in range(values.ndim) if i != values.ndim - 3))
    return xp.reshape(xp.permute_dims(values, order), (n_bands, -1))


def check_bands(op: str, values: Any, n_bands: int) -> None:
    """The input has the band count the statistics were fitted on (a static check)."""
    if len(values.shape) < 3 or values.shape[-3] != n_bands:
        raise GeotoolzValueError(
            f"{op}: fitted on {n_bands} bands, so it expects values of shape "
            f"(..., {n_bands}, y, x); got shape {tuple(values.shape)}. Fit it on data with "
            "the same bands, or select those bands first."
        )


def leaf_namespace(values: Any, *leaves: Any) -> tuple[Any, Any]:
    """The namespace to compute in, and ``values`` in it.

    NumPy when values and leaves are NumPy; ``jax.numpy`` as soon as one is a JAX array
    (trained or traced statistics), with NumPy values converted.
    """
    for leaf in (values, *leaves):
        if not isinstance(leaf, np.ndarray | np.generic):
            xp = namespace(leaf)
            return xp, xp.asarray(values)
    return namespace(values), values


def check_valid_counts(op: str, counts: Any) -> None:
    """Eagerly (NumPy), refuse a band without any valid pixel: its statistics would be NaN."""
    if isinstance(counts, np.ndarray) and (counts == 0).any():
        empty = [int(i) for i in np.flatnonzero(counts == 0)]
        raise GeotoolzValueError(
            f"{op}.fit: band(s) {empty} have no valid pixel (all nodata or NaN), so they have "
            "no statistics; fit on data where every band has valid pixels."
        )
