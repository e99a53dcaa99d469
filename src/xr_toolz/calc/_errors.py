"""Error classes of ``xr_toolz.calc``: each is also the builtin it refines.

They live in the subpackage (not a package-wide ``xr_toolz._errors``) so that the calculus
operators do not depend on a module other subpackages are writing at the same time; both
derive from :class:`pipekit.PipekitError`, so ``except pk.PipekitError`` catches them.
"""

from __future__ import annotations

import pipekit as pk

__all__ = ["CalcTypeError", "CalcValueError"]


class CalcValueError(pk.PipekitError, ValueError):
    """An input a calculus operator cannot differentiate (dims, coordinates, units)."""


class CalcTypeError(pk.PipekitError, TypeError):
    """An input of the wrong kind (a Dataset where a DataArray is needed, or the reverse)."""
