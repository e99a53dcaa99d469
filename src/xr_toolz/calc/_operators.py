"""Gradient, Divergence, Curl and Laplacian: pipekit Operators on xarray objects.

Conventions shared by the four:

- **Dimensions by name.** ``x_dim`` / ``y_dim`` name the horizontal dimensions; ``None``
  detects them (CF ``axis``, ``standard_name``, degree units, then common names: see
  :mod:`xr_toolz.calc._grid`). Other dimensions (time, level, member) are carried along.
- **Geometry.** ``geometry="auto"`` is spherical on longitude/latitude coordinates in
  degrees (radius ``radius``, default 6371008.8 m) and cartesian otherwise (coordinates
  in metres or km); ``"cartesian"`` / ``"spherical"`` force it.
- **Vectors** are a Dataset with the eastward (x) component in variable ``u`` and the
  northward (y) component in ``v`` (names configurable: ``u="ugos", v="vgos"``), which is
  what YAML can name. :class:`Gradient` returns its result in that same form, so
  ``Gradient() | Divergence()`` is a Laplacian and ``Gradient() | Curl()`` is 0.
- **Differences.** Second-order centred inside, second-order one-sided at the edges (as
  ``numpy.gradient(edge_order=2)``), on non-uniform coordinates too. Longitude wraps only
  with ``periodic_x=True`` (a global lat/lon grid: the first and last columns then use
  centred differences across the seam); by default they are one-sided.
- **Output.** Float (integer input is converted, nodata -> NaN); NaN spreads to the
  neighbours that use it. Dims, coords and attrs are kept; ``units`` gains ``m-1``
  (``m-2`` for the Laplacian); ``standard_name`` and fill attributes are dropped (they
  describe the input, not its derivative).
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_bool
from pipekit_array import float_values, values_of

from ._errors import CalcTypeError, CalcValueError
from ._grid import EARTH_RADIUS, grid_of, resolve_dims
from ._kernels import curl_kernel, divergence_kernel, gradient_kernel, laplacian_kernel

__all__ = [
    "AbstractGridOperator",
    "AbstractVectorOperator",
    "Curl",
    "Divergence",
    "Gradient",
    "Laplacian",
]

_GEOMETRIES = ("auto", "cartesian", "spherical")
_DROPPED = ("standard_name", "_FillValue", "missing_value", "valid_range", "valid_min", "valid_max")


def _check_config(
    owner: str, x_dim: Any, y_dim: Any, geometry: Any, radius: Any, periodic_x: Any
) -> float:
    check_bool(owner, "periodic_x", periodic_x)
    for name, value in (("x_dim", x_dim), ("y_dim", y_dim)):
        if value is not None and not (isinstance(value, str) and value):
            raise pk.ConfigError(
                f"{owner}: {name} must be a dimension name (str) or None to detect it, "
                f"got {value!r}"
            )
    if geometry not in _GEOMETRIES:
        raise pk.ConfigError(f"{owner}: geometry must be one of {_GEOMETRIES}, got {geometry!r}")
    ok = isinstance(radius, int | float) and not isinstance(radius, bool)
    if not ok or not (math.isfinite(radius) and radius > 0):
        raise pk.ConfigError(f"{owner}: radius must be a positive number of metres, got {radius!r}")
    return float(radius)


def _check_name(owner: str, arg: str, value: Any) -> str:
    if not (isinstance(value, str) and value):
        raise pk.ConfigError(f"{owner}: {arg} must be a variable name (str), got {value!r}")
    return value


def _dataarray(owner: str, x: Any) -> Any:
    import xarray as xr

    if isinstance(x, xr.Dataset):
        raise CalcTypeError(
            f"{owner} takes a scalar field as an xarray.DataArray, got a Dataset with "
            f"{list(x.data_vars)}; select one variable first (ds['name'])"
        )
    if not isinstance(x, xr.DataArray):
        raise CalcTypeError(
            f"{owner} takes an xarray.DataArray with named dims and coordinates, got "
            f"{type(x).__name__}; wrap it: xr.DataArray(values, dims=..., coords=...)"
        )
    return x


def _components(owner: str, ds: Any, u: str, v: str) -> tuple[Any, Any]:
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        raise CalcTypeError(
            f"{owner} takes a vector as an xarray.Dataset with variables {u!r} (x/eastward) "
            f"and {v!r} (y/northward), got {type(ds).__name__}; build one: "
            f"xr.Dataset({{{u!r}: u, {v!r}: v}})"
        )
    missing = [n for n in (u, v) if n not in ds.data_vars]
    if missing:
        raise CalcValueError(
            f"{owner}: the Dataset has no variable(s) {missing} (it has {list(ds.data_vars)}); "
            f"name the components with {owner}(u='...', v='...')"
        )
    a, b = ds[u], ds[v]
    if set(a.dims) != set(b.dims):
        raise CalcValueError(
            f"{owner}: {u!r} and {v!r} must have the same dims, got {a.dims} and {b.dims}"
        )
    return a, b.transpose(*a.dims)


def _derived(like: Any, values: Any, name: str, long_name: str, power: int) -> Any:
    out = like.copy(data=values)
    attrs = {k: val for k, val in like.attrs.items() if k not in _DROPPED}
    if "units" in attrs:
        attrs["units"] = f"{attrs['units']} m-{power}" if power > 1 else f"{attrs['units']} m-1"
    attrs["long_name"] = long_name
    out.attrs = attrs
    out.name = name
    return out


def _setup(op: Any, owner: str, like: Any) -> tuple[Any, int, int]:
    x, y = resolve_dims(owner, like, op.x_dim, op.y_dim)
    grid = grid_of(owner, like, x, y, op.geometry, op.radius, op.periodic_x)
    return grid, like.dims.index(x), like.dims.index(y)


class AbstractGridOperator(pk.Operator):
    """Fields and checks shared by the calculus operators: the grid they differentiate on.

    Args:
        x_dim, y_dim: the horizontal dimensions, or None to detect them.
        geometry: "auto", "cartesian" or "spherical".
        radius: the sphere's radius in metres (spherical geometry).
        periodic_x: wrap longitude (a global grid that goes once around the circle).
    """

    x_dim: str | None = eqx.field(static=True)
    y_dim: str | None = eqx.field(static=True)
    geometry: str = eqx.field(static=True)
    radius: float = eqx.field(static=True)
    periodic_x: bool = eqx.field(static=True)

    def __init__(
        self,
        x_dim: str | None = None,
        y_dim: str | None = None,
        geometry: str = "auto",
        radius: float = EARTH_RADIUS,
        periodic_x: bool = False,
    ) -> None:
        self._init_grid(x_dim, y_dim, geometry, radius, periodic_x)

    def _init_grid(
        self, x_dim: Any, y_dim: Any, geometry: Any, radius: Any, periodic_x: Any
    ) -> None:
        owner = type(self).__name__
        self.radius = _check_config(owner, x_dim, y_dim, geometry, radius, periodic_x)
        self.periodic_x = periodic_x
        self.x_dim, self.y_dim, self.geometry = x_dim, y_dim, geometry


class AbstractVectorOperator(AbstractGridOperator):
    """A scalar from the vector Dataset ``{u, v}``: Divergence and Curl."""

    u: str = eqx.field(static=True)
    v: str = eqx.field(static=True)

    _name: ClassVar[str]
    _long_name: ClassVar[str]

    def __init__(
        self,
        x_dim: str | None = None,
        y_dim: str | None = None,
        geometry: str = "auto",
        radius: float = EARTH_RADIUS,
        periodic_x: bool = False,
        u: str = "u",
        v: str = "v",
    ) -> None:
        self._init_grid(x_dim, y_dim, geometry, radius, periodic_x)
        owner = type(self).__name__
        self.u, self.v = _check_name(owner, "u", u), _check_name(owner, "v", v)

    @abc.abstractmethod
    def _kernel(self, u: Any, v: Any, grid: Any, xa: int, ya: int) -> Any:
        """The kernel of :mod:`._kernels` this operator computes."""

    def _apply(self, x: Any) -> Any:
        owner = type(self).__name__
        a, b = _components(owner, x, self.u, self.v)
        grid, xa, ya = _setup(self, owner, a)
        ua, va = (float_values(c, values=values_of(c)) for c in (a, b))
        return self._output(a, self._kernel(ua, va, grid, xa, ya))

    def _output(self, like: Any, values: Any) -> Any:
        """``values`` as a DataArray like ``like``: ``units`` gain ``m-1``."""
        return _derived(like, values, self._name, self._long_name, 1)


class Gradient(AbstractGridOperator):
    """The horizontal gradient ``(∂f/∂x, ∂f/∂y)`` of a scalar DataArray, as a vector Dataset.

    Returns ``xr.Dataset({u: ∂f/∂x, v: ∂f/∂y})`` on the input's grid (units of f per
    metre); on a lat/lon grid ``∂/∂x = 1/(R cos φ) ∂/∂λ`` and ``∂/∂y = 1/R ∂/∂φ``.

    Args:
        x_dim, y_dim: the horizontal dimensions, or None to detect them.
        geometry: "auto", "cartesian" or "spherical".
        radius: the sphere's radius in metres (spherical geometry).
        periodic_x: wrap longitude (a global grid that goes once around the circle).
        u, v: the names of the output's x and y components.

    Example:
        >>> import numpy as np, xarray as xr
        >>> x = np.arange(4.0) * 1000.0
        >>> f = xr.DataArray(np.add.outer(0 * x, 2 * x), dims=("y", "x"), coords={"y": x, "x": x})
        >>> float(Gradient()(f)["u"][1, 1]), float(Gradient()(f)["v"][1, 1])
        (2.0, 0.0)
    """

    u: str = eqx.field(static=True)
    v: str = eqx.field(static=True)

    def __init__(
        self,
        x_dim: str | None = None,
        y_dim: str | None = None,
        geometry: str = "auto",
        radius: float = EARTH_RADIUS,
        periodic_x: bool = False,
        u: str = "u",
        v: str = "v",
    ) -> None:
        self._init_grid(x_dim, y_dim, geometry, radius, periodic_x)
        self.u, self.v = _check_name("Gradient", "u", u), _check_name("Gradient", "v", v)
        if u == v:
            raise pk.ConfigError(f"Gradient: u and v must differ, got {u!r} for both")

    def _apply(self, x: Any) -> Any:
        import xarray as xr

        f = _dataarray("Gradient", x)
        grid, xa, ya = _setup(self, "Gradient", f)
        fx, fy = gradient_kernel(float_values(f, values=values_of(f)), grid, xa, ya)
        name = f.name or "f"
        return xr.Dataset(
            {
                self.u: _derived(f, fx, self.u, f"x derivative of {name}", 1),
                self.v: _derived(f, fy, self.v, f"y derivative of {name}", 1),
            }
        )


class Divergence(AbstractVectorOperator):
    """The horizontal divergence ``∂u/∂x + ∂v/∂y`` of a vector Dataset (variables u, v).

    On a lat/lon grid ``(∂u/∂λ + ∂(v cos φ)/∂φ) / (R cos φ)``. Returns a DataArray named
    ``"divergence"`` with u's attrs and ``units`` ``"<u units> m-1"``.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: as :class:`Gradient`.
        u, v: the Dataset's variables holding the x (eastward) and y (northward) components.

    Example:
        >>> import numpy as np, xarray as xr
        >>> c = np.arange(4.0) * 1000.0
        >>> X, Y = np.meshgrid(c, c)
        >>> ds = xr.Dataset({"u": (("y", "x"), 3e-5 * X), "v": (("y", "x"), 1e-5 * Y)},
        ...                 coords={"y": c, "x": c})
        >>> round(float(Divergence()(ds)[2, 2]), 12)
        4e-05
    """

    _name = "divergence"
    _long_name = "horizontal divergence"

    def _kernel(self, u: Any, v: Any, grid: Any, xa: int, ya: int) -> Any:
        return divergence_kernel(u, v, grid, xa, ya)


class Curl(AbstractVectorOperator):
    """The vertical component of the curl, ``∂v/∂x − ∂u/∂y`` (relative vorticity).

    On a lat/lon grid ``(∂v/∂λ − ∂(u cos φ)/∂φ) / (R cos φ)``: a solid-body rotation
    ``u = Ω R cos φ`` gives ``2 Ω sin φ``. Returns a DataArray named ``"curl"``.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: as :class:`Gradient`.
        u, v: the Dataset's variables holding the x (eastward) and y (northward) components.

    Example:
        >>> import numpy as np, xarray as xr
        >>> c = np.arange(4.0) * 1000.0
        >>> X, Y = np.meshgrid(c, c)
        >>> ds = xr.Dataset({"u": (("y", "x"), -1e-5 * Y), "v": (("y", "x"), 1e-5 * X)},
        ...                 coords={"y": c, "x": c})
        >>> round(float(Curl()(ds)[1, 2]), 12)
        2e-05
    """

    _name = "curl"
    _long_name = "vertical component of the curl"

    def _kernel(self, u: Any, v: Any, grid: Any, xa: int, ya: int) -> Any:
        return curl_kernel(u, v, grid, xa, ya)


class Laplacian(AbstractGridOperator):
    """The horizontal Laplacian ``∂²f/∂x² + ∂²f/∂y²`` of a scalar DataArray.

    Built from 3-point second differences inside and 4-point second-order one-sided ones
    at the edges (a tighter stencil than ``Gradient | Divergence``, which is also
    second-order but spans 5 points). On a lat/lon grid the Laplace–Beltrami operator
    ``f_λλ/(R² cos² φ) + (f_φφ − tan φ f_φ)/R²``: ``cos φ cos λ`` gives ``−2/R²`` times
    itself. ``units`` gain ``m-2``.

    Args:
        x_dim, y_dim, geometry, radius, periodic_x: as :class:`Gradient`.

    Example:
        >>> import numpy as np, xarray as xr
        >>> c = np.arange(5.0) * 10.0
        >>> X, Y = np.meshgrid(c, c)
        >>> f = xr.DataArray(X**2 + 3 * Y**2, dims=("y", "x"), coords={"y": c, "x": c})
        >>> round(float(Laplacian()(f)[0, 4]), 9)
        8.0
    """

    def _apply(self, x: Any) -> Any:
        f = _dataarray("Laplacian", x)
        grid, xa, ya = _setup(self, "Laplacian", f)
        out = laplacian_kernel(float_values(f, values=values_of(f)), grid, xa, ya)
        return _derived(f, out, f.name, "Laplacian", 2)
