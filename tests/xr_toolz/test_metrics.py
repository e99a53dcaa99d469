"""xr_toolz.metrics against xskillscore (and scipy / plain xarray), NumPy kernels vs jax.jit."""

from __future__ import annotations

import functools
import warnings

import jax
import numpy as np
import pytest
import scipy.stats
import xarray as xr

import pipekit as pk
import xr_toolz
from xr_toolz.metrics import _kernels

# properscoring (an xskillscore dependency) has a docstring with "\\i": a DeprecationWarning
# at compile time on Python 3.11 (SyntaxWarning from 3.12), an error under filterwarnings.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "invalid escape sequence")
    import xskillscore as xs

M = xr_toolz.metrics
TOL = 1e-10


def make_pair(nan: bool, seed: int = 0) -> tuple[xr.DataArray, xr.DataArray]:
    rng = np.random.default_rng(seed)
    shape = (24, 6, 5)
    coords = {
        "time": np.arange(shape[0]),
        "lat": np.linspace(-70.0, 70.0, shape[1]),
        "lon": np.linspace(0.0, 40.0, shape[2]),
    }
    ref = rng.normal(280.0, 3.0, shape)
    pred = 0.7 * ref + rng.normal(84.0, 1.5, shape)
    if nan:
        ref[rng.random(shape) < 0.1] = np.nan
        pred[rng.random(shape) < 0.1] = np.nan
    attrs = {"units": "K"}
    dims = ("time", "lat", "lon")
    return (
        xr.DataArray(ref, dims=dims, coords=coords, attrs=attrs),
        xr.DataArray(pred, dims=dims, coords=coords, attrs=attrs),
    )


def cos_lat(ref: xr.DataArray) -> xr.DataArray:
    return np.cos(np.deg2rad(ref.lat)).broadcast_like(ref)


def xs_weights(w: xr.DataArray, dim) -> xr.DataArray:
    """``w`` on the reduced dims only, as xskillscore requires: the slice at index 0 of
    every kept dim (a weighted mean does not change when its weights are scaled, so the
    per-slice constant cos(lat) of a reduction over time is the same as no weights)."""
    reduced = w.dims if dim is None else ((dim,) if isinstance(dim, str) else dim)
    return w.isel({d: 0 for d in w.dims if d not in reduced}, drop=True)


# (our operator, xskillscore's function of (reference, prediction)).
XS_PAIRS = {
    "RMSE": (M.RMSE, lambda r, p, **kw: xs.rmse(r, p, **kw)),
    "MAE": (M.MAE, lambda r, p, **kw: xs.mae(r, p, **kw)),
    "Bias": (M.Bias, lambda r, p, **kw: xs.me(p, r, **kw)),  # me(a, b) = mean(a - b)
    "pearson": (
        functools.partial(M.Correlation, method="pearson"),
        lambda r, p, **kw: xs.pearson_r(r, p, **kw),
    ),
    "R2": (M.R2, lambda r, p, **kw: xs.r2(r, p, **kw)),
}
DIMS = ["time", ("lat", "lon"), None]


def xs_dim(dim):
    return list(dim) if isinstance(dim, tuple) else dim


@pytest.mark.parametrize("name", list(XS_PAIRS))
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_xskillscore(name, dim, nan, weighted):
    ref, pred = make_pair(nan)
    ours, theirs = XS_PAIRS[name]
    got = ours(dim, weights="cos_lat" if weighted else None)(ref, pred)
    want = theirs(
        ref,
        pred,
        dim=xs_dim(dim),
        weights=xs_weights(cos_lat(ref), dim) if weighted else None,
        skipna=True,
    )
    assert got.dims == want.dims
    assert np.isfinite(want.values).all()
    np.testing.assert_allclose(got.values, want.values, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", list(XS_PAIRS))
def test_skipna_false_propagates_nan_like_xskillscore(name):
    ref, pred = make_pair(nan=True)
    ours, theirs = XS_PAIRS[name]
    got = ours("time", skipna=False)(ref, pred)
    want = theirs(ref, pred, dim="time", skipna=False)
    assert np.isnan(want.values).all()
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(want.values))
    clean_ref, clean_pred = make_pair(nan=False)
    got = ours(("time", "lon"), skipna=False)(clean_ref, clean_pred)
    want = theirs(clean_ref, clean_pred, dim=["time", "lon"], skipna=False)
    np.testing.assert_allclose(got.values, want.values, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("weighted", [False, True])
def test_spearman_equals_xskillscore_without_nan(dim, weighted):
    ref, pred = make_pair(nan=False)
    pred = pred.round(0)  # ties: average ranks, as scipy.stats.rankdata
    got = M.Correlation(dim, method="spearman", weights="cos_lat" if weighted else None)(ref, pred)
    w = xs_weights(cos_lat(ref), dim) if weighted else None
    want = xs.spearman_r(ref, pred, dim=xs_dim(dim), weights=w, skipna=True)
    np.testing.assert_allclose(got.values, want.values, rtol=TOL, atol=TOL)


def test_spearman_with_nan_equals_scipy_on_the_valid_pairs():
    # xskillscore without bottleneck ranks with scipy's rankdata, which turns a slice
    # holding NaN into NaN even with skipna=True; scipy.stats.spearmanr on the pairs left
    # after dropping NaN is the oracle here.
    ref, pred = make_pair(nan=True)
    got = M.Correlation("time", method="spearman")(ref, pred)
    for i in range(ref.sizes["lat"]):
        for j in range(ref.sizes["lon"]):
            r, p = ref.values[:, i, j], pred.values[:, i, j]
            ok = ~(np.isnan(r) | np.isnan(p))
            want = scipy.stats.spearmanr(r[ok], p[ok]).statistic
            np.testing.assert_allclose(got.values[i, j], want, rtol=TOL, atol=TOL)


def weighted_std(ref, pred, dim, weighted):
    valid = ref.notnull() & pred.notnull()
    r = ref.where(valid)
    w = cos_lat(ref).where(valid, 0.0) if weighted else valid.astype(float)
    anomaly = r - r.weighted(w).mean(dim)
    return np.sqrt((anomaly**2).weighted(w).mean(dim))


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_nrmse_and_skill_score(dim, nan, weighted):
    ref, pred = make_pair(nan)
    w = xs_weights(cos_lat(ref), dim) if weighted else None
    rmse = xs.rmse(ref, pred, dim=xs_dim(dim), weights=w, skipna=True)
    want = rmse / weighted_std(ref, pred, dim, weighted)
    spec = "cos_lat" if weighted else None
    np.testing.assert_allclose(M.NRMSE(dim, weights=spec)(ref, pred).values, want.values, rtol=TOL)
    got = M.SkillScore(dim, weights=spec)(ref, pred)
    np.testing.assert_allclose(got.values, 1.0 - want.values, rtol=TOL, atol=TOL)


def test_output_keeps_coords_and_sets_units():
    ref, pred = make_pair(nan=False)
    ref = ref.assign_coords(month=("time", np.arange(24) % 12), area=("lat", np.ones(6)))
    pred = pred.assign_coords(month=ref.month, area=ref.area)
    out = M.RMSE("time")(ref, pred)
    assert out.dims == ("lat", "lon")
    np.testing.assert_array_equal(out.lat, ref.lat)
    assert "area" in out.coords and "month" not in out.coords
    assert out.attrs == {"long_name": "root-mean-square error", "units": "K"}
    corr = M.Correlation("time")(ref, pred)
    assert corr.attrs["units"] == "1"
    assert M.R2()(ref, pred).dims == ()
    # prediction in another dim order is aligned by name
    np.testing.assert_allclose(
        M.MAE("lat")(ref, pred.transpose("lon", "time", "lat")).values,
        M.MAE("lat")(ref, pred).values,
        rtol=TOL,
    )


def test_weights_by_coordinate_name():
    ref, pred = make_pair(nan=True)
    area = np.linspace(1.0, 2.0, 5)
    ref, pred = ref.assign_coords(area=("lon", area)), pred.assign_coords(area=("lon", area))
    got = M.RMSE(("lat", "lon"), weights="area")(ref, pred)
    want = xs.rmse(
        ref,
        pred,
        dim=["lat", "lon"],
        weights=xs_weights(ref.area.broadcast_like(ref), ("lat", "lon")),
        skipna=True,
    )
    np.testing.assert_allclose(got.values, want.values, rtol=TOL)


KERNELS = ["rmse", "mae", "bias", "pearson_r", "spearman_r", "r2", "nrmse", "skill_score"]


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("axes", [(0,), (1, 2)])
def test_kernel_numpy_equals_jit(name, axes):
    ref, pred = make_pair(nan=True)
    r, p = ref.values.astype(np.float32), pred.values.astype(np.float32)
    w = cos_lat(ref).values.astype(np.float32)
    kernel = getattr(_kernels, name)
    eager = kernel(r, p, w, axes=axes, skipna=True)
    jitted = jax.jit(functools.partial(kernel, axes=axes, skipna=True))(r, p, w)
    assert isinstance(eager, np.ndarray) and eager.dtype == np.float32
    assert jitted.shape == eager.shape and jitted.dtype == eager.dtype
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-5, atol=1e-5)


def test_all_nan_slice_gives_nan_without_warning():
    ref, pred = make_pair(nan=False)
    ref[:, 0, 0] = np.nan
    out = M.Correlation("time")(ref, pred)
    assert np.isnan(out.values[0, 0]) and np.isfinite(out.values[1:]).all()


def test_ab_takes_the_metric():
    ref, _ = make_pair(nan=False)
    ab = pk.diff.AB(pk.Identity(), pk.Lambda(lambda x: x + 2.0), metric=M.RMSE())
    report = ab.run({"a": ref, "b": ref * 2})
    np.testing.assert_allclose(report.values, [2.0, 2.0], rtol=TOL)


def test_yaml_round_trip_of_a_configured_metric():
    op = M.Correlation(("lat", "lon"), method="spearman", skipna=False, weights="cos_lat")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again == op and again.dim == ("lat", "lon")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: M.RMSE(3), "RMSE: dim must be None"),
        (lambda: M.RMSE(("time", "time")), "RMSE: dim must not repeat"),
        (lambda: M.MAE(skipna="yes"), "MAE: skipna must be True or False"),
        (lambda: M.Bias(weights=1.0), "Bias: weights must be None, 'cos_lat'"),
        (lambda: M.Correlation(method="kendall"), "Correlation: method must be 'pearson'"),
    ],
)
def test_config_errors(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_input_errors():
    ref, pred = make_pair(nan=False)
    with pytest.raises(M.MetricInputError, match=r"dim \['depth'\] not in the inputs' dims"):
        M.RMSE("depth")(ref, pred)
    with pytest.raises(M.MetricInputError, match=r"reference must be an xarray\.DataArray"):
        M.RMSE()(ref.values, pred)
    with pytest.raises(M.MetricInputError, match="same dims"):
        M.RMSE()(ref, pred.isel(lon=0))
    with pytest.raises(M.MetricInputError, match="coordinates differ"):
        M.RMSE()(ref, pred.assign_coords(lon=pred.lon + 1.0))
    with pytest.raises(M.MetricInputError, match="needs a latitude coordinate"):
        M.RMSE(weights="cos_lat")(ref.rename(lat="y"), pred.rename(lat="y"))
    with pytest.raises(M.MetricInputError, match="weights='area' is neither"):
        M.RMSE(weights="area")(ref, pred)
    with pytest.raises(M.MetricInputError, match="weights='w' has negative values"):
        M.RMSE(weights="w")(ref.assign_coords(w=("lon", -np.ones(5))), pred)
