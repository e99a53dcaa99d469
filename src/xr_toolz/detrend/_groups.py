"""Host-side grouping of a time coordinate: labels, integer ids and the group count."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

__all__ = ["FREQS", "Freq", "time_groups"]

Freq = Literal["dayofyear", "month", "season"]
#: The groupings of a climatology, each a ``.dt`` accessor of xarray's time coordinate.
FREQS: tuple[str, ...] = ("dayofyear", "month", "season")


def time_groups(x: Any, dim: str, freq: str, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, ids)``: the sorted distinct ``time.<freq>`` labels and each step's index.

    The labels are those xarray's ``groupby("time.<freq>")`` gives (sorted distinct values
    present in the coordinate), so our climatology has the same group coordinate. Computed
    on the host from the coordinate: static metadata under jit.
    """
    if dim not in x.dims:
        raise ValueError(
            f"{owner}: dim={dim!r} is not a dimension of the input; its dims are "
            f"{tuple(x.dims)}. Pass dim= the name of the time dimension"
        )
    if dim not in x.coords:
        raise ValueError(
            f"{owner}: dimension {dim!r} has no coordinate; a climatology groups by the "
            f"dates of the time coordinate. Assign one, e.g. x.assign_coords({dim}=dates)"
        )
    coord = x[dim]
    try:
        labels = np.asarray(getattr(coord.dt, freq).values)
    except (AttributeError, TypeError) as err:
        raise TypeError(
            f"{owner}: the coordinate {dim!r} must hold dates (datetime64 or cftime) to "
            f"group by {freq!r}, got dtype {coord.dtype}"
        ) from err
    uniques, ids = np.unique(labels, return_inverse=True)
    return uniques, ids.reshape(-1).astype(np.int32)
