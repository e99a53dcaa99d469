"""Horizontal ocean diagnostics: Coriolis, geostrophic velocity, vorticity, strain, EKE.

Grids as in :mod:`xr_toolz.calc`: ``x_dim``/``y_dim`` by name or detected, ``geometry``
``"auto"`` (spherical on lon/lat degrees, radius ``radius``), ``"cartesian"`` (metres) or
``"spherical"``; second-order differences, one-sided at the edges, longitude wrapping only
with ``periodic_x=True``. Velocities are Datasets with eastward ``u`` and northward ``v``
(names configurable) in m s-1, which :class:`GeostrophicVelocity` returns, so
``GeostrophicVelocity() | OkuboWeiss()`` runs from sea-surface height to W.
"""

from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import float_values, namespace, values_of

from .._geostrophy import g_over_f
from ..calc._grid import EARTH_RADIUS, Grid, grid_of, resolve_dims
from ..calc._operators import AbstractVectorOperator, _check_config, _components
from . import _kernels as K
from ._common import check_name, check_positive, field_of
from ._errors import OcnTypeError, OcnValueError

__all__ = ["EKE", "Coriolis", "GeostrophicVelocity", "OkuboWeiss", "RelativeVorticity", "Strain"]

#: Standard gravity (m s-2) used by the geostrophic balance unless ``g=`` says otherwise.
GRAVITY = 9.80665
_LENGTH = {"m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0, "cm": 0.01}


def _wrap(like: xr.DataArray, values: Any, name: str, attrs: dict[str, str]) -> xr.DataArray:
    return xr.DataArray(values, dims=like.dims, coords=like.coords, name=name, attrs=attrs)


class Coriolis(pk.Operator):
    """The Coriolis parameter ``f = 2 Ω sin(lat)`` (s-1) on the input's latitude coordinate.

    Equals ``gsw.f(lat)`` (Ω = 7.292115e-5 rad s-1). The result has the dims and coords of
    the latitude coordinate (1-D for a lat/lon grid, 2-D for a curvilinear one) and the
    floating dtype of the input's data (float32 in, float32 out); xarray broadcasts it
    against the fields it multiplies.

    Args:
        lat: the name of the latitude coordinate (degrees north).
        omega: the planet's rotation rate in rad s-1.

    Example:
        >>> import numpy as np, xarray as xr
        >>> da = xr.DataArray(np.zeros(2), dims="lat", coords={"lat": [30.0, 90.0]})
        >>> [round(float(f) * 1e4, 5) for f in Coriolis()(da)]
        [0.72921, 1.45842]
    """

    lat: str = eqx.field(static=True)
    omega: float = eqx.field(static=True)

    def __init__(self, lat: str = "lat", omega: float = K.OMEGA) -> None:
        self.lat = check_name("Coriolis", "lat", lat)
        self.omega = check_positive("Coriolis", "omega", omega)

    def _apply(self, x: Any) -> xr.DataArray:
        if not isinstance(x, xr.DataArray | xr.Dataset):
            raise OcnTypeError(
                f"Coriolis takes an xarray DataArray or Dataset with a latitude coordinate, "
                f"got {type(x).__name__}"
            )
        if self.lat not in x.coords:
            raise OcnValueError(
                f"Coriolis: lat must name a latitude coordinate of the input "
                f"{list(x.coords)}, got {self.lat!r}; pass Coriolis(lat='<name>')"
            )
        c = x.coords[self.lat]
        data = x if isinstance(x, xr.DataArray) else next(iter(x.data_vars.values()), c)
        like = float_values(data, values=values_of(data))
        xp = namespace(like)
        f = xp.asarray(K.coriolis_parameter(np.asarray(c.values), self.omega), dtype=like.dtype)
        attrs = {"units": "s-1", "standard_name": "coriolis_parameter", "long_name": "f"}
        return xr.DataArray(f, dims=c.dims, coords=c.coords, name="f", attrs=attrs)


class GeostrophicVelocity(pk.Operator):
    r"""Surface geostrophic velocity from sea-surface height: a Dataset ``u``/``v`` (m s-1).

    .. math::

        u = -\frac{g}{f}\frac{\partial\eta}{\partial y}, \qquad
        v = \frac{g}{f}\frac{\partial\eta}{\partial x}, \qquad f = 2\Omega\sin\varphi,

    with the gradient of :class:`xr_toolz.calc.Gradient` (metric terms on the sphere). The
    balance fails as ``f → 0``: rows with ``|lat| < equator_mask`` degrees are NaN. With
    ``f0`` given, ``f = f0`` everywhere (an f-plane, e.g. on a cartesian grid; no mask).

    Args:
        ssh: the sea-surface height variable when the input is a Dataset (units m or cm).
        x_dim, y_dim, geometry, radius, periodic_x: the grid, as :class:`xr_toolz.calc.Gradient`.
        equator_mask: half-width in degrees of the equatorial band set to NaN.
        g: gravity in m s-2.
        f0: a constant Coriolis parameter (s-1), or None for ``2 Ω sin(lat)``.
        u, v: names of the output's eastward and northward components.

    Note:
        Needs latitude (a spherical grid) unless ``f0`` is given. The CF standard names are
        ``surface_geostrophic_eastward/northward_sea_water_velocity``.
    """

    ssh: str = eqx.field(static=True)
    x_dim: str | None = eqx.field(static=True)
    y_dim: str | None = eqx.field(static=True)
    geometry: str = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    periodic_x: bool = eqx.field(static=True)
    equator_mask: float = eqx.field(static=True)
    g: float = eqx.field(static=True)
    f0: float | None = eqx.field(static=True)
    u: str = eqx.field(static=True)
    v: str = eqx.field(static=True)

    def __init__(
        self,
        ssh: str = "ssh",
        x_dim: str | None = None,
        y_dim: str | None = None,
        geometry: str = "auto",
        radius: float = EARTH_RADIUS,
        periodic_x: bool = False,
        equator_mask: float = 5.0,
        g: float = GRAVITY,
        f0: float | None = None,
        u: str = "u",
        v: str = "v",
    ) -> None:
        owner = "GeostrophicVelocity"
        self.radius = _check_config(owner, x_dim, y_dim, geometry, radius, periodic_x)
        self.x_dim, self.y_dim, self.geometry, self.periodic_x = x_dim, y_dim, geometry, periodic_x
        self.ssh = check_name(owner, "ssh", ssh)
        self.equator_mask = check_positive(owner, "equator_mask", equator_mask, zero=True)
        self.g = check_positive(owner, "g", g)
        if f0 is not None:
            ok = isinstance(f0, int | float) and not isinstance(f0, bool) and f0 != 0
            if not ok or not np.isfinite(f0):
                raise pk.ConfigError(
                    f"{owner}: f0 must be a non-zero Coriolis parameter in s-1 (e.g. 1e-4) or "
                    f"None for 2*Omega*sin(lat), got {f0!r}"
                )
            f0 = float(f0)
        self.f0 = f0
        self.u, self.v = check_name(owner, "u", u), check_name(owner, "v", v)
        if u == v:
            raise pk.ConfigError(f"{owner}: u and v must differ, got {u!r} for both")

    def _g_over_f(self, grid: Grid, lat: np.ndarray) -> np.ndarray:
        if self.f0 is not None:
            return np.full(lat.shape, self.g / self.f0)
        if not grid.spherical:
            raise OcnValueError(
                "GeostrophicVelocity: a cartesian grid has no latitude to compute f from; "
                "give f0=<Coriolis parameter in s-1> (an f-plane) or use a lat/lon grid"
            )
        return g_over_f(lat, self.g, self.equator_mask)

    def _apply(self, x: Any) -> xr.Dataset:
        owner = "GeostrophicVelocity"
        eta = field_of(owner, x, self.ssh, "ssh")
        units = eta.attrs.get("units", "m")
        if str(units) not in _LENGTH:
            raise OcnValueError(
                f"{owner}: sea-surface height {eta.name!r} must be in metres (units 'm' or "
                f"'cm'), got units {units!r}; convert it first"
            )
        xd, yd = resolve_dims(owner, eta, self.x_dim, self.y_dim)
        grid = grid_of(owner, eta, xd, yd, self.geometry, self.radius, self.periodic_x)
        lat = np.asarray(eta.coords[yd].values, dtype=np.float64)
        factor = self._g_over_f(grid, lat) * _LENGTH[str(units)]
        values = float_values(eta, values=values_of(eta))
        ua, va = K.geostrophic_velocity(
            values, grid, eta.dims.index(xd), eta.dims.index(yd), factor
        )
        out = {}
        for name, data, way in ((self.u, ua, "eastward"), (self.v, va, "northward")):
            attrs = {
                "units": "m s-1",
                "standard_name": f"surface_geostrophic_{way}_sea_water_velocity",
                "long_name": f"surface geostrophic {way} velocity",
            }
            out[name] = _wrap(eta, data, name, attrs)
        return xr.Dataset(out)


class AbstractVelocityDiagnostic(AbstractVectorOperator):
    """A derivative diagnostic of a velocity Dataset (``u``, ``v``) -> one DataArray.

    The grid, the arguments and the plumbing are calc's (:class:`AbstractVectorOperator`);
    only the output's units are the diagnostic's own (s-1, s-2), not ``<u units> m-1``.
    """

    _units: ClassVar[str]

    def _output(self, like: Any, values: Any) -> xr.DataArray:
        return _wrap(like, values, self._name, {"units": self._units, "long_name": self._long_name})


class RelativeVorticity(AbstractVelocityDiagnostic):
    """Relative vorticity ``ζ = ∂v/∂x − ∂u/∂y`` (s-1), exactly :class:`xr_toolz.calc.Curl`.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: the grid, as :class:`xr_toolz.calc.Curl`.
        u, v: the Dataset's eastward and northward velocity variables (m s-1).
    """

    _name = "vorticity"
    _long_name = "relative vorticity"
    _units = "s-1"

    def _kernel(self, u: Any, v: Any, grid: Grid, xa: int, ya: int) -> Any:
        return K.relative_vorticity(u, v, grid, xa, ya)


class Strain(AbstractVelocityDiagnostic):
    """Strain rate magnitude ``sqrt(s_n² + s_s²)`` (s-1): normal ``u_x − v_y``, shear ``v_x + u_y``.

    Metric terms on the sphere as :mod:`xr_toolz.ocn._kernels` writes them.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: the grid, as :class:`xr_toolz.calc.Curl`.
        u, v: the Dataset's eastward and northward velocity variables (m s-1).
    """

    _name = "strain"
    _long_name = "strain rate magnitude"
    _units = "s-1"

    def _kernel(self, u: Any, v: Any, grid: Grid, xa: int, ya: int) -> Any:
        sn, ss = K.strain_components(u, v, grid, xa, ya)
        return namespace(sn).sqrt(sn * sn + ss * ss)


class OkuboWeiss(AbstractVelocityDiagnostic):
    """The Okubo–Weiss parameter ``W = s_n² + s_s² − ζ²`` (s-2; Okubo 1970, Weiss 1991).

    ``W < 0`` where rotation dominates strain (eddy cores), ``W > 0`` in the strain-dominated
    ring around them. For a Gaussian eddy the core value is ``−ζ(0)²``.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: the grid, as :class:`xr_toolz.calc.Curl`.
        u, v: the Dataset's eastward and northward velocity variables (m s-1).
    """

    _name = "okubo_weiss"
    _long_name = "Okubo-Weiss parameter"
    _units = "s-2"

    def _kernel(self, u: Any, v: Any, grid: Grid, xa: int, ya: int) -> Any:
        return K.okubo_weiss(u, v, grid, xa, ya)


def _check_dim(owner: str, dim: Any) -> str | tuple[str, ...] | None:
    if dim is None or (isinstance(dim, str) and dim):
        return dim
    if isinstance(dim, list | tuple) and dim and all(isinstance(d, str) and d for d in dim):
        return tuple(dim)
    raise pk.ConfigError(
        f"{owner}: dim must be None (u/v are already anomalies), a dimension name such as "
        f"'time', or a list of names, got {dim!r}"
    )


class EKE(pk.Operator):
    """Eddy kinetic energy ``½(u'² + v'²)`` (m2 s-2) of a velocity Dataset.

    ``dim=None``: ``u``/``v`` ARE the anomalies (e.g. altimetry's ``ugosa``/``vgosa``) and
    EKE is ``½(u² + v²)``. ``dim="time"`` (or a list of names): the anomalies are taken here
    about the mean over those dims (NaN left out of the mean). The output keeps every dim:
    average it yourself (``.mean("time")``) for a mean EKE map.

    Args:
        dim: None, or the dims to remove the mean over.
        u, v: the Dataset's eastward and northward velocity variables (m s-1).

    Example:
        >>> import xarray as xr
        >>> ds = xr.Dataset({"u": ("time", [1.0, 3.0]), "v": ("time", [0.0, 0.0])})
        >>> EKE(dim="time")(ds).values.tolist()
        [0.5, 0.5]
    """

    dim: str | tuple[str, ...] | None = eqx.field(static=True)
    u: str = eqx.field(static=True)
    v: str = eqx.field(static=True)

    def __init__(self, dim: str | tuple[str, ...] | None = None, u: str = "u", v: str = "v"):
        self.dim = _check_dim("EKE", dim)
        self.u, self.v = check_name("EKE", "u", u), check_name("EKE", "v", v)

    def _apply(self, x: Any) -> xr.DataArray:
        a, b = _components("EKE", x, self.u, self.v)
        axes = None
        if self.dim is not None:
            dims = (self.dim,) if isinstance(self.dim, str) else self.dim
            missing = [d for d in dims if d not in a.dims]
            if missing:
                raise OcnValueError(
                    f"EKE: dim must name dimensions of {self.u!r} {list(a.dims)}, got "
                    f"{missing}; use dim=None when u/v are already anomalies"
                )
            axes = tuple(a.dims.index(d) for d in dims)
        ua, va = (float_values(c, values=values_of(c)) for c in (a, b))
        out = K.eddy_kinetic_energy(ua, va, axes)
        attrs = {"units": "m2 s-2", "long_name": "eddy kinetic energy"}
        return _wrap(a, out, "eke", attrs)
