"""Overlap-add on NumPy: running weighted sums of chips, accumulated in threads over row bands."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._errors import PatchShapeError
from ._field import pad_value

__all__ = ["OverlapAdd", "overlap_add", "result_dtype"]


def result_dtype(dtype: Any) -> np.dtype:
    """Stitched values are floating: the chips' float dtype, else float32."""
    dtype = np.dtype(dtype)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


class OverlapAdd:
    """Running sums ``Σ w_k y_k`` and ``Σ w_k`` of chips added one at a time.

    Chips may run over the field (``boundary="pad"``): the canvas has a margin covering
    every chip and is cropped back to ``shape`` at the end.
    """

    def __init__(self, offsets: np.ndarray, size: tuple[int, int], shape: tuple[int, int]):
        offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        if len(offsets) == 0:
            raise PatchShapeError("overlap-add: no chips to stitch (the sampler produced none)")
        self.size, self.shape = size, shape
        self.top = min(0, int(offsets[:, 0].min()))
        self.left = min(0, int(offsets[:, 1].min()))
        self.extent = (
            max(shape[0], int(offsets[:, 0].max()) + size[0]) - self.top,
            max(shape[1], int(offsets[:, 1].max()) + size[1]) - self.left,
        )
        self.num: np.ndarray | None = None
        self.den = np.zeros(self.extent)
        self.first: tuple[int, ...] | None = None

    def _setup(self, y: np.ndarray) -> None:
        h, w = self.size
        if y.shape[-2:] != (h, w):
            raise PatchShapeError(
                f"SpatialOverlapAdd needs chip outputs of the chip size {(h, w)}; the op "
                f"returned shape {y.shape}. Use SpatialByIndex for outputs of another shape."
            )
        if self.num is None:
            self.first = y.shape
            dtype = result_dtype(y.dtype)
            self.num = np.zeros((*y.shape[:-2], *self.extent), dtype=dtype)
            self.den = self.den.astype(dtype)
            self._buf = np.empty(y.shape, dtype=dtype)
        elif y.shape != self.first:
            raise PatchShapeError(
                f"overlap-add: a chip output has shape {y.shape}, the first had {self.first}"
            )

    def _accumulate(self, row: int, col: int, y: np.ndarray, weights: Any, buf: Any) -> None:
        h, w = self.size
        r, c = row - self.top, col - self.left
        weights = weights.astype(self.num.dtype, copy=False)
        np.multiply(y, weights, out=buf)
        self.num[..., r : r + h, c : c + w] += buf
        self.den[r : r + h, c : c + w] += weights

    def add(self, row: int, col: int, y: np.ndarray, weights: np.ndarray) -> None:
        """Accumulate chip output ``y (*band, h, w)`` at ``(row, col)`` with ``weights (h, w)``."""
        self._setup(y)
        self._accumulate(row, col, y, weights, self._buf)

    def add_all(self, chips: Sequence[tuple[int, int, np.ndarray, np.ndarray]]) -> None:
        """Accumulate many ``(row, col, y, weights)`` chips, in threads over bands of rows.

        The canvas is cut into one horizontal band per worker; the chips inside a band are
        added by its thread (bands are disjoint, so no two threads write one pixel; NumPy
        releases the GIL in the arithmetic), then the chips crossing a band edge serially.
        The sums are those of adding the chips one by one, up to float rounding order.
        """
        if not chips:
            return
        for _, _, y, _ in chips:
            self._setup(y)
        n = min(_workers(), max(1, self.extent[0] // (2 * self.size[0])))
        edges = np.linspace(0, self.extent[0], n + 1).astype(int)
        bands: list[list[tuple]] = [[] for _ in range(n)]
        crossing = []
        for chip in chips:
            r0 = chip[0] - self.top
            band = int(np.searchsorted(edges, r0, side="right")) - 1
            if r0 + self.size[0] <= edges[band + 1]:
                bands[band].append(chip)
            else:
                crossing.append(chip)

        def run(part: list[tuple]) -> None:
            buf = np.empty_like(self._buf)
            for r, c, y, weights in part:
                self._accumulate(r, c, y, weights, buf)

        if n > 1:
            with ThreadPoolExecutor(n) as pool:
                list(pool.map(run, bands))
        else:
            run(bands[0])
        run(crossing)

    def add_weight(self, row: int, col: int, weights: np.ndarray) -> None:
        """Accumulate only the weights of a chip (for :meth:`SpatialPatcher.weight_map`)."""
        r, c = row - self.top, col - self.left
        self.den[r : r + self.size[0], c : c + self.size[1]] += weights

    def total_weight(self) -> np.ndarray:
        """``Σ w`` on the field ``(H, W)``."""
        rows = slice(-self.top, -self.top + self.shape[0])
        cols = slice(-self.left, -self.left + self.shape[1])
        return self.den[rows, cols].copy()

    def result(self, fill_value: float | int | None) -> np.ndarray:
        """``Σ w y / Σ w`` on the field; ``fill_value`` (NaN if None) where ``Σ w == 0``."""
        assert self.num is not None, "no chip was added"
        rows = slice(-self.top, -self.top + self.shape[0])
        cols = slice(-self.left, -self.left + self.shape[1])
        num, den = self.num[..., rows, cols], self.den[rows, cols]
        fill = pad_value(fill_value, num.dtype)

        def normalise(part: slice) -> None:
            d = den[part]
            covered = d > 0
            np.divide(num[..., part, :], d, out=num[..., part, :], where=covered)
            if not covered.all():
                num[..., part, :][..., ~covered] = fill

        n = _workers()
        edges = np.linspace(0, self.shape[0], n + 1).astype(int)
        parts = [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]
        if len(parts) > 1:
            with ThreadPoolExecutor(len(parts)) as pool:
                list(pool.map(normalise, parts))
        else:
            normalise(slice(None))
        return num


def _workers() -> int:
    """Threads for the NumPy overlap-add: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def overlap_add(
    outputs: Sequence[Any] | np.ndarray,
    offsets: np.ndarray,
    weights: np.ndarray,
    shape: tuple[int, int],
    fill_value: float | int | None = None,
) -> np.ndarray:
    """``Σ w_k y_k / Σ w_k`` of chip outputs ``(n, *band, h, w)`` placed at ``offsets``.

    Pixels with zero total weight get ``fill_value`` (NaN when None).
    """
    acc = OverlapAdd(offsets, tuple(weights.shape[-2:]), shape)
    pairs = np.asarray(offsets).reshape(-1, 2).tolist()
    acc.add_all([(r, c, np.asarray(outputs[k]), weights[k]) for k, (r, c) in enumerate(pairs)])
    return acc.result(fill_value)
