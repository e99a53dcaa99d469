"""A ModelOp is YAML-able around a YAML-able Operator (a seeded network), forbidden otherwise.

Oracles: the same network built in Python (weights from its seed), outputs compared bit for
bit; refusals checked at dump, config_hash and in every loader, with their messages.
"""

from __future__ import annotations

import io
import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene
from pipekit_jax import nn


def float_scene():
    gt = synthetic_scene(12, 16, seed=2)
    return gt.replace(values=gt.values.astype(np.float32) / 10_000)


def pipeline() -> pk.Sequential:
    return pk.Sequential(
        [pk.Identity(), pa.ModelOp(nn.ConvNet(13, 4, widths=(8, 6), seed=11), batch_size=2)]
    )


def convnet_leaves(op):
    return [np.asarray(a) for a in jax.tree.leaves(eqx.filter(op, eqx.is_array))]


def test_round_trip_inside_a_sequential_rebuilds_identical_outputs():
    pipe = pipeline()
    text = pk.dumps_yaml(pipe)
    assert "_target_: pipekit_jax.nn.ConvNet" in text and "seed: 11" in text
    again = pk.loads_yaml(text)
    assert again.state == pipe.state
    assert pk.config_hash(again) == pk.config_hash(pipe)
    assert pk.dumps_yaml(again) == text
    for u, v in zip(convnet_leaves(again), convnet_leaves(pipe), strict=True):
        np.testing.assert_array_equal(u, v)
    gt = float_scene()
    out, want = again(gt), pipe(gt)
    np.testing.assert_array_equal(out.values, want.values)
    assert out.transform == gt.transform and out.values.shape == (4, 12, 16)


def test_config_hash_is_the_config_not_the_weights():
    pipe = pipeline()
    trained = jax.tree.map(lambda a: a * 2 if eqx.is_inexact_array(a) else a, pipe)
    assert pk.config_hash(trained) == pk.config_hash(pipe)
    other = pk.Sequential([pk.Identity(), pa.ModelOp(nn.ConvNet(13, 4, widths=(8, 6), seed=12))])
    assert pk.config_hash(other) != pk.config_hash(pipe)


def test_trained_weights_travel_beside_the_yaml():
    pipe = pipeline()
    trained = jax.tree.map(lambda a: a + 0.01 if eqx.is_inexact_array(a) else a, pipe)
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, trained)
    buf.seek(0)
    restored = eqx.tree_deserialise_leaves(buf, pk.loads_yaml(pk.dumps_yaml(trained)))
    gt = float_scene()
    np.testing.assert_array_equal(restored(gt).values, trained(gt).values)


def test_sandboxed_loading_with_an_allow_list():
    text = pk.dumps_yaml(pipeline())
    allowed = ["pipekit.Sequential", "pipekit.Identity", "pipekit_array.ModelOp"]
    again = pk.loads_yaml_sandboxed(text, allowed=[*allowed, nn.ConvNet])
    assert pk.config_hash(again) == pk.config_hash(pipeline())
    with pytest.raises(pk.UntrustedTargetError, match=r"pipekit_jax.nn.ConvNet.*ops\[1\].model"):
        pk.loads_yaml_sandboxed(text, allowed=allowed)
    packages = ["pipekit", "pipekit_array", "pipekit_jax"]
    registry = pk.registry.public_operators(include_modules=packages)
    assert {"pipekit_array.ModelOp", "pipekit_jax.nn.ConvNet"} <= set(registry)
    assert pk.loads_yaml_sandboxed(text, allowed=registry).state == pipeline().state


class Plain(eqx.Module):
    conv: eqx.nn.Conv2d

    def __init__(self) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 1, key=jax.random.key(0))

    def __call__(self, x):
        return self.conv(x)


def brightness(values):
    return values.mean(axis=-3)


@pytest.mark.parametrize(
    "model",
    [Plain(), lambda v: v * 2, brightness, pk.Lambda(brightness)],
    ids=["equinox", "lambda", "function", "pk.Lambda"],
)
def test_around_anything_else_it_stays_forbidden(model):
    op = pa.ModelOp(model)
    nested = isinstance(model, pk.Operator)  # the Lambda answers for itself
    where = "Lambda at ops[1].model" if nested else "ModelOp at ops[1]"
    with pytest.raises(pk.ConfigError, match=re.escape(where) + ".*forbid_in_yaml"):
        pk.dumps_yaml(pk.Sequential([pk.Identity(), op]))
    with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
        pk.config_hash(op)
    assert op._forbidden_in_yaml() is not nested
    assert not pa.ModelOp(nn.MLP(2, 1))._forbidden_in_yaml()


@pytest.mark.parametrize(
    "loader",
    [
        pk.loads_yaml,
        lambda t: pk.loads_yaml_sandboxed(t, allowed=["pipekit_array.ModelOp", "pipekit.Lambda"]),
        lambda t: pk.Operator.from_state(yaml.safe_load(t)),
    ],
    ids=["trusted", "sandboxed", "from_state"],
)
def test_every_loader_refuses_a_modelop_whose_model_is_not_an_operator(loader):
    load = loader
    # A plain value that happens to be callable through ``method``: built, then refused.
    with pytest.raises(pk.UntrustedTargetError, match=r"ModelOp.*<root>.*forbid_in_yaml"):
        load("_target_: pipekit_array.ModelOp\nmodel: abc\nmethod: upper\n")
    # A name is not a function: the constructor refuses it.
    with pytest.raises(pk.ConfigError, match=r"ModelOp.*type str"):
        load("_target_: pipekit_array.ModelOp\nmodel: print\n")
    # A forbidden model operator is refused before anything is built.
    with pytest.raises(pk.UntrustedTargetError, match=r"pipekit.Lambda.*model.*forbid_in_yaml"):
        load("_target_: pipekit_array.ModelOp\nmodel: {_target_: pipekit.Lambda, fn: print}\n")


def test_eager_numpy_equals_jit_through_modelop():
    op = pa.ModelOp(nn.ConvNet(13, 3, seed=1))
    gt = float_scene()
    eager = op(gt)
    assert isinstance(eager.values, np.ndarray)
    jitted = eqx.filter_jit(lambda o, g: o(g))(op, jax.tree.map(jnp.asarray, gt))
    np.testing.assert_allclose(np.asarray(jitted.values), eager.values, rtol=1e-5, atol=1e-5)
