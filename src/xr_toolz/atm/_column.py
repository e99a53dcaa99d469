r"""Column-averaged dry-air mole fraction (XCH4, XCO2, ...) of a profile on pressure levels.

The TCCON / OCO-2 convention (O'Dell et al. 2012, AMT 5, 99; Wunch et al. 2011): the
column average weights each layer by its number of dry-air molecules,

.. math::

    X = \sum_i h_i\, x^{\mathrm{dry}}_i, \qquad
    h_i = \frac{\Delta p_i\,(1 - q_i)}{\sum_j \Delta p_j\,(1 - q_j)},

since a layer holds :math:`\Delta p_i (1-q_i)/(g M_d)` moles of dry air per unit area
(:math:`q` specific humidity, kg of vapour per kg of moist air; :math:`g` cancels in the
ratio). This is :math:`X = \int x^{\mathrm{dry}} dp_{\mathrm{dry}} / \int dp_{\mathrm{dry}}`
with :math:`dp_{\mathrm{dry}} = (1-q)\,dp`.

**Layers from levels.** The profile is given at pressure levels :math:`p_0..p_{N-1}`
(layer midpoints; surface-first or top-first). Layer edges are the midpoints between
neighbouring levels, and the outermost edges are the outermost levels themselves, so

.. math::

    \Delta p_0 = \tfrac12|p_0 - p_1|, \quad
    \Delta p_i = \tfrac12|p_{i-1} - p_{i+1}|, \quad
    \Delta p_{N-1} = \tfrac12|p_{N-2} - p_{N-1}|,

the weights of the trapezoid rule: :math:`\sum_i f_i\Delta p_i` = ``trapezoid(f, p)``.
The column therefore spans exactly the levels given; to cover the whole atmosphere, give
levels from the surface to the top (e.g. include a level near 0 Pa).

**Wet to dry.** With ``basis="wet"`` the input is a mole fraction in moist air,
:math:`x = n/(n_d + n_w)`, converted with the water vapour's molar ratio to dry air
:math:`r = w M_d / M_w = w/\varepsilon`, :math:`w = q/(1-q)`:
:math:`x^{\mathrm{dry}} = x\,(1 + r) = x\,\big(1 + q/(\varepsilon(1-q))\big)`, with
:math:`\varepsilon = M_w/M_d = 0.62196` (MetPy's ``metpy.constants`` molecular weights).
With ``basis="dry"`` (transport models such as TM5/CarbonTracker) :math:`x` is used as is.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import namespace

from ._kernels import EPSILON
from ._units import HUMIDITY, MOLE_FRACTION, PRESSURE, AtmInputError, si_values, variable

__all__ = ["ColumnAverageDryAirMoleFraction", "column_average_dry_mole_fraction", "layer_dp"]

_BASES = ("dry", "wet")
#: Output units -> factor from mol mol-1.
_OUT_UNITS = {"ppb": 1e9, "ppm": 1e6, "mol mol-1": 1.0}
_SPECIES = {
    "ch4": "methane",
    "co2": "carbon dioxide",
    "co": "carbon monoxide",
    "n2o": "nitrous oxide",
}


def _slice(a: Any, start: int | None, stop: int | None, axis: int) -> Any:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


def layer_dp(p: Any, axis: int) -> Any:
    """Layer thickness :math:`\\Delta p_i` (the trapezoid weights) along ``axis``, >= 0."""
    xp = namespace(p)
    axis = axis % p.ndim
    mid = 0.5 * (_slice(p, 1, None, axis) + _slice(p, None, -1, axis))
    edges = xp.concat([_slice(p, None, 1, axis), mid, _slice(p, -1, None, axis)], axis=axis)
    return xp.abs(_slice(edges, 1, None, axis) - _slice(edges, None, -1, axis))


def column_average_dry_mole_fraction(
    x: Any, p: Any, axis: int, q: Any | None = None, basis: str = "dry"
) -> Any:
    """:math:`X = \\sum_i x^{dry}_i \\Delta p_i (1-q_i) / \\sum_i \\Delta p_i (1-q_i)` (SI).

    ``x`` in mol mol-1, ``p`` in Pa, ``q`` in kg/kg (None: dry air, q = 0), all broadcast
    to one shape; the ``axis`` is reduced. NaN anywhere in a column gives NaN (a column
    with a missing level is not a column). NumPy or JAX, traces under ``jax.jit``.
    """
    xp = namespace(x)
    dp = layer_dp(p, axis)
    if q is None:
        weight, dry = dp, x
    else:
        weight = dp * (1.0 - q)
        dry = x * (1.0 + q / (EPSILON * (1.0 - q))) if basis == "wet" else x
    return xp.sum(dry * weight, axis=axis) / xp.sum(weight, axis=axis)


class ColumnAverageDryAirMoleFraction(pk.Operator):
    r"""Column-averaged dry-air mole fraction (e.g. XCH4) of a profile on pressure levels.

    :math:`X = \sum_i x^{dry}_i \Delta p_i(1-q_i) / \sum_i \Delta p_i(1-q_i)`; layers,
    the wet-to-dry conversion and the convention are in :mod:`xr_toolz.atm._column`.

    Args:
        species: the gas (``"ch4"``, ``"co2"``, ...): names the default input and output
            and the ``long_name``.
        mole_fraction: the profile variable (default ``species``), ``units`` mol mol-1,
            mol/mol, 1, ppm, ppb (or 1e-6, 1e-9).
        dim: the vertical dimension reduced.
        pressure: the pressure variable or coordinate (Pa, hPa, ...); None uses the
            coordinate of ``dim``. A full (e.g. hybrid-level) pressure variable works.
        specific_humidity: the specific humidity variable (kg/kg, g/kg), or None for a
            dry atmosphere (then ``basis`` must be ``"dry"``).
        basis: ``"dry"`` (``x`` is already a dry-air mole fraction) or ``"wet"``.
        units: output units, ``"ppb"`` (default), ``"ppm"`` or ``"mol mol-1"``.
        output: the added variable (default ``"x" + species``, e.g. ``"xch4"``).

    Example:
        >>> import numpy as np, xarray as xr
        >>> level = xr.DataArray([1000.0, 500.0, 100.0], dims="level", attrs={"units": "hPa"})
        >>> ds = xr.Dataset({"ch4": ("level", [1900.0, 1850.0, 1700.0], {"units": "ppb"})},
        ...                 coords={"level": level})
        >>> round(float(ColumnAverageDryAirMoleFraction(specific_humidity=None)(ds)["xch4"]), 2)
        1830.56
    """

    species: str = eqx.field(static=True)
    mole_fraction: str = eqx.field(static=True)
    dim: str = eqx.field(static=True)
    pressure: str | None = eqx.field(static=True)
    specific_humidity: str | None = eqx.field(static=True)
    basis: str = eqx.field(static=True)
    units: str = eqx.field(static=True)
    output: str = eqx.field(static=True)

    def __init__(
        self,
        species: str = "ch4",
        *,
        mole_fraction: str | None = None,
        dim: str = "level",
        pressure: str | None = None,
        specific_humidity: str | None = "q",
        basis: str = "dry",
        units: str = "ppb",
        output: str | None = None,
    ) -> None:
        owner = type(self).__name__
        for arg, value, optional in (
            ("species", species, False),
            ("mole_fraction", mole_fraction, True),
            ("dim", dim, False),
            ("pressure", pressure, True),
            ("specific_humidity", specific_humidity, True),
            ("output", output, True),
        ):
            if not ((value is None and optional) or (isinstance(value, str) and value)):
                raise pk.ConfigError(
                    f"{owner}: {arg} must be a name (non-empty str)"
                    f"{' or None' if optional else ''}, got {value!r}"
                )
        if basis not in _BASES:
            raise pk.ConfigError(
                f"{owner}: basis must be one of {list(_BASES)} ('dry': the profile is a "
                f"dry-air mole fraction; 'wet': in moist air, converted with q), got {basis!r}"
            )
        if basis == "wet" and specific_humidity is None:
            raise pk.ConfigError(
                f"{owner}: basis='wet' converts to dry air with specific humidity; pass "
                f"specific_humidity='<name>' or use basis='dry', got specific_humidity=None"
            )
        if units not in _OUT_UNITS:
            raise pk.ConfigError(f"{owner}: units must be one of {list(_OUT_UNITS)}, got {units!r}")
        self.species = species
        self.mole_fraction = mole_fraction if mole_fraction is not None else species
        self.dim = dim
        self.pressure = pressure
        self.specific_humidity = specific_humidity
        self.basis = basis
        self.units = units
        self.output = output if output is not None else f"x{species}"

    def _apply(self, ds: Any) -> xr.Dataset:
        owner = type(self).__name__
        x = variable(owner, ds, self.mole_fraction, "mole_fraction")
        if self.dim not in x.dims:
            raise AtmInputError(
                f"{owner}: dim={self.dim!r} must be a dimension of {x.name!r} {list(x.dims)}; "
                f"pass dim= with the vertical dimension's name"
            )
        p = variable(owner, ds, self.pressure or self.dim, "pressure")
        das = [x, p]
        if self.specific_humidity is not None:
            das.append(variable(owner, ds, self.specific_humidity, "specific_humidity"))
        if p.name in ds.coords and p.dims == (self.dim,):
            c = np.asarray(p.values, dtype=np.float64)  # host coordinate: check it
            if not (np.all(np.diff(c) > 0) or np.all(np.diff(c) < 0)):
                raise AtmInputError(
                    f"{owner}: pressure {p.name!r} must be strictly monotonic along "
                    f"{self.dim!r} to make layers, got {c}"
                )
        try:
            bcast = xr.broadcast(*das)
        except ValueError as err:
            raise AtmInputError(
                f"{owner}: the inputs {[d.name for d in das]} do not broadcast ({err}); "
                f"give them matching dims/coords"
            ) from err
        dims = bcast[0].dims
        tables = [
            ("mole_fraction", MOLE_FRACTION),
            ("pressure", PRESSURE),
            ("specific_humidity", HUMIDITY),
        ]
        values = [
            si_values(owner, b.transpose(*dims).assign_attrs(d.attrs), arg, table)
            for b, d, (arg, table) in zip(bcast, das, tables, strict=False)
        ]
        q = values[2] if len(values) == 3 else None
        xcol = column_average_dry_mole_fraction(
            values[0], values[1], dims.index(self.dim), q, self.basis
        )
        xcol = xcol * _OUT_UNITS[self.units]
        gas = _SPECIES.get(self.species, self.species)
        attrs = {
            "units": self.units,
            "long_name": f"column-averaged dry-air mole fraction of {gas}",
            "cell_methods": f"{self.dim}: mean (weighted by dry-air pressure thickness)",
        }
        kept = {k: c for k, c in bcast[0].coords.items() if self.dim not in c.dims}
        out_dims = tuple(d for d in dims if d != self.dim)
        result = xr.DataArray(xcol, dims=out_dims, coords=kept, attrs=attrs)
        return ds.assign({self.output: result})
