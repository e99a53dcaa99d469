"""Ensemble and contingency metrics against xskillscore 0.0.29 and plain NumPy formulas.

Tolerances: float64 results equal xskillscore's within 1e-10 (the same sums in another
order); counts exactly; the jit kernels (float32, x64 off) equal the NumPy ones on the same
float32 inputs within rtol 1e-5.
"""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import pipekit as pk
import xr_toolz
from xr_toolz.metrics import _ensemble_kernels as K

# properscoring (an xskillscore dependency) has a docstring with "\\i": a DeprecationWarning
# at compile time on Python 3.11, an error under filterwarnings (as in test_metrics.py).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "invalid escape sequence")
    import xskillscore as xs

M = xr_toolz.metrics
TOL = 1e-10
EDGES = np.array([-np.inf, 280.0, np.inf])


def make_ensemble(nan: bool, seed: int = 0, n_members: int = 7):
    rng = np.random.default_rng(seed)
    shape = (9, 5, 6)
    coords = {
        "time": np.arange(shape[0]),
        "lat": np.linspace(-70.0, 70.0, shape[1]),
        "lon": np.linspace(0.0, 50.0, shape[2]),
    }
    obs = rng.normal(280.0, 3.0, shape)
    ens = obs + rng.normal(0.5, 2.0, (n_members, *shape))
    if nan:
        obs[0, 0, 0] = np.nan
        ens[2, 1, 1, 1] = np.nan  # one member missing at a point: left out of that ensemble
        ens[:, 2, 2, 2] = np.nan  # every member missing: the point drops out
    dims = ("time", "lat", "lon")
    o = xr.DataArray(obs, dims=dims, coords=coords, attrs={"units": "K"})
    e = xr.DataArray(ens, dims=("member", *dims), coords={"member": np.arange(n_members), **coords})
    return o, e


DIMS = [None, "time", ("lat", "lon")]
# properscoring's nanmean warns on the point whose every member is NaN (the oracle's own).
EMPTY = pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")


@EMPTY
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("dim", DIMS)
def test_crps_equals_xskillscore(nan, dim):
    o, e = make_ensemble(nan)
    got = M.CRPS(dim=dim)(o, e)
    want = xs.crps_ensemble(o, e, dim=dim)
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=TOL)
    assert got.dims == want.dims and got.attrs["units"] == "K"


@EMPTY
def test_crps_weighted_equals_xskillscore():
    o, e = make_ensemble(True)
    got = M.CRPS(dim=("lat", "lon"), weights="cos_lat")(o, e)
    want = xs.crps_ensemble(o, e, dim=("lat", "lon"), weights=np.cos(np.deg2rad(o.lat)))
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=TOL)


def test_crps_pairwise_formula_and_hand_case():
    o, e = make_ensemble(False, n_members=4)
    x, y = e.transpose(..., "member").values, o.values[..., None]
    pairwise = np.abs(x - y).mean(-1) - 0.5 * np.abs(x[..., :, None] - x[..., None, :]).mean(
        (-1, -2)
    )
    got = M.CRPS(dim="time")(o, e.transpose("lat", "member", "lon", "time"))
    np.testing.assert_allclose(got.values, pairwise.mean(0), rtol=0, atol=TOL)
    # obs 0, members -1 and 1: E|X - y| = 1, E|X - X'| = 1, CRPS = 1 - 1/2.
    obs, ens = xr.DataArray([0.0], dims="t"), xr.DataArray([[-1.0, 1.0]], dims=("t", "m"))
    assert float(M.CRPS("m")(obs, ens)) == 0.5


def numpy_spread_skill(o, e, axes):
    x = e.transpose(..., "member").values
    m = x.shape[-1]
    var = x.var(-1, ddof=1)
    err2 = (x.mean(-1) - o.values) ** 2
    spread, rmse = np.sqrt(var.mean(axes)), np.sqrt(err2.mean(axes))
    return spread, rmse, np.sqrt((m + 1) / m) * spread / rmse


@pytest.mark.parametrize(
    ("dim", "axes"), [(None, (0, 1, 2)), ("time", (0,)), (("lat", "lon"), (1, 2))]
)
def test_spread_skill_equals_numpy_formula(dim, axes):
    o, e = make_ensemble(False)
    spread, rmse, ratio = numpy_spread_skill(o, e, axes)
    got = M.SpreadSkill(dim=dim)(o, e)
    np.testing.assert_allclose(got.values, ratio, rtol=0, atol=TOL)
    assert got.attrs["units"] == "1"
    ds = M.SpreadSkill(dim=dim, components=True)(o, e)
    assert list(ds.data_vars) == ["spread", "rmse", "ratio"]
    np.testing.assert_allclose(ds.spread.values, spread, rtol=0, atol=TOL)
    np.testing.assert_allclose(ds.rmse.values, rmse, rtol=0, atol=TOL)
    assert ds.spread.attrs["units"] == "K" and ds.ratio.attrs["units"] == "1"


def test_spread_skill_leaves_out_points_with_a_nan():
    o, e = make_ensemble(True)
    got = M.SpreadSkill(dim=None, components=True)(o, e)
    x = e.transpose(..., "member").values
    ok = ~(np.isnan(o.values) | np.isnan(x).any(-1))
    spread = np.sqrt(x.var(-1, ddof=1)[ok].mean())
    rmse = np.sqrt(((x.mean(-1) - o.values)[ok] ** 2).mean())
    np.testing.assert_allclose([got.spread, got.rmse], [spread, rmse], rtol=0, atol=TOL)


def test_spread_skill_is_one_for_a_reliable_ensemble():
    ds = xr_toolz.testing.ensemble_forecast(n_members=20, n_leads=6, nlat=16, nlon=32)
    ratio = M.SpreadSkill(dim=("lat", "lon"))(ds.analysis, ds.forecast)
    np.testing.assert_allclose(ratio.values, 1.0, atol=0.1)  # 512 points per lead


@pytest.mark.parametrize("dim", DIMS)
def test_rank_histogram_equals_xskillscore_without_ties(dim):
    o, e = make_ensemble(False)
    got = M.RankHistogram(dim=dim)(o, e)
    want = xs.rank_histogram(o, e, dim=dim)
    assert got.dims == want.dims and got.name == want.name
    np.testing.assert_array_equal(got.values, want.values)
    np.testing.assert_array_equal(got["rank"].values, want["rank"].values)


def test_rank_histogram_tie_rule_and_nan():
    # obs 1 among members (0, 1, 1, 2): 1 below, 2 tied -> rank 1 + 1 + 2 // 2 = 3.
    # obs 5 above all -> rank 5; the NaN observation is not counted.
    o = xr.DataArray([1.0, 5.0, np.nan], dims="t")
    e = xr.DataArray([[0.0, 1.0, 1.0, 2.0]] * 3, dims=("t", "member"))
    got = M.RankHistogram()(o, e)
    np.testing.assert_array_equal(got.values, [0, 0, 1, 0, 1])


def contingency(o, f, dim):
    return xs.Contingency(o, f, EDGES, EDGES, dim=dim)


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("dim", DIMS)
def test_contingency_scores_equal_xskillscore(nan, dim):
    o, e = make_ensemble(nan)
    f = e.isel(member=2, drop=True)
    c = contingency(o, f, dim)
    for op, want in [
        (M.POD, c.hit_rate()),
        (M.FAR, c.false_alarm_ratio()),
        (M.CSI, c.threat_score()),
        (M.IoU, c.threat_score()),
    ]:
        got = op(280.0, dim)(o, f)
        np.testing.assert_allclose(got.values, want.values, rtol=0, atol=TOL, equal_nan=True)


def test_iou_is_the_set_formula_on_the_event_masks_and_weights_sum():
    o, e = make_ensemble(False)
    f = e.isel(member=0, drop=True)
    a, b = o.values >= 281.0, f.values >= 281.0
    iou = (a & b).sum((1, 2)) / (a | b).sum((1, 2))
    got = M.IoU(281.0, ("lat", "lon"))(o, f)
    np.testing.assert_allclose(got.values, iou, rtol=0, atol=TOL)
    w = np.cos(np.deg2rad(o.lat.values))[None, :, None] * np.ones(o.shape)
    pod = (w * (a & b)).sum() / (w * a).sum()
    got = M.POD(281.0, weights="cos_lat")(o, f)
    np.testing.assert_allclose(float(got), pod, rtol=0, atol=TOL)


def test_contingency_skipna_false_poisons_the_slice():
    o, e = make_ensemble(True)
    f = e.isel(member=0, drop=True)
    got = M.CSI(280.0, ("lat", "lon"), skipna=False)(o, f)
    poisoned = (np.isnan(o.values) | np.isnan(f.values)).any((1, 2))
    assert poisoned.tolist() == [True, False, True] + [False] * 6  # obs t=0, members t=2
    np.testing.assert_array_equal(np.isnan(got.values), poisoned)
    kept = M.CSI(280.0, ("lat", "lon"))(o, f)
    np.testing.assert_array_equal(got.values[~poisoned], kept.values[~poisoned])


def f32(*arrays):
    return [np.asarray(a, dtype=np.float32) for a in arrays]


def test_kernels_numpy_equal_jit():
    o, e = make_ensemble(True)
    obs, ens = f32(o.values, np.moveaxis(e.values, 0, -1))
    w = np.ones_like(obs)
    cases = [
        (lambda a, b: K.crps_ensemble(a, b, w, axes=(1, 2)), 1e-5),
        (lambda a, b: K.spread_skill(a, b, None, axes=(0,)), 1e-4),
        (lambda a, b: K.rank_histogram(a, b, axes=(0, 2)), 0),
        (lambda a, b: K.pod(a, b[..., 0], None, axes=(0,), threshold=280.0), 1e-6),
        (lambda a, b: K.far(a, b[..., 0], w, axes=(0, 1, 2), threshold=280.0), 1e-6),
        (lambda a, b: K.csi(a, b[..., 0], None, axes=(1,), skipna=False, threshold=280.0), 1e-6),
    ]
    for fn, atol in cases:
        eager = jax.tree.leaves(fn(obs, ens))
        jitted = jax.tree.leaves(jax.jit(fn)(obs, ens))
        for a, b in zip(eager, jitted, strict=True):
            assert isinstance(a, np.ndarray)
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=atol, equal_nan=True)


def test_operators_trace_end_to_end_under_jit():
    o, e = make_ensemble(True)
    o, e = o.astype(np.float32), e.astype(np.float32)
    for op in (M.CRPS(dim="time"), M.RankHistogram(dim="lat"), M.SpreadSkill(dim="time")):
        eager = op(o, e)
        jitted = eqx.filter_jit(lambda op, a, b: op(a, b))(
            op, jax.tree.map(jnp.asarray, o), jax.tree.map(jnp.asarray, e)
        )
        assert eager.dims == jitted.dims
        np.testing.assert_allclose(
            eager.values, np.asarray(jitted.data), rtol=1e-5, atol=1e-4, equal_nan=True
        )


def test_config_errors_teach():
    with pytest.raises(pk.ConfigError, match="POD: threshold must be a finite number"):
        M.POD(float("nan"))
    with pytest.raises(pk.ConfigError, match="CRPS: dim must not hold member_dim 'member'"):
        M.CRPS(dim=("member", "time"))
    with pytest.raises(pk.ConfigError, match="RankHistogram: member_dim must be"):
        M.RankHistogram(member_dim="")
    with pytest.raises(pk.ConfigError, match="SpreadSkill: components must be True"):
        M.SpreadSkill(components="yes")


def test_input_errors_teach():
    o, e = make_ensemble(False)
    with pytest.raises(
        M.MetricInputError,
        match=r"CRPS\(observation, ensemble\): the ensemble must have member_dim 'ens'",
    ):
        M.CRPS("ens")(o, e)
    with pytest.raises(M.MetricInputError, match="the coordinates differ"):
        M.CRPS()(o.assign_coords(lat=o.lat + 1.0), e)
    with pytest.raises(
        M.MetricInputError, match="SpreadSkill: the ensemble needs at least 2 members"
    ):
        M.SpreadSkill()(o, e.isel(member=[0]))
    with pytest.raises(M.MetricInputError, match=r"dim \['depth'\] not in the observation's dims"):
        M.CRPS(dim="depth")(o, e)


def test_ensemble_forecast_is_deterministic_and_spread_grows_with_lead():
    ds = xr_toolz.testing.ensemble_forecast(n_members=8, n_leads=5, spread0=0.5, spread_growth=0.3)
    again = xr_toolz.testing.ensemble_forecast(
        n_members=8, n_leads=5, spread0=0.5, spread_growth=0.3
    )
    xr.testing.assert_identical(ds, again)
    assert ds.forecast.dims == ("member", "time", "lat", "lon")
    assert ds.analysis.dims == ("time", "lat", "lon") and ds.analysis.attrs["units"] == "K"
    np.testing.assert_array_equal(ds.lead.values / np.timedelta64(1, "D"), np.arange(5))
    spread = ds.forecast.std("member", ddof=1).mean(("lat", "lon")).values
    np.testing.assert_allclose(spread, 0.5 + 0.3 * np.arange(5), rtol=0.15)
    assert np.all(np.diff(spread) > 0)
    with pytest.raises(ValueError, match="ensemble_forecast: spread0 must be > 0"):
        xr_toolz.testing.ensemble_forecast(spread0=0.0)
