"""pipekit_array: carrier-neutral array operators (NumPy eagerly, JAX under jit).

What it will own (see ``ARCHITECTURE.md``): ModelOp, reductions (MeanScalar, ...),
array-valued QC (AssertValueRange, AssertNoNaN, AssertValidFraction) and metrics (RMSE,
MAE, Bias, ...), all written against the array API so one operator runs on NumPy and JAX.
"""

__all__: list[str] = []
