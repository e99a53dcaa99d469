"""The geotoolz error root: every error a geotoolz operator raises on purpose derives from it.

Each class is also the builtin it refines (``except ValueError`` keeps working) and a
``geocatalog.GeoError`` (geotoolz errors are about GeoTensors: one ``except GeoError``
catches a failed read and a failed alignment alike). Invalid constructor arguments raise
``pipekit.ConfigError``, the family's one configuration error.
"""

from __future__ import annotations

from geocatalog import BatchedGeoTensorError, GeoError, GeoIndexError, GeoTypeError, GeoValueError

__all__ = [
    "BandIndexError",
    "CRSMismatchError",
    "GeotoolzError",
    "GeotoolzTypeError",
    "GeotoolzValueError",
    "InputsDoNotOverlapError",
    "StackedInputError",
]


class GeotoolzError(GeoError):
    """Root of every error geotoolz raises on purpose."""


class GeotoolzValueError(GeotoolzError, GeoValueError):
    """An input's values, shape or grid do not fit the operator."""


class GeotoolzTypeError(GeotoolzError, GeoTypeError):
    """An input is not of a type the operator takes (a carrier, a key, a GeoTensor)."""


class BandIndexError(GeotoolzError, GeoIndexError):
    """A band index (``red_idx``, ``qa_band``, ...) addresses no band of the input."""


class StackedInputError(GeotoolzError, BatchedGeoTensorError):
    """An operator of one scene received a stacked GeoTensor."""


class CRSMismatchError(GeotoolzValueError):
    """GeoTensors to be combined pixel by pixel are in CRSs with no coordinate operation."""


class InputsDoNotOverlapError(GeotoolzValueError):
    """Inputs to be aligned onto one grid cover no common ground."""
