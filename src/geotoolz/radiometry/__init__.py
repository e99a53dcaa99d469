"""Radiometric operators: dtype conversion and percentile clipping."""

from ._radiometry import PercentileClip as PercentileClip, ToFloat32 as ToFloat32

__all__ = ["PercentileClip", "ToFloat32"]
