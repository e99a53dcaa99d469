"""Reading CF ``units`` attrs into SI factors: the atm operators' one unit gate.

No unit library: a short explicit table per quantity. An input's ``units`` attr must be
one of its table's spellings; anything else (or no attr) raises :class:`AtmInputError`
naming the variable, what came, what is accepted and how to fix it, rather than guess.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

import pipekit as pk
from pipekit_array import values_of

__all__ = [
    "G0",
    "HEIGHT",
    "HUMIDITY",
    "MOLE_FRACTION",
    "PRESSURE",
    "TEMPERATURE",
    "AtmInputError",
    "si_scale",
    "si_values",
]

#: Standard gravity, m s-2 (MetPy's ``metpy.constants.g``; WMO geopotential metre).
G0 = 9.80665


class AtmInputError(pk.PipekitError, ValueError):
    """An xr_toolz.atm input is missing, or its ``units`` attr is not one we convert."""


#: ``units`` spelling -> (scale, offset) so that SI = value * scale + offset.
TEMPERATURE: dict[str, tuple[float, float]] = {
    "K": (1.0, 0.0),
    "kelvin": (1.0, 0.0),
    "degK": (1.0, 0.0),
    "degC": (1.0, 273.15),
    "deg_C": (1.0, 273.15),
    "celsius": (1.0, 273.15),
}
PRESSURE: dict[str, tuple[float, float]] = {
    "Pa": (1.0, 0.0),
    "pascal": (1.0, 0.0),
    "hPa": (100.0, 0.0),
    "mbar": (100.0, 0.0),
    "millibar": (100.0, 0.0),
    "kPa": (1000.0, 0.0),
}
HUMIDITY: dict[str, tuple[float, float]] = {
    "1": (1.0, 0.0),
    "kg/kg": (1.0, 0.0),
    "kg kg-1": (1.0, 0.0),
    "kg kg**-1": (1.0, 0.0),
    "g/kg": (1e-3, 0.0),
    "g kg-1": (1e-3, 0.0),
}
#: Geopotential height in m (gpm), or geopotential in m2 s-2 (divided by g0 = 9.80665).
HEIGHT: dict[str, tuple[float, float]] = {
    "m": (1.0, 0.0),
    "metre": (1.0, 0.0),
    "meter": (1.0, 0.0),
    "gpm": (1.0, 0.0),
    "km": (1000.0, 0.0),
    "m2 s-2": (1.0 / G0, 0.0),
    "m**2 s**-2": (1.0 / G0, 0.0),
    "m^2/s^2": (1.0 / G0, 0.0),
    "m2/s2": (1.0 / G0, 0.0),
    "J kg-1": (1.0 / G0, 0.0),
    "J/kg": (1.0 / G0, 0.0),
}
#: Mole fraction (amount of substance per amount of air), SI mol mol-1.
MOLE_FRACTION: dict[str, tuple[float, float]] = {
    "mol mol-1": (1.0, 0.0),
    "mol/mol": (1.0, 0.0),
    "1": (1.0, 0.0),
    "ppm": (1e-6, 0.0),
    "1e-6": (1e-6, 0.0),
    "umol mol-1": (1e-6, 0.0),
    "ppb": (1e-9, 0.0),
    "1e-9": (1e-9, 0.0),
    "nmol mol-1": (1e-9, 0.0),
}
_SI = {
    id(TEMPERATURE): "K",
    id(PRESSURE): "Pa",
    id(HUMIDITY): "kg/kg",
    id(HEIGHT): "m",
    id(MOLE_FRACTION): "mol mol-1",
}


def variable(owner: str, ds: Any, name: str, arg: str) -> xr.DataArray:
    """``ds[name]`` (a data variable or a coordinate, e.g. a pressure level axis)."""
    if not isinstance(ds, xr.Dataset):
        raise AtmInputError(
            f"{owner} takes an xarray.Dataset holding its inputs by name, got "
            f"{type(ds).__name__}; build one with xr.Dataset({{'t': t, 'p': p}})"
        )
    if name not in ds.variables:
        raise AtmInputError(
            f"{owner}: {arg}={name!r} is not a variable or coordinate of the Dataset (it "
            f"has {sorted(map(str, ds.variables))}); pass {arg}= with one of those names"
        )
    return ds[name]


def si_scale(
    owner: str, da: xr.DataArray, arg: str, table: dict[str, tuple[float, float]]
) -> tuple[float, float]:
    """``(scale, offset)`` with SI = value * scale + offset, from ``da``'s ``units`` attr.

    For kernels that fold the scale into a host constant instead of scaling the data
    (float32: scaling first rounds every value, and XLA may fuse it differently).
    """
    units = da.attrs.get("units")
    if units not in table:
        got = "no 'units' attr" if units is None else f"units={units!r}"
        raise AtmInputError(
            f"{owner}: {arg} {da.name!r} must carry a CF 'units' attr, one of "
            f"{list(table)}, got {got}; set it with "
            f"ds[{da.name!r}].attrs['units'] = '{_SI[id(table)]}' (after converting)"
        )
    return table[units]


def si_values(owner: str, da: xr.DataArray, arg: str, table: dict[str, tuple[float, float]]) -> Any:
    """The data of ``da`` (NumPy or JAX) converted to SI by its ``units`` attr."""
    scale, offset = si_scale(owner, da, arg, table)
    x = values_of(da)
    if scale != 1.0:
        x = x * scale
    if offset != 0.0:
        x = x + offset
    return x
