"""Value QC checks on carriers: ranges, NaN, valid fractions; eager on NumPy, inside jit on JAX.

The array tier of the three QC tiers (``pipekit.qc``: carrier-agnostic; here: values;
``geotoolz.qa``: georeferencing). Each check returns its input unchanged and applies the
shared ``on_error`` policy of :mod:`pipekit.qc` (``"raise"``, ``"warn"``,
``"log_and_continue"``); nodata (NaN, a pixel whose every band is the fill value) is left
out through the carrier contract. On concrete input a failure is a ``QCError`` /
``QCWarning`` / log record carrying ``.operator``, ``.check`` and ``.observed``; under
``jax.jit`` / ``vmap`` ``"raise"`` is an ``equinox.error_if`` in the compiled program and
``"warn"`` / ``"log_and_continue"`` a ``jax.debug.callback`` on every run (see
:class:`AbstractValueAssertion`).

Example:
    >>> import numpy as np
    >>> import pipekit as pk
    >>> import pipekit_array as pa
    >>> qc = pk.Sequential([pa.qc.AssertValidFraction(min_valid=0.5),
    ...                     pa.qc.AssertValueRange(min_val=0, max_val=10_000)])
    >>> qc(np.full((2, 3, 3), 7, np.uint16)).shape
    (2, 3, 3)
"""

from ._base import AbstractValueAssertion as AbstractValueAssertion
from ._checks import (
    AssertNoNaN as AssertNoNaN,
    AssertValidFraction as AssertValidFraction,
    AssertValueRange as AssertValueRange,
)

__all__ = ["AbstractValueAssertion", "AssertNoNaN", "AssertValidFraction", "AssertValueRange"]
