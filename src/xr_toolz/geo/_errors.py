"""Error classes of ``xr_toolz.geo``: each is also the builtin it refines.

They live in the subpackage (as ``xr_toolz.calc``'s do) so that the geo operators depend on
no module other subpackages are writing; both derive from :class:`pipekit.PipekitError`, so
``except pk.PipekitError`` catches them.
"""

from __future__ import annotations

import pipekit as pk

__all__ = ["GeoTypeError", "GeoValueError"]


class GeoValueError(pk.PipekitError, ValueError):
    """An input a geo operator cannot select on (missing or unsorted coordinates, empty box)."""


class GeoTypeError(pk.PipekitError, TypeError):
    """An input of the wrong kind (not a DataArray or Dataset)."""
