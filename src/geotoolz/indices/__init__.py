"""Spectral indices."""

from ._normalized import NDVI as NDVI
from ._normalized import NormalizedDifference as NormalizedDifference

__all__ = ["NDVI", "NormalizedDifference"]
