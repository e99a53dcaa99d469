"""Chip geometry: the size of a chip and what happens at the field border."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._config import piece
from ._errors import PatchConfigError
from ._types import BOUNDARIES, Boundary

__all__ = ["SpatialRectangular", "pair"]


def pair(owner: str, name: str, value: Any) -> tuple[int, int]:
    """``value`` as a ``(rows, cols)`` pair of positive ints (an int means both)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        value = (value, value)
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise PatchConfigError(
            f"{owner}({name}) must be a positive int or a (rows, cols) pair of positive ints; "
            f"received {value!r}"
        )
    return (int(value[0]), int(value[1]))


@piece
@dataclasses.dataclass(frozen=True)
class SpatialRectangular:
    """Rectangular chips of ``size = (rows, cols)`` pixels.

    Arguments:
        size: chip size in pixels, ``(rows, cols)`` or one int for square chips.
        boundary: ``"shift"`` (default): the last chip of each row/column is moved back so it
            ends flush with the border, so every chip lies inside the field and every pixel is
            covered; ``"pad"``: chips may run over the border, reading the field's fill value
            there, and stitching crops back to the field; ``"drop"``: chips that do not fit
            are skipped (the border strip they would cover stays uncovered).

    Example:
        >>> SpatialRectangular(256).size
        (256, 256)
    """

    size: tuple[int, int]
    boundary: Boundary = "shift"

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", pair("SpatialRectangular", "size", self.size))
        if self.boundary not in BOUNDARIES:
            raise PatchConfigError(
                f"SpatialRectangular(boundary) must be one of {BOUNDARIES}; received "
                f"{self.boundary!r}"
            )
