"""Conformance examples: xr_toolz.calc (merged into examples.EXAMPLES).

The operators take xarray objects (a DataArray scalar field, a Dataset vector with
variables u/v) whose spacing comes from their coordinates. Gradient returns a Dataset.
xarray objects are JAX pytrees (``xr_toolz._pytree``: data leaves, labels static), so
NumPy == ``eqx.filter_jit`` runs on every example (float32 both sides); the no-retrace
check opts out (new coordinates are new constants under jit, by design), and so does the
GeoTensor nodata probe, with the reason given (NaN is a DataArray's nodata).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

import pipekit as pk
import xr_toolz as xt

from ._case import XARRAY_RETRACE, Case

XARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "xarray input: NaN nodata spreads through the stencil (tests/xr_toolz)",
}


def _sphere() -> dict[str, Any]:
    lat, lon = np.linspace(-60.0, 60.0, 13), np.arange(0.0, 100.0, 10.0)
    return {
        "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
    }


def scalar_sphere() -> xr.DataArray:
    c = _sphere()
    lam, phi = np.meshgrid(np.deg2rad(c["lon"][1]), np.deg2rad(c["lat"][1]))
    values = 5000.0 + 100.0 * np.sin(phi) * np.cos(phi) * np.cos(lam)
    return xr.DataArray(values, dims=("lat", "lon"), coords=c, name="z", attrs={"units": "m"})


def scalar_plane() -> xr.DataArray:
    x = np.linspace(0.0, 50e3, 12)
    y = np.array([0.0, 3e3, 7e3, 12e3, 18e3, 25e3, 33e3])  # non-uniform
    values = np.sin(x / 8e3)[None, :] * np.cos(y / 6e3)[:, None]
    return xr.DataArray(
        np.stack([values, 2 * values]),
        dims=("time", "y", "x"),
        coords={"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})},
        name="sst",
        attrs={"units": "K"},
    )


def scalar_globe() -> xr.DataArray:
    """A global 20-degree grid (lon 0..340, going once around): for periodic_x=True."""
    lat, lon = np.linspace(-80.0, 80.0, 9), np.arange(0.0, 360.0, 20.0)
    lam, phi = np.meshgrid(np.deg2rad(lon), np.deg2rad(lat))
    return xr.DataArray(
        np.cos(phi) * np.cos(lam),
        dims=("lat", "lon"),
        coords={"lat": lat, "lon": lon},
        name="y11",
    )


def vector_sphere() -> xr.Dataset:
    z = scalar_sphere()
    phi = np.deg2rad(z.lat.values)[:, None] + 0 * z.values
    return xr.Dataset(
        {"u": (z.dims, 20.0 * np.cos(phi)), "v": (z.dims, np.sin(z.values / 50.0))},
        coords=z.coords,
    )


def vector_plane() -> xr.Dataset:
    f = scalar_plane()
    return xr.Dataset({"uo": f, "vo": -0.5 * f.transpose("time", "x", "y")}, coords=f.coords)


def call_as_dict(op: pk.Operator, x: Any) -> dict[str, Any]:
    return dict(op(x).data_vars)


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.calc.Gradient": [
        Case(xt.calc.Gradient(), scalar_sphere, call_as_dict, vmap=False, extra=XARRAY),
        Case(
            xt.calc.Gradient("x", "y", "cartesian", u="dx", v="dy"),
            scalar_plane,
            call_as_dict,
            vmap=False,
            extra=XARRAY,
        ),
    ],
    "xr_toolz.calc.Divergence": [
        Case(xt.calc.Divergence(), vector_sphere, vmap=False, extra=XARRAY),
        Case(xt.calc.Divergence(u="uo", v="vo"), vector_plane, vmap=False, extra=XARRAY),
    ],
    "xr_toolz.calc.Curl": [
        Case(xt.calc.Curl(), vector_sphere, vmap=False, extra=XARRAY),
        Case(xt.calc.Curl(u="uo", v="vo", radius=6.0e6), vector_plane, vmap=False, extra=XARRAY),
    ],
    "xr_toolz.calc.Laplacian": [
        Case(xt.calc.Laplacian(), scalar_sphere, vmap=False, extra=XARRAY),
        Case(xt.calc.Laplacian(y_dim="y"), scalar_plane, vmap=False, extra=XARRAY),
        Case(xt.calc.Laplacian(periodic_x=True), scalar_globe, vmap=False, extra=XARRAY),
    ],
}
