"""Radiometric operators: dtype conversion, percentile clipping, filling nodata."""

from ._radiometry import (
    FillNodata as FillNodata,
    PercentileClip as PercentileClip,
    ToFloat32 as ToFloat32,
)

__all__ = ["FillNodata", "PercentileClip", "ToFloat32"]
