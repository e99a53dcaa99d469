"""Conformance examples: xr_toolz.ocn (merged into examples.EXAMPLES).

Inputs are small synthetic ocean fields: sea-surface height with Gaussian eddies on a
midlatitude lat/lon grid (and on a cartesian f-plane), the geostrophic velocity Dataset
made from it, and density profiles from a linear equation of state of the synthetic
T/S profiles. NumPy == jit runs on every example (float32 both sides); the no-retrace
check opts out (xarray labels are static), and the GeoTensor nodata checks do not apply
(NaN spreads through the stencils; tests/xr_toolz/test_ocn.py checks it).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import xr_toolz as xt

from ._case import XARRAY_RETRACE, Case

XARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "xarray input: NaN is the nodata and spreads through the stencils (tests/xr_toolz)",
}


def ssh() -> xr.DataArray:
    return xt.testing.ssh_eddies(lat=(32.0, 42.0), lon=(-50.0, -36.0), resolution=0.5)


def ssh_plane() -> xr.DataArray:
    x = np.linspace(-150e3, 150e3, 16)
    y = np.linspace(-100e3, 100e3, 11)
    values = 0.2 * np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / 60e3**2)
    coords = {"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})}
    return xr.DataArray(values, dims=("y", "x"), coords=coords, name="ssh", attrs={"units": "m"})


def velocity() -> xr.Dataset:
    return xt.ocn.GeostrophicVelocity()(ssh())


def velocity_series() -> xr.Dataset:
    series = xt.testing.ssh_eddies(lat=(32.0, 42.0), lon=(-50.0, -36.0), resolution=0.5, ntime=4)
    return xt.ocn.GeostrophicVelocity(u="ugosa", v="vgosa")(series)


def profiles() -> xr.Dataset:
    """Potential density (kg m-3) of the synthetic profiles by a linear equation of state."""
    pr = xt.testing.ocean_profiles(depth=np.arange(0.0, 201.0, 10.0))
    rho = 1027.0 * (1 - 2e-4 * (pr.temperature - 10.0) + 7.6e-4 * (pr.salinity - 35.0))
    return xr.Dataset({"rho": rho, "sigma": rho - 1000.0})


def _case(op, make) -> Case:
    return Case(op, make_input=make, vmap=False, extra=XARRAY)


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.ocn.Coriolis": [_case(xt.ocn.Coriolis(), ssh)],
    "xr_toolz.ocn.GeostrophicVelocity": [
        _case(xt.ocn.GeostrophicVelocity(), ssh),
        _case(xt.ocn.GeostrophicVelocity(f0=8e-5, g=9.81, u="ug", v="vg"), ssh_plane),
    ],
    "xr_toolz.ocn.RelativeVorticity": [_case(xt.ocn.RelativeVorticity(), velocity)],
    "xr_toolz.ocn.Strain": [_case(xt.ocn.Strain(), velocity)],
    "xr_toolz.ocn.OkuboWeiss": [_case(xt.ocn.OkuboWeiss(), velocity)],
    "xr_toolz.ocn.EKE": [
        _case(xt.ocn.EKE(), velocity),
        _case(xt.ocn.EKE(dim="time", u="ugosa", v="vgosa"), velocity_series),
    ],
    "xr_toolz.ocn.BruntVaisala": [
        _case(xt.ocn.BruntVaisala(), profiles),
        _case(xt.ocn.BruntVaisala(density="rho", rho0=None, g=9.7963), profiles),
    ],
    "xr_toolz.ocn.MixedLayerDepth": [
        _case(xt.ocn.MixedLayerDepth(density="sigma"), profiles),
        _case(xt.ocn.MixedLayerDepth(threshold=0.125, ref_depth=5.0), profiles),
    ],
}
