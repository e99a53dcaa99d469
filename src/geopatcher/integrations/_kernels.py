"""The JAX path's kernels: cut every chip of a scene, and overlap-add chips back, in one program.

On a regular grid both are reshapes, one per phase of non-overlapping chips (see
:class:`PhaseLayout`), which XLA fuses into one loop over the output; other chips take one
gather and one ``fori_loop`` of in-place updates. Nothing here traces a Python loop over
chips, so the program does not grow with their number.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from geopatcher._errors import PatchShapeError
from geopatcher._field import pad_value
from geopatcher._overlap import result_dtype
from geopatcher._patcher import SpatialPatcher
from geopatcher._windows import _held

from ._chips import PhaseLayout

__all__ = ["gather", "scatter_overlap_add"]


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
