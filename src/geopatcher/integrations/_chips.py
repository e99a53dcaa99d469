"""Chip carriers between GridSampler, ApplyToChips and Stitch (kernels: ``_kernels.py``).

Two representations of one thing. On the host path (NumPy GeoTensors, raster files,
DataArrays) a :class:`Chips` keeps the field and the chip carriers as the field read them.
On the JAX path (a GeoTensor of JAX arrays, under ``jit`` or not) it keeps all chips as one
array ``(n, *band, h, w)`` plus the integer offsets. A chip's georeferencing is the field's
lattice moved by ``origin + offsets[k]``, so nothing float is traced and one compiled
program serves every scene with the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int

from geocatalog import GeoTensor, Lattice
from geopatcher._field import Domain, Field
from geopatcher._patcher import ChipResult, SpatialPatcher

__all__ = ["ChipResults", "Chips", "FrozenOffsets", "PhaseLayout"]


class PhaseLayout(NamedTuple):
    """Chips of a full regular grid stored phase by phase (JAX path), not in sampler order.

    Chips ``(i, j)`` of one *phase* (``i mod pr``, ``j mod pc``) never overlap, so each phase
    is cut from the field, and laid back onto the canvas, by reshapes alone. ``rows`` and
    ``cols`` are the grid's starts; ``pr, pc`` the phases per axis.
    """

    rows: tuple[int, ...]
    cols: tuple[int, ...]
    pr: int
    pc: int

    def blocks(self) -> list[tuple[int, int, int, int]]:
        """``(a, b, na, nb)`` of every phase, in storage order."""
        nr, nc = len(self.rows), len(self.cols)
        return [
            (a, b, len(range(a, nr, self.pr)), len(range(b, nc, self.pc)))
            for a in range(min(self.pr, nr))
            for b in range(min(self.pc, nc))
        ]

    def grid_index(self) -> np.ndarray:
        """For each stored chip, its ``(i, j)`` on the grid, ``(n, 2)``."""
        out = []
        for a, b, _, _ in self.blocks():
            i, j = np.meshgrid(np.arange(a, len(self.rows), self.pr),
                               np.arange(b, len(self.cols), self.pc), indexing="ij")  # fmt: skip
            out.append(np.stack([i.ravel(), j.ravel()], -1))
        return np.concatenate(out)

    def to_sampler_order(self) -> np.ndarray:
        """Indices that put stored chips back in sampler (row-major) order."""
        ij = self.grid_index()
        return np.argsort(ij[:, 0] * len(self.cols) + ij[:, 1], kind="stable")


class FrozenOffsets:
    """Chip offsets ``(n, 2)`` as a static, hashable value (hash computed once, from bytes).

    Offsets decide the program's structure (how chips are cut and laid back), so they are
    static: ``Chips`` can cross a ``jit`` boundary without its offsets being traced.
    Indexing, ``len`` and ``np.asarray`` give the read-only int64 array.
    """

    __slots__ = ("_hash", "array")

    def __init__(self, offsets: Any) -> None:
        if isinstance(offsets, FrozenOffsets):
            offsets = offsets.array
        array = np.array(offsets, dtype=np.int64).reshape(-1, 2)
        array.setflags(write=False)
        self.array = array
        self._hash = hash((array.shape, array.tobytes()))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FrozenOffsets)
            and self._hash == other._hash
            and np.array_equal(self.array, other.array)
        )

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.array if dtype is None else self.array.astype(dtype)

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.array[key]

    def __repr__(self) -> str:
        return f"FrozenOffsets(n={len(self.array)})"


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
        layout: JAX path on a regular grid: chips are stored phase by phase
            (:class:`PhaseLayout`) and ``offsets`` follows that order; None: sampler order.
    """

    offsets: FrozenOffsets = eqx.field(static=True, converter=FrozenOffsets)
    patcher: SpatialPatcher = eqx.field(static=True)
    field_shape: tuple[int, int] = eqx.field(static=True)
    values: Any = None
    origin: Int[Array, 2] | None = None
    lattice: Lattice | None = eqx.field(static=True, default=None)
    fill_value: float | int | None = eqx.field(static=True, default=None)
    items: tuple[Any, ...] | None = None
    field: Field | None = eqx.field(static=True, default=None)
    layout: PhaseLayout | None = eqx.field(static=True, default=None)

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
    offsets: FrozenOffsets = eqx.field(static=True, converter=FrozenOffsets)
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
