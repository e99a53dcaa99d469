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


def _phase_profiles(
    window: Any, n: int, starts: tuple[int, ...], phases: int, field: int, margin: int,
    length: int,
) -> np.ndarray:  # fmt: skip
    """Boundary-aware 1-D weight of each phase on the canvas, ``(phases, length)`` float64.

    Chips of one phase do not overlap, so along one axis a phase's weight is a single
    canvas-long profile: chip ``i``'s profile placed at its start, in phase ``i mod phases``.
    """
    out = np.zeros((phases, length))
    for i, start in enumerate(starts):
        at = start + margin
        out[i % phases, at : at + n] = _held(window, n, start <= 0, start + n >= field)
    return out


def _stitch_blocks(
    parts: list[Array],
    layout: PhaseLayout,
    row_w: np.ndarray,
    col_w: np.ndarray,
    margin: tuple[int, int],
    extent: tuple[int, int],
    size: tuple[int, int],
    dtype: Any,
) -> Array:
    """``Σ_k w_k y_k`` on the canvas for chips stored phase by phase.

    ``parts[p]`` holds phase ``p``'s chips ``(na, nb, *band, h, w)``; they do not overlap,
    so a phase is padded to its period and reshaped into one canvas, then weighted by the
    phase's canvas-long row and column weights (``row_w (pr, H)``, ``col_w (pc, W)``). The
    weights multiply after the pad, indexed by canvas position: a pad of an array indexed
    through the chip reshape keeps XLA's CPU loop from vectorising (1.6x slower here). The
    program has one such step per phase (4 at 50 % overlap), whatever the number of chips;
    XLA fuses them into one loop over the output.
    """
    (h, w), (per_r, per_c) = size, _period(layout, size)
    rows_w = jnp.asarray(row_w, dtype)
    cols_w = jnp.asarray(col_w, dtype)
    total = None
    for (a, b, na, nb), part in zip(layout.blocks(), parts, strict=True):
        band = tuple(part.shape[2:-2])
        lead = len(band)
        part = jnp.pad(part, [(0, 0)] * (2 + lead) + [(0, per_r - h), (0, per_c - w)])
        order = (*range(2, 2 + lead), 0, 2 + lead, 1, 3 + lead)
        part = part.transpose(order).reshape(*band, na * per_r, nb * per_c)
        top, left = layout.rows[a] + margin[0], layout.cols[b] + margin[1]
        part = part[..., : extent[0] - top, : extent[1] - left]
        fill = [(0, 0)] * lead + [
            (top, extent[0] - top - part.shape[-2]), (left, extent[1] - left - part.shape[-1])
        ]  # fmt: skip
        weight = rows_w[a].reshape(extent[0], 1) * cols_w[b].reshape(1, extent[1])
        placed = jnp.pad(part, fill) * weight.reshape((1,) * lead + extent)
        total = placed if total is None else total + placed
    return total


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
    rest = np.arange(len(offsets))
    if layout is None:
        layout, grid = _sampler_order_grid(offsets, size)
    else:
        grid = None  # stored phase by phase already
    if layout is None:
        num = jnp.zeros((*band, *extent), dtype)
        den = jnp.zeros(extent, dtype)
    else:
        window = patcher.window
        row_w = _phase_profiles(window, size[0], layout.rows, layout.pr, shape[0], top, extent[0])
        col_w = _phase_profiles(window, size[1], layout.cols, layout.pc, shape[1], left, extent[1])
        parts = []
        if grid is None:  # stored phase by phase: each phase is a contiguous run of chips
            start = 0
            for _, _, na, nb in layout.blocks():
                parts.append(outputs[start : start + na * nb].reshape(na, nb, *band, *size))
                start += na * nb
            rest = rest[:0]
        else:  # sampler order: pick the grid's chips, then every phase by strided slices
            cells = grid.reshape(-1)
            full = len(cells) == len(offsets)  # then cells is 0..n-1: no gather needed
            block = (outputs if full else outputs[cells]).reshape(*grid.shape, *band, *size)
            parts = [block[a :: layout.pr, b :: layout.pc] for a, b, _, _ in layout.blocks()]
            rest = np.setdiff1d(rest, cells)
        row_sum, col_sum = row_w.sum(0), col_w.sum(0)
        if not len(rest):
            # The weight sum is the outer product of the 1-D sums, so normalising the 1-D
            # weights on the host leaves no division (and no 2-D weight sum) in the program.
            row_w = np.divide(row_w, row_sum, out=np.zeros_like(row_w), where=row_sum > 0)
            col_w = np.divide(col_w, col_sum, out=np.zeros_like(col_w), where=col_sum > 0)
        num = _stitch_blocks(parts, layout, row_w, col_w, (top, left), extent, size, dtype)
        crop_r, crop_c = slice(top, top + shape[0]), slice(left, left + shape[1])
        if not len(rest):
            out = num[..., crop_r, crop_c]
            rows_in, cols_in = row_sum[crop_r] > 0, col_sum[crop_c] > 0
            if rows_in.all() and cols_in.all():
                return out
            covered = (rows_in[:, None] & cols_in[None, :]).reshape((1,) * lead + shape)
            filled = jnp.asarray(pad_value(fill, dtype), dtype=dtype)
            return jnp.where(jnp.asarray(covered), out, filled)
        den = jnp.asarray(row_sum, dtype)[:, None] * jnp.asarray(col_sum, dtype)[None, :]
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
