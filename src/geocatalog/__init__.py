"""geocatalog: the raster carrier and raster I/O of the pipeline framework.

It owns :class:`GeoTensor` (a raster array plus georeferencing that stays float64-exact
and recompile-free under ``jax.jit`` / ``vmap``), its lattice, stacking for batches,
and rasterio-based I/O (:func:`read_raster`, atomic Cloud-Optimized GeoTIFF writing with
:func:`save_cog`; windowed, reprojected reads with :func:`load_raster`), and
:class:`GeoSlice`, the JSON-safe, hashable unit of work. Synthetic scenes for tests live
in :mod:`geocatalog.testing`.

Catalogs are GeoParquet 1.1 files (:func:`build_catalog`, :func:`open_catalog`, queries by
bbox in any CRS and time, slices as :class:`GeoSlice`).

The core imports no pipeline framework (pipekit) and no operator package (geotoolz);
glue to them lives in ``geocatalog.integrations``.
"""

from . import testing as testing
from ._catalog import Catalog as Catalog, CatalogItem as CatalogItem, open_catalog as open_catalog
from ._catalog_build import append_items as append_items, build_catalog as build_catalog
from ._errors import (
    BandCountError as BandCountError,
    BandNamesError as BandNamesError,
    BatchedGeoTensorError as BatchedGeoTensorError,
    CatalogError as CatalogError,
    CRSError as CRSError,
    FillValueError as FillValueError,
    GeoError as GeoError,
    GeoIndexError as GeoIndexError,
    GeoSliceError as GeoSliceError,
    GeoTypeError as GeoTypeError,
    GeoValueError as GeoValueError,
    GridShapeError as GridShapeError,
    LatticeMismatchError as LatticeMismatchError,
    MissingCRSError as MissingCRSError,
    MissingTransformError as MissingTransformError,
    NoOverlapError as NoOverlapError,
    OffsetOverflowError as OffsetOverflowError,
    RasterReadError as RasterReadError,
    SliceHashMismatchError as SliceHashMismatchError,
    TracedGeoreferenceError as TracedGeoreferenceError,
    TransformError as TransformError,
)
from ._geotensor import GeoTensor as GeoTensor
from ._io import (
    fill_from_nodata as fill_from_nodata,
    read_raster as read_raster,
    save_cog as save_cog,
)
from ._lattice import (
    ORIGIN_QUANTA as ORIGIN_QUANTA,
    Lattice as Lattice,
    canonical_crs as canonical_crs,
)
from ._load import (
    gdal_path as gdal_path,
    load_raster as load_raster,
    read_from_url as read_from_url,
    to_cog_bytes as to_cog_bytes,
    to_cog_bytes_b64 as to_cog_bytes_b64,
)
from ._slice import GeoSlice as GeoSlice
from ._stack import stack as stack, unstack as unstack
from ._storage import open_raster as open_raster
from ._types import (
    RESAMPLINGS as RESAMPLINGS,
    Compression as Compression,
    OverviewResampling as OverviewResampling,
    Resampling as Resampling,
)

__all__ = [
    # carrier
    "GeoTensor",
    "Lattice",
    "ORIGIN_QUANTA",
    "canonical_crs",
    "stack",
    "unstack",
    # raster I/O
    "read_raster",
    "save_cog",
    "open_raster",
    "fill_from_nodata",
    "load_raster",
    "read_from_url",
    "gdal_path",
    "to_cog_bytes",
    "to_cog_bytes_b64",
    "GeoSlice",
    # catalogs (GeoParquet 1.1)
    "Catalog",
    "CatalogItem",
    "append_items",
    "build_catalog",
    "open_catalog",
    # option vocabularies
    "Compression",
    "OverviewResampling",
    "Resampling",
    "RESAMPLINGS",
    # errors
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
    # test data
    "testing",
]
