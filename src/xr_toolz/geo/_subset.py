"""Subsetting by coordinate labels: a lat/lon box and an inclusive time range."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
import pandas as pd

import pipekit as pk

from ._config import check_degrees, check_name
from ._coords import check_carrier, coord_1d, select_lat, select_lon
from ._errors import GeoValueError

__all__ = ["SubsetBBox", "SubsetTime"]


class SubsetBBox(pk.Operator):
    r"""The cells whose centre lies in a lon/lat box (bounds included), selected by label.

    .. math:: \{(\varphi, \lambda) : \varphi_{min} \le \varphi \le \varphi_{max},\
        0 \le (\lambda - \lambda_{min}) \bmod 360 \le (\lambda_{max} - \lambda_{min}) \bmod 360\}

    The box runs **east** from ``lon_min`` to ``lon_max``, so the longitude convention of
    the box and of the data need not agree: a box of ``-10..10`` on data on ``0..360``
    selects ``350..360`` and ``0..10``. ``lon_min > lon_max`` crosses the antimeridian
    (``170..-170``); a span of 360 or more is every longitude. Selected longitudes are
    ordered eastward from ``lon_min`` (the two pieces of a crossing box are concatenated),
    latitudes keep the data's order (ERA5's ``90..-90`` stays descending). The result's
    coordinates are exactly the selected labels (not converted to the box's convention).

    Why labels and indices: coordinates are static under ``jax.jit``, so the indices are
    computed on the host once per trace and the data are gathered with ``isel``, which
    traces (no boolean mask on data, whose result shape would depend on values).

    Args:
        lon_min, lon_max: west and east bounds in degrees, in ``[-180, 360]``.
        lat_min, lat_max: south and north bounds in degrees, ``-90 <= lat_min <= lat_max <= 90``.
        lon, lat: names of the 1-D longitude and latitude dimension coordinates.

    Example:
        >>> from xr_toolz.geo import SubsetBBox
        >>> from xr_toolz.testing import reanalysis_like
        >>> t2m = reanalysis_like(nlat=8, nlon=16)  # lon 11.25, 33.75, .. 348.75
        >>> SubsetBBox(-30, 30, 0, 90)(t2m).lon.values.tolist()
        [348.75, 11.25]
    """

    lon_min: float = eqx.field(static=True)
    lon_max: float = eqx.field(static=True)
    lat_min: float = eqx.field(static=True)
    lat_max: float = eqx.field(static=True)
    lon: str = eqx.field(static=True)
    lat: str = eqx.field(static=True)

    def __init__(
        self,
        lon_min: float,
        lon_max: float,
        lat_min: float,
        lat_max: float,
        lon: str = "lon",
        lat: str = "lat",
    ) -> None:
        self.lon_min = check_degrees("SubsetBBox", "lon_min", lon_min, -180.0, 360.0)
        self.lon_max = check_degrees("SubsetBBox", "lon_max", lon_max, -180.0, 360.0)
        self.lat_min = check_degrees("SubsetBBox", "lat_min", lat_min, -90.0, 90.0)
        self.lat_max = check_degrees("SubsetBBox", "lat_max", lat_max, -90.0, 90.0)
        if self.lat_min > self.lat_max:
            raise pk.ConfigError(
                f"SubsetBBox: lat_min must be <= lat_max (south before north, whatever the "
                f"order of the data's latitudes), got lat_min={lat_min!r}, lat_max={lat_max!r}"
            )
        self.lon = check_name("SubsetBBox", "lon", lon)
        self.lat = check_name("SubsetBBox", "lat", lat)

    def indices(self, x: Any) -> dict[str, np.ndarray]:
        """The host index arrays ``{lat: ..., lon: ...}`` that ``isel`` gathers."""
        x = check_carrier("SubsetBBox", x)
        lon = coord_1d("SubsetBBox", x, self.lon, "lon")
        lat = coord_1d("SubsetBBox", x, self.lat, "lat")
        ilon = select_lon(lon, self.lon_min, self.lon_max)
        ilat = select_lat(lat, self.lat_min, self.lat_max)
        if ilon.size == 0 or ilat.size == 0:
            raise GeoValueError(
                f"SubsetBBox: the box lon {self.lon_min:g}..{self.lon_max:g}, lat "
                f"{self.lat_min:g}..{self.lat_max:g} holds no cell centre of the input "
                f"({ilon.size} longitudes in {lon.min():g}..{lon.max():g}, {ilat.size} "
                f"latitudes in {lat.min():g}..{lat.max():g}); widen the box"
            )
        return {self.lat: ilat, self.lon: ilon}

    def _apply(self, x: Any) -> Any:
        return check_carrier(type(self).__name__, x).isel(self.indices(x))


class SubsetTime(pk.Operator):
    """The steps from ``start`` to ``end`` (both included) of a sorted time coordinate.

    Equal to ``x.sel({dim: slice(start, end)})`` on a sorted coordinate, by the same
    partial-string rules (``"2020-02"`` as ``end`` includes all of February). ``start`` or
    ``end`` ``None`` leaves that side open. ISO strings keep the config YAML-friendly.
    The indices come from the (static) coordinate, and the data are gathered with
    ``isel``, which traces under ``jax.jit``.

    Args:
        start, end: ISO 8601 dates or date-times (``"2020-01-01"``, ``"2020-06"``), or None.
        dim: the time dimension; its coordinate must be sorted ascending.

    Example:
        >>> from xr_toolz.geo import SubsetTime
        >>> from xr_toolz.testing import reanalysis_like
        >>> SubsetTime("2020-02-01", "2020-02")(reanalysis_like()).sizes["time"]
        29
    """

    start: str | None = eqx.field(static=True)
    end: str | None = eqx.field(static=True)
    dim: str = eqx.field(static=True)

    def __init__(self, start: str | None, end: str | None, dim: str = "time") -> None:
        self.start = _check_date("start", start)
        self.end = _check_date("end", end)
        self.dim = check_name("SubsetTime", "dim", dim)

    def indices(self, x: Any) -> dict[str, slice]:
        """The host slice ``{dim: slice(i, j)}`` that ``isel`` takes."""
        x = check_carrier("SubsetTime", x)
        if self.dim not in x.dims or self.dim not in x.indexes:
            raise GeoValueError(
                f"SubsetTime: dim={self.dim!r} must be a dimension with an index coordinate; "
                f"the input's dims are {tuple(x.dims)}; pass dim='<name>'"
            )
        index = x.indexes[self.dim]
        if not index.is_monotonic_increasing:
            raise GeoValueError(
                f"SubsetTime: the {self.dim!r} coordinate must be sorted ascending for an "
                f"inclusive label slice, but it is not (from {index[0]} to {index[-1]}); sort "
                f"it first: x.sortby({self.dim!r})"
            )
        sl = index.slice_indexer(self.start, self.end)
        if len(range(*sl.indices(len(index)))) == 0:
            raise GeoValueError(
                f"SubsetTime: no {self.dim!r} step lies in {self.start}..{self.end}; the "
                f"coordinate runs from {index[0]} to {index[-1]}"
            )
        return {self.dim: sl}

    def _apply(self, x: Any) -> Any:
        return check_carrier(type(self).__name__, x).isel(self.indices(x))


def _check_date(arg: str, value: object) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError
        pd.Timestamp(value)
    except (TypeError, ValueError):
        raise pk.ConfigError(
            f"SubsetTime: {arg} must be None or an ISO 8601 date string (e.g. '2020-01-01' "
            f"or '2020-06'), got {value!r}"
        ) from None
    return value
