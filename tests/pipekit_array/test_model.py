"""``ModelOp``: per-sample semantics, batching, rewrapping, gradients and errors.

Oracles: the model called directly per sample (``np.stack([model(c) for c in chips])``),
a hand-set 1x1 convolution against ``np.einsum``, and a central finite difference.
"""

from __future__ import annotations

import pickle
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog as gc
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene

H = W = 16


class Net(eqx.Module):
    conv: eqx.nn.Conv2d

    def __init__(self, seed: int = 0) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 3, padding=1, key=jax.random.key(seed))

    def __call__(self, x: Any) -> Any:
        return self.conv(x)


class MeanSigma(NamedTuple):
    mean: Any
    sigma: Any
    band_mean: Any


class UQNet(eqx.Module):
    """1x1 convolutions, so NaN pixels stay where they are (oracle is per pixel)."""

    conv: eqx.nn.Conv2d
    as_namedtuple: bool = eqx.field(static=True, default=False)

    def __init__(self, as_namedtuple: bool = False) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 1, key=jax.random.key(5))
        self.as_namedtuple = as_namedtuple

    def predict_with_uncertainty(self, x: Any) -> Any:
        y = self.conv(x)
        parts = (y[0], jax.nn.softplus(y[1]), jnp.nanmean(x, axis=(-2, -1)))
        if self.as_namedtuple:
            return MeanSigma(*parts)
        return dict(zip(MeanSigma._fields, parts, strict=True))


def numpy_model(values: Any) -> Any:
    """A NumPy-only model: converts its input with np.asarray (fails under tracing)."""
    v = np.asarray(values)
    return np.tanh(v[:2] - v[2:4])


@pytest.fixture(scope="module")
def scene() -> gc.GeoTensor:
    gt = synthetic_scene(40, 48, seed=3)
    return gt.replace(values=gt.values.astype(np.float32) / 10_000)


@pytest.fixture(scope="module")
def chips(scene) -> list[gc.GeoTensor]:
    starts = [(0, 0), (3, 5), (10, 20), (24, 32), (7, 1)]
    return [scene[..., r : r + H, c : c + W] for r, c in starts]


def direct(model: Any, chips: list[gc.GeoTensor]) -> np.ndarray:
    return np.stack([np.asarray(model(jnp.asarray(c.values))) for c in chips])


def test_single_sample_equals_the_model_and_keeps_georeferencing(chips):
    net = Net()
    chip = chips[1]
    out = pa.ModelOp(net)(chip)
    assert isinstance(out, gc.GeoTensor) and isinstance(out.values, np.ndarray)
    assert out.shape == (2, H, W)
    assert out.transform == chip.transform and out.crs == chip.crs
    np.testing.assert_allclose(out.values, direct(net, [chip])[0], rtol=1e-6, atol=1e-6)
    bare = pa.ModelOp(net)(chip.values)
    assert isinstance(bare, np.ndarray)
    np.testing.assert_allclose(bare, out.values, rtol=1e-6, atol=1e-6)


def test_hand_set_1x1_convolution_matches_einsum(chips):
    weight = np.linspace(-1, 1, 3 * 13, dtype=np.float32).reshape(3, 13, 1, 1)
    conv = eqx.nn.Conv2d(13, 3, 1, use_bias=False, key=jax.random.key(0))
    conv = eqx.tree_at(lambda c: c.weight, conv, jnp.asarray(weight))
    batch = gc.stack(chips)
    want = np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], batch.values)
    np.testing.assert_allclose(pa.ModelOp(conv)(batch).values, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch_size", [None, 1, 2, 5, 8])
def test_stacked_input_maps_the_model_per_sample(chips, batch_size):
    net = Net()
    op = pa.ModelOp(net, batch_size=batch_size)
    want = direct(net, chips)
    batch = gc.stack(chips)
    eager = op(batch)
    jitted = eqx.filter_jit(lambda op, x: op(x))(op, jax.tree.map(jnp.asarray, batch))
    jax_eager = op(jax.tree.map(jnp.asarray, batch))
    for out in (eager, jitted, jax_eager):
        assert isinstance(out, gc.GeoTensor) and out.batch_shape == (5,)
        np.testing.assert_allclose(np.asarray(out.values), want, rtol=1e-5, atol=1e-5)
        for got, chip in zip(gc.unstack(out), chips, strict=True):
            assert got.transform == chip.transform
    assert isinstance(eager.values, np.ndarray)
    assert isinstance(jitted.values, jax.Array)


def test_batch_size_maps_in_chunks_with_a_remainder(chips):
    batch = jax.tree.map(jnp.asarray, gc.stack(chips))
    chunked = str(jax.make_jaxpr(lambda v: pa.ModelOp(Net(), batch_size=2)(v))(batch))
    assert "scan" in chunked and "length=2" in chunked  # 2 chunks of 2, then 1 more
    whole = str(jax.make_jaxpr(lambda v: pa.ModelOp(Net())(v))(batch))
    assert "scan" not in whole


def test_outputs_of_other_shapes_are_returned_bare(chips):
    op = pa.ModelOp(UQNet(), method="predict_with_uncertainty")
    out = op(gc.stack(chips))
    assert set(out) == {"mean", "sigma", "band_mean"}
    assert isinstance(out["mean"], gc.GeoTensor) and out["mean"].shape == (5, H, W)
    assert isinstance(out["band_mean"], np.ndarray) and out["band_mean"].shape == (5, 13)
    np.testing.assert_allclose(
        out["band_mean"], np.stack([c.values.mean(axis=(1, 2)) for c in chips]), rtol=1e-5
    )


@pytest.mark.parametrize("as_namedtuple", [False, True])
def test_uncertainty_method_feeds_mean_scalar(chips, as_namedtuple):
    chips = list(chips)
    values = chips[2].values.copy()
    values[:, :4, :6] = np.nan
    chips[2] = chips[2].replace(values=values)
    model = UQNet(as_namedtuple)
    op = pa.ModelOp(model, method="predict_with_uncertainty", batch_size=2)
    pipeline = eqx.filter_jit(lambda op, x: pa.MeanScalar(field="sigma")(op(x)))
    batch = gc.stack(chips)
    out = op(batch)
    if as_namedtuple:
        assert isinstance(out, MeanSigma)
        sigma = out.sigma
    else:
        sigma = out["sigma"]
    assert isinstance(sigma, gc.GeoTensor) and sigma.batch_shape == (5,)
    # Oracle: sigma = softplus(w[1] . x + b[1]) per pixel, in float64 NumPy.
    w = np.asarray(model.conv.weight, np.float64)[1, :, 0, 0]
    b = float(np.asarray(model.conv.bias)[1, 0, 0])
    z = np.einsum("c,nchw->nhw", w, batch.values.astype(np.float64)) + b
    with np.errstate(invalid="ignore"):  # logaddexp(0, NaN) is NaN, which is wanted
        want = np.nanmean(np.logaddexp(0.0, z), axis=(1, 2))
    eager = pa.MeanScalar(field="sigma")(out)
    jitted = pipeline(op, jax.tree.map(jnp.asarray, batch))
    assert eager.shape == jitted.shape == (5,)
    np.testing.assert_allclose(eager, want, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(jitted), want, rtol=1e-5)


def test_gradient_matches_a_finite_difference(chips):
    batch = gc.stack(chips)
    target = np.float32(0.1)

    def loss(op: pa.ModelOp, x: Any) -> Any:
        out = op(x).values
        return jnp.sum((out - target) ** 2)

    op = pa.ModelOp(Net(), batch_size=2)
    grads = eqx.filter_grad(loss)(op, jax.tree.map(jnp.asarray, batch))
    assert isinstance(grads, pa.ModelOp)
    index = (1, 4, 0, 2)
    analytic = float(grads.model.conv.weight[index])

    def numpy_loss(w: float) -> float:
        moved = eqx.tree_at(
            lambda o: o.model.conv.weight, op, op.model.conv.weight.at[index].set(w)
        )
        out = moved(batch).values.astype(np.float64)  # NumPy path, loss in float64
        return float(np.sum((out - target) ** 2))

    w0, eps = float(op.model.conv.weight[index]), 1e-2
    numeric = (numpy_loss(w0 + eps) - numpy_loss(w0 - eps)) / (2 * eps)
    assert analytic == pytest.approx(numeric, rel=2e-3)


def test_model_arrays_are_the_op_parameters():
    op = pa.ModelOp(Net())
    params = jax.tree.leaves(eqx.filter(op, eqx.is_array))
    assert {p.shape for p in params} == {(2, 13, 3, 3), (2, 1, 1)}


def test_numpy_callable_runs_eagerly_and_teaches_under_jit(chips):
    op = pa.ModelOp(numpy_model, batch_size=2)
    batch = gc.stack(chips)
    out = op(batch)
    want = np.stack([numpy_model(c.values) for c in chips])
    assert isinstance(out.values, np.ndarray)
    np.testing.assert_array_equal(out.values, want)
    assert op(chips[0]).transform == chips[0].transform
    with pytest.raises(pa.ModelTracingError, match=r"ModelOp.*numpy_model.*pure_callback"):
        eqx.filter_jit(lambda op, x: op(x))(op, jax.tree.map(jnp.asarray, chips[0]))
    with pytest.raises(TypeError, match="equinox Module"):  # stacked JAX input: vmapped
        op(jax.tree.map(jnp.asarray, batch))


def test_plain_array_api_function_and_duck_typed_carrier():
    class Box(eqx.Module):
        values: Any

        def replace(self, values: Any) -> Any:
            return Box(values)

    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    out = pa.ModelOp(lambda v: v[::-1] * 2)(Box(x))
    assert isinstance(out, Box)
    np.testing.assert_array_equal(out.values, x[::-1] * 2)


def test_pickle_and_yaml():
    op = pa.ModelOp(Net(), batch_size=4)
    again = pickle.loads(pickle.dumps(op))
    np.testing.assert_array_equal(again.model.conv.weight, op.model.conv.weight)
    assert again.batch_size == 4 and again.method == "__call__"
    with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
        pk.dumps_yaml(op)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_batch_size_is_validated(batch_size):
    with pytest.raises(pk.ConfigError, match=r"ModelOp: batch_size must be None .* got"):
        pa.ModelOp(Net(), batch_size=batch_size)


def test_method_is_validated():
    with pytest.raises(pk.ConfigError, match=r"method='predict'.*UQNet.*has no such attribute"):
        pa.ModelOp(UQNet(), method="predict")
    with pytest.raises(pk.ConfigError, match=r"ModelOp\(model, method='__call__'\).*int"):
        pa.ModelOp(3)
    with pytest.raises(pk.ConfigError, match="method must be the name"):
        pa.ModelOp(Net(), method=None)


def test_non_array_input_is_refused():
    with pytest.raises(TypeError, match="ModelOp expects a bare array or a carrier"):
        pa.ModelOp(Net())([1.0, 2.0])
