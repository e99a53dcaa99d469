"""What ActiveSampler returns (ChipSelection, ScoredChip) and how it ranks scores."""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from affine import Affine
from jaxtyping import Int, Shaped

from geocatalog import GeoSlice, Lattice

__all__ = ["MODES", "AnyArray", "ChipSelection", "Mode", "ScoredChip", "rank_key"]

#: Which end of the ranking ``ActiveSampler`` keeps: the highest scores or the lowest.
Mode = Literal["top", "bottom"]
MODES: tuple[str, ...] = get_args(Mode)
AnyArray = np.ndarray | jax.Array


class ChipSelection(eqx.Module):
    """The chips :class:`ActiveSampler` picked in one scene, best first.

    Attributes:
        scores: the chips' scores ``(k,)``, as ``score_op`` returned them.
        offsets: top-left ``(row, col)`` of each chip in the scene, ``(k, 2)`` int32.
        index: each chip's position in the sampler order ``base.offsets(shape)``, ``(k,)``.
        origin: the scene's integer offset on ``lattice`` (``GeoTensor.offset``), ``(2,)``.
        lattice: the scene's pixel lattice (static), so chip transforms stay exact.

    Arrays are NumPy for a NumPy scene and JAX for a JAX scene (also under ``jit``).
    """

    scores: Shaped[AnyArray, " k"]
    offsets: Int[AnyArray, "k 2"]
    index: Int[AnyArray, " k"]
    origin: Int[AnyArray, 2]
    lattice: Lattice = eqx.field(static=True)

    def __len__(self) -> int:
        return int(self.scores.shape[-1])

    def transform(self, i: int) -> Affine:
        """The exact (float64) transform of the ``i``-th chosen chip; host-side."""
        row, col = (int(v) for v in np.asarray(self.origin) + np.asarray(self.offsets)[i])
        return self.lattice.transform_at(row, col)


@dataclasses.dataclass(frozen=True)
class ScoredChip:
    """One chip chosen from a catalog: where it is, as a loadable slice, and its score.

    Attributes:
        slice: the chip as a :class:`geocatalog.GeoSlice` of the item's raster: its ``href``,
            ``window=((row, row + h), (col, col + w))`` in source pixels, and the item's
            ``item_id``, ``datetime`` and ``indexes``; ``slice.load()`` reads exactly the chip.
        score: ``score_op``'s value on the chip (NaN stays NaN).
        item_id: the catalog item the chip belongs to.
        row, col: top-left pixel of the chip in the source raster.
    """

    slice: GeoSlice
    score: float
    item_id: str | None
    row: int
    col: int


def rank_key(scores: AnyArray, mode: str) -> AnyArray:
    """An integer key per score, larger = ranked first, in the order ``mode`` asks for.

    Floats are mapped to integers of the same width by the order-preserving bit trick
    (sign-magnitude to two's complement: negative floats get their 31 (63) low bits
    flipped), ``-0.0`` counting as ``0.0``; ``"bottom"`` reverses the order with ``~key``;
    NaN gets the smallest integer, below ``-inf`` in both modes. Float64 keeps float64
    (int64) keys; every other dtype is ranked as float32.
    """
    on_jax = isinstance(scores, jax.Array)
    xp = jnp if on_jax else np
    wide = scores.dtype == np.float64
    fdt, idt = (np.float64, np.int64) if wide else (np.float32, np.int32)
    s = scores.astype(fdt)
    s = xp.where(s == 0, xp.zeros((), fdt), s)
    bits = jax.lax.bitcast_convert_type(s, idt) if on_jax else s.view(idt)
    flip = xp.asarray(np.iinfo(idt).max, dtype=idt)
    key = xp.where(bits < 0, bits ^ flip, bits)
    if mode == "bottom":
        key = ~key
    return xp.where(xp.isnan(s), xp.asarray(np.iinfo(idt).min, dtype=idt), key)
