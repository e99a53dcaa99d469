"""Stack GeoTensors of one lattice into a batch (for vmap) and split a batch back into scenes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ._errors import (
    BatchedGeoTensorError,
    GeoTypeError,
    GeoValueError,
    GridShapeError,
    LatticeMismatchError,
)
from ._geotensor import GeoTensor

__all__ = ["stack", "unstack"]


def _same_fill(a: float | int | None, b: float | int | None) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def stack(gts: Sequence[GeoTensor]) -> GeoTensor:
    """Stack GeoTensors on one lattice into one with a leading batch axis.

    Both ``values`` and ``offset`` gain the batch axis, so ``eqx.filter_vmap`` maps over
    axis 0 and sees each scene as an ordinary GeoTensor. All inputs must share the lattice
    (CRS, resolution, rotation, origin modulo one pixel), fill value, band names and
    shape.

    Example:
        >>> import numpy as np
        >>> from affine import Affine
        >>> gts = [GeoTensor(np.zeros((3, 3)), Affine(10, 0, 10 * i, 0, -10, 0), "EPSG:32630")
        ...        for i in range(4)]
        >>> batch = stack(gts)
        >>> batch.shape, batch.offset.shape
        ((4, 3, 3), (4, 2))
        >>> [g.transform.c for g in unstack(batch)]
        [0.0, 10.0, 20.0, 30.0]
    """
    gts = list(gts)
    if not gts:
        raise GeoValueError(
            "geocatalog.stack needs at least one GeoTensor; received an empty sequence"
        )
    first = gts[0]
    for i, gt in enumerate(gts):
        if not isinstance(gt, GeoTensor):
            raise GeoTypeError(
                f"geocatalog.stack takes GeoTensors; gts[{i}] is {type(gt).__name__}. Wrap arrays "
                "with GeoTensor(values, transform, crs) first."
            )
        if gt.lattice != first.lattice:
            raise LatticeMismatchError(
                f"geocatalog.stack needs every GeoTensor on one lattice (same CRS, resolution, "
                f"rotation and origin modulo one pixel); gts[{i}].lattice = {gt.lattice!r} "
                f"differs from gts[0].lattice = {first.lattice!r}. Reproject or resample "
                f"gts[{i}] onto the grid of gts[0] first."
            )
        if not _same_fill(gt.fill_value, first.fill_value):
            raise LatticeMismatchError(
                f"geocatalog.stack needs one fill value; gts[{i}].fill_value = {gt.fill_value!r} "
                f"but gts[0].fill_value = {first.fill_value!r}. Use gt.replace(fill_value=...) "
                "to align them."
            )
        if gt.band_names != first.band_names:
            raise LatticeMismatchError(
                f"geocatalog.stack needs one band layout; gts[{i}].band_names = "
                f"{gt.band_names!r} but gts[0].band_names = {first.band_names!r}. Select the "
                "same bands in the same order, or align the names with "
                "gt.replace(band_names=...) (None drops them)."
            )
        if gt.shape != first.shape or gt.offset.shape != first.offset.shape:
            raise GridShapeError(
                f"geocatalog.stack needs equal shapes; gts[{i}] has shape {gt.shape} (offset "
                f"{tuple(gt.offset.shape)}) but gts[0] has {first.shape} (offset "
                f"{tuple(first.offset.shape)}). Crop them to a common size first."
            )
    values = [gt.values for gt in gts]
    offsets = [gt.offset for gt in gts]
    if all(isinstance(v, np.ndarray) for v in values + offsets):
        stacked_values, stacked_offset = np.stack(values), np.stack(offsets)
    else:
        stacked_values, stacked_offset = jnp.stack(values), jnp.stack(offsets)
    return GeoTensor._from_parts(
        stacked_values, stacked_offset, first.lattice, first.fill_value, first.band_names
    )


def unstack(gt: GeoTensor) -> list[GeoTensor]:
    """Split a stacked GeoTensor along its first batch axis into a list of GeoTensors."""
    if not gt.batch_shape:
        raise BatchedGeoTensorError(
            f"geocatalog.unstack needs a stacked GeoTensor (offset of shape (batch, 2)); received "
            f"offset shape {tuple(gt.offset.shape)}. Build one with geocatalog.stack(gts)."
        )
    return [
        GeoTensor._from_parts(gt.values[i], gt.offset[i], gt.lattice, gt.fill_value, gt.band_names)
        for i in range(gt.batch_shape[0])
    ]
