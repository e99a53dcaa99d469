"""geocatalog: the raster carrier and raster I/O of the pipeline framework.

It owns :class:`GeoTensor` (a raster array plus georeferencing that stays float64-exact
and recompile-free under ``jax.jit`` / ``vmap``), its lattice, stacking for batches,
and rasterio-based I/O (:func:`read_raster`, atomic Cloud-Optimized GeoTIFF writing with
:func:`save_cog`). Later: ``GeoSlice`` units of work and the GeoParquet catalog.
Synthetic scenes for tests live in :mod:`geocatalog.testing`.

The core imports no pipeline framework (pipekit) and no operator package (geotoolz);
glue to them lives in ``geocatalog.integrations``.
"""

from . import testing as testing
from ._errors import BandCountError as BandCountError
from ._errors import BatchedGeoTensorError as BatchedGeoTensorError
from ._errors import CRSError as CRSError
from ._errors import FillValueError as FillValueError
from ._errors import GeoError as GeoError
from ._errors import GeoIndexError as GeoIndexError
from ._errors import GeoTypeError as GeoTypeError
from ._errors import GeoValueError as GeoValueError
from ._errors import GridShapeError as GridShapeError
from ._errors import LatticeMismatchError as LatticeMismatchError
from ._errors import MissingCRSError as MissingCRSError
from ._errors import OffsetOverflowError as OffsetOverflowError
from ._errors import TracedGeoreferenceError as TracedGeoreferenceError
from ._errors import TransformError as TransformError
from ._geotensor import GeoTensor as GeoTensor
from ._io import read_raster as read_raster
from ._io import save_cog as save_cog
from ._lattice import Lattice as Lattice
from ._lattice import canonical_crs as canonical_crs
from ._stack import stack as stack
from ._stack import unstack as unstack
from ._types import Compression as Compression
from ._types import OverviewResampling as OverviewResampling

__all__ = [
    # carrier
    "GeoTensor",
    "Lattice",
    "canonical_crs",
    "stack",
    "unstack",
    # raster I/O
    "read_raster",
    "save_cog",
    # option vocabularies
    "Compression",
    "OverviewResampling",
    # errors
    "BandCountError",
    "BatchedGeoTensorError",
    "CRSError",
    "FillValueError",
    "GeoError",
    "GeoIndexError",
    "GeoTypeError",
    "GeoValueError",
    "GridShapeError",
    "LatticeMismatchError",
    "MissingCRSError",
    "OffsetOverflowError",
    "TracedGeoreferenceError",
    "TransformError",
    # test data
    "testing",
]
