"""Error types of geocatalog: one root, each class also a builtin so ``except ValueError`` works.

Messages follow one pattern: the invariant that was broken, the values received,
and what to do instead.
"""

from __future__ import annotations

__all__ = [
    "BandCountError",
    "BandNamesError",
    "BatchedGeoTensorError",
    "CRSError",
    "CatalogError",
    "FillValueError",
    "GeoError",
    "GeoIndexError",
    "GeoSliceError",
    "GeoTypeError",
    "GeoValueError",
    "GridShapeError",
    "LatticeMismatchError",
    "MissingCRSError",
    "MissingTransformError",
    "NoOverlapError",
    "OffsetOverflowError",
    "RasterReadError",
    "SliceHashMismatchError",
    "TracedGeoreferenceError",
    "TransformError",
]


class GeoError(Exception):
    """Root of every error geocatalog raises on purpose."""


class GeoTypeError(GeoError, TypeError):
    """An argument of the wrong type (e.g. a transform where a Lattice is expected)."""


class GeoValueError(GeoError, ValueError):
    """An argument with an invalid value: an unknown option, a window outside the raster, ..."""


class LatticeMismatchError(GeoError, ValueError):
    """Two GeoTensors were combined but do not share one pixel lattice (or fill value)."""


class GridShapeError(GeoError, ValueError):
    """An array's shape does not fit the grid it is attached to (e.g. ``replace`` changed H, W)."""


class GeoIndexError(GeoError, IndexError):
    """An index on a GeoTensor would break its georeferencing (step != 1, int on a spatial axis)."""


class TracedGeoreferenceError(GeoError, TypeError):
    """A host-side georeference (``.transform``, ``.bounds``) was asked for a traced offset."""


class BatchedGeoTensorError(GeoError, ValueError):
    """A per-scene operation (``.transform``, writing a file) was asked of a stacked GeoTensor."""


class OffsetOverflowError(GeoError, OverflowError):
    """A pixel offset does not fit the int32 offset leaf (``|offset| >= 2**31``)."""


class TransformError(GeoError, ValueError):
    """An affine transform is malformed: wrong length, non-finite or not invertible."""


class CRSError(GeoError, ValueError):
    """A coordinate reference system that pyproj cannot interpret."""


class MissingCRSError(GeoError, ValueError):
    """A raster file without a coordinate reference system, which a GeoTensor needs."""


class MissingTransformError(GeoError, ValueError):
    """A raster file without a geotransform (GDAL would silently use the identity matrix)."""


class NoOverlapError(GeoValueError):
    """Requested bounds that do not overlap the raster: nothing to read but fill."""


class RasterReadError(GeoError, OSError):
    """A raster file that GDAL cannot open or read (corrupt, truncated); names file and cause."""


class FillValueError(GeoError, ValueError):
    """A fill value (nodata) that is not a real number or does not fit the array's dtype."""


class BandCountError(GeoError, ValueError):
    """An image has a band count that an output format cannot represent (e.g. PNG)."""


class BandNamesError(GeoValueError):
    """Band names that do not describe the band axis: not unique strings, or the wrong count."""


class GeoSliceError(GeoError, ValueError):
    """A GeoSlice (or its dict form) that does not describe one read: no href, bad bounds, ..."""


class SliceHashMismatchError(GeoSliceError):
    """A GeoSlice dict whose ``"hash"`` does not match its content (edited or corrupted)."""


class CatalogError(GeoError, ValueError):
    """A catalog source (raster, STAC item) or catalog file that cannot be indexed or read."""
