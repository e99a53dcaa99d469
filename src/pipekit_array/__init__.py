"""pipekit_array: carrier-neutral array kernels and operators (NumPy eagerly, JAX under jit).

The one carrier contract (public names below): a bare array, anything with array
``.values``, ``.fill_value`` and ``.replace(values=..., fill_value=...)`` (a
``geocatalog.GeoTensor``, for one) and an ``xarray.DataArray`` all give their pixels
(:func:`values_of`), their nodata (:func:`nodata_mask`: NaN, or a pixel whose every band
equals the fill value) and take results back (:func:`rewrap`). Nodata is never data:
float operators compute on :func:`float_values` (nodata as NaN), integer ones write the
fill value at nodata (:func:`fill_nodata`). A stacked carrier also exposes
``batch_shape``. Today:

- :class:`ModelOp`: apply a per-sample model (equinox, JAX, NumPy or array-API callable)
  to a carrier, mapped (``jax.vmap`` / chunked ``jax.lax.map``) over a stacked one;
- :class:`MeanScalar` and :func:`nanmean_over`: NaN-ignoring mean to one scalar per sample;
- :func:`nanpercentile`: NumPy's NaN-aware percentile ("linear" method) with an exact,
  sort-free selection under jit;
- :mod:`pipekit_array.metrics` (RMSE, MAE, Bias, Correlation, R2) and
  :mod:`pipekit_array.qc` (AssertValueRange, AssertNoNaN, AssertValidFraction), written
  against the array API so one operator runs on NumPy and JAX.
"""

from . import metrics as metrics, qc as qc
from ._carrier import (
    Carrier as Carrier,
    band_names_of as band_names_of,
    fill_nodata as fill_nodata,
    fill_pixels as fill_pixels,
    fill_value_of as fill_value_of,
    fits as fits,
    float_dtype as float_dtype,
    float_values as float_values,
    is_carrier as is_carrier,
    namespace as namespace,
    nan_of as nan_of,
    nodata_mask as nodata_mask,
    rewrap as rewrap,
    values_of as values_of,
)
from ._model import ModelOp as ModelOp, ModelTracingError as ModelTracingError
from ._percentile import nanpercentile as nanpercentile
from ._reduce import MeanScalar as MeanScalar, nanmean_over as nanmean_over
from ._types import PercentileMethod as PercentileMethod

__all__ = [
    # the carrier contract
    "Carrier",
    "band_names_of",
    "fill_nodata",
    "fill_pixels",
    "fill_value_of",
    "fits",
    "float_dtype",
    "float_values",
    "is_carrier",
    "namespace",
    "nan_of",
    "nodata_mask",
    "rewrap",
    "values_of",
    # operators
    "metrics",
    "qc",
    "MeanScalar",
    "ModelOp",
    # kernels
    "nanmean_over",
    "nanpercentile",
    # errors and option vocabularies
    "ModelTracingError",
    "PercentileMethod",
]
