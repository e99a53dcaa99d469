"""Carrier-agnostic QC checks as operators: put assertions inside a pipeline.

Each check returns its input unchanged (the same object) and applies one shared
``on_error`` policy (:data:`pipekit.qc.OnError`, the vocabulary pipekit uses everywhere)
when the input fails:

- ``"raise"`` (default): raise :class:`QCError` (a ``PipekitError`` and ``ValueError``)
  carrying ``.operator``, ``.check`` and ``.observed``;
- ``"warn"``: emit a :class:`QCWarning` with :func:`warnings.warn`;
- ``"log_and_continue"``: log at WARNING on the ``"pipekit.qc"`` logger.

The old spellings raise errors that name the new ones: ``on_fail=`` (a ``TypeError``
naming ``on_error=``, also as a YAML key) and ``"log"`` (a ``ConfigError`` naming
``"log_and_continue"``).

The checks here are *static*: shapes, dtypes and attributes are known while tracing, so
under ``jax.jit`` / ``eqx.filter_jit`` they run once, at trace time ("raise" raises at
trace time; "warn" and "log_and_continue" fire once per compilation, not per call) and add nothing
to the compiled program.

Note:
    *Value* checks (ranges, NaNs, valid fractions: ``pipekit_array.qc``) cannot raise from
    Python on traced values, whose contents are unknown at trace time. They use
    ``equinox.error_if`` for ``"raise"`` (a runtime error from the compiled program) and
    ``jax.debug.callback`` for ``"warn"`` / ``"log_and_continue"`` (a host call with
    concrete values on every run), and plain Python on eager NumPy input.

Example:
    >>> import numpy as np
    >>> import pipekit as pk
    >>> from pipekit import qc
    >>> check = pk.Sequential([qc.AssertShape((-1, -1, -1)), qc.AssertDType("floating")])
    >>> check(np.zeros((2, 3, 4))).shape
    (2, 3, 4)
"""

from .._types import OnError as OnError
from ._checks import (
    DTYPE_KINDS as DTYPE_KINDS,
    AssertCallable as AssertCallable,
    AssertDType as AssertDType,
    AssertHasAttribute as AssertHasAttribute,
    AssertShape as AssertShape,
)
from ._policy import (
    QC_ON_ERROR as QC_ON_ERROR,
    AbstractAssertion as AbstractAssertion,
    QCError as QCError,
    QCWarning as QCWarning,
    check_qc_on_error as check_qc_on_error,
)

__all__ = [
    # checks
    "AssertCallable",
    "AssertDType",
    "AssertHasAttribute",
    "AssertShape",
    "DTYPE_KINDS",
    # base and policy
    "AbstractAssertion",
    "OnError",
    "QC_ON_ERROR",
    "QCError",
    "QCWarning",
    "check_qc_on_error",
]
