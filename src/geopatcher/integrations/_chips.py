"""Chip carriers between GridSampler, ApplyToChips and Stitch, and their JAX kernels.

Two representations of one thing. On the host path (NumPy GeoTensors, raster files,
DataArrays) a :class:`Chips` keeps the field and the chip carriers as the field read them.
On the JAX path (a GeoTensor of JAX arrays, under ``jit`` or not) it keeps all chips as one
array ``(n, *band, h, w)`` plus the integer offsets. A chip's georeferencing is the field's
lattice moved by ``origin + offsets[k]``, so nothing float is traced and one compiled
program serves every scene with the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int

from geocatalog import GeoTensor, Lattice
from geopatcher._errors import PatchShapeError
from geopatcher._field import Domain, Field, pad_value
from geopatcher._patcher import ChipResult, SpatialPatcher, result_dtype
from geopatcher._windows import _held

__all__ = ["ChipResults", "Chips", "gather", "scatter_overlap_add"]


class Chips(eqx.Module):
    """Chips of one field (or the outputs of an op on them), in sampler order.

    Attributes:
        offsets: top-left ``(row, col)`` of every chip in the field, ``(n, 2)`` int.
        patcher: the :class:`~geopatcher.SpatialPatcher` that cut them (its window weights
            the stitch).
        field_shape: ``(H, W)`` of the field.
        values: JAX path: all chips ``(n, *band, h, w)`` (or the op's outputs ``(n, ...)``).
        origin: JAX path: the field GeoTensor's offset ``(2,)`` on ``lattice``.
        lattice, fill_value: JAX path: the field's lattice and fill value.
        items: host path: the chips (or outputs) as a tuple, one per chip.
        field: host path: the field they came from (rebuilds the stitched carrier).
    """

    offsets: np.ndarray
    patcher: SpatialPatcher = eqx.field(static=True)
    field_shape: tuple[int, int] = eqx.field(static=True)
    values: Any = None
    origin: Int[Array, 2] | None = None
    lattice: Lattice | None = eqx.field(static=True, default=None)
    fill_value: float | int | None = eqx.field(static=True, default=None)
    items: tuple[Any, ...] | None = None
    field: Field | None = eqx.field(static=True, default=None)

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def on_device(self) -> bool:
        """Whether these chips take the JAX path (one array) rather than the host path."""
        return self.values is not None

    def stacked(self) -> GeoTensor:
        """JAX path: the chips as one stacked GeoTensor ``(n, *band, h, w)`` (exact georef)."""
        offset = self.origin[None, :] + jnp.asarray(self.offsets, dtype=jnp.int32)
        return GeoTensor.from_lattice(self.values, offset, self.lattice, self.fill_value)

    def __iter__(self) -> Iterator[Any]:
        """The chips one by one (GeoTensors on the JAX path, the field's carriers on the host)."""
        if self.items is not None:
            yield from self.items
            return
        stacked = self.stacked()
        for k in range(len(self)):
            yield jax.tree.map(lambda leaf, k=k: leaf[k], stacked)


class ChipResults(eqx.Module):
    """Per-chip results under :class:`~geopatcher.SpatialByIndex`, in sampler order.

    ``values`` holds one result per chip along axis 0 (a pytree of arrays), or a tuple on
    the host path when results do not stack. Iterating yields
    :class:`~geopatcher.ChipResult` ``(index, row, col, transform, value)``.
    """

    values: Any
    offsets: np.ndarray
    origin: Int[Array, 2] | None = None
    lattice: Lattice | None = eqx.field(static=True, default=None)
    domain: Domain | None = eqx.field(static=True, default=None)

    def __len__(self) -> int:
        return len(self.offsets)

    def transform(self, k: int) -> Any:
        """The exact transform of chip ``k`` (host-side; needs a concrete origin)."""
        r, c = (int(v) for v in np.asarray(self.offsets)[k])
        if self.lattice is not None:
            origin = np.asarray(self.origin)
            values = np.zeros((1, 1))
            gt = GeoTensor.from_lattice(values, origin + np.array([r, c]), self.lattice)
            return gt.transform
        return None if self.domain is None else self.domain.window_transform(r, c)

    def __iter__(self) -> Iterator[ChipResult]:
        offsets = np.asarray(self.offsets)
        for k in range(len(self)):
            value = (
                self.values[k]
                if isinstance(self.values, tuple)
                else jax.tree.map(lambda leaf, k=k: leaf[k], self.values)
            )
            yield ChipResult(k, int(offsets[k, 0]), int(offsets[k, 1]), self.transform(k), value)


# ----------------------------------------------------------------------------- JAX kernels


def _margins(offsets: np.ndarray, size: tuple[int, int], shape: tuple[int, int]) -> tuple[int, ...]:
    """Padding ``(top, bottom, left, right)`` that puts every chip inside the canvas."""
    top = max(0, -int(offsets[:, 0].min()))
    left = max(0, -int(offsets[:, 1].min()))
    bottom = max(0, int(offsets[:, 0].max()) + size[0] - shape[0])
    right = max(0, int(offsets[:, 1].max()) + size[1] - shape[1])
    return top, bottom, left, right


def gather(values: Array, offsets: np.ndarray, size: tuple[int, int], fill: Any) -> Array:
    """All chips ``(n, *band, h, w)`` of ``values (*band, H, W)`` in one gather.

    Chips that run over the border read ``fill`` (the array is padded once).
    """
    shape = tuple(values.shape[-2:])
    top, bottom, left, right = _margins(offsets, size, shape)
    lead = values.ndim - 2
    if top or bottom or left or right:
        value = jnp.asarray(fill, dtype=values.dtype)
        values = jnp.pad(values, [(0, 0)] * lead + [(top, bottom), (left, right)],
                         constant_values=value)  # fmt: skip
    starts = jnp.asarray(offsets + np.array([top, left]), dtype=jnp.int32)
    band = tuple(values.shape[:lead])

    def one(start: Array) -> Array:
        zeros = (jnp.zeros((), jnp.int32),) * lead
        return jax.lax.dynamic_slice(values, (*zeros, start[0], start[1]), (*band, *size))

    return jax.vmap(one)(starts)


def _profiles(patcher: SpatialPatcher, offsets: np.ndarray, shape: tuple[int, int]) -> tuple:
    """Boundary-aware row and column profiles of every chip, ``(n, h)`` and ``(n, w)``."""
    (h, w), window = patcher.geometry.size, patcher.window
    rows = np.stack(
        [_held(window, h, bool(r <= 0), bool(r + h >= shape[0])) for r in offsets[:, 0]]
    )
    cols = np.stack(
        [_held(window, w, bool(c <= 0), bool(c + w >= shape[1])) for c in offsets[:, 1]]
    )
    return rows, cols


def scatter_overlap_add(
    outputs: Array, offsets: np.ndarray, patcher: SpatialPatcher, shape: tuple[int, int], fill: Any
) -> Array:
    """``Σ w_k y_k / Σ w_k`` of ``outputs (n, *band, h, w)`` at ``offsets``: ``(*band, H, W)``.

    One ``fori_loop`` over chips adds each weighted chip into the canvas in place (a
    ``dynamic_update_slice`` of a slice plus the chip), so the program does not grow with
    the number of chips and memory is one canvas. Weights are outer products of the chips'
    1-D profiles, built in the loop. Differentiable (the loop has a static trip count).
    """
    size = patcher.geometry.size
    if tuple(outputs.shape[-2:]) != size:
        raise PatchShapeError(
            f"Stitch(SpatialOverlapAdd) needs chip outputs of the chip size {size}; the op "
            f"returned shape {tuple(outputs.shape[1:])} per chip. Use SpatialByIndex for "
            "outputs of another shape."
        )
    dtype = jnp.dtype(result_dtype(outputs.dtype))
    outputs = outputs.astype(dtype)
    top, bottom, left, right = _margins(offsets, size, shape)
    extent = (shape[0] + top + bottom, shape[1] + left + right)
    band = tuple(outputs.shape[1:-2])
    lead = len(band)
    rows, cols = (jnp.asarray(p, dtype=dtype) for p in _profiles(patcher, offsets, shape))
    starts = jnp.asarray(offsets + np.array([top, left]), dtype=jnp.int32)
    zero = jnp.zeros((), jnp.int32)

    def body(k: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
        num, den = carry
        weight = rows[k][:, None] * cols[k][None, :]
        r, c = starts[k, 0], starts[k, 1]
        at = (*(zero,) * lead, r, c)
        banded = weight.reshape((1,) * lead + size)  # explicit: rank promotion is an error
        part = jax.lax.dynamic_slice(num, at, (*band, *size)) + outputs[k] * banded
        num = jax.lax.dynamic_update_slice(num, part, at)
        den = jax.lax.dynamic_update_slice(
            den, jax.lax.dynamic_slice(den, (r, c), size) + weight, (r, c)
        )
        return num, den

    init = (jnp.zeros((*band, *extent), dtype), jnp.zeros(extent, dtype))
    num, den = jax.lax.fori_loop(0, len(offsets), body, init)
    num = num[..., top : top + shape[0], left : left + shape[1]]
    den = den[top : top + shape[0], left : left + shape[1]]
    den = den.reshape((1,) * lead + den.shape)
    covered = den > 0
    filled = jnp.asarray(pad_value(fill, dtype), dtype=dtype)
    return jnp.where(covered, num / jnp.where(covered, den, jnp.ones((), dtype)), filled)
