"""Error classes of ``xr_toolz.ocn``: each is also the builtin it refines.

Kept in the subpackage (as ``xr_toolz.calc`` does) so the ocean diagnostics do not depend
on a package-wide module; both derive from :class:`pipekit.PipekitError`.
"""

from __future__ import annotations

import pipekit as pk

__all__ = ["OcnTypeError", "OcnValueError"]


class OcnValueError(pk.PipekitError, ValueError):
    """An input an ocean diagnostic cannot use (missing variable, vertical coordinate, grid)."""


class OcnTypeError(pk.PipekitError, TypeError):
    """An input of the wrong kind (a Dataset where a DataArray is needed, or the reverse)."""
