"""Masking (and cropping) to a lon/lat polygon given as a vertex list in the config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import numpy as np
import shapely
import xarray as xr
from shapely.validation import explain_validity

import pipekit as pk
from pipekit_array import float_values, values_of

from ._config import check_name
from ._coords import check_carrier, coord_1d, lon_offsets
from ._errors import GeoValueError
from ._kernels import mask_outside

__all__ = ["ApplyRegionMask", "region_mask"]


def _check_polygon(value: object) -> tuple[tuple[float, float], ...]:
    hint = "; give [[lon, lat], [lon, lat], ...] in degrees, e.g. [[0, 0], [10, 0], [10, 10]]"
    try:
        pts = tuple((float(p[0]), float(p[1])) for p in value)  # type: ignore[union-attr,index]
        bad = any(len(p) != 2 for p in value)  # type: ignore[union-attr,arg-type]
    except (TypeError, ValueError, IndexError):
        raise pk.ConfigError(
            f"ApplyRegionMask: polygon must be a list of [lon, lat] pairs, got {value!r}{hint}"
        ) from None
    if isinstance(value, str) or bad or len(pts) < 3:
        raise pk.ConfigError(
            f"ApplyRegionMask: polygon must be at least 3 [lon, lat] vertices, got {value!r}{hint}"
        )
    lons, lats = np.array(pts).T
    if not np.all(np.isfinite(lons)) or not np.all(np.abs(lats) <= 90):
        raise pk.ConfigError(
            f"ApplyRegionMask: polygon latitudes must lie in [-90, 90] and every vertex be "
            f"finite, got {value!r}"
        )
    if lons.max() - lons.min() >= 360:
        raise pk.ConfigError(
            f"ApplyRegionMask: polygon longitudes must span less than 360 degrees (write a "
            f"region across the antimeridian continuously, e.g. 170..190), got "
            f"{lons.min():g}..{lons.max():g}"
        )
    if not shapely.Polygon(pts).is_valid:
        raise pk.ConfigError(
            f"ApplyRegionMask: polygon must be a valid simple polygon (no self-intersection; "
            f"{explain_validity(shapely.Polygon(pts))}), got {value!r}"
        )
    return pts


def region_mask(
    polygon: Sequence[Sequence[float]], lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(inside, lon_in_frame)``: the ``(lat, lon)`` bool mask of cell centres strictly
    inside ``polygon`` (``shapely.contains_xy``) and each longitude moved into the
    polygon's frame ``[min lon, min lon + 360)``, so any convention of data or polygon works.
    """
    poly = shapely.Polygon(polygon)
    west = min(p[0] for p in polygon)
    lon_frame = west + lon_offsets(lon, west)
    glon, glat = np.meshgrid(lon_frame, lat)
    return shapely.contains_xy(poly, glon, glat), lon_frame


class ApplyRegionMask(pk.Operator):
    """NaN at every cell whose centre is not inside a lon/lat polygon; optionally cropped.

    The point-in-polygon test is ``shapely.contains_xy`` on the cell centres (a centre on
    the boundary is outside), computed on the host from the (static) coordinates; the data
    are masked with that constant mask (``where``) and, with ``drop=True``, first cropped
    with ``isel`` to the latitudes and longitudes holding an inside cell (longitudes ordered
    eastward from the polygon's west end), so the whole operator traces under ``jax.jit``.
    Longitudes of the data are moved into the polygon's frame before the test, so a polygon
    in -180..180 works on data in 0..360 and a region across the antimeridian is written
    continuously (``170..190``). Integer data become float (NaN needs a float); dims,
    coords and attrs are kept. On a Dataset, variables without both dims are unchanged.

    Args:
        polygon: ``[[lon, lat], ...]`` vertices in degrees (closed implicitly), YAML-friendly.
        lon, lat: names of the 1-D longitude and latitude dimension coordinates.
        drop: crop to the rows and columns that hold an inside cell before masking.

    Example:
        >>> from xr_toolz.geo import ApplyRegionMask
        >>> from xr_toolz.testing import reanalysis_like
        >>> t2m = reanalysis_like(nlat=8, nlon=16)
        >>> out = ApplyRegionMask([[-40, 0], [40, 0], [0, 60]], drop=True)(t2m)
        >>> out.lon.values.tolist(), out.lat.values.tolist()
        ([348.75, 11.25], [11.25, 33.75])
    """

    polygon: tuple[tuple[float, float], ...] = eqx.field(static=True)
    lon: str = eqx.field(static=True)
    lat: str = eqx.field(static=True)
    drop: bool = eqx.field(static=True)

    def __init__(
        self,
        polygon: Sequence[Sequence[float]],
        lon: str = "lon",
        lat: str = "lat",
        drop: bool = False,
    ) -> None:
        self.polygon = _check_polygon(polygon)
        self.lon = check_name("ApplyRegionMask", "lon", lon)
        self.lat = check_name("ApplyRegionMask", "lat", lat)
        if not isinstance(drop, bool):
            raise pk.ConfigError(f"ApplyRegionMask: drop must be a bool, got {drop!r}")
        self.drop = drop

    def _apply(self, x: Any) -> Any:
        x = check_carrier("ApplyRegionMask", x)
        lon = coord_1d("ApplyRegionMask", x, self.lon, "lon")
        lat = coord_1d("ApplyRegionMask", x, self.lat, "lat")
        inside, lon_frame = region_mask(self.polygon, lon, lat)
        if self.drop:
            rows = np.flatnonzero(inside.any(axis=1))
            cols = np.flatnonzero(inside.any(axis=0))
            if rows.size == 0:
                raise GeoValueError(
                    f"ApplyRegionMask(drop=True): no cell centre of the input lies inside the "
                    f"polygon {list(self.polygon)}; check its vertices are [lon, lat]"
                )
            cols = cols[np.argsort(lon_frame[cols], kind="stable")]
            x = x.isel({self.lat: rows, self.lon: cols})
            inside = inside[np.ix_(rows, cols)]
        if isinstance(x, xr.DataArray):
            return self._mask(x, inside)
        out = {k: self._mask(v, inside) for k, v in x.data_vars.items()}
        return xr.Dataset(out, coords=x.coords, attrs=dict(x.attrs))

    def _mask(self, x: xr.DataArray, inside: np.ndarray) -> xr.DataArray:
        if self.lat not in x.dims or self.lon not in x.dims:
            return x
        axes = (x.dims.index(self.lat), x.dims.index(self.lon))
        values = float_values(x, values=values_of(x))
        return x.copy(data=mask_outside(values, inside, axes))
