"""Option vocabularies of geopatcher."""

from __future__ import annotations

from typing import Literal

__all__ = ["Boundary"]

#: What a chip does at the field border: ``"shift"`` moves the last chip of a row or column
#: back so it ends flush with the border; ``"pad"`` lets it run over, reading the fill value
#: there (cropped away when stitching); ``"drop"`` skips chips that do not fit.
Boundary = Literal["shift", "pad", "drop"]
BOUNDARIES: tuple[str, ...] = ("shift", "pad", "drop")
