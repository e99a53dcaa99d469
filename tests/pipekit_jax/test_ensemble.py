"""pipekit_jax.Ensemble: stacked members under vmap, mean / sigma, YAML, weights, errors."""

from __future__ import annotations

import io
import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk
import pipekit_array as pa
from pipekit_jax import Ensemble, nn


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def members(n=4):
    return [nn.ConvNet(3, 2, widths=(4,), seed=s) for s in range(n)]


def test_mean_and_sigma_equal_a_loop_over_members():
    ms = members()
    ens = Ensemble(ms)
    x = rand(3, 6, 7)
    outs = np.stack([m(x) for m in ms])  # oracle: each member alone, NumPy mean / std
    got = ens.predict_with_uncertainty(x)
    assert set(got) == {"mean", "sigma"}
    assert all(isinstance(v, np.ndarray) for v in got.values())
    np.testing.assert_allclose(got["mean"], outs.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["sigma"], outs.std(axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ens(x), outs.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert len(ens) == 4 and float(got["sigma"].min()) >= 0 and float(got["sigma"].max()) > 0


def test_parameters_are_stacked_leaves():
    ms = members(3)
    ens = Ensemble(ms)
    stacked = jax.tree.leaves(eqx.filter(ens, eqx.is_array))
    single = jax.tree.leaves(eqx.filter(ms[0], eqx.is_array))
    assert [a.shape for a in stacked] == [(3, *a.shape) for a in single]
    for i, m in enumerate(ms):
        for got, want in zip(
            jax.tree.leaves(eqx.filter(ens.member(i), eqx.is_array)),
            jax.tree.leaves(eqx.filter(m, eqx.is_array)),
            strict=True,
        ):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        assert ens.member(i).state == m.state


def test_jit_equals_eager_without_retrace():
    ens = Ensemble(members(3))
    traces = []

    @eqx.filter_jit
    def run(model, v):
        traces.append(1)
        return model.predict_with_uncertainty(v)

    x = rand(3, 5, 6)
    jitted = run(ens, jnp.asarray(x))
    run(ens, jnp.asarray(rand(3, 5, 6, seed=1)))
    assert len(traces) == 1
    eager = ens.predict_with_uncertainty(x)
    for k in ("mean", "sigma"):
        np.testing.assert_allclose(np.asarray(jitted[k]), eager[k], rtol=1e-5, atol=1e-6)


def test_grad_reaches_every_member():
    ens = Ensemble(members(3))
    x = jnp.asarray(rand(3, 4, 4))
    grads = eqx.filter_grad(lambda e: jnp.sum(e.predict_with_uncertainty(x)["sigma"]))(ens)
    head = grads.stacked.head.weight
    assert head.shape[0] == 3 and all(float(jnp.abs(head[i]).sum()) > 0 for i in range(3))


def test_yaml_round_trip_and_weights_beside_it():
    ens = Ensemble.from_seeds(nn.ConvNet(3, 2, widths=(4,)), seeds=[5, 6, 7])
    assert [m.seed for m in ens.members] == [5, 6, 7]
    text = pk.dumps_yaml(ens)
    again = pk.loads_yaml(text)
    assert pk.config_hash(again) == pk.config_hash(ens)
    x = rand(3, 6, 6)
    np.testing.assert_array_equal(again(x), ens(x))  # untrained: rebuilt from the seeds
    # "Trained" weights: saved as the stacked leaves, restored into the YAML-built ensemble.
    trained = jax.tree.map(lambda a: a + 0.1 if eqx.is_inexact_array(a) else a, ens)
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, trained)
    buf.seek(0)
    restored = eqx.tree_deserialise_leaves(buf, pk.loads_yaml(text))
    np.testing.assert_array_equal(restored(x), trained(x))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(trained))(x), trained(x))


def test_modelop_scores_sigma_like_case10():
    """``ModelOp(ensemble, method="predict_with_uncertainty") | MeanScalar(field="sigma")``."""
    from geocatalog.testing import synthetic_scene

    gt = synthetic_scene(8, 10, seed=3)
    gt = gt.replace(values=gt.values.astype(np.float32) / 10_000)
    ms = [nn.ConvNet(13, 2, widths=(4,), seed=s) for s in range(3)]
    pipe = pk.Sequential(
        [pa.ModelOp(Ensemble(ms), method="predict_with_uncertainty"), pa.MeanScalar(field="sigma")]
    )
    score = pipe(gt)
    want = np.stack([m(gt.values) for m in ms]).std(axis=0).mean()
    np.testing.assert_allclose(float(score), want, rtol=1e-4)
    again = pk.loads_yaml(pk.dumps_yaml(pipe))
    np.testing.assert_allclose(float(again(gt)), float(score), rtol=0, atol=0)
    jitted = eqx.filter_jit(lambda p, g: p(g))(pipe, jax.tree.map(jnp.asarray, gt))
    np.testing.assert_allclose(float(jitted), float(score), rtol=1e-5)


def test_sandboxed_loading_with_an_allow_list():
    ens = Ensemble(members(2))
    text = pk.dumps_yaml(pa.ModelOp(ens, method="predict_with_uncertainty"))
    allowed = ["pipekit_array.ModelOp", "pipekit_jax.Ensemble", "pipekit_jax.nn.ConvNet"]
    again = pk.loads_yaml_sandboxed(text, allowed=allowed)
    assert pk.dumps_yaml(again) == text
    with pytest.raises(pk.UntrustedTargetError, match=r"pipekit_jax\.nn\.ConvNet"):
        pk.loads_yaml_sandboxed(text, allowed=allowed[:2])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Ensemble([]), r"Ensemble\(members\) expects a non-empty list"),
        (lambda: Ensemble(nn.MLP(2, 1)), r"Ensemble\(members\) expects a non-empty list"),
        (
            lambda: Ensemble([nn.MLP(2, 1), lambda x: x]),
            r"every member must be a pipekit Operator.*members\[1\] is a function",
        ),
        (
            lambda: Ensemble([nn.ConvNet(3, 2, (4,)), nn.ConvNet(3, 2, (8,), seed=1)]),
            r"one architecture.*members\[1\] differs in widths: \[4\] vs \[8\]",
        ),
        (
            lambda: Ensemble([nn.MLP(2, 1), nn.ConvNet(2, 1)]),
            r"members\[1\] differs in",
        ),
        (lambda: Ensemble([pk.Identity(), pk.Identity()]), r"Identity\) has no array leaves"),
        (
            lambda: Ensemble([pa.ModelOp(eqx.nn.Linear(2, 1, key=jax.random.key(0)))] * 2),
            r"members\[0\] \(ModelOp\) is not YAML-able.*forbid_in_yaml",
        ),
        (
            lambda: Ensemble.from_seeds(pk.Identity(), [0, 1]),
            r"from_seeds.*'seed' argument.*got Identity",
        ),
    ],
)
def test_members_are_validated(make, match):
    with pytest.raises(pk.ConfigError, match=match):
        make()


def test_members_with_other_dtypes_are_refused():
    a = nn.MLP(2, 1)
    b = jax.tree.map(lambda v: v.astype(jnp.float16) if eqx.is_inexact_array(v) else v, a)
    with pytest.raises(pk.ConfigError, match=r"members\[1\]'s array leaves differ"):
        Ensemble([a, b])


def test_ensemble_is_a_stack_of_the_members_weights():
    """One stacked-parameters mechanism: the Ensemble's parameters are a ``pj.Stack``."""
    from pipekit_jax import Stack

    ms = members(3)
    ens = Ensemble(ms)
    assert (
        isinstance(ens.stack, Stack) and len(ens.stack) == 3 and ens.stacked is ens.stack.template
    )
    x = jnp.asarray(rand(3, 5, 6))
    outs = np.stack([np.asarray(m(x)) for m in ms])  # oracle: each member alone
    np.testing.assert_allclose(np.asarray(ens.stack(x)), outs, rtol=1e-5, atol=1e-6)
    # The weights file layout is the members' leaves stacked, in the members' leaf order
    # (so ensembles saved before the Stack refactor load into this one unchanged).
    want = io.BytesIO()
    per_member = [jax.tree.leaves(eqx.filter(m, eqx.is_array)) for m in ms]
    eqx.tree_serialise_leaves(want, [jnp.stack(group) for group in zip(*per_member, strict=True)])
    got = io.BytesIO()
    eqx.tree_serialise_leaves(got, ens)
    assert got.getvalue() == want.getvalue()
