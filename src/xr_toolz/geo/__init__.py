"""Subsetting by labels, region masks and area weights on lat/lon grids (issue 16).

Selections are computed on the host from the (static) coordinates and applied with
``isel`` or a constant mask, so every Operator traces under ``jax.jit``; the weighted mean
runs through the pure kernel :func:`weighted_mean` (NumPy or JAX).
"""

from ._area import (
    EARTH_RADIUS as EARTH_RADIUS,
    AreaWeights as AreaWeights,
    WeightedMean as WeightedMean,
    cell_areas as cell_areas,
)
from ._errors import GeoTypeError as GeoTypeError, GeoValueError as GeoValueError
from ._kernels import mask_outside as mask_outside, weighted_mean as weighted_mean
from ._region import ApplyRegionMask as ApplyRegionMask, region_mask as region_mask
from ._subset import SubsetBBox as SubsetBBox, SubsetTime as SubsetTime

__all__ = [
    "EARTH_RADIUS",
    "ApplyRegionMask",
    "AreaWeights",
    "GeoTypeError",
    "GeoValueError",
    "SubsetBBox",
    "SubsetTime",
    "WeightedMean",
    "cell_areas",
    "mask_outside",
    "region_mask",
    "weighted_mean",
]
