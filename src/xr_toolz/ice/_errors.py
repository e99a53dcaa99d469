"""Error classes of ``xr_toolz.ice``: each is also the builtin it refines.

Kept in the subpackage (as ``xr_toolz.calc``) so the sea-ice operators depend on no module
another subpackage is writing; both derive from :class:`pipekit.PipekitError`.
"""

from __future__ import annotations

import pipekit as pk

__all__ = ["IceTypeError", "IceValueError"]


class IceValueError(pk.PipekitError, ValueError):
    """An input the sea-ice operators cannot use (CRS, coordinates, units, dims)."""


class IceTypeError(pk.PipekitError, TypeError):
    """An input of the wrong kind (a Dataset or bare array where a DataArray is needed)."""
