"""Which dimensions are x and y, what geometry they have, and the stencils on them.

Auto-detection (``x_dim=None`` / ``y_dim=None``) looks at the 1-D coordinate of each
dimension, in this order, and takes the first rule that names exactly one dimension:

1. CF ``axis`` attribute ``"X"`` / ``"Y"``;
2. CF ``standard_name`` ``longitude`` / ``latitude`` or ``projection_x_coordinate`` /
   ``projection_y_coordinate`` (and ``grid_longitude`` / ``grid_latitude``);
3. CF ``units`` ``degrees_east`` / ``degrees_north`` (and their spellings);
4. the dimension's name: ``lon``, ``longitude``, ``x``, ``xc``, ``nav_lon`` /
   ``lat``, ``latitude``, ``y``, ``yc``, ``nav_lat`` (case-insensitive).

Geometry (``geometry="auto"``): spherical when the x coordinate is a longitude and the y
coordinate a latitude (by ``standard_name``, degree units or name), else cartesian. A
cartesian coordinate must be in metres (``units`` ``m``/``metre``/``meter``/``km``, or no
units attribute, read as metres); a spherical one is in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import CalcValueError
from ._stencil import Stencil, stencil

__all__ = ["EARTH_RADIUS", "Grid", "grid_of", "resolve_dims"]

#: Mean Earth radius (IUGG R1, metres); MetPy's ``earth_avg_radius`` is 6371008.7714 m.
EARTH_RADIUS = 6371008.8

_NAMES = {
    "x": ("lon", "longitude", "x", "xc", "nav_lon"),
    "y": ("lat", "latitude", "y", "yc", "nav_lat"),
}
_STANDARD = {
    "x": ("longitude", "projection_x_coordinate", "grid_longitude"),
    "y": ("latitude", "projection_y_coordinate", "grid_latitude"),
}
_DEG_UNITS = {
    "x": ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"),
    "y": ("degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"),
}
_METRES = {"m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0, "km": 1000.0}


def _attrs(obj: Any, dim: str) -> dict[str, Any]:
    return dict(obj.coords[dim].attrs) if dim in obj.coords else {}


def _detect(owner: str, obj: Any, which: str) -> str:
    dims = list(obj.dims)
    rules = [
        lambda d: str(_attrs(obj, d).get("axis", "")).upper() == which.upper(),
        lambda d: _attrs(obj, d).get("standard_name") in _STANDARD[which],
        lambda d: str(_attrs(obj, d).get("units", "")).lower() in _DEG_UNITS[which],
        lambda d: str(d).lower() in _NAMES[which],
    ]
    for rule in rules:
        hits = [d for d in dims if rule(d)]
        if len(hits) == 1:
            return hits[0]
    raise CalcValueError(
        f"{owner}: cannot tell which dimension is {which} among {dims} (no CF axis="
        f"{which.upper()!r}, standard_name, degree units or common name such as "
        f"{_NAMES[which][:3]}); pass {which}_dim='<name>'"
    )


def resolve_dims(owner: str, obj: Any, x_dim: str | None, y_dim: str | None) -> tuple[str, str]:
    """The names of the x and y dimensions of ``obj`` (given, or detected)."""
    x = x_dim if x_dim is not None else _detect(owner, obj, "x")
    y = y_dim if y_dim is not None else _detect(owner, obj, "y")
    for arg, d in (("x_dim", x), ("y_dim", y)):
        if d not in obj.dims:
            raise CalcValueError(
                f"{owner}: {arg} must be a dimension of the input {list(obj.dims)}, got {d!r}"
            )
        if d not in obj.coords:
            raise CalcValueError(
                f"{owner}: dimension {d!r} has no coordinate, so its spacing is unknown; "
                f"assign one (obj.assign_coords({d}=...)) in metres or degrees"
            )
        if obj.sizes[d] < 3:
            raise CalcValueError(
                f"{owner}: dimension {d!r} must have at least 3 points for second-order "
                f"differences, got {obj.sizes[d]}"
            )
    if x == y:
        raise CalcValueError(f"{owner}: x_dim and y_dim must differ, got {x!r} for both")
    return x, y


def _is_angle(obj: Any, dim: str, which: str) -> bool:
    attrs = _attrs(obj, dim)
    return (
        attrs.get("standard_name") in ("longitude", "latitude")
        or str(attrs.get("units", "")).lower() in (*_DEG_UNITS[which], "degrees", "degree")
        or str(dim).lower() in (*_NAMES[which][:2], _NAMES[which][-1])
    )


@dataclass(frozen=True)
class Grid:
    """Host-side description of the horizontal grid the kernels need (static under jit).

    ``d1x``/``d1y`` are first-derivative and ``d2x``/``d2y`` second-derivative stencils on
    the coordinates in metres (cartesian) or radians (spherical); ``cos_lat``/``sin_lat``
    are cos/sin(latitude) along y (spherical only) and ``radius`` the sphere's.
    """

    spherical: bool
    d1x: Stencil
    d1y: Stencil
    d2x: Stencil
    d2y: Stencil
    cos_lat: np.ndarray | None
    sin_lat: np.ndarray | None
    radius: float


def _coord(owner: str, obj: Any, dim: str, degrees: bool) -> np.ndarray:
    c = np.asarray(obj.coords[dim].values, dtype=np.float64)
    if not np.all(np.isfinite(c)) or not (np.all(np.diff(c) > 0) or np.all(np.diff(c) < 0)):
        raise CalcValueError(
            f"{owner}: coordinate {dim!r} must be finite and strictly monotonic, got {c[:5]}..."
        )
    if degrees:
        return np.deg2rad(c)
    units = obj.coords[dim].attrs.get("units")
    if units is None:
        return c
    scale = _METRES.get(str(units).lower())
    if scale is None:
        raise CalcValueError(
            f"{owner}: cartesian coordinate {dim!r} must be in metres (units 'm' or 'km'), "
            f"got units {units!r}; convert it, or use geometry='spherical' for degrees"
        )
    return c * scale


def _period(owner: str, x: str, cx: np.ndarray) -> float:
    """The signed period (±2π) of a longitude that closes the circle, else a teaching error."""
    step = np.diff(cx)
    seam = 2 * np.pi - abs(cx[-1] - cx[0])
    if not (0 < seam <= 1.5 * np.max(np.abs(step)) + 1e-9):
        raise CalcValueError(
            f"{owner}: periodic_x=True needs longitudes {x!r} that go once around the circle "
            f"(last-to-first gap one grid step), got a gap of {np.rad2deg(seam):.4g} degrees "
            f"with steps up to {np.rad2deg(np.max(np.abs(step))):.4g}; use periodic_x=False "
            f"for a regional grid"
        )
    return float(np.sign(step[0]) * 2 * np.pi)


def grid_of(
    owner: str,
    obj: Any,
    x: str,
    y: str,
    geometry: str,
    radius: float,
    periodic_x: bool = False,
) -> Grid:
    """The :class:`Grid` of ``obj`` on dims ``x``/``y`` with ``geometry`` resolved."""
    spherical = geometry == "spherical" or (
        geometry == "auto" and _is_angle(obj, x, "x") and _is_angle(obj, y, "y")
    )
    cx = _coord(owner, obj, x, spherical)
    cy = _coord(owner, obj, y, spherical)
    cos_lat = sin_lat = None
    if spherical:
        if np.any(np.abs(cy) > np.pi / 2 + 1e-12):
            raise CalcValueError(
                f"{owner}: latitude {y!r} must lie in [-90, 90] degrees, got "
                f"[{np.rad2deg(cy.min())}, {np.rad2deg(cy.max())}]"
            )
        cos_lat, sin_lat = np.cos(cy), np.sin(cy)
    period = None
    if periodic_x:
        if not spherical:
            raise CalcValueError(
                f"{owner}: periodic_x=True wraps longitude around the sphere, but the grid "
                f"on ({x!r}, {y!r}) is cartesian; use geometry='spherical' with degrees"
            )
        period = _period(owner, x, cx)
    return Grid(
        spherical=spherical,
        d1x=stencil(cx, 1, period),
        d1y=stencil(cy, 1),
        d2x=stencil(cx, 2, period),
        d2y=stencil(cy, 2),
        cos_lat=cos_lat,
        sin_lat=sin_lat,
        radius=radius,
    )
