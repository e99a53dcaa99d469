"""Index parsing for ``GeoTensor.__getitem__``: leading axes freely, spatial axes by unit slices.

Indices are applied one axis at a time ("outer" indexing, as xarray's ``isel``), so an
array index on two leading axes selects the cross product instead of NumPy's zipped
points. The two trailing (spatial) axes accept only slices with step 1, which move the
pixel offset and keep both axes.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import BatchedGeoTensorError, GeoIndexError, GridShapeError
from ._leaves import is_traced, shift_offset

__all__ = ["apply_outer", "parse_key"]

_AXES = ("y (rows)", "x (columns)")


def _leading_index(idx: Any, axis: int) -> Any:
    """Validate and normalise one leading-axis index (int, slice, integer/bool array)."""
    if idx is None or isinstance(idx, bool | np.bool_):
        raise GeoIndexError(
            f"GeoTensor indexing: index {idx!r} on axis {axis} would insert an axis; a "
            "GeoTensor keeps its axes as (..., y, x). Use gt.replace(values=gt.values[None]) "
            "to add a leading axis."
        )
    if isinstance(idx, slice | int | np.integer | np.ndarray | jax.Array):
        return idx
    if isinstance(idx, list | tuple | range):
        return np.asarray(idx)
    raise GeoIndexError(
        f"GeoTensor indexing: unsupported index {idx!r} (type {type(idx).__name__}) on "
        f"leading axis {axis}; use an int, a slice, or a 1-D integer/boolean array."
    )


def _spatial_slice(idx: Any, size: int, axis_name: str) -> slice:
    """Return ``slice(start, stop, 1)`` with concrete bounds, or raise a teaching error."""
    if not isinstance(idx, slice):
        raise GeoIndexError(
            f"GeoTensor indexing: the spatial axis {axis_name} accepts only a slice with step 1, "
            f"received {idx!r}. An integer or array index would drop or reorder a spatial axis "
            "and break the georeferencing; use e.g. gt[..., r:r + 1, :] to keep one row, or "
            "index gt.values for a bare array."
        )
    try:
        start, stop, step = idx.indices(size)
    except TypeError:
        raise GeoIndexError(
            f"GeoTensor indexing: spatial slice bounds must be static Python ints (shapes are "
            f"static under jit); received {idx!r} on axis {axis_name}. For a traced position "
            "use gt.dynamic_slice(row, col, height, width)."
        ) from None
    if step != 1:
        raise GeoIndexError(
            f"GeoTensor indexing: the spatial axis {axis_name} needs step 1 (or None), received "
            f"step {idx.step!r} in {idx!r}. A strided or reversed slice changes the pixel size "
            "or orientation, which is resampling: build a new GeoTensor with the new transform."
        )
    return slice(start, max(start, stop))


def parse_key(key: Any, shape: tuple[int, ...]) -> tuple[list[Any], tuple[int, int]]:
    """Expand ``key`` to one index per axis and return it with the spatial start ``(row, col)``.

    Example:
        >>> idx, start = parse_key((..., slice(2, 5), slice(-3, None)), (4, 10, 10))
        >>> idx[1:], start
        ([slice(2, 5, None), slice(7, 10, None)], (2, 7))
    """
    ndim = len(shape)
    key = key if isinstance(key, tuple) else (key,)
    n_ellipsis = sum(1 for k in key if k is Ellipsis)
    if n_ellipsis > 1:
        raise GeoIndexError(f"GeoTensor indexing: at most one Ellipsis allowed, received {key!r}")
    n_explicit = len(key) - n_ellipsis
    if n_explicit > ndim:
        raise GeoIndexError(
            f"GeoTensor indexing: too many indices ({n_explicit}) for a GeoTensor of shape "
            f"{shape} ({ndim} axes); spatial axes are the last two."
        )
    if n_ellipsis:
        cut = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = [slice(None)] * (ndim - n_explicit)
        full = [*key[:cut], *fill, *key[cut + 1 :]]
    else:
        full = [*key, *[slice(None)] * (ndim - n_explicit)]
    out = [_leading_index(k, axis) for axis, k in enumerate(full[:-2])]
    rows = _spatial_slice(full[-2], shape[-2], _AXES[0])
    cols = _spatial_slice(full[-1], shape[-1], _AXES[1])
    return [*out, rows, cols], (rows.start, cols.start)


def _is_full(idx: Any) -> bool:
    return isinstance(idx, slice) and idx == slice(None)


def apply_outer(array: Any, indices: list[Any]) -> Any:
    """Apply one index per axis, last axis first, so each index acts on its own axis only."""
    for axis in reversed(range(len(indices))):
        idx = indices[axis]
        if _is_full(idx):
            continue
        array = array[(slice(None),) * axis + (idx,)]
    return array


def dynamic_slice(gt: Any, row: Any, col: Any, height: int, width: int) -> Any:
    """``GeoTensor.dynamic_slice``: a lax-style window whose offset moves by the clamped start."""
    if gt.batch_shape:
        raise BatchedGeoTensorError(
            "GeoTensor.dynamic_slice cuts one scene; this GeoTensor is stacked with batch "
            f"shape {gt.batch_shape}. Map it over the batch with eqx.filter_vmap."
        )
    if not (0 <= height <= gt.height and 0 <= width <= gt.width):
        raise GridShapeError(
            f"GeoTensor.dynamic_slice needs 0 <= height <= {gt.height} and 0 <= width <= "
            f"{gt.width}; received (height, width) = ({height}, {width})."
        )
    lead = gt.ndim - 2
    if isinstance(gt.values, np.ndarray) and not (is_traced(row) or is_traced(col)):
        r = min(max(int(row), 0), gt.height - height)
        c = min(max(int(col), 0), gt.width - width)
        values = gt.values[..., r : r + height, c : c + width]
        offset = shift_offset(gt.offset, r, c)
        return type(gt)._from_parts(values, offset, gt.lattice, gt.fill_value, gt.band_names)
    r = jnp.clip(jnp.asarray(row, dtype=jnp.int32), 0, gt.height - height)
    c = jnp.clip(jnp.asarray(col, dtype=jnp.int32), 0, gt.width - width)
    starts = (jnp.zeros((), dtype=jnp.int32),) * lead + (r, c)
    values = jax.lax.dynamic_slice(jnp.asarray(gt.values), starts, (*gt.shape[:-2], height, width))
    offset = jnp.asarray(gt.offset, dtype=jnp.int32) + jnp.stack([r, c])
    return type(gt)._from_parts(values, offset, gt.lattice, gt.fill_value, gt.band_names)
