"""geopatcher: cut fields into chips and stitch results back, exactly to the border.

``SpatialPatcher`` = geometry × sampler × window × aggregation over a ``Field``
(:class:`RasterField` over a GeoTensor or raster file, :class:`XarrayField` over a
DataArray). Windows are boundary-aware, so overlap-add of the identity returns the input
everywhere, borders included. The core imports neither pipekit nor JAX;
``geopatcher.integrations.pipekit`` wraps it as Operators (GridSampler, ApplyToChips,
Stitch) whose JAX path gathers, vmaps and stitches chips in one compiled program.
"""

from ._aggregation import SpatialByIndex as SpatialByIndex, SpatialOverlapAdd as SpatialOverlapAdd
from ._config import from_config as from_config
from ._errors import (
    PatchConfigError as PatchConfigError,
    PatchError as PatchError,
    PatchShapeError as PatchShapeError,
)
from ._field import Domain as Domain, Field as Field, RasterField as RasterField
from ._geometry import SpatialRectangular as SpatialRectangular
from ._patcher import (
    ChipResult as ChipResult,
    OverlapAdd as OverlapAdd,
    SpatialPatcher as SpatialPatcher,
    overlap_add as overlap_add,
)
from ._samplers import (
    SpatialExplicit as SpatialExplicit,
    SpatialRandom as SpatialRandom,
    SpatialRegularStride as SpatialRegularStride,
)
from ._types import Boundary as Boundary
from ._windows import (
    SpatialBoxcar as SpatialBoxcar,
    SpatialGaussian as SpatialGaussian,
    SpatialHann as SpatialHann,
    SpatialTukey as SpatialTukey,
    chip_weights as chip_weights,
)
from ._xarray import XarrayField as XarrayField

__all__ = [
    # patcher
    "SpatialPatcher",
    "ChipResult",
    "OverlapAdd",
    "overlap_add",
    "from_config",
    # fields
    "Domain",
    "Field",
    "RasterField",
    "XarrayField",
    # geometry, samplers, windows, aggregations
    "Boundary",
    "SpatialRectangular",
    "SpatialRegularStride",
    "SpatialRandom",
    "SpatialExplicit",
    "SpatialBoxcar",
    "SpatialHann",
    "SpatialGaussian",
    "SpatialTukey",
    "chip_weights",
    "SpatialOverlapAdd",
    "SpatialByIndex",
    # errors
    "PatchError",
    "PatchConfigError",
    "PatchShapeError",
]
