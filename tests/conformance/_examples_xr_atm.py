"""Conformance examples: xr_toolz.atm (merged into examples.EXAMPLES).

The operators take a Dataset with CF ``units`` attrs and add one variable; ``call``
compares that variable (the inputs pass through unchanged). xarray objects are JAX
pytrees (``xr_toolz._pytree``: data leaves, labels static), so NumPy ==
``eqx.filter_jit`` runs on every example (float32 both sides); the no-retrace check opts
out (new coordinates are new constants under jit, by design), and so does the GeoTensor
nodata probe, with the reason given (NaN is a DataArray's nodata).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from xr_toolz.atm import (
    ColumnAverageDryAirMoleFraction,
    Dewpoint,
    EquivalentPotentialTemperature,
    GeostrophicWind,
    PotentialTemperature,
    RelativeHumidity,
)

from ._case import XARRAY_RETRACE, Case

ON_DATASET = {
    "retrace": XARRAY_RETRACE,
    "nodata": "Dataset input: NaN is the nodata and propagates elementwise (pure formulas)",
}


def sounding() -> xr.Dataset:
    rng = np.random.default_rng(7)
    level = np.array([1000.0, 850.0, 700.0, 500.0])
    shape = (level.size, 3, 2)
    t = 295.0 - 40.0 * (1.0 - level / 1000.0)[:, None, None] + rng.normal(0, 1, shape)
    td = t - rng.uniform(1.0, 10.0, shape)
    dims = ("level", "lat", "lon")
    return xr.Dataset(
        {
            "t": (dims, t, {"units": "K"}),
            "td": (dims, td, {"units": "K"}),
            "q": (dims, rng.uniform(1.0, 15.0, shape), {"units": "g/kg"}),
            "e": (dims, rng.uniform(2.0, 25.0, shape), {"units": "hPa"}),
        },
        {"level": ("level", level, {"units": "hPa"}), "lat": [0.0, 10.0, 20.0], "lon": [0.0, 5.0]},
    )


def heights() -> xr.Dataset:
    """Geopotential height (m) and geopotential (m2 s-2) on a 3-degree grid across the equator."""
    lat, lon = np.arange(-21.0, 40.0, 3.0), np.arange(100.0, 140.0, 4.0)
    lam, phi = np.meshgrid(np.deg2rad(lon), np.deg2rad(lat))
    z = 5600.0 + 80.0 * np.sin(2 * phi) * np.cos(3 * lam) - 150.0 * np.sin(phi) ** 2
    coords = {
        "lat": ("lat", lat, {"units": "degrees_north"}),
        "lon": ("lon", lon, {"units": "degrees_east"}),
    }
    dims = ("lat", "lon")
    return xr.Dataset(
        {"z": (dims, z, {"units": "m"}), "phi": (dims, 9.80665 * z, {"units": "m2 s-2"})},
        coords,
    )


def profiles() -> xr.Dataset:
    """CH4 (ppb) and specific humidity on 8 hPa levels at 2 x 3 sites."""
    rng = np.random.default_rng(11)
    level = np.array([1000.0, 900.0, 800.0, 600.0, 400.0, 200.0, 100.0, 20.0])
    shape = (2, level.size, 3)
    ch4 = 1920.0 - 250.0 * (1.0 - level / 1000.0)[None, :, None] + rng.normal(0, 4, shape)
    q = 0.012 * (level / 1000.0)[None, :, None] ** 3 * rng.uniform(0.5, 1.0, shape)
    dims = ("y", "level", "x")
    return xr.Dataset(
        {"ch4": (dims, ch4, {"units": "ppb"}), "q": (dims, q, {"units": "kg/kg"})},
        {"level": ("level", level, {"units": "hPa"})},
    )


def call_output(op, ds: xr.Dataset) -> xr.DataArray:
    """The added variable: the harness compares arrays, and the inputs pass through."""
    return op(ds)[op.output]


def _case(op) -> Case:
    return Case(op, make_input=sounding, call=call_output, vmap=False, extra=ON_DATASET)


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.atm.PotentialTemperature": [
        _case(PotentialTemperature("t", "level")),
        _case(PotentialTemperature("td", "level", p0=85000.0, output="theta_d")),
    ],
    "xr_toolz.atm.Dewpoint": [
        _case(Dewpoint("e")),
        _case(Dewpoint(specific_humidity="q", pressure="level")),
    ],
    "xr_toolz.atm.RelativeHumidity": [
        _case(RelativeHumidity()),
        _case(RelativeHumidity(formula="bolton", output="rh_bolton")),
    ],
    "xr_toolz.atm.GeostrophicWind": [
        Case(GeostrophicWind(), make_input=heights, vmap=False, extra=ON_DATASET),
        Case(
            GeostrophicWind("phi", equator_mask=10.0, radius=6370997.0, u="ug", v="vg"),
            make_input=heights,
            vmap=False,
            extra=ON_DATASET,
        ),
    ],
    "xr_toolz.atm.ColumnAverageDryAirMoleFraction": [
        Case(
            ColumnAverageDryAirMoleFraction(),
            make_input=profiles,
            call=call_output,
            vmap=False,
            extra=ON_DATASET,
        ),
        Case(
            ColumnAverageDryAirMoleFraction(basis="wet", units="ppm", output="xch4_ppm"),
            make_input=profiles,
            call=call_output,
            vmap=False,
            extra=ON_DATASET,
        ),
    ],
    "xr_toolz.atm.EquivalentPotentialTemperature": [
        _case(EquivalentPotentialTemperature(pressure="level")),
        _case(EquivalentPotentialTemperature(pressure="level", formula="bolton", p0=1e5)),
    ],
}
