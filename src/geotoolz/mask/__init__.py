"""Mask morphology: erode/dilate/open/close, small objects and holes, combining and inverting.

Operators on boolean or 0/1 masks (``(..., y, x)``, per band), each equal to its
``scipy.ndimage`` counterpart on NumPy and the same under ``jax.jit`` / ``vmap``. Nodata
is background inside every footprint and component, and stays nodata in the output.
"""

from ._logic import CombineMasks as CombineMasks, InvertMask as InvertMask
from ._morphology import (
    AbstractMorphology as AbstractMorphology,
    Close as Close,
    Dilate as Dilate,
    Erode as Erode,
    Open as Open,
    binary_dilate as binary_dilate,
    binary_erode as binary_erode,
    structuring_element as structuring_element,
)
from ._small import RemoveSmallHoles as RemoveSmallHoles, RemoveSmallObjects as RemoveSmallObjects

__all__ = [
    # operators
    "AbstractMorphology",
    "Close",
    "CombineMasks",
    "Dilate",
    "Erode",
    "InvertMask",
    "Open",
    "RemoveSmallHoles",
    "RemoveSmallObjects",
    # kernels
    "binary_dilate",
    "binary_erode",
    "structuring_element",
]
