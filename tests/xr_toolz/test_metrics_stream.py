"""The JAX streaming path of the metric kernels (a ``fori_loop`` over the leading index when
the reduced axes lead and the kept slice is large) against plain NumPy float64 formulas."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from xr_toolz.metrics import _kernels as K

SHAPE = (9, 48, 96)  # kept 48 x 96 = 4608 >= _STREAM_MIN_KEPT


def _data(shape=SHAPE, nan=True):
    rng = np.random.default_rng(4)
    ref = 280.0 + 10.0 * rng.standard_normal(shape)
    pred = ref + rng.normal(0.5, 2.0, shape)
    if nan:
        ref[rng.random(shape) < 0.05] = np.nan
        pred[rng.random(shape) < 0.05] = np.nan
        ref[:, 0, 0] = np.nan  # a series with nothing valid: NaN out
    weights = np.broadcast_to(np.cos(np.deg2rad(np.linspace(-70, 70, shape[-2])))[:, None],
                              shape).copy()  # fmt: skip
    return ref, pred, weights


def _np_reference(name, ref, pred, w, axes):
    """Masked, weighted moments in float64, written out."""
    valid = ~(np.isnan(ref) | np.isnan(pred))
    w = np.where(valid, w, 0.0)
    r, p = np.where(valid, ref, 0.0), np.where(valid, pred, 0.0)
    sw = w.sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = lambda v: (w * v).sum(axis=axes) / sw  # noqa: E731
        exp = lambda m: np.expand_dims(m, axes)  # noqa: E731
        dr, dp = r - exp(mean(r)), p - exp(mean(p))
        if name == "rmse":
            return np.sqrt(mean((p - r) ** 2))
        if name == "mae":
            return mean(np.abs(p - r))
        if name == "bias":
            return mean(p - r)
        if name == "pearson_r":
            return mean(dr * dp) / np.sqrt(mean(dr * dr) * mean(dp * dp))
        if name == "r2":
            return 1.0 - mean((r - p) ** 2) / mean(dr * dr)
        return np.sqrt(mean((p - r) ** 2)) / np.sqrt(mean(dr * dr))  # nrmse


NAMES = ["rmse", "mae", "bias", "pearson_r", "r2", "nrmse"]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_streamed_jit_equals_numpy_float64(name, weighted):
    ref, pred, w = _data()
    kernel = getattr(K, name)
    red = K._Reduction(jnp.asarray(ref), jnp.asarray(pred), None, (0,), True)
    assert red.stream  # the path under test
    weights = w if weighted else np.ones_like(w)
    want = _np_reference(name, ref, pred, weights, (0,))
    fn = jax.jit(lambda r, p, ww: kernel(r, p, ww, axes=(0,), skipna=True))
    got = fn(jnp.asarray(ref), jnp.asarray(pred), jnp.asarray(w) if weighted else None)
    scale = np.nanmax(np.abs(want))
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-4, atol=2e-4 * scale)
    assert np.isnan(np.asarray(got)[0, 0])


def test_two_leading_axes_stream_as_one_and_small_slices_do_not():
    ref, pred, _ = _data((3, 4, 48, 96), nan=False)
    red = K._Reduction(jnp.asarray(ref), jnp.asarray(pred), None, (0, 1), False)
    assert red.stream and red.n == 12
    got = jax.jit(lambda r, p: K.rmse(r, p, axes=(0, 1), skipna=False))(ref, pred)
    want = np.sqrt(((pred - ref) ** 2).mean(axis=(0, 1)))
    np.testing.assert_allclose(np.asarray(got), want, rtol=5e-5)  # float32 of 280 K data
    assert not K._Reduction(jnp.ones((9, 4, 5)), jnp.ones((9, 4, 5)), None, (0,), True).stream
    assert not K._Reduction(jnp.ones(SHAPE), jnp.ones(SHAPE), None, (1, 2), True).stream


def test_gradient_flows_through_the_stream():
    ref, pred, _ = _data(nan=False)
    r = jnp.asarray(ref)
    loss = lambda p: K.rmse(r, p, axes=(0,), skipna=True).sum()  # noqa: E731
    grad = np.asarray(jax.grad(loss)(jnp.asarray(pred)))
    d = pred - ref
    want = d / (SHAPE[0] * np.sqrt((d**2).mean(axis=0)))  # d rmse_k / d p_tk
    # float32 differences of 280 K data: ulp(280) = 3e-5 K against d of ~2 K
    np.testing.assert_allclose(grad, want, rtol=2e-3, atol=1e-4 * np.abs(want).max())
