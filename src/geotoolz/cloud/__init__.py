"""Cloud masking operators: masks from QA bit flags and filling under a mask."""

from ._qa import ApplyMask as ApplyMask, MaskClouds as MaskClouds, MaskFromQABits as MaskFromQABits

__all__ = ["ApplyMask", "MaskClouds", "MaskFromQABits"]
