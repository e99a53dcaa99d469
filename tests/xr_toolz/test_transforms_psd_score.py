"""xr_toolz.transforms.PSDScore against scipy.signal.periodogram and a constructed case
with a known crossing; the Operator on NumPy == under jit."""

from __future__ import annotations

import pickle

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import xarray as xr

import pipekit as pk
import xr_toolz

T = xr_toolz.transforms
N = 64


def track(values: np.ndarray) -> xr.DataArray:
    dims = ("x",) if values.ndim == 1 else ("track", "x")
    da = xr.DataArray(values, dims=dims, coords={"x": np.arange(values.shape[-1]) * 2.0})
    da.x.attrs["units"] = "km"
    return da


def pair(seed: int = 0) -> tuple[xr.DataArray, xr.DataArray]:
    """Red reference (cumulative sums) and a prediction missing its small scales."""
    rng = np.random.default_rng(seed)
    ref = np.cumsum(rng.normal(size=(5, N)), axis=1)
    smooth = scipy.signal.filtfilt(np.ones(5) / 5, [1.0], ref, axis=1)
    pred = smooth + 0.1 * rng.normal(size=ref.shape)
    return track(ref), track(pred)


@pytest.mark.parametrize(("detrend", "window"), [("constant", "hann"), (None, None)])
def test_score_equals_scipy_periodogram(detrend, window) -> None:
    ref, pred = pair()
    out = T.PSDScore("x", detrend=detrend, window=window)(ref, pred)
    kw = {"fs": 0.5, "window": window or "boxcar", "detrend": detrend or False}
    f, p_ref = scipy.signal.periodogram(ref.values, axis=1, **kw)
    _, p_err = scipy.signal.periodogram(pred.values - ref.values, axis=1, **kw)
    want = 1.0 - p_err.mean(0) / p_ref.mean(0)
    k = out.freq_x.values
    np.testing.assert_allclose(k, f[1 : N // 2], rtol=1e-12)  # 0 < k < Nyquist
    np.testing.assert_allclose(out.score.values, want[1 : N // 2], rtol=1e-10, atol=1e-12)
    assert out.score.attrs["units"] == "1" and out.freq_x.attrs["units"] == "1/km"
    assert out.resolved_scale.attrs["units"] == "km"


def test_known_crossing() -> None:
    """Bin-centred cosines: P_ref(k) = 1, P_err(k) = k / 20.5 per bin, so score(k) =
    1 - k / 20.5 falls through 0.5 between k = 10 and 11 (wavelengths N dx / k)."""
    rng = np.random.default_rng(1)
    x = np.arange(N)
    ks = np.arange(1, N // 2)
    ref = sum(np.cos(2 * np.pi * k * x / N + rng.uniform(0, 6.3)) for k in ks)
    err = sum(np.sqrt(k / 20.5) * np.cos(2 * np.pi * k * x / N + rng.uniform(0, 6.3)) for k in ks)
    out = T.PSDScore("x", detrend=None, window=None)(track(ref), track(ref + err))
    np.testing.assert_allclose(out.score.values, 1 - ks / 20.5, atol=1e-12)
    lam = N * 2.0 / ks  # dx = 2 km
    s10, s11 = 1 - 10 / 20.5, 1 - 11 / 20.5
    want = lam[9] + (0.5 - s10) * (lam[10] - lam[9]) / (s11 - s10)
    np.testing.assert_allclose(float(out.resolved_scale), want, rtol=1e-12)
    assert lam[10] < want < lam[9]


def test_no_crossing_is_nan() -> None:
    ref, _ = pair(2)
    rng = np.random.default_rng(3)
    near = T.PSDScore("x")(ref, ref + 1e-6 * rng.normal(size=ref.shape))
    assert (near.score.values > 0.5).all() and np.isnan(float(near.resolved_scale))
    far = T.PSDScore("x")(ref, ref + 10 * rng.normal(size=ref.shape) - ref)
    assert far.score.values[0] < 0.5 and np.isnan(float(far.resolved_scale))


def test_operator_traces_under_jit() -> None:
    ref, pred = pair(4)
    op = T.PSDScore("x")
    eager = op(ref.astype(np.float32), pred.astype(np.float32))
    j = [d.copy(data=jnp.asarray(d.values, dtype=jnp.float32)) for d in (ref, pred)]
    jitted = eqx.filter_jit(op)(*j)
    np.testing.assert_allclose(np.asarray(jitted.score.data), eager.score.values, atol=1e-5)
    np.testing.assert_allclose(float(jitted.resolved_scale), float(eager.resolved_scale), rtol=1e-4)


def test_config_and_errors() -> None:
    op = T.PSDScore("time", detrend="linear", window=None)
    assert pickle.loads(pickle.dumps(op)) == op and pk.loads_yaml(pk.dumps_yaml(op)) == op
    with pytest.raises(pk.ConfigError, match=r"PSDScore: window must be one of"):
        T.PSDScore("x", window="kaiser")
    ref, pred = pair()
    with pytest.raises(T.SpectrumInputError, match=r"PSDScore: reference and prediction"):
        T.PSDScore("x")(ref, pred.assign_coords(x=pred.x * 2))
    with pytest.raises(T.SpectrumInputError, match=r"PSDScore: dim \['t'\] not in"):
        T.PSDScore("t")(ref, pred)
