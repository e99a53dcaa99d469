"""Cloud masking operators: masks from QA bit flags and filling under a mask."""

from ._qa import ApplyMask as ApplyMask
from ._qa import MaskClouds as MaskClouds
from ._qa import MaskFromQABits as MaskFromQABits

__all__ = ["ApplyMask", "MaskClouds", "MaskFromQABits"]
