"""xr_toolz.detrend against xarray's groupby (flox), scipy.signal.detrend and numpy.polyfit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import xarray as xr

import pipekit as pk
from xr_toolz.detrend import (
    Climatology,
    Detrend,
    RemoveClimatology,
    group_mean,
    poly_detrend,
    remove_group_mean,
)
from xr_toolz.testing import reanalysis_like

FREQS = ["dayofyear", "month", "season"]


@pytest.fixture
def t2m() -> xr.DataArray:
    x = reanalysis_like(nlat=4, nlon=5, seed=3)
    values = x.values.copy()
    values[10:40, 1, 2] = np.nan  # a gap inside January/February
    values[::7, 0, 0] = np.nan  # scattered missing days
    values[:, 3, 4] = np.nan  # an all-missing series
    return x.copy(data=values)


@pytest.mark.parametrize("freq", FREQS)
def test_climatology_equals_xarray_groupby_mean_with_flox(t2m, freq):
    with xr.set_options(use_flox=True):
        want = t2m.groupby(f"time.{freq}").mean()
    got = Climatology(freq)(t2m)
    assert got.dims == want.dims
    np.testing.assert_array_equal(got[freq].values, want[freq].values)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert got.attrs == t2m.attrs and got.name == "t2m"
    np.testing.assert_array_equal(got.lat.values, t2m.lat.values)


@pytest.mark.parametrize("freq", FREQS)
def test_anomalies_equal_xarray_groupby_minus_climatology(t2m, freq):
    with xr.set_options(use_flox=True):
        want = t2m.groupby(f"time.{freq}") - t2m.groupby(f"time.{freq}").mean()
    got = RemoveClimatology(freq)(t2m)
    assert got.dims == t2m.dims and got.attrs["units"] == "K"
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(t2m.values))


def test_leap_days_follow_xarray_dayofyear_hand_computed():
    x = reanalysis_like(nlat=2, nlon=2, seed=1)
    clim = Climatology("dayofyear")(x)
    assert clim.sizes["dayofyear"] == 366
    # Day 366 is Dec 31 of the leap year 2020 alone.
    np.testing.assert_allclose(clim.sel(dayofyear=366), x.sel(time="2020-12-31"), rtol=1e-14)
    # Day 60 is Mar 1 in 2019 and 2021 and Feb 29 in 2020.
    days = x.sel(time=["2019-03-01", "2020-02-29", "2021-03-01"]).values
    np.testing.assert_allclose(clim.sel(dayofyear=60), days.mean(axis=0), rtol=1e-14)
    # Dec 31 of the common years is day 365 together with Dec 30 2020.
    days = x.sel(time=["2019-12-31", "2020-12-30", "2021-12-31"]).values
    np.testing.assert_allclose(clim.sel(dayofyear=365), days.mean(axis=0), rtol=1e-14)


def test_group_with_no_valid_value_is_nan_without_warning():
    x = reanalysis_like(nlat=1, nlon=2, seed=0)
    values = x.values.copy()
    values[x.time.dt.month.values == 3, 0, 0] = np.nan
    clim = Climatology("month")(x.copy(data=values))
    assert np.isnan(clim.sel(month=3).values[0, 0])
    np.testing.assert_allclose(
        clim.sel(month=3).values[0, 1], values[x.time.dt.month.values == 3, 0, 1].mean()
    )


def test_dataset_maps_every_variable_with_the_dim():
    ds = reanalysis_like(nlat=2, nlon=3, as_dataset=True)
    ds["orography"] = ds.t2m.isel(time=0, drop=True) * 0 + 100.0
    out = RemoveClimatology("month")(ds)
    xr.testing.assert_identical(out.orography, ds.orography)
    np.testing.assert_allclose(out.t2m.values, RemoveClimatology("month")(ds.t2m).values)
    assert out.attrs == ds.attrs


@pytest.mark.parametrize(("degree", "kind"), [(0, "constant"), (1, "linear")])
def test_detrend_equals_scipy_signal_detrend(degree, kind):
    x = reanalysis_like(nlat=3, nlon=4, seed=2)
    got = Detrend(degree=degree)(x)
    want = scipy.signal.detrend(x.values, axis=0, type=kind)
    np.testing.assert_allclose(got.values, want, rtol=0, atol=1e-10)
    assert got.dims == x.dims and got.attrs == x.attrs
    # Along another named dim: scipy over that axis.
    got_lon = Detrend(dim="lon", degree=degree)(x)
    np.testing.assert_allclose(
        got_lon.values, scipy.signal.detrend(x.values, axis=2, type=kind), rtol=0, atol=1e-10
    )


def _polyfit_residual(y: np.ndarray, degree: int) -> np.ndarray:
    t = np.arange(y.size, dtype=np.float64)
    ok = ~np.isnan(y)
    out = np.full_like(y, np.nan)
    if ok.sum() > degree:
        out[ok] = y[ok] - np.polyval(np.polyfit(t[ok], y[ok], degree), t[ok])
    return out


@pytest.mark.parametrize("degree", [2, 3])
def test_detrend_degree_2_and_3_equal_numpy_polyfit_residual(degree):
    x = reanalysis_like(nlat=2, nlon=3, seed=4)
    got = Detrend(degree=degree)(x).values
    for i in range(2):
        for j in range(3):
            want = _polyfit_residual(x.values[:, i, j], degree)
            np.testing.assert_allclose(got[:, i, j], want, rtol=0, atol=1e-9)


def test_detrend_leaves_nan_out_of_the_fit(t2m):
    got = Detrend(degree=1)(t2m).values
    for i, j in [(1, 2), (0, 0), (3, 4), (2, 2)]:
        want = _polyfit_residual(t2m.values[:, i, j], 1)
        np.testing.assert_allclose(got[:, i, j], want, rtol=0, atol=1e-10, equal_nan=True)
    assert np.isnan(got[:, 3, 4]).all()


def test_detrend_series_with_too_few_values_is_nan():
    y = np.full((1, 6), np.nan)
    y[0, 2] = 1.0
    y[0, 4] = 3.0
    assert np.isnan(poly_detrend(y, 2, axis=1)).all()  # 2 values cannot fit a parabola
    np.testing.assert_allclose(poly_detrend(y, 1, axis=1)[0, [2, 4]], [0.0, 0.0], atol=1e-14)


def test_kernels_numpy_path_equals_jit_path_in_float64():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(3, 50, 4)) + 280.0
    v[0, 3:9, 1] = np.nan
    ids = (np.arange(50) % 6).astype(np.int32)
    with jax.enable_x64(True):
        jv = jnp.asarray(v)
        pairs = [
            (group_mean(v, ids, 6, 1), jax.jit(lambda a: group_mean(a, ids, 6, 1))(jv)),
            (
                remove_group_mean(v, ids, 6, -2),
                jax.jit(lambda a: remove_group_mean(a, ids, 6, -2))(jv),
            ),
            (poly_detrend(v, 2, 1), jax.jit(lambda a: poly_detrend(a, 2, 1))(jv)),
        ]
        for want, got in pairs:
            assert got.dtype == jnp.float64
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12,
                                       equal_nan=True)  # fmt: skip


def test_kernels_under_jit_in_float32_and_no_retrace():
    x = reanalysis_like(nlat=2, nlon=3).astype(np.float32)
    ids = x.time.dt.dayofyear.values.astype(np.int32) - 1
    traces = []

    def run(a):
        traces.append(1)
        return remove_group_mean(a, ids, 366, 0)

    jitted = jax.jit(run)
    want = remove_group_mean(x.values, ids, 366, 0)
    for seed in (0, 1):
        values = reanalysis_like(nlat=2, nlon=3, seed=seed).values.astype(np.float32)
        got = jitted(jnp.asarray(values))
        assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(jitted(jnp.asarray(x.values))), want, atol=1e-4)
    assert len(traces) == 1


def test_group_ids_out_of_range_teach():
    with pytest.raises(ValueError, match=r"group_mean: group_ids must lie in \[0, n_groups=3\)"):
        group_mean(np.zeros((4,)), np.array([0, 1, 2, 3]), 3, 0)


def test_config_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"Climatology: freq must be one of"):
        Climatology("week")
    with pytest.raises(pk.ConfigError, match=r"RemoveClimatology: dim must be the name"):
        RemoveClimatology(dim=0)
    with pytest.raises(pk.ConfigError, match=r"Detrend: degree must be an int >= 0, got -1"):
        Detrend(degree=-1)


def test_input_errors_teach():
    x = reanalysis_like(nlat=1, nlon=2)
    with pytest.raises(ValueError, match=r"Climatology: dim='t' is not a dimension"):
        Climatology(dim="t")(x)
    with pytest.raises(TypeError, match=r"RemoveClimatology: the coordinate 'lat' must hold"):
        RemoveClimatology(dim="lat")(x)
    with pytest.raises(TypeError, match=r"Detrend takes an xarray.DataArray or Dataset"):
        Detrend()(x.values)


def test_streamed_group_mean_under_jit_equals_xarray_groupby():
    """Time-first data with >= 4096 values per step takes the JAX fori_loop path."""
    from xr_toolz.detrend import _kernels as DK

    rng = np.random.default_rng(7)
    time = xr.date_range("2020-01-01", periods=400, freq="D")
    values = 280.0 + 5.0 * rng.standard_normal((400, 48, 96))
    values[rng.random(values.shape) < 0.03] = np.nan
    values[:, 0, 0] = np.nan  # a cell with no valid value in any month: NaN
    da = xr.DataArray(values, dims=("time", "lat", "lon"), coords={"time": time})
    want = da.groupby("time.month").mean().values
    ids = da["time"].dt.month.values - 1
    assert DK._STREAM_MIN_KEPT <= 48 * 96
    got = jax.jit(lambda v: DK.group_mean(v, ids, 12, 0))(jnp.asarray(values))
    np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=2e-4)  # float32, 280 K
    anomalies = jax.jit(lambda v: DK.remove_group_mean(v, ids, 12, 0))(jnp.asarray(values))
    ref = (da.groupby("time.month") - da.groupby("time.month").mean()).values
    np.testing.assert_allclose(np.asarray(anomalies), ref, rtol=0, atol=2e-4)
