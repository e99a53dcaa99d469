"""Spectral indices."""

from ._normalized import NDVI as NDVI, NormalizedDifference as NormalizedDifference

__all__ = ["NDVI", "NormalizedDifference"]
