"""What the geo checks read from a carrier: CRS and pixel size, static on every carrier.

A GeoTensor keeps both in its static lattice (so the checks run at trace time under jit);
a DataArray without a geo accessor keeps them in attributes and coordinates, by the
conventions below. Each reader returns the value, or a sentence saying why there is none,
which the check reports as its observation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geocatalog import CRSError, canonical_crs

__all__ = ["crs_of", "res_of"]

#: DataArray attributes that may hold a CRS, in the order they are read (rasterio's
#: ``open_rasterio`` and many writers use ``crs``; CF grid mappings use ``spatial_ref``).
CRS_ATTRS = ("crs", "spatial_ref")
#: Attributes of a CF grid-mapping coordinate (``spatial_ref``) that hold its WKT.
GRID_MAPPING_ATTRS = ("crs_wkt", "spatial_ref")


def _is_dataarray(x: Any) -> bool:
    return type(x).__name__ == "DataArray" and type(x).__module__.startswith("xarray")


def _dataarray_crs(x: Any) -> Any:
    for name in CRS_ATTRS:
        value = x.attrs.get(name)
        if value is not None and not (isinstance(value, str) and not value):
            return value
    if "spatial_ref" in x.coords:
        attrs = x.coords["spatial_ref"].attrs
        for name in GRID_MAPPING_ATTRS:
            if attrs.get(name):
                return attrs[name]
    return None


def crs_of(x: Any) -> tuple[str | None, str]:
    """``(canonical CRS string, "")`` of ``x``, or ``(None, why there is none)``.

    GeoTensor: its lattice's CRS string (static). DataArray: ``attrs["crs"]``, else
    ``attrs["spatial_ref"]``, else the WKT on a ``spatial_ref`` grid-mapping coordinate
    (``crs_wkt`` / ``spatial_ref`` attributes, as CF and rioxarray write it). Anything else
    with a ``crs`` attribute: that. A bare array has none.
    """
    if _is_dataarray(x):
        raw = _dataarray_crs(x)
        if raw is None:
            return None, (
                "a DataArray without a CRS: set attrs['crs'] (e.g. 'EPSG:32630') or a "
                "'spatial_ref' coordinate with a 'crs_wkt' attribute"
            )
    else:
        crs_string = getattr(x, "crs_string", None)
        if isinstance(crs_string, str):
            return crs_string, ""
        raw = getattr(x, "crs", None)
        if raw is None:
            return None, f"a {type(x).__name__} without a CRS (wrap it in a GeoTensor)"
    try:
        return canonical_crs(raw), ""
    except CRSError:
        return None, f"a CRS pyproj cannot read: {raw!r}"


def _spacing(coord: Any) -> float | None:
    """The constant step of a 1-D coordinate, or None (fewer than 2 values, irregular)."""
    values = np.asarray(coord, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        return None
    steps = np.diff(values)
    if not np.allclose(steps, steps[0], rtol=1e-6, atol=0.0):
        return None
    return float(abs(steps[0]))


def res_of(x: Any) -> tuple[tuple[float, float] | None, str]:
    """``((xres, yres), "")``, positive pixel sizes of ``x``, or ``(None, why there are none)``.

    GeoTensor: ``res`` of its lattice (static). DataArray: ``attrs["res"]`` (a number or
    ``(xres, yres)``), else the constant spacing of the coordinates of its last two dims
    (``y``, ``x``). Anything else with a ``res`` attribute: that.
    """
    if _is_dataarray(x):
        raw = x.attrs.get("res")
        if raw is None:
            if x.ndim < 2:
                return None, f"a DataArray of dims {x.dims} has no (y, x) grid"
            ydim, xdim = x.dims[-2:]
            if xdim not in x.coords or ydim not in x.coords:
                return None, (
                    f"a DataArray without attrs['res'] or coordinates on its {ydim!r} and "
                    f"{xdim!r} dims to measure the pixel size from"
                )
            xres, yres = _spacing(x.coords[xdim]), _spacing(x.coords[ydim])
            if xres is None or yres is None:
                return None, (
                    f"coordinates of {ydim!r}/{xdim!r} that are not regular or have fewer "
                    "than 2 values; set attrs['res'] = (xres, yres)"
                )
            return (xres, yres), ""
    else:
        raw = getattr(x, "res", None)
        if raw is None:
            return None, f"a {type(x).__name__} without a pixel size (wrap it in a GeoTensor)"
    values = np.atleast_1d(np.asarray(raw, dtype=np.float64)).ravel()
    if values.size == 1:
        values = np.repeat(values, 2)
    if values.size != 2 or not all(math.isfinite(v) for v in values):
        return None, f"a pixel size that is not one or two finite numbers: {raw!r}"
    return (abs(float(values[0])), abs(float(values[1]))), ""
