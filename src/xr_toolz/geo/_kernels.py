"""Pure array kernels of ``xr_toolz.geo``: NumPy or JAX arrays plus integer axes.

The operators resolve names to axes and build the (host, static) masks and weights from
coordinates; these functions do the work on the data, so they run eagerly on NumPy and
under ``jax.jit`` with the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipekit_array import namespace, nan_of

__all__ = ["broadcast_to_axes", "mask_outside", "weighted_mean"]


def broadcast_to_axes(field: np.ndarray, ndim: int, axes: Sequence[int]) -> np.ndarray:
    """A host array over ``axes`` (in that order) reshaped to broadcast against ``ndim`` dims."""
    order = np.argsort(axes)
    field = np.transpose(field, order)
    shape = [1] * ndim
    for ax, n in zip(sorted(axes), field.shape, strict=True):
        shape[ax] = n
    return field.reshape(shape)


def mask_outside(values: Any, inside: np.ndarray, axes: Sequence[int]) -> Any:
    """``values`` with NaN where ``inside`` (a host bool array over ``axes``) is False.

    ``values`` must be floating (the operator casts integers first, as NaN needs a float).
    """
    xp = namespace(values)
    keep = xp.asarray(broadcast_to_axes(np.asarray(inside, bool), values.ndim, axes))
    return xp.where(keep, values, nan_of(values.dtype))


def weighted_mean(values: Any, weights: np.ndarray, axes: Sequence[int]) -> Any:
    r"""NaN-skipping weighted mean over ``axes``: xarray's ``da.weighted(w).mean(dims)``.

    .. math:: \bar x = \frac{\sum_i w_i x_i [x_i \ne \mathrm{NaN}]}
        {\sum_i w_i [x_i \ne \mathrm{NaN}]}

    ``weights`` broadcasts against ``values`` (same ndim, ones where it does not vary); a
    slice with no valid value (or zero weight) is NaN, as in xarray.
    """
    xp = namespace(values)
    w = xp.asarray(np.asarray(weights), dtype=values.dtype)
    w = xp.broadcast_to(w, values.shape)
    valid = ~xp.isnan(values)
    zero = xp.zeros((), dtype=values.dtype)
    num = xp.sum(xp.where(valid, values * w, zero), axis=tuple(axes))
    den = xp.sum(xp.where(valid, w, zero), axis=tuple(axes))
    safe = xp.where(den == zero, xp.ones((), dtype=values.dtype), den)
    return xp.where(den == zero, nan_of(values.dtype), num / safe)
