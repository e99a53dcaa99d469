"""Radiometric operators: dtype conversion and percentile clipping."""

from ._radiometry import PercentileClip as PercentileClip
from ._radiometry import ToFloat32 as ToFloat32

__all__ = ["PercentileClip", "ToFloat32"]
