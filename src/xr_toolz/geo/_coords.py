"""Host-side label arithmetic: which indices a box, a time range or a polygon selects.

Coordinates are static under ``jax.jit`` (``xr_toolz._pytree``), so everything here is
plain NumPy on labels and runs once per trace; the data are then gathered with
``isel(...)`` on these integer arrays (or masked with a constant), which traces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._errors import GeoTypeError, GeoValueError

__all__ = ["check_carrier", "coord_1d", "lon_offsets", "select_lat", "select_lon"]

#: Degrees of slack on inclusive bounds: float rounding of ``(lon - lon_min) mod 360`` only.
_EPS = 1e-9


def check_carrier(owner: str, x: Any) -> xr.DataArray | xr.Dataset:
    """``x`` itself when it is a DataArray or Dataset, else a teaching GeoTypeError."""
    if isinstance(x, xr.DataArray | xr.Dataset):
        return x
    raise GeoTypeError(
        f"{owner} takes an xarray.DataArray or Dataset (coordinates by name), got "
        f"{type(x).__name__}; wrap a bare array as xr.DataArray(values, dims=..., coords=...)"
    )


def coord_1d(owner: str, x: xr.DataArray | xr.Dataset, name: str, arg: str) -> np.ndarray:
    """The 1-D dimension coordinate ``name`` of ``x`` as float64 NumPy (host labels)."""
    if name not in x.dims or name not in x.coords:
        raise GeoValueError(
            f"{owner}: {arg}={name!r} must name a dimension with a coordinate of the input; "
            f"its dims are {tuple(x.dims)} and coords {tuple(x.coords)}; pass {arg}='<name>'"
        )
    coord = x.coords[name]
    if coord.dims != (name,):
        raise GeoValueError(
            f"{owner}: {arg}={name!r} must be a 1-D dimension coordinate (a regular lat/lon "
            f"grid), got dims {coord.dims}; curvilinear grids are not supported"
        )
    return np.asarray(coord.values, dtype=np.float64)


def lon_offsets(lon: np.ndarray, origin: float) -> np.ndarray:
    """Degrees east of ``origin`` of each longitude, in ``[0, 360)``, any convention."""
    d = np.mod(lon - origin, 360.0)
    return np.where(d > 360.0 - _EPS, 0.0, d)


def select_lon(lon: np.ndarray, lon_min: float, lon_max: float) -> np.ndarray:
    """Indices of the longitudes in the box, ordered eastward from ``lon_min``.

    The box runs east from ``lon_min`` to ``lon_max`` (bounds included) in whichever
    convention either is given; ``lon_min > lon_max`` crosses the antimeridian (or the
    data's seam), and a span of 360 degrees or more is the whole circle.
    """
    span = lon_max - lon_min
    width = 360.0 if span >= 360.0 else float(np.mod(span, 360.0))
    d = lon_offsets(lon, lon_min)
    idx = np.flatnonzero(d <= width + _EPS)
    return idx[np.argsort(d[idx], kind="stable")]


def select_lat(lat: np.ndarray, lat_min: float, lat_max: float) -> np.ndarray:
    """Indices of the latitudes in ``[lat_min, lat_max]``, in the coordinate's own order."""
    return np.flatnonzero((lat >= lat_min - _EPS) & (lat <= lat_max + _EPS))
