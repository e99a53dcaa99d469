r"""Polar stereographic grids: the CRS of a DataArray, point scale factors and true cell areas.

Everything here runs on the host, on **coordinates** (NumPy) only: under ``jax.jit`` a
DataArray's coords and attrs are static (``xr_toolz._pytree``), so pyproj may read them while
the data stay traced.

The polar stereographic projection is conformal, so a small cell of projected size
``dx * dy`` covers the true area ``dx * dy / k**2`` on the ellipsoid, where ``k`` is the
point scale factor at the cell centre (Snyder 1987, *Map Projections: A Working Manual*,
eqs. 21-32 to 21-35):

.. math::

    k = \frac{C\, t(\varphi)}{a\, m(\varphi)},\qquad
    m = \frac{\cos\varphi}{\sqrt{1 - e^2 \sin^2\varphi}},\qquad
    t = \frac{\tan(\pi/4 - \varphi/2)}
             {\left[(1 - e\sin\varphi)/(1 + e\sin\varphi)\right]^{e/2}}

with :math:`\varphi` the latitude taken positive towards the projection's pole and
:math:`C = a\, m_c / t_c` (variant B, true scale at the standard parallel
:math:`\varphi_c`) or :math:`C = 2 a k_0 / \sqrt{(1+e)^{1+e}(1-e)^{1-e}}` (variant A,
scale :math:`k_0` at the pole). At the pole itself :math:`k = C\sqrt{(1+e)^{1+e}
(1-e)^{1-e}}/(2a)`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._errors import IceValueError

__all__ = ["cell_area", "crs_of", "grid_geometry", "scale_factor"]

#: Coordinate ``units`` read as metres, and as kilometres (converted to metres).
_METRES = ("m", "meter", "meters", "metre", "metres")
_KILOMETRES = ("km", "kilometer", "kilometers", "kilometre", "kilometres")


def _parse_crs(owner: str, value: Any, source: str) -> Any:
    import pyproj

    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as err:
        raise IceValueError(
            f"{owner}: cannot read a CRS from {source} ({err}); give a polar stereographic "
            f"CRS such as crs='EPSG:3413' (north) or crs='EPSG:3976' (south)"
        ) from err


def _declared_crs(owner: str, da: Any) -> tuple[Any, str] | None:
    """The CRS the DataArray declares: its CF ``grid_mapping`` variable, or its own attrs."""
    import pyproj

    gm = da.attrs.get("grid_mapping", da.encoding.get("grid_mapping"))
    if gm is not None:
        if gm not in da.coords:
            raise IceValueError(
                f"{owner}: the DataArray's grid_mapping names {gm!r}, which is not among its "
                f"coords {list(da.coords)}; keep the grid-mapping variable as a coordinate "
                f"(ds[name].assign_coords({gm}=ds[{gm!r}])) or pass crs='EPSG:...'"
            )
        attrs = da.coords[gm].attrs
        for key in ("crs_wkt", "spatial_ref"):
            if key in attrs:
                return _parse_crs(owner, attrs[key], f"{gm}.attrs[{key!r}]"), f"coord {gm!r}"
        try:
            return pyproj.CRS.from_cf(dict(attrs)), f"coord {gm!r}"
        except pyproj.exceptions.CRSError as err:
            raise IceValueError(
                f"{owner}: the grid-mapping variable {gm!r} has no crs_wkt/spatial_ref attr "
                f"and its CF attrs do not define a CRS ({err}); pass crs='EPSG:...'"
            ) from err
    for key in ("crs_wkt", "spatial_ref"):
        if key in da.attrs:
            return _parse_crs(owner, da.attrs[key], f"attrs[{key!r}]"), f"attrs[{key!r}]"
    return None


def crs_of(owner: str, da: Any, crs: str | None) -> Any:
    """The polar stereographic ``pyproj.CRS`` of ``da``: the ``crs`` argument or its own.

    ``crs`` (e.g. ``"EPSG:3413"``) wins when the data declare none; when both are given
    they must be the same CRS. Order of what the data may declare: the CF ``grid_mapping``
    attr naming a coordinate (its ``crs_wkt``, ``spatial_ref`` or CF grid-mapping attrs),
    then ``crs_wkt`` / ``spatial_ref`` on the DataArray itself.
    """
    declared = _declared_crs(owner, da)
    given = None if crs is None else _parse_crs(owner, crs, f"crs={crs!r}")
    if given is None and declared is None:
        raise IceValueError(
            f"{owner}: the DataArray declares no CRS (no grid_mapping coordinate, no "
            f"crs_wkt/spatial_ref attr); pass it, e.g. {owner}(crs='EPSG:3413')"
        )
    if given is not None and declared is not None and given != declared[0]:
        raise IceValueError(
            f"{owner}: crs={crs!r} differs from the CRS the data declare in {declared[1]} "
            f"({declared[0].name!r}); drop the argument or fix the data's grid mapping"
        )
    out = given if given is not None else declared[0]
    if out.to_cf().get("grid_mapping_name") != "polar_stereographic":
        raise IceValueError(
            f"{owner}: the CRS must be polar stereographic (e.g. EPSG:3413, EPSG:3976), got "
            f"{out.name!r}; reproject the data onto a polar stereographic grid first"
        )
    return out


def _projection_constants(crs: Any) -> tuple[float, float, float, float]:
    """``(a, e, C, sign)``: the ellipsoid, Snyder's ``ρ = C t`` constant and the hemisphere."""
    cf = crs.to_cf()
    a = float(cf["semi_major_axis"])
    inv_f = float(cf.get("inverse_flattening", 0.0) or 0.0)
    f = 1.0 / inv_f if inv_f else 0.0
    e = math.sqrt(f * (2.0 - f))
    if "standard_parallel" in cf:  # variant B: true scale at the standard parallel
        phi_c = float(np.atleast_1d(cf["standard_parallel"])[0])
        sign = 1.0 if phi_c > 0 else -1.0
        phi = math.radians(abs(phi_c))
        m_c = _m(np.asarray(phi), e)
        t_c = _t(np.asarray(phi), e)
        c = a * float(m_c) / float(t_c)
    else:  # variant A: scale k0 at the pole
        k0 = float(cf.get("scale_factor_at_projection_origin", 1.0))
        sign = 1.0 if float(cf["latitude_of_projection_origin"]) > 0 else -1.0
        c = 2.0 * a * k0 / _pole_root(e)
    return a, e, c, sign


def _pole_root(e: float) -> float:
    return math.sqrt((1.0 + e) ** (1.0 + e) * (1.0 - e) ** (1.0 - e))


def _m(phi: np.ndarray, e: float) -> np.ndarray:
    return np.cos(phi) / np.sqrt(1.0 - (e * np.sin(phi)) ** 2)


def _t(phi: np.ndarray, e: float) -> np.ndarray:
    es = e * np.sin(phi)
    return np.tan(np.pi / 4.0 - phi / 2.0) / ((1.0 - es) / (1.0 + es)) ** (e / 2.0)


def scale_factor(crs: Any, lat: Any) -> np.ndarray:
    """The point scale factor ``k`` of polar stereographic ``crs`` at latitudes ``lat`` (deg).

    Conformal: the meridional and parallel scales are both ``k``, the areal scale ``k**2``
    (what ``pyproj.Proj(crs).get_factors(lon, lat).areal_scale`` reports).
    """
    a, e, c, sign = _projection_constants(crs)
    phi = np.deg2rad(sign * np.asarray(lat, dtype=np.float64))
    m = _m(phi, e)
    pole = np.isclose(m, 0.0, atol=1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = c * _t(phi, e) / (a * m)
    return np.where(pole, c * _pole_root(e) / (2.0 * a), k)


def _coord_metres(owner: str, da: Any, dim: str) -> np.ndarray:
    if dim not in da.dims:
        raise IceValueError(
            f"{owner}: the DataArray has no dimension {dim!r} (it has {da.dims}); name the "
            f"projected grid dims with dim=(y_name, x_name)"
        )
    if dim not in da.coords:
        raise IceValueError(
            f"{owner}: dimension {dim!r} has no coordinate; the projected cell-centre "
            f"coordinates (metres) are needed: da.assign_coords({dim}=...)"
        )
    coord = da.coords[dim]
    values = np.asarray(coord.values, dtype=np.float64)
    units = str(coord.attrs.get("units", "m")).strip().lower()
    if units in _KILOMETRES:
        values = values * 1000.0
    elif units not in _METRES:
        raise IceValueError(
            f"{owner}: coordinate {dim!r} must be projected metres or km (units 'm' or "
            f"'km'), got units {coord.attrs.get('units')!r}"
        )
    if values.size < 2 or not np.all(np.isfinite(values)):
        raise IceValueError(
            f"{owner}: coordinate {dim!r} needs at least 2 finite cell centres to give a "
            f"cell size, got {values.size} value(s)"
        )
    return values


def grid_geometry(owner: str, da: Any, dims: tuple[str, str], crs: str | None) -> dict[str, Any]:
    """Host geometry of the ``(y, x)`` grid: centres (m), cell sizes, latitude, ``k``, area.

    Returns NumPy float64 arrays of shape ``(ny, nx)``: ``X``, ``Y`` (projected centres,
    metres), ``lat``/``lon`` (degrees, from pyproj), ``k`` (point scale factor) and
    ``area`` (true cell area, m²); and ``polar``, the projection's constants
    ``(x0, y0, a, e, c)`` in metres (:class:`._kernels.PolarStereo`). Cell sizes are
    ``|numpy.gradient|`` of the centres: the distance between the midpoints to the
    neighbours (one-sided at the edges).
    """
    import pyproj

    proj = crs_of(owner, da, crs)
    y = _coord_metres(owner, da, dims[0])
    x = _coord_metres(owner, da, dims[1])
    X, Y = np.meshgrid(x, y)
    to_geo = pyproj.Transformer.from_crs(proj, proj.geodetic_crs, always_xy=True)
    lon, lat = to_geo.transform(X, Y)
    k = scale_factor(proj, lat)
    dx, dy = np.abs(np.gradient(x)), np.abs(np.gradient(y))
    area = dy[:, None] * dx[None, :] / k**2
    a, e, c, sign = _projection_constants(proj)
    to_proj = pyproj.Transformer.from_crs(proj.geodetic_crs, proj, always_xy=True)
    x0, y0 = to_proj.transform(0.0, sign * 90.0)
    pole = (float(x0), float(y0), a, e, c)
    out = {"X": X, "Y": Y, "lon": lon, "lat": lat, "k": k, "area": area, "crs": proj}
    return {**out, "polar": pole}


def cell_area(da: Any, dim: tuple[str, str] = ("y", "x"), crs: str | None = None) -> Any:
    """The true area (m²) of each cell of a polar stereographic grid, as a ``(y, x)`` DataArray.

    ``dx * dy / k**2`` with ``k`` the point scale factor at the cell centre (see the module
    docstring); agrees with ``pyproj.Geod.polygon_area_perimeter`` of the cell's corners to
    about 1e-6 relative on a 25 km grid.

    Args:
        da: a DataArray with projected coordinates (metres) on the ``dim`` dimensions.
        dim: the ``(y, x)`` dimension names.
        crs: the CRS (e.g. ``"EPSG:3413"``) when ``da`` declares none.

    Example:
        >>> from xr_toolz.testing import polar_sea_ice
        >>> a = cell_area(polar_sea_ice(ny=4, nx=4))
        >>> a.attrs["units"], bool(600e6 < float(a.max()) < 700e6)
        ('m2', True)
    """
    import xarray as xr

    owner = "cell_area"
    if not isinstance(da, xr.DataArray | xr.Dataset):
        raise IceValueError(f"{owner}: da must be an xarray object, got {type(da).__name__}")
    dims = tuple(dim)
    geom = grid_geometry(owner, da, dims, crs)
    coords = {d: da.coords[d] for d in dims}
    return xr.DataArray(
        geom["area"],
        dims=dims,
        coords=coords,
        name="cell_area",
        attrs={"units": "m2", "standard_name": "cell_area", "long_name": "true cell area"},
    )
