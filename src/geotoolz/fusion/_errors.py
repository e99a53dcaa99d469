"""Errors of the fusion operators (each also a builtin, so ``except ValueError`` works)."""

from __future__ import annotations

from geocatalog import GeoError

__all__ = ["CRSMismatchError"]


class CRSMismatchError(GeoError, ValueError):
    """GeoTensors to be combined pixel by pixel are in different coordinate reference systems."""
