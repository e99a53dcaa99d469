"""Samplers: where chips start, as one integer array ``(n_chips, 2)`` of ``(row, col)``."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._config import piece
from ._errors import PatchConfigError, PatchShapeError
from ._geometry import SpatialRectangular, pair

__all__ = ["SpatialExplicit", "SpatialRandom", "SpatialRegularStride"]


def _starts(n: int, size: int, stride: int, boundary: str, axis: str) -> list[int]:
    """Chip starts along one axis of length ``n``."""
    if boundary == "drop":
        return list(range(0, n - size + 1, stride)) if n >= size else []
    if boundary == "pad":
        starts = [0]
        while starts[-1] + size < n:
            starts.append(starts[-1] + stride)
        return starts
    if n < size:
        raise PatchShapeError(
            f"boundary='shift' needs the field to be at least one chip long, but its {axis} "
            f"size is {n} < chip size {size}. Use boundary='pad' for fields smaller than a chip."
        )
    starts = list(range(0, n - size + 1, stride))
    if starts[-1] + size < n:
        starts.append(n - size)  # flush with the border
    return starts


@piece
@dataclasses.dataclass(frozen=True)
class SpatialRegularStride:
    """A regular grid of chips, ``stride = (rows, cols)`` pixels apart, from the top-left.

    With ``size - stride`` pixels of overlap. Chips come in row-major order.

    Example:
        >>> geometry = SpatialRectangular(4)
        >>> SpatialRegularStride(3).sample((10, 5), geometry).tolist()
        [[0, 0], [0, 1], [3, 0], [3, 1], [6, 0], [6, 1]]
    """

    stride: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stride", pair("SpatialRegularStride", "stride", self.stride))

    def sample(self, shape: tuple[int, int], geometry: SpatialRectangular) -> np.ndarray:
        """Chip origins ``(n, 2)`` (int64) on a field of ``shape = (rows, cols)``."""
        (h, w), (sh, sw) = geometry.size, self.stride
        rows = _starts(shape[0], h, sh, geometry.boundary, "row")
        cols = _starts(shape[1], w, sw, geometry.boundary, "column")
        grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)
        return grid.reshape(-1, 2).astype(np.int64)


@piece
@dataclasses.dataclass(frozen=True)
class SpatialRandom:
    """``n`` chips at uniformly random positions inside the field, reproducible by ``seed``.

    Rows and columns are drawn with ``numpy.random.default_rng(seed).integers`` (rows
    first), each uniform over the starts where the chip fits; a field smaller than a chip
    along an axis (``boundary="pad"`` only) starts every chip at 0 there.
    """

    n: int
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PatchConfigError(
                    f"SpatialRandom({name}) must be a non-negative int; received {value!r}"
                )

    def sample(self, shape: tuple[int, int], geometry: SpatialRectangular) -> np.ndarray:
        """Chip origins ``(n, 2)`` (int64) on a field of ``shape = (rows, cols)``."""
        rng = np.random.default_rng(self.seed)
        out = np.zeros((self.n, 2), dtype=np.int64)
        for axis, (length, size) in enumerate(zip(shape, geometry.size, strict=True)):
            if length < size and geometry.boundary != "pad":
                raise PatchShapeError(
                    f"SpatialRandom: the field is {length} pixels along axis {axis}, less than "
                    f"the chip size {size}; use boundary='pad' or a smaller chip."
                )
            out[:, axis] = rng.integers(0, max(length - size, 0) + 1, self.n)
        return out


@piece
@dataclasses.dataclass(frozen=True)
class SpatialExplicit:
    """Chips at the given ``offsets``: ``((row, col), ...)`` of their top-left pixels.

    With ``boundary="shift"`` every chip must lie inside the field; ``"drop"`` skips those
    that do not; ``"pad"`` accepts any chip that overlaps the field.
    """

    offsets: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        try:
            arr = np.asarray(self.offsets)
            ok = arr.ndim == 2 and arr.shape[1] == 2 and np.issubdtype(arr.dtype, np.integer)
        except (TypeError, ValueError):
            ok = False
        if not ok and not (isinstance(self.offsets, tuple | list) and len(self.offsets) == 0):
            raise PatchConfigError(
                "SpatialExplicit(offsets) must be a sequence of (row, col) int pairs; "
                f"received {self.offsets!r}"
            )
        pairs = tuple((int(r), int(c)) for r, c in np.asarray(self.offsets).reshape(-1, 2))
        object.__setattr__(self, "offsets", pairs)

    def sample(self, shape: tuple[int, int], geometry: SpatialRectangular) -> np.ndarray:
        """The given origins ``(n, 2)`` (int64), checked against the field and boundary."""
        arr = np.asarray(self.offsets, dtype=np.int64).reshape(-1, 2)
        size = np.asarray(geometry.size)
        inside = np.all((arr >= 0) & (arr + size <= np.asarray(shape)), axis=1)
        if geometry.boundary == "drop":
            return arr[inside]
        if geometry.boundary == "shift" and not inside.all():
            bad = arr[~inside][0].tolist()
            raise PatchShapeError(
                f"SpatialExplicit: chip at {bad} of size {geometry.size} does not lie inside "
                f"the field of shape {tuple(shape)}; use boundary='pad' or 'drop'."
            )
        touches = np.all((arr < np.asarray(shape)) & (arr + size > 0), axis=1)
        if not touches.all():
            raise PatchShapeError(
                f"SpatialExplicit: chip at {arr[~touches][0].tolist()} does not overlap the "
                f"field of shape {tuple(shape)}"
            )
        return arr
