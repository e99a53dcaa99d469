"""DataArray and Dataset as JAX pytrees (xr_toolz._pytree): data are leaves, labels static.

Oracles: xarray's own ``assert_identical`` for the round trips, a trace counter for what
is static, and a hand derivative for the gradient through an operator.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import xr_toolz as xt


def _da(lon0: float = 0.0) -> xr.DataArray:
    rng = np.random.default_rng(0)
    return xr.DataArray(
        rng.normal(size=(3, 4, 5)),
        dims=("time", "lat", "lon"),
        coords={
            "time": np.array(["2020-01-01", "2020-01-02", "2020-01-03"], "datetime64[ns]"),
            "lat": ("lat", [-30.0, -10.0, 10.0, 30.0], {"units": "degrees_north"}),
            "lon": lon0 + np.arange(5.0) * 10.0,
            "station": ("lat", ["a", "b", "c", "d"]),
        },
        attrs={"units": "K", "_FillValue": np.nan, "history": ["x", "y"]},
        name="t2m",
    )


def test_flatten_unflatten_is_identical_and_the_data_is_the_only_leaf():
    da = _da()
    leaves, treedef = jax.tree.flatten(da)
    assert len(leaves) == 1 and leaves[0] is da.data
    xr.testing.assert_identical(jax.tree.unflatten(treedef, leaves), da)
    ds = xr.Dataset({"u": da, "v": 2 * da}, attrs={"title": "wind"})
    leaves, treedef = jax.tree.flatten(ds)
    assert len(leaves) == 2
    xr.testing.assert_identical(jax.tree.unflatten(treedef, leaves), ds)
    on_jax = jax.tree.map(jnp.asarray, ds)
    assert isinstance(on_jax["u"].data, jax.Array) and on_jax["u"].dims == da.dims


def test_equal_labels_share_one_trace_new_coordinates_trace_again():
    traces = []

    @eqx.filter_jit
    def anomaly(da):
        traces.append(1)
        return da - da.mean("time")

    first = anomaly(_da())
    again = anomaly(_da() + 1.0)  # new object, same labels (NaN fill attr included)
    assert len(traces) == 1
    np.testing.assert_allclose(np.asarray(again.data), np.asarray(first.data), atol=1e-5)
    anomaly(_da(lon0=5.0))  # another grid: its coordinates are compile-time constants
    assert len(traces) == 2
    want = _da() - _da().mean("time")
    np.testing.assert_allclose(np.asarray(first.data), want.values, atol=1e-5)
    xr.testing.assert_identical(first.coords.to_dataset(), want.coords.to_dataset())


def test_partition_and_combine_keep_the_dataarray():
    da = jax.tree.map(jnp.asarray, _da())
    dynamic, static = eqx.partition(da, eqx.is_array)
    assert jax.tree.leaves(static) == []
    with pytest.raises(TypeError, match="placeholder JAX put in a pytree leaf's place"):
        dynamic.isel(time=0) + static  # the static half holds no data
    back = eqx.combine(dynamic, static)
    np.testing.assert_array_equal(np.asarray(back.data), np.asarray(da.data))
    assert back.dims == da.dims and back.attrs.keys() == da.attrs.keys()


def test_gradient_through_an_operator_reaches_the_data():
    ref = jax.tree.map(jnp.asarray, _da())
    pred = ref + 0.5

    def loss(p):
        return xt.metrics.RMSE()(ref, p).data

    grad = jax.grad(loss)(pred)
    # RMSE = sqrt(mean(d^2)) with d = 0.5 everywhere: dRMSE/dp_i = d_i / (n * RMSE) = 1/n
    np.testing.assert_allclose(np.asarray(grad.data), 1.0 / ref.size, rtol=1e-5)
    assert grad.dims == ref.dims
