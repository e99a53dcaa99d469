"""Exact spherical cell areas on a regular lat/lon grid, and the area-weighted mean."""

from __future__ import annotations

from typing import Any, Literal

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import float_dtype, float_values, namespace, values_of

from ._config import check_name
from ._coords import check_carrier, coord_1d
from ._errors import GeoValueError
from ._kernels import broadcast_to_axes, weighted_mean

__all__ = ["EARTH_RADIUS", "AreaWeights", "WeightedMean", "cell_areas", "cell_edges"]

#: Mean Earth radius (IUGG R1, metres), the radius of ``xr_toolz.calc``'s spherical grid.
EARTH_RADIUS = 6371008.8

WeightsKind = Literal["area", "cos_lat"]


def cell_edges(owner: str, centres: np.ndarray, arg: str) -> np.ndarray:
    """``n + 1`` edges: midpoints between centres, the outer ones half a spacing out."""
    if centres.size < 2:
        raise GeoValueError(
            f"{owner}: {arg} needs at least 2 cells to place cell edges (midpoints between "
            f"centres), got {centres.size}"
        )
    mid = (centres[1:] + centres[:-1]) / 2
    first = centres[0] - (centres[1] - centres[0]) / 2
    last = centres[-1] + (centres[-1] - centres[-2]) / 2
    return np.concatenate([[first], mid, [last]])


def cell_areas(lat: np.ndarray, lon: np.ndarray, radius: float = EARTH_RADIUS) -> np.ndarray:
    r"""``(lat, lon)`` areas in m² of cells centred on ``lat``/``lon`` (degrees) on a sphere.

    .. math:: A_{ij} = R^2\, \Delta\lambda_j\, \lvert \sin\varphi_{n,i} - \sin\varphi_{s,i} \rvert

    with edges at midpoints between centres (latitude edges clipped to ±90, so polar cells
    end at the pole) and longitudes unwrapped (period 360) before differencing, so a grid
    crossing 0 or 180 has no 360-degree jump. Either coordinate may be descending.
    """
    lat_edges = np.clip(cell_edges("AreaWeights", lat, "lat"), -90.0, 90.0)
    lon_edges = cell_edges("AreaWeights", np.unwrap(lon, period=360.0), "lon")
    dsin = np.abs(np.diff(np.sin(np.deg2rad(lat_edges))))
    dlon = np.abs(np.diff(np.deg2rad(lon_edges)))
    return radius**2 * dsin[:, None] * dlon[None, :]


def _check_radius(owner: str, radius: object) -> float:
    ok = isinstance(radius, int | float) and not isinstance(radius, bool)
    if not ok or not np.isfinite(radius) or radius <= 0:  # type: ignore[arg-type,operator]
        raise pk.ConfigError(
            f"{owner}: radius must be a sphere radius in metres > 0 (default {EARTH_RADIUS}), "
            f"got {radius!r}"
        )
    return float(radius)  # type: ignore[arg-type]


class AreaWeights(pk.Operator):
    r"""The exact spherical area of every grid cell: a ``(lat, lon)`` DataArray in m².

    .. math:: A_{ij} = R^2\, \Delta\lambda_j\, (\sin\varphi_{n,i} - \sin\varphi_{s,i})

    Cell edges sit at midpoints between centres (outer edges half a spacing out, clipped to
    ±90). On a regular global grid the areas sum to :math:`4\pi R^2`; with
    ``normalize=True`` they are fractions summing to 1 (``units`` ``"1"``), proportional to
    :math:`\Delta\lambda\,(\sin\varphi_n - \sin\varphi_s) = 2\Delta\lambda\cos\varphi
    \sin(\Delta\varphi/2)`, the exact form of the usual :math:`\cos\varphi` weight.

    The areas depend on the (static) coordinates only, so they are a constant of any
    compiled pipeline; the input's data are not read.

    Args:
        lat, lon: names of the 1-D latitude and longitude dimension coordinates.
        normalize: return fractions of the grid's total area instead of m².
        radius: sphere radius in metres (IUGG mean Earth radius by default).

    Example:
        >>> from xr_toolz.geo import AreaWeights
        >>> from xr_toolz.testing import reanalysis_like
        >>> float(AreaWeights(normalize=True)(reanalysis_like(nlat=4, nlon=8)).sum())
        1.0
    """

    lat: str = eqx.field(static=True)
    lon: str = eqx.field(static=True)
    normalize: bool = eqx.field(static=True)
    radius: float = eqx.field(static=True)

    def __init__(
        self,
        lat: str = "lat",
        lon: str = "lon",
        normalize: bool = False,
        radius: float = EARTH_RADIUS,
    ) -> None:
        self.lat = check_name("AreaWeights", "lat", lat)
        self.lon = check_name("AreaWeights", "lon", lon)
        if not isinstance(normalize, bool):
            raise pk.ConfigError(f"AreaWeights: normalize must be a bool, got {normalize!r}")
        self.normalize = normalize
        self.radius = _check_radius("AreaWeights", radius)

    def _apply(self, x: Any) -> xr.DataArray:
        x = check_carrier("AreaWeights", x)
        lat = coord_1d("AreaWeights", x, self.lat, "lat")
        lon = coord_1d("AreaWeights", x, self.lon, "lon")
        area = cell_areas(lat, lon, self.radius)
        if self.normalize:
            area = area / area.sum()
        # In the input's float dtype and namespace, so a jitted pipeline returns a JAX array
        # of JAX's dtype (the output of a traced function must be traced-typed).
        values = values_of(_reference(x, self.lat, self.lon))
        xp = namespace(values)
        area = xp.asarray(area, dtype=float_dtype(xp, values))
        coords = {self.lat: x.coords[self.lat], self.lon: x.coords[self.lon]}
        if self.normalize:
            attrs = {"units": "1", "long_name": "fraction of the grid's area"}
            return xr.DataArray(
                area,
                dims=(self.lat, self.lon),
                coords=coords,
                name="area_weight",
                attrs=attrs,
            )
        attrs = {"units": "m2", "standard_name": "cell_area", "long_name": "grid cell area"}
        return xr.DataArray(
            area, dims=(self.lat, self.lon), coords=coords, name="cell_area", attrs=attrs
        )


def _reference(x: xr.DataArray | xr.Dataset, lat: str, lon: str) -> xr.DataArray:
    """The DataArray whose data set the namespace and dtype of coordinate-only outputs."""
    if isinstance(x, xr.DataArray):
        return x
    both = [v for v in x.data_vars.values() if lat in v.dims and lon in v.dims]
    if not both:
        raise GeoValueError(
            f"AreaWeights: no data variable of the Dataset has both dims {lat!r} and {lon!r} "
            f"(its variables: {list(x.data_vars)}); pass lat=/lon= naming its grid"
        )
    return both[0]


class WeightedMean(pk.Operator):
    r"""The NaN-skipping area- or cos(lat)-weighted mean over named dims.

    .. math:: \bar x = \sum_i w_i x_i \Big/ \sum_i w_i \quad (x_i \ne \mathrm{NaN})

    Equal to ``x.weighted(w).mean(dim)`` of xarray with ``w`` the cell areas of
    :class:`AreaWeights` (``weights="area"``) or ``cos(lat)`` (``weights="cos_lat"``, the
    usual approximation, exact in ratio for equal-spaced latitudes away from the poles). A
    slice with no valid value is NaN. Other dims, their coords and attrs are kept (a mean
    keeps ``units``); on a Dataset, variables lacking a dim of ``dim`` are unchanged.

    Args:
        dim: a dim name or a tuple of names to average over.
        weights: ``"area"`` or ``"cos_lat"``.
        lat, lon: names of the latitude/longitude coordinates (``lon`` only for ``"area"``).

    Example:
        >>> from xr_toolz.geo import WeightedMean
        >>> from xr_toolz.testing import reanalysis_like
        >>> WeightedMean()(reanalysis_like(nlat=4, nlon=8)).dims
        ('time',)
    """

    dim: tuple[str, ...] = eqx.field(static=True)
    weights: WeightsKind = eqx.field(static=True)
    lat: str = eqx.field(static=True)
    lon: str = eqx.field(static=True)

    def __init__(
        self,
        dim: str | tuple[str, ...] = ("lat", "lon"),
        weights: WeightsKind = "area",
        lat: str = "lat",
        lon: str = "lon",
    ) -> None:
        dims = (dim,) if isinstance(dim, str) else dim
        if not isinstance(dims, tuple | list) or not dims or len(set(dims)) != len(dims):
            raise pk.ConfigError(
                f"WeightedMean: dim must be a dim name or a tuple of distinct names, got {dim!r}"
            )
        self.dim = tuple(check_name("WeightedMean", "dim", d) for d in dims)
        if weights not in ("area", "cos_lat"):
            raise pk.ConfigError(
                f"WeightedMean: weights must be 'area' or 'cos_lat', got {weights!r}"
            )
        self.weights = weights
        self.lat = check_name("WeightedMean", "lat", lat)
        self.lon = check_name("WeightedMean", "lon", lon)

    def _weight_field(self, x: xr.DataArray) -> tuple[np.ndarray, tuple[str, ...]]:
        lat = coord_1d("WeightedMean", x, self.lat, "lat")
        if self.weights == "cos_lat":
            return np.cos(np.deg2rad(lat)), (self.lat,)
        lon = coord_1d("WeightedMean", x, self.lon, "lon")
        return cell_areas(lat, lon), (self.lat, self.lon)

    def _one(self, x: xr.DataArray) -> xr.DataArray:
        missing = [d for d in self.dim if d not in x.dims]
        if missing:
            raise GeoValueError(
                f"WeightedMean: dim {missing} not among the input's dims {x.dims}; pass "
                f"dim=<names of x's dims>"
            )
        w, w_dims = self._weight_field(x)
        axes = tuple(x.dims.index(d) for d in self.dim)
        weights = broadcast_to_axes(w, x.ndim, [x.dims.index(d) for d in w_dims])
        values = weighted_mean(float_values(x, values=values_of(x)), weights, axes)
        dims = tuple(d for d in x.dims if d not in self.dim)
        coords = {k: c for k, c in x.coords.items() if not set(c.dims) & set(self.dim)}
        return xr.DataArray(values, dims=dims, coords=coords, name=x.name, attrs=dict(x.attrs))

    def _apply(self, x: Any) -> Any:
        x = check_carrier("WeightedMean", x)
        if isinstance(x, xr.DataArray):
            return self._one(x)
        out = {
            k: self._one(v) if set(self.dim) <= set(v.dims) else v for k, v in x.data_vars.items()
        }
        return xr.Dataset(out, attrs=dict(x.attrs))
