"""Dask-backed inputs stay lazy: no chunk is computed until asked, and the numbers equal the
NumPy path's. A scheduler that raises on any compute proves the first half."""

from __future__ import annotations

from collections.abc import Callable

import dask
import numpy as np
import pytest
import xarray as xr

import xr_toolz as xt


def _refuse(dsk, keys, **kwargs):
    raise AssertionError("a chunk was computed: the operator is not lazy")


def _t2m() -> xr.DataArray:
    return xt.testing.reanalysis_like(nlat=6, nlon=8, seed=3)


CASES: dict[str, tuple[Callable[[xr.DataArray], xr.DataArray], dict[str, int]]] = {
    "RMSE over time": (lambda t: xt.metrics.RMSE("time")(t, t * 1.01 + 0.5), {"lat": 3}),
    "Correlation over time": (
        lambda t: xt.metrics.Correlation("time")(t, t**1.5),
        {"lat": 3, "time": 400},
    ),
    "Bias cos_lat": (
        lambda t: xt.metrics.Bias(("lat", "lon"), weights="cos_lat")(t, t + 0.1),
        {"time": 300},
    ),
    "Climatology month": (lambda t: xt.detrend.Climatology("month")(t), {"time": 200}),
    "RemoveClimatology dayofyear": (
        lambda t: xt.detrend.RemoveClimatology()(t),
        {"time": 250},
    ),
    "Detrend linear (time chunked)": (lambda t: xt.detrend.Detrend()(t), {"time": 300, "lat": 2}),
    "PowerSpectrum over lon": (lambda t: xt.transforms.PowerSpectrum("lon")(t), {"time": 365}),
    "Laplacian on the sphere": (lambda t: xt.calc.Laplacian()(t), {"time": 365}),
    "SubsetBBox then WeightedMean": (
        lambda t: xt.geo.WeightedMean(("lat", "lon"))(xt.geo.SubsetBBox(-60, 60, -40, 40)(t)),
        {"time": 300},
    ),
    "POD of a warm event": (lambda t: xt.metrics.POD(285.0, "time")(t, t + 1.0), {"lat": 3}),
    "GeostrophicWind": (
        lambda t: xt.atm.GeostrophicWind()(
            (t * 20.0).assign_attrs(units="m").rename("z").to_dataset()
        )["u"],
        {"time": 365},
    ),
}


def _ensemble() -> xr.Dataset:
    return xt.testing.ensemble_forecast()


OTHER_INPUTS = {
    "SeaIceExtent per month": (
        lambda ds: xt.ice.SeaIceExtent()(ds),
        {"time": 4},
    ),
    "GeostrophicVelocity of SSH eddies": (
        lambda ds: xt.ocn.GeostrophicVelocity()(ds.to_dataset(name="ssh"))["u"],
        {"lat": 20},
    ),
    "CRPS over time": (
        lambda ds: xt.metrics.CRPS(dim="time")(ds["analysis"], ds["forecast"]),
        {"lat": 4},
    ),
    "SpreadSkill": (
        lambda ds: xt.metrics.SpreadSkill(dim=("lat", "lon"))(ds["analysis"], ds["forecast"]),
        {"time": 5},
    ),
}


@pytest.mark.parametrize("name", list(OTHER_INPUTS))
def test_dask_ensemble_ice_and_ocean_stay_lazy_and_equal_numpy(name):
    op, chunks = OTHER_INPUTS[name]
    ds = {
        "SeaIceExtent per month": xt.testing.polar_sea_ice,
        "GeostrophicVelocity of SSH eddies": xt.testing.ssh_eddies,
    }.get(name, _ensemble)()
    with dask.config.set(scheduler=_refuse):
        lazy = op(ds.chunk(chunks))
    assert hasattr(lazy.data, "dask"), f"{name}: got {type(lazy.data).__name__}, not dask"
    with dask.config.set(scheduler="synchronous"):
        computed = lazy.compute()
    np.testing.assert_allclose(computed.values, op(ds).values, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_dask_input_stays_lazy_and_equals_numpy(name):
    op, chunks = CASES[name]
    t = _t2m()
    with dask.config.set(scheduler=_refuse):
        lazy = op(t.chunk(chunks))
    assert hasattr(lazy.data, "dask"), f"{name}: got {type(lazy.data).__name__}, not dask"
    eager = op(t)
    assert lazy.dims == eager.dims and lazy.shape == eager.shape
    with dask.config.set(scheduler="synchronous"):
        computed = lazy.compute()
    np.testing.assert_allclose(computed.values, eager.values, rtol=1e-10, atol=1e-10)
