"""pipekit_jax.nn: shapes, seeded initialisation, NumPy / jit / grad paths, YAML, errors."""

from __future__ import annotations

import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk
import pipekit_array as pa
from pipekit_jax import nn


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


NETS = {
    "mlp": (lambda seed: nn.MLP(5, 3, width=7, depth=2, seed=seed), (4, 5), (4, 3)),
    "mlp_pixels": (lambda seed: nn.MLP(4, 2, feature_axis=-3, seed=seed), (4, 6, 8), (2, 6, 8)),
    "convnet": (lambda seed: nn.ConvNet(4, 3, widths=(6, 5), seed=seed), (4, 10, 12), (3, 10, 12)),
    "unet": (lambda seed: nn.UNet(4, 2, widths=(3, 5, 6), seed=seed), (4, 8, 12), (2, 8, 12)),
}


def leaves(op):
    return [np.asarray(a) for a in jax.tree.leaves(eqx.filter(op, eqx.is_array))]


@pytest.mark.parametrize("name", sorted(NETS))
def test_shapes_and_numpy_path(name):
    make, in_shape, out_shape = NETS[name]
    out = make(0)(rand(*in_shape))
    assert isinstance(out, np.ndarray) and out.shape == out_shape and out.dtype == np.float32


@pytest.mark.parametrize("name", sorted(NETS))
def test_seeded_initialisation(name):
    make = NETS[name][0]
    a, b, c = leaves(make(0)), leaves(make(0)), leaves(make(1))
    assert len(a) == len(b) == len(c) > 0
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert all(not np.array_equal(u, w) for u, w in zip(a, c, strict=True) if u.size > 1)


@pytest.mark.parametrize("name", sorted(NETS))
def test_yaml_round_trip_rebuilds_identical_weights(name):
    make, in_shape, _ = NETS[name]
    net = make(3)
    again = pk.loads_yaml(pk.dumps_yaml(net))
    assert type(again) is type(net) and again.state == net.state
    assert pk.config_hash(again) == pk.config_hash(net)
    for u, v in zip(leaves(again), leaves(net), strict=True):
        np.testing.assert_array_equal(u, v)
    x = rand(*in_shape)
    np.testing.assert_array_equal(again(x), net(x))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(net))(x), net(x))


@pytest.mark.parametrize("name", sorted(NETS))
def test_eager_numpy_equals_jit_and_vmap(name):
    make, in_shape, _ = NETS[name]
    net = make(0)
    x = rand(*in_shape)
    traces = []

    @eqx.filter_jit
    def run(model, v):
        traces.append(1)
        return model(v)

    np.testing.assert_allclose(np.asarray(run(net, jnp.asarray(x))), net(x), rtol=1e-5, atol=1e-5)
    run(net, jnp.asarray(rand(*in_shape, seed=1)))
    assert len(traces) == 1
    stack = np.stack([x, rand(*in_shape, seed=2)])
    batched = eqx.filter_vmap(lambda m, v: m(v), in_axes=(None, 0))(net, jnp.asarray(stack))
    want = np.stack([net(v) for v in stack])
    np.testing.assert_allclose(np.asarray(batched), want, rtol=1e-5, atol=1e-5)


def test_mlp_matches_numpy_formula():
    mlp = nn.MLP(3, 2, width=4, depth=1, activation="tanh", seed=5)
    x = rand(6, 3)
    (w0, b0), (w1, b1) = [(np.asarray(lay.weight), np.asarray(lay.bias)) for lay in mlp.layers]
    want = np.tanh(x @ w0.T + b0) @ w1.T + b1
    np.testing.assert_allclose(mlp(x), want, rtol=1e-5, atol=1e-6)
    # Per pixel over bands: the same map at every pixel.
    pix = nn.MLP(3, 2, width=4, depth=1, activation="tanh", feature_axis=-3, seed=5)
    img = rand(3, 2, 3)
    np.testing.assert_allclose(
        pix(img), np.moveaxis(mlp(np.moveaxis(img, 0, -1)), -1, 0), rtol=1e-6, atol=1e-6
    )


def test_convnet_with_hand_set_weights():
    """A 1-channel ConvNet with a hand-set 3x3 box kernel: its logits are known sums."""
    net = nn.ConvNet(1, 1, widths=(1,), kernel_size=3)
    net = eqx.tree_at(lambda n: n.convs[0].weight, net, jnp.ones((1, 1, 3, 3)))
    net = eqx.tree_at(lambda n: n.convs[0].bias, net, jnp.zeros((1, 1, 1)))
    net = eqx.tree_at(lambda n: n.head.weight, net, jnp.full((1, 1, 1, 1), 2.0))
    net = eqx.tree_at(lambda n: n.head.bias, net, jnp.full((1, 1, 1), 0.5))
    x = np.abs(rand(1, 5, 6))
    padded = np.pad(x[0], 1)
    box = sum(padded[i : i + 5, j : j + 6] for i in range(3) for j in range(3))
    np.testing.assert_allclose(net(x)[0], 2 * box + 0.5, rtol=1e-5, atol=1e-5)


def test_unet_shapes_and_skip_connections():
    unet = nn.UNet(2, 3, widths=(4,))  # one level: block + head, no pooling
    assert unet(rand(2, 5, 7)).shape == (3, 5, 7)
    deep = nn.UNet(2, 3, widths=(4, 4, 4, 4))
    assert deep.multiple == 8
    assert deep(rand(2, 16, 24)).shape == (3, 16, 24)
    assert len(deep.up) == len(deep.merge) == 3
    assert deep.merge[0].first.weight.shape == (4, 8, 3, 3)  # upsampled + skip channels


def test_unet_refuses_sizes_not_divisible():
    unet = nn.UNet(2, 1, widths=(4, 4, 4))
    match = r"UNet\(widths=\(4, 4, 4\)\).*divisible by 4.*\(2, 12, 10\)"
    with pytest.raises(ValueError, match=match):
        unet(rand(2, 12, 10))


def test_grad_through_convnet_matches_finite_differences():
    with jax.enable_x64(True):
        net = nn.ConvNet(2, 3, widths=(4,), seed=2)
        net = jax.tree.map(lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a, net)
        x = jnp.asarray(np.random.default_rng(1).standard_normal((2, 6, 5)))
        target = jnp.asarray(np.random.default_rng(2).standard_normal((3, 6, 5)))

        def loss(model):
            return jnp.sum((model(x) - target) ** 2)

        grads = eqx.filter_grad(loss)(net)
        eps = 1e-6
        for where, index in [
            (lambda n: n.convs[0].weight, (1, 0, 2, 1)),
            (lambda n: n.head.weight, (2, 3, 0, 0)),
            (lambda n: n.convs[0].bias, (3, 0, 0)),
        ]:
            w = where(net)
            up = eqx.tree_at(where, net, w.at[index].add(eps))
            down = eqx.tree_at(where, net, w.at[index].add(-eps))
            fd = (loss(up) - loss(down)) / (2 * eps)
            np.testing.assert_allclose(float(where(grads)[index]), float(fd), rtol=1e-6, atol=1e-8)


def test_modelop_on_a_geotensor_keeps_georeferencing():
    from geocatalog.testing import synthetic_scene

    gt = synthetic_scene(16, 20, seed=1)
    gt = gt.replace(values=gt.values.astype(np.float32) / 10_000)
    op = pa.ModelOp(nn.UNet(gt.values.shape[0], 2, widths=(4, 8)))
    out = op(gt)
    assert out.values.shape == (2, 16, 20) and out.transform == gt.transform


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.MLP(0, 2), r"MLP: in_features must be an int >= 1, got 0"),
        (lambda: nn.MLP(3, 2, activation="swish"), r"MLP: activation must be one of .*'relu'"),
        (lambda: nn.MLP(3, 2, feature_axis=1.5), r"MLP: feature_axis must be an int"),
        (lambda: nn.ConvNet(3, 2, widths=()), r"ConvNet: widths must be a non-empty list"),
        (lambda: nn.ConvNet(3, 2, widths=(8, 0)), r"ConvNet: widths\[1\] must be an int >= 1"),
        (lambda: nn.ConvNet(3, 2, seed=-1), r"ConvNet: seed must be an int >= 0.*random.key"),
        (lambda: nn.UNet(3, 2, seed=True), r"UNet: seed must be an int >= 0, got True"),
        (lambda: nn.UNet(3, 2, widths="16"), r"UNet: widths must be a non-empty list"),
    ],
)
def test_config_is_validated_at_construction(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_yaml_lists_become_tuples():
    text = "_target_: pipekit_jax.nn.ConvNet\nin_channels: 2\nnum_classes: 2\nwidths: [3, 4]"
    net = pk.loads_yaml(text)
    assert net.widths == (3, 4)
    for u, v in zip(leaves(net), leaves(nn.ConvNet(2, 2, widths=(3, 4))), strict=True):
        np.testing.assert_array_equal(u, v)


def test_input_errors_name_the_network():
    net = nn.ConvNet(4, 2)
    with pytest.raises(ValueError, match=r"ConvNet\(in_channels=4\) expects one sample .*3, 5, 5"):
        net(rand(3, 5, 5))
    with pytest.raises(ValueError, match=r"ConvNet\(in_channels=4\).*\(2, 4, 5, 5\).*vmap"):
        net(rand(2, 4, 5, 5))
    with pytest.raises(TypeError, match=r"ConvNet expects a floating .*float32.*uint16.*ToFloat32"):
        net(np.ones((4, 5, 5), np.uint16))
    with pytest.raises(TypeError, match=r"MLP expects .* got list"):
        nn.MLP(2, 1)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"MLP\(in_features=2, feature_axis=-1\).*\(3, 3\)"):
        nn.MLP(2, 1)(rand(3, 3))


def test_a_geotensor_is_pointed_to_modelop():
    from geocatalog.testing import synthetic_scene

    gt = synthetic_scene(8, 8, seed=0)
    with pytest.raises(TypeError, match=r"UNet expects .* got GeoTensor.*pipekit_array.ModelOp"):
        nn.UNet(13, 2)(gt)
