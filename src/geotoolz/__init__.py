"""geotoolz: pipekit operators on GeoTensors.

Sub-packages group operators by domain: :mod:`geotoolz.cloud` (QA-bit masks),
:mod:`geotoolz.radiometry` (dtype, percentile clipping), :mod:`geotoolz.indices`
(normalised differences), :mod:`geotoolz.augment` (random flips and quarter turns),
:mod:`geotoolz.sar` (decibels, Lee speckle filter), :mod:`geotoolz.fusion` (aligning
sensors on different grids and stacking their bands), :mod:`geotoolz.correction`
(calibration, dark-object subtraction, COST surface reflectance), :mod:`geotoolz.io`
(reading rasters from URIs, writing COGs), :mod:`geotoolz.methane` (CH4
absorption, matched filter, plume masking, IME source rates, Sentinel-2 multi-band
retrievals), :mod:`geotoolz.qa` (QC checks of CRS, pixel size and band names),
:mod:`geotoolz.viz` (true/false-colour composites, 8-bit stretches, colormaps, hillshades).
Every operator also accepts a bare array of shape ``(..., band, y, x)`` and runs
eagerly on NumPy or traced under JAX.

``GeoTensor`` is re-exported from geocatalog and ``Tap``/``Sequential`` from pipekit, so
``gz.Tap is pk.Tap``.

Example:
    >>> import pipekit as pk
    >>> import geotoolz as gz
    >>> from geocatalog.testing import synthetic_scene
    >>> pipe = pk.Sequential([
    ...     gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
    ...     gz.radiometry.PercentileClip(p_min=2, p_max=98),
    ...     gz.indices.NDVI(red_idx=2, nir_idx=3),
    ... ])
    >>> pipe(synthetic_scene(64, 64)).shape
    (64, 64)
"""

from geocatalog import GeoTensor as GeoTensor
from pipekit import Sequential as Sequential, Tap as Tap

from . import (
    augment as augment,
    catalog_ops as catalog_ops,
    cloud as cloud,
    correction as correction,
    fusion as fusion,
    indices as indices,
    io as io,
    mask as mask,
    methane as methane,
    normalize as normalize,
    patch_ops as patch_ops,
    qa as qa,
    radiometry as radiometry,
    sar as sar,
    viz as viz,
)
from ._errors import (
    BandIndexError as BandIndexError,
    CRSMismatchError as CRSMismatchError,
    GeotoolzError as GeotoolzError,
    GeotoolzTypeError as GeotoolzTypeError,
    GeotoolzValueError as GeotoolzValueError,
    InputsDoNotOverlapError as InputsDoNotOverlapError,
    StackedInputError as StackedInputError,
)

__all__ = [
    # carriers and re-exports
    "GeoTensor",
    "Sequential",
    "Tap",
    # errors
    "BandIndexError",
    "CRSMismatchError",
    "GeotoolzError",
    "GeotoolzTypeError",
    "GeotoolzValueError",
    "InputsDoNotOverlapError",
    "StackedInputError",
    # operator groups and drivers
    "augment",
    "catalog_ops",
    "cloud",
    "correction",
    "fusion",
    "indices",
    "io",
    "mask",
    "methane",
    "normalize",
    "patch_ops",
    "qa",
    "radiometry",
    "sar",
    "viz",
]
