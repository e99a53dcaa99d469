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
from typing import Any, NamedTuple

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

__all__ = ["ChipResults", "Chips", "PhaseLayout", "gather", "scatter_overlap_add"]


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


# ----------------------------------------------------------------------------- JAX kernels


def _margins(offsets: np.ndarray, size: tuple[int, int], shape: tuple[int, int]) -> tuple[int, ...]:
    """Padding ``(top, bottom, left, right)`` that puts every chip inside the canvas."""
    top = max(0, -int(offsets[:, 0].min()))
    left = max(0, -int(offsets[:, 1].min()))
    bottom = max(0, int(offsets[:, 0].max()) + size[0] - shape[0])
    right = max(0, int(offsets[:, 1].max()) + size[1] - shape[1])
    return top, bottom, left, right


def gather(
    values: Array, offsets: np.ndarray, size: tuple[int, int], fill: Any
) -> tuple[Array, np.ndarray, PhaseLayout | None]:
    """All chips ``(n, *band, h, w)`` of ``values (*band, H, W)``, their offsets and layout.

    Chips that run over the border read ``fill``. On a full regular grid
    (``SpatialRegularStride`` without a flush last chip) the chips are cut by reshapes, one
    phase of non-overlapping chips at a time, and stored in that order (the returned
    offsets follow it; see :class:`PhaseLayout`): XLA fuses these reshapes with whatever
    consumes the chips, and the stitch lays phases back by reshapes too. Otherwise one
    gather (a vmapped ``dynamic_slice``) cuts them in sampler order.
    """
    shape = tuple(values.shape[-2:])
    top, bottom, left, right = _margins(offsets, size, shape)
    lead = values.ndim - 2
    pad = jnp.asarray(fill, dtype=values.dtype)
    regular = _regular_part(offsets)
    if regular is not None and len(regular[0]) * len(regular[1]) == len(offsets):
        rows, cols = regular
        sr = int(rows[1] - rows[0]) if len(rows) > 1 else size[0]
        sc = int(cols[1] - cols[0]) if len(cols) > 1 else size[1]
        layout = PhaseLayout(tuple(map(int, rows)), tuple(map(int, cols)),
                             -(-size[0] // sr), -(-size[1] // sc))  # fmt: skip
        chips = _phase_gather(values, layout, size, (top, left), pad)
        ij = layout.grid_index()
        return chips, np.stack([rows[ij[:, 0]], cols[ij[:, 1]]], -1).astype(np.int64), layout
    if top or bottom or left or right:
        values = jnp.pad(values, [(0, 0)] * lead + [(top, bottom), (left, right)],
                         constant_values=pad)  # fmt: skip
    starts = jnp.asarray(offsets + np.array([top, left]), dtype=jnp.int32)
    band = tuple(values.shape[:lead])

    def one(start: Array) -> Array:
        zeros = (jnp.zeros((), jnp.int32),) * lead
        return jax.lax.dynamic_slice(values, (*zeros, start[0], start[1]), (*band, *size))

    return jax.vmap(one)(starts), offsets, None


def _period(layout: PhaseLayout, size: tuple[int, int]) -> tuple[int, int]:
    sr = layout.rows[1] - layout.rows[0] if len(layout.rows) > 1 else size[0]
    sc = layout.cols[1] - layout.cols[0] if len(layout.cols) > 1 else size[1]
    return layout.pr * sr, layout.pc * sc


def _phase_gather(
    values: Array,
    layout: PhaseLayout,
    size: tuple[int, int],
    margin: tuple[int, int],
    fill: Array,
) -> Array:
    """Chips of a full regular grid, phase by phase: a slice and a reshape per phase."""
    lead = values.ndim - 2
    band = tuple(values.shape[:lead])
    (h, w), (per_r, per_c) = size, _period(layout, size)
    ends = [(layout.rows[a] + margin[0] + na * per_r, layout.cols[b] + margin[1] + nb * per_c)
            for a, b, na, nb in layout.blocks()]  # fmt: skip
    need_r, need_c = max(e[0] for e in ends), max(e[1] for e in ends)
    pads = [(margin[0], max(0, need_r - margin[0] - values.shape[-2])),
            (margin[1], max(0, need_c - margin[1] - values.shape[-1]))]  # fmt: skip
    values = jnp.pad(values, [(0, 0)] * lead + pads, constant_values=fill)
    parts = []
    order = (lead, lead + 2, *range(lead), lead + 1, lead + 3)
    for a, b, na, nb in layout.blocks():
        top, left = layout.rows[a] + margin[0], layout.cols[b] + margin[1]
        part = values[..., top : top + na * per_r, left : left + nb * per_c]
        part = part.reshape(*band, na, per_r, nb, per_c)[..., :h, :, :w]
        parts.append(part.transpose(order).reshape(na * nb, *band, h, w))
    return jnp.concatenate(parts) if len(parts) > 1 else parts[0]


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


def _regular_part(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column starts of the regular grid inside ``offsets``, if it has one.

    ``offsets`` must be a row-major Cartesian product (what ``SpatialRegularStride`` gives);
    the regular part is the longest evenly spaced prefix of the row starts times that of
    the column starts (``shift`` adds one flush start at the end, outside it).
    """
    rows, cols = np.unique(offsets[:, 0]), np.unique(offsets[:, 1])
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), -1).reshape(-1, 2)
    if len(grid) != len(offsets) or not (grid == offsets).all():
        return None

    def prefix(starts: np.ndarray) -> np.ndarray:
        if len(starts) < 2:
            return starts
        step = starts[1] - starts[0]
        n = 1
        while n < len(starts) and starts[n] - starts[n - 1] == step:
            n += 1
        return starts[:n]

    return prefix(rows), prefix(cols)


def _place_1d(profiles: Array, starts: np.ndarray, length: int) -> Array:
    """``Σ_i`` of 1-D ``profiles (n, h)`` placed at ``starts`` on ``[0, length)``: phases."""
    n, h = profiles.shape
    step = int(starts[1] - starts[0]) if n > 1 else h
    phases = -(-h // step)
    period = phases * step
    total = jnp.zeros((length,), profiles.dtype)
    for a in range(min(phases, n)):
        part = jnp.pad(profiles[a::phases], ((0, 0), (0, period - h))).reshape(-1)
        top = int(starts[a])
        part = part[: length - top]
        total = total + jnp.pad(part, (top, length - top - part.shape[0]))
    return total


def _stitch_blocks(
    parts: list[Array],
    layout: PhaseLayout,
    row_prof: Array,
    col_prof: Array,
    margin: tuple[int, int],
    extent: tuple[int, int],
    size: tuple[int, int],
) -> Array:
    """``Σ_k w_k y_k`` on the canvas for chips stored phase by phase.

    ``parts[p]`` holds phase ``p``'s chips ``(na, nb, *band, h, w)``; they do not overlap,
    so a phase is weighted (the weights are separable across the grid: row profile of the
    chip row times column profile of the chip column), padded to the phase period and
    reshaped into one canvas. The program has one such step per phase (4 at 50 % overlap),
    whatever the number of chips; XLA fuses them.
    """
    (h, w), (per_r, per_c) = size, _period(layout, size)
    total = None
    for (a, b, na, nb), part in zip(layout.blocks(), parts, strict=True):
        band = tuple(part.shape[2:-2])
        lead = len(band)
        rows = row_prof[a :: layout.pr].reshape((na, 1) + (1,) * lead + (h, 1))
        cols = col_prof[b :: layout.pc].reshape((1, nb) + (1,) * lead + (1, w))
        part = part * rows * cols
        part = jnp.pad(part, [(0, 0)] * (2 + lead) + [(0, per_r - h), (0, per_c - w)])
        order = (*range(2, 2 + lead), 0, 2 + lead, 1, 3 + lead)
        part = part.transpose(order).reshape(*band, na * per_r, nb * per_c)
        top, left = layout.rows[a] + margin[0], layout.cols[b] + margin[1]
        part = part[..., : extent[0] - top, : extent[1] - left]
        fill = [(0, 0)] * lead + [
            (top, extent[0] - top - part.shape[-2]), (left, extent[1] - left - part.shape[-1])
        ]  # fmt: skip
        placed = jnp.pad(part, fill)
        total = placed if total is None else total + placed
    return total


def _grid_profiles(
    patcher: SpatialPatcher, layout: PhaseLayout, shape: tuple[int, int], dtype: Any
) -> tuple[Array, Array]:
    """Boundary-aware profiles of every grid row ``(nr, h)`` and column ``(nc, w)``."""
    (h, w), window = patcher.geometry.size, patcher.window
    rows = [_held(window, h, r <= 0, r + h >= shape[0]) for r in layout.rows]
    cols = [_held(window, w, c <= 0, c + w >= shape[1]) for c in layout.cols]
    return jnp.asarray(np.stack(rows), dtype), jnp.asarray(np.stack(cols), dtype)


def scatter_overlap_add(
    outputs: Array,
    offsets: np.ndarray,
    patcher: SpatialPatcher,
    shape: tuple[int, int],
    fill: Any,
    layout: PhaseLayout | None = None,
) -> Array:
    """``Σ w_k y_k / Σ w_k`` of ``outputs (n, *band, h, w)`` at ``offsets``: ``(*band, H, W)``.

    Chips of a regular grid are laid out in phases of non-overlapping chips
    (:func:`_stitch_blocks`; read in place when ``layout`` says they are stored that way)
    and the weight sum is the outer product of 1-D sums. Any other chip (the flush last
    row/column of ``boundary="shift"``, random or explicit samplers) is added by one
    ``fori_loop`` that updates the canvas in place. Neither part traces a Python loop over
    chips, so the program does not grow with their number; it is differentiable.
    """
    size = patcher.geometry.size
    if tuple(outputs.shape[-2:]) != size:
        raise PatchShapeError(
            f"Stitch(SpatialOverlapAdd) needs chip outputs of the chip size {size}; the op "
            f"returned shape {tuple(outputs.shape[1:])} per chip. Use SpatialByIndex for "
            "outputs of another shape."
        )
    offsets = np.asarray(offsets)
    dtype = jnp.dtype(result_dtype(outputs.dtype))
    outputs = outputs.astype(dtype)
    top, bottom, left, right = _margins(offsets, size, shape)
    extent = (shape[0] + top + bottom, shape[1] + left + right)
    band = tuple(outputs.shape[1:-2])
    lead = len(band)
    num = jnp.zeros((*band, *extent), dtype)
    den = jnp.zeros(extent, dtype)
    rest = np.arange(len(offsets))
    if layout is None:
        layout, grid = _sampler_order_grid(offsets, size)
    else:
        grid = None  # stored phase by phase already
    if layout is not None:
        row_prof, col_prof = _grid_profiles(patcher, layout, shape, dtype)
        parts = []
        if grid is None:  # stored phase by phase: each phase is a contiguous run of chips
            start = 0
            for _, _, na, nb in layout.blocks():
                parts.append(outputs[start : start + na * nb].reshape(na, nb, *band, *size))
                start += na * nb
        else:  # sampler order: pick the grid's chips, then every phase by strided slices
            cells = grid.reshape(-1)
            full = len(cells) == len(offsets)  # then cells is 0..n-1: no gather needed
            block = (outputs if full else outputs[cells]).reshape(*grid.shape, *band, *size)
            parts = [block[a :: layout.pr, b :: layout.pc] for a, b, _, _ in layout.blocks()]
        num = _stitch_blocks(parts, layout, row_prof, col_prof, (top, left), extent, size)
        rows_1d = _place_1d(row_prof, np.asarray(layout.rows) + top, extent[0])
        cols_1d = _place_1d(col_prof, np.asarray(layout.cols) + left, extent[1])
        den = rows_1d[:, None] * cols_1d[None, :]
        rest = rest[:0] if grid is None else np.setdiff1d(rest, cells)
    if len(rest):
        rows, cols = (jnp.asarray(p, dtype=dtype) for p in _profiles(patcher, offsets, shape))
        moved = offsets + np.array([top, left])
        num, den = _loop_add(num, den, outputs, rows, cols, moved, rest, size)
    num = num[..., top : top + shape[0], left : left + shape[1]]
    den = den[top : top + shape[0], left : left + shape[1]]
    den = den.reshape((1,) * lead + den.shape)
    covered = den > 0
    filled = jnp.asarray(pad_value(fill, dtype), dtype=dtype)
    return jnp.where(covered, num / jnp.where(covered, den, jnp.ones((), dtype)), filled)


def _sampler_order_grid(
    offsets: np.ndarray, size: tuple[int, int]
) -> tuple[PhaseLayout | None, np.ndarray | None]:
    """The regular grid inside sampler-ordered ``offsets`` and the chip index of each cell."""
    regular = _regular_part(offsets)
    if regular is None:
        return None, None
    rows, cols = regular
    sr = int(rows[1] - rows[0]) if len(rows) > 1 else size[0]
    sc = int(cols[1] - cols[0]) if len(cols) > 1 else size[1]
    layout = PhaseLayout(tuple(map(int, rows)), tuple(map(int, cols)),
                         -(-size[0] // sr), -(-size[1] // sc))  # fmt: skip
    n_cols = len(np.unique(offsets[:, 1]))
    grid = np.arange(len(rows))[:, None] * n_cols + np.arange(len(cols))[None, :]
    return layout, grid


def _loop_add(
    num: Array,
    den: Array,
    outputs: Array,
    rows: Array,
    cols: Array,
    starts: np.ndarray,
    chips: np.ndarray,
    size: tuple[int, int],
) -> tuple[Array, Array]:
    """Add the weighted chips ``chips`` (indices) one by one, in place, in a ``fori_loop``."""
    lead = num.ndim - 2
    band = tuple(num.shape[:-2])
    index = jnp.asarray(chips, dtype=jnp.int32)
    at_all = jnp.asarray(starts[chips], dtype=jnp.int32)
    zero = jnp.zeros((), jnp.int32)

    def body(i: Array, carry: tuple[Array, Array]) -> tuple[Array, Array]:
        num, den = carry
        k = index[i]
        weight = rows[k][:, None] * cols[k][None, :]
        r, c = at_all[i, 0], at_all[i, 1]
        at = (*(zero,) * lead, r, c)
        banded = weight.reshape((1,) * lead + size)  # explicit: rank promotion is an error
        part = jax.lax.dynamic_slice(num, at, (*band, *size)) + outputs[k] * banded
        num = jax.lax.dynamic_update_slice(num, part, at)
        den_part = jax.lax.dynamic_slice(den, (r, c), size) + weight
        den = jax.lax.dynamic_update_slice(den, den_part, (r, c))
        return num, den

    return jax.lax.fori_loop(0, len(chips), body, (num, den))
