"""xr_toolz.transforms.EOF against xeofs 3.0.6 (single.EOF, solver="full") and a plain
NumPy SVD of the anomaly matrix; NaN grid points; the kernel on NumPy == jax.jit."""

from __future__ import annotations

import functools
import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import pipekit as pk
import xr_toolz
from xr_toolz.transforms._eof import eof

T = xr_toolz.transforms
LAT = np.linspace(-60.0, 60.0, 6)


def field(seed: int = 0, nt: int = 24) -> xr.DataArray:
    """Two planted orthogonal patterns (a dipole in lat, a wave in lon; orthogonal time
    series over the record) plus noise, in K."""
    rng = np.random.default_rng(seed)
    lon = np.arange(8) * 45.0
    t = np.arange(nt)
    p1 = np.sin(np.deg2rad(LAT))[:, None] * np.ones(8)[None, :]
    p2 = np.cos(np.deg2rad(lon))[None, :] * np.ones(6)[:, None]
    values = (
        3.0 * np.sin(2 * np.pi * 2 * t / nt)[:, None, None] * p1
        + 1.5 * np.cos(2 * np.pi * 3 * t / nt)[:, None, None] * p2
        + 0.3 * rng.normal(size=(nt, 6, 8))
        + 290.0
    )
    return xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={"time": t, "lat": LAT, "lon": lon},
        name="sst",
        attrs={"units": "K"},
    )


def numpy_eof(x: np.ndarray, w: np.ndarray, n: int):
    """Components, scores, explained variance ratio from np.linalg.svd of the anomalies."""
    a = ((x - x.mean(0)) * w[None, :, None]).reshape(x.shape[0], -1)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return vt[:n].reshape(n, *x.shape[1:]), (u * s)[:, :n].T, (s**2 / (s**2).sum())[:n]


def aligned(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``ref`` with each mode's sign flipped to agree with ``out`` (SVD sign is free)."""
    axes = tuple(range(1, out.ndim))
    sign = np.sign(np.nansum(out * ref, axis=axes))
    return ref * sign.reshape(-1, *(1,) * len(axes))


WEIGHTS = {
    None: np.ones(6),
    "cos_lat": np.cos(np.deg2rad(LAT)),
    "sqrt_cos_lat": np.sqrt(np.cos(np.deg2rad(LAT))),
}


@pytest.mark.parametrize("weights", list(WEIGHTS))
def test_eof_equals_numpy_svd(weights) -> None:
    da = field()
    out = T.EOF("time", 3, weights)(da)
    comps, scores, ratio = numpy_eof(da.values, WEIGHTS[weights], 3)
    assert out.components.dims == ("mode", "lat", "lon") and list(out.mode.values) == [1, 2, 3]
    assert out.scores.dims == ("mode", "time")
    np.testing.assert_allclose(
        out.components.values, aligned(out.components.values, comps), atol=1e-10
    )
    np.testing.assert_allclose(out.scores.values, aligned(out.scores.values, scores), atol=1e-9)
    np.testing.assert_allclose(out.explained_variance_ratio.values, ratio, rtol=1e-12)
    np.testing.assert_allclose((out.components.values**2).sum((1, 2)), 1.0, rtol=1e-12)


# xeofs 3.0.6 drops one level of its stacked MultiIndex (an xarray FutureWarning).
@pytest.mark.filterwarnings("ignore:Deleting a single level of a MultiIndex:FutureWarning")
@pytest.mark.parametrize("weights", list(WEIGHTS))
def test_eof_equals_xeofs(weights) -> None:
    from xeofs.single import EOF as XEOF

    da = field(1)
    kw = {"use_coslat": weights == "sqrt_cos_lat"}
    fit_kw = {}
    if weights == "cos_lat":
        fit_kw["weights"] = xr.DataArray(WEIGHTS["cos_lat"], dims="lat", coords={"lat": LAT})
    model = XEOF(n_modes=3, solver="full", **kw).fit(da, "time", **fit_kw)
    out = T.EOF("time", 3, weights)(da)
    ref_c = model.components().transpose("mode", "lat", "lon").values
    ref_s = model.scores().transpose("mode", "time").values
    np.testing.assert_allclose(
        out.components.values, aligned(out.components.values, ref_c), atol=1e-10
    )
    np.testing.assert_allclose(out.scores.values, aligned(out.scores.values, ref_s), atol=1e-9)
    np.testing.assert_allclose(
        out.explained_variance_ratio.values, model.explained_variance_ratio().values, rtol=1e-10
    )


def test_sign_convention_and_planted_modes() -> None:
    """Largest-|loading| entry positive; mode 1 is the planted lat dipole."""
    out = T.EOF("time", 2)(field(2))
    c = out.components.values.reshape(2, -1)
    assert (c[np.arange(2), np.abs(c).argmax(1)] > 0).all()
    dipole = np.sin(np.deg2rad(LAT))[:, None] * np.ones(8)[None, :]
    cos = abs((out.components[0].values * dipole).sum()) / np.linalg.norm(dipole)
    assert cos > 0.99


def test_nan_grid_points_dropped_and_restored() -> None:
    """Points NaN at every time (land) are left out: the rest equals the SVD without them."""
    da = field(3)
    land = da.copy()
    land[:, 0, :3] = np.nan
    land[5, 2, 4] = np.nan  # NaN at one time only: the point is left out too
    out = T.EOF("time", 2)(land)
    assert np.isnan(out.components.values[:, 0, :3]).all()
    assert np.isnan(out.components.values[:, 2, 4]).all()
    keep = np.ones((6, 8), bool)
    keep[0, :3] = False
    keep[2, 4] = False
    a = da.values[:, keep]
    a = a - a.mean(0)
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    got = out.components.values[:, keep]
    np.testing.assert_allclose(got, aligned(got, vt[:2]), atol=1e-10)
    np.testing.assert_allclose(out.explained_variance_ratio, s[:2] ** 2 / (s**2).sum(), rtol=1e-12)
    assert not np.isnan(out.scores.values).any()


def test_kernel_numpy_equals_jax_jit() -> None:
    x = field(4).values - 290.0
    x[:, 1, 1] = np.nan
    w = np.sqrt(np.cos(np.deg2rad(LAT)))[:, None]
    ref = eof(x, 0, 3, w)
    fn = jax.jit(functools.partial(eof, axis=0, n_modes=3, weights=w))
    got = fn(jnp.asarray(x, dtype=jnp.float32))
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(np.asarray(g), r, atol=2e-4, equal_nan=True)


def test_operator_traces_under_jit() -> None:
    da = field(5) - 290.0
    op = T.EOF("time", 2, "cos_lat")
    eager = op(da)
    jitted = eqx.filter_jit(op)(da.copy(data=jnp.asarray(da.values, dtype=jnp.float32)))
    for name in ("components", "scores", "explained_variance_ratio"):
        np.testing.assert_allclose(np.asarray(jitted[name].data), eager[name].values, atol=2e-4)


def test_config_round_trip_and_errors() -> None:
    op = T.EOF("time", 4, "sqrt_cos_lat", lat="latitude")
    assert pickle.loads(pickle.dumps(op)) == op
    assert pk.loads_yaml(pk.dumps_yaml(op)) == op
    with pytest.raises(pk.ConfigError, match=r"EOF: weights must be one of"):
        T.EOF("time", 2, "area")
    with pytest.raises(pk.ConfigError, match=r"n_modes"):
        T.EOF("time", 0)
    with pytest.raises(T.SpectrumInputError, match=r"EOF: n_modes=50 exceeds"):
        T.EOF("time", 50)(field())
    with pytest.raises(T.SpectrumInputError, match=r"latitude coordinate 'latitude'"):
        T.EOF("time", 2, "cos_lat", lat="latitude")(field())
    with pytest.raises(T.SpectrumInputError, match=r"EOF takes an xarray.DataArray"):
        T.EOF("month", 2)(field())
