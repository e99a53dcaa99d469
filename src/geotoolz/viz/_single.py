"""The one-band input of ApplyColormap and Hillshade: ``(..., y, x)`` or ``(..., 1, y, x)``."""

from __future__ import annotations

from typing import Any

from .._carrier import values_of
from .._errors import GeotoolzValueError

__all__ = ["single_band"]


def single_band(owner: str, x: Any, values: Any = None) -> bool:
    """Whether ``x``'s values hold a band axis of size 1 at -3 (``False``: ``(..., y, x)``).

    A stacked GeoTensor's batch axes (``batch_shape``) come first and are not bands; a bare
    array of 3 or more axes is read as ``(..., band, y, x)``. Raises a teaching error when
    there are several bands.
    """
    values = values_of(x) if values is None else values
    n_batch = len(tuple(getattr(x, "batch_shape", ()) or ()))
    spatial = values.ndim - n_batch
    if spatial == 2:
        return False
    if spatial >= 3 and values.shape[-3] == 1:
        return True
    raise GeotoolzValueError(
        f"{owner} takes one band, (y, x) or (1, y, x); got values of shape "
        f"{tuple(values.shape)}. Select the band first, e.g. gt[3:4] (band 3, kept as a band "
        f"axis) or an index such as geotoolz.indices.NDVI, which returns one band."
    )
