"""pipekit_array: carrier-neutral array kernels and operators (NumPy eagerly, JAX under jit).

Today: :func:`nanpercentile`, NumPy's NaN-aware percentile ("linear" method) with an exact,
sort-free selection under jit. What it will own (see ``ARCHITECTURE.md``): ModelOp,
reductions (MeanScalar, ...), array-valued QC (AssertValueRange, AssertNoNaN,
AssertValidFraction) and metrics (RMSE, MAE, Bias, ...), all written against the array API
so one operator runs on NumPy and JAX.
"""

from ._percentile import nanpercentile as nanpercentile
from ._types import PercentileMethod as PercentileMethod

__all__ = ["PercentileMethod", "nanpercentile"]
