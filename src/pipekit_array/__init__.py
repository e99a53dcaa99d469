"""pipekit_array: carrier-neutral array kernels and operators (NumPy eagerly, JAX under jit).

A carrier is anything with array ``.values`` and ``.replace(values=...)`` (a
``geocatalog.GeoTensor``, for one); a stacked carrier also exposes ``batch_shape``. Bare
arrays work too. Today:

- :class:`ModelOp`: apply a per-sample model (equinox, JAX, NumPy or array-API callable)
  to a carrier, mapped (``jax.vmap`` / chunked ``jax.lax.map``) over a stacked one;
- :class:`MeanScalar` and :func:`nanmean_over`: NaN-ignoring mean to one scalar per sample;
- :func:`nanpercentile`: NumPy's NaN-aware percentile ("linear" method) with an exact,
  sort-free selection under jit.

Still to come (see ``ARCHITECTURE.md``): array-valued QC (AssertValueRange, AssertNoNaN,
AssertValidFraction) and metrics (RMSE, MAE, Bias, ...), written against the array API so
one operator runs on NumPy and JAX.
"""

from ._model import ModelOp as ModelOp, ModelTracingError as ModelTracingError
from ._percentile import nanpercentile as nanpercentile
from ._reduce import MeanScalar as MeanScalar, nanmean_over as nanmean_over
from ._types import PercentileMethod as PercentileMethod

__all__ = [
    # operators
    "MeanScalar",
    "ModelOp",
    # kernels
    "nanmean_over",
    "nanpercentile",
    # errors and option vocabularies
    "ModelTracingError",
    "PercentileMethod",
]
