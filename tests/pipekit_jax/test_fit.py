"""pipekit_jax.fit against a hand-written equinox + optax loop; freezing, NaN stops, Graphs."""

from __future__ import annotations

import gc
import itertools
import weakref

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj


class Gain(pk.Operator):
    """A learnable per-feature gain (a test-only operator with a parameter)."""

    gain: jax.Array

    def __init__(self, n: int = 3) -> None:
        self.gain = jnp.ones((n,), jnp.float32)

    def _apply(self, x):
        return x * self.gain


def model(seed: int = 0) -> pk.Sequential:
    linear = eqx.nn.Linear(3, 1, key=jax.random.key(seed))
    return pk.Sequential([Gain(3), pa.ModelOp(linear)])


def regression(n: int = 64, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3)[:, None]
    return jnp.asarray(x), jnp.asarray(y)


def mse(op, batch):
    x, y = batch
    return jnp.mean((jax.vmap(op)(x) - y) ** 2)


def test_fit_equals_a_hand_written_equinox_optax_loop():
    batch = regression()
    optimizer = optax.adam(0.05)
    trained, history = pj.fit(model(), mse, batch, optimizer, steps=200)

    op = model()
    opt_state = optimizer.init(eqx.filter(op, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(op, opt_state):
        loss, grads = eqx.filter_value_and_grad(mse)(op, batch)
        with jax.numpy_dtype_promotion("standard"):  # optax under our strict test config
            updates, opt_state = optimizer.update(grads, opt_state, op)
            return eqx.apply_updates(op, updates), opt_state, loss

    losses = []
    for _ in range(200):
        op, opt_state, loss = step(op, opt_state)
        losses.append(float(loss))
    np.testing.assert_allclose(history.loss, losses, rtol=1e-5)
    for a, b in zip(jax.tree.leaves(trained), jax.tree.leaves(op), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert history.loss[-1] < history.loss[0] / 10 and history.steps == 200


def test_fit_compiles_the_step_once():
    traces = []

    def counted(op, batch):
        traces.append(1)  # runs only while tracing
        return mse(op, batch)

    pj.fit(model(), counted, regression(), optax.sgd(0.01), steps=30, check_every=7)
    assert len(traces) == 1


def test_freeze_by_path_and_by_predicate():
    batch = regression()
    trained, _ = pj.fit(model(), mse, batch, optax.adam(0.05), steps=20, freeze="ops[0]")
    np.testing.assert_array_equal(trained.ops[0].gain, np.ones(3))
    assert not np.allclose(trained.ops[1].model.weight, model().ops[1].model.weight)
    only_gain, _ = pj.fit(model(), mse, batch, optax.adam(0.05), steps=20,
                          freeze=lambda path, leaf: "model" in path)  # fmt: skip
    np.testing.assert_array_equal(only_gain.ops[1].model.weight, model().ops[1].model.weight)
    assert not np.allclose(only_gain.ops[0].gain, 1.0)
    mask = pj.trainable_mask(model(), freeze=["ops[1].model.bias"])
    assert mask.ops[0].gain and mask.ops[1].model.weight and not mask.ops[1].model.bias
    with pytest.raises(ValueError, match="no trainable leaves"):
        pj.fit(model(), mse, batch, steps=1, freeze="ops")


def test_fit_trains_a_graph():
    x = pk.Input("x")
    graph = pk.Graph(inputs={"x": x}, outputs={"y": model()(Gain(3)(x))})

    def loss(op, batch):
        return jnp.mean((jax.vmap(lambda v: op(x=v)["y"])(batch[0]) - batch[1]) ** 2)

    trained, history = pj.fit(graph, loss, regression(), optax.adam(0.05), steps=150)
    assert history.loss[-1] < history.loss[0] / 10
    assert isinstance(trained, pk.Graph)


def test_nan_loss_stops_with_the_step_named():
    good = regression()
    bad = (good[0].at[0, 0].set(jnp.nan), good[1])
    data = itertools.chain([good] * 4, [bad], itertools.repeat(good))
    with pytest.raises(pj.NaNLossError, match="at step 5 "):
        pj.fit(model(), mse, data, optax.adam(0.01), steps=100, check_every=3)


def test_iterator_data_stops_early_and_keys_are_split_per_step():
    batches = iter([regression(seed=s) for s in range(5)])
    _, history = pj.fit(model(), mse, batches, steps=50)
    assert history.steps == 5
    seen = []

    def noisy(op, batch, *, key):
        seen.append(1)
        x, y = batch
        return mse(op, (x + 0.01 * jax.random.normal(key, x.shape), y))

    _, ha = pj.fit(model(), noisy, regression(), steps=10, key=jax.random.key(3))
    _, hb = pj.fit(model(), noisy, regression(), steps=10, key=jax.random.key(3))
    _, hc = pj.fit(model(), noisy, regression(), steps=10, key=jax.random.key(4))
    assert ha.loss == hb.loss and ha.loss != hc.loss


def test_fit_refuses_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        pj.fit(model(), mse, regression(), steps=0)
    with pytest.raises(TypeError, match="freeze"):
        pj.trainable_mask(model(), freeze=[1])


def test_a_second_fit_with_the_same_loss_and_optimizer_traces_nothing():
    traces = []

    def counted(op, batch):  # runs once per trace (under jit), not once per step
        traces.append(1)
        return mse(op, batch)

    batch, optimizer = regression(), optax.adam(0.05)
    first, _ = pj.fit(model(0), counted, batch, optimizer, steps=20, freeze="ops[0]")
    assert len(traces) == 1
    second, history = pj.fit(model(7), counted, batch, optimizer, steps=20, freeze="ops[0]")
    assert len(traces) == 1  # the step compiled for the first fit served the second
    # The oracle: the same fit through a fresh compile (another loss object).
    fresh, fresh_history = pj.fit(model(7), lambda o, b: mse(o, b), batch, optimizer,
                                  steps=20, freeze="ops[0]")  # fmt: skip
    assert history.loss == fresh_history.loss
    for a, b in zip(jax.tree.leaves(second), jax.tree.leaves(fresh), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(first.ops[1].model.weight),
                           np.asarray(second.ops[1].model.weight))  # fmt: skip
    # The frozen gain is a program argument too: a different frozen value is used, not baked.
    other = eqx.tree_at(lambda m: m.ops[0].gain, model(7), jnp.full((3,), 2.0, jnp.float32))
    got, h_got = pj.fit(other, counted, batch, optimizer, steps=5, freeze="ops[0]")
    _, h_want = pj.fit(other, lambda o, b: mse(o, b), batch, optimizer, steps=5, freeze="ops[0]")
    assert len(traces) == 1 and h_got.loss == h_want.loss
    np.testing.assert_array_equal(np.asarray(got.ops[0].gain), np.full(3, 2.0, np.float32))


def test_with_op_refuses_an_op_of_another_structure():
    compiled = pj.jit(model(0))
    assert compiled.with_op(model(3)).traces == 0
    with pytest.raises(ValueError, match=r"with_op: Sequential differs from the compiled op"):
        compiled.with_op(pk.Sequential([Gain(3)]))


def test_the_step_cache_keeps_no_arrays_of_an_earlier_op():
    """fit's compiled-step cache holds programs only: a finished op's arrays can be freed."""
    batch, optimizer = regression(), optax.adam(0.05)
    op1 = model(0)
    frozen = weakref.ref(op1.ops[0].gain)  # frozen: passed to the step as a program argument
    trained_leaf = weakref.ref(op1.ops[1].model.weight)
    trained, _ = pj.fit(op1, mse, batch, optimizer, steps=3, freeze="ops[0]")
    del op1, trained
    gc.collect()
    assert frozen() is None and trained_leaf() is None
    # The cache still serves the next op of that structure (a hit, not a fresh compile).
    traces = []

    def counted(op, batch):
        traces.append(1)
        return mse(op, batch)

    pj.fit(model(1), counted, batch, optimizer, steps=2, freeze="ops[0]")
    op2 = model(2)
    gain2 = weakref.ref(op2.ops[0].gain)
    pj.fit(op2, counted, batch, optimizer, steps=2, freeze="ops[0]")
    assert len(traces) == 1
    del op2
    gc.collect()
    assert gain2() is None


def test_jit_with_op_keeps_no_arrays_of_the_compiling_op():
    op1 = model(0)
    leaf = weakref.ref(op1.ops[0].gain)
    compiled = pj.jit(op1)
    x = jnp.ones((3,), jnp.float32)
    compiled(x)
    other = compiled.with_op(model(1))
    del op1, compiled
    gc.collect()
    assert leaf() is None
    np.testing.assert_allclose(np.asarray(other(x)), np.asarray(model(1)(x)), rtol=1e-6)
    assert other.traces == 0  # served by the program compiled for op1


def hand_loop(op, optimizer, batches):
    """The oracle: a plain equinox + optax loop over ``batches``, one step each."""
    opt_state = optimizer.init(eqx.filter(op, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(op, opt_state, batch):
        loss, grads = eqx.filter_value_and_grad(mse)(op, batch)
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = optimizer.update(grads, opt_state, op)
            return eqx.apply_updates(op, updates), opt_state, loss

    losses = []
    for batch in batches:
        op, opt_state, loss = step(op, opt_state, batch)
        losses.append(float(loss))
    return op, losses


def assert_same_training(trained, history, op, losses):
    np.testing.assert_allclose(history.loss, losses, rtol=1e-5)
    for a, b in zip(jax.tree.leaves(trained), jax.tree.leaves(op), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_batches_takes_one_batch_of_a_list_per_step():
    data = [regression(seed=s) for s in range(4)]
    optimizer = optax.adam(0.05)
    trained, history = pj.fit(model(), mse, optimizer=optimizer, batches=data, steps=4)
    assert_same_training(trained, history, *hand_loop(model(), optimizer, data))
    assert len(set(history.loss)) == 4  # four different batches, not one four times
    # More steps than batches: stops when they run out; itertools.cycle repeats them.
    _, short = pj.fit(model(), mse, optimizer=optimizer, batches=data, steps=10)
    assert short.steps == 4
    trained, history = pj.fit(model(), mse, optimizer=optimizer,
                              batches=itertools.cycle(data), steps=10)  # fmt: skip
    assert_same_training(trained, history, *hand_loop(model(), optimizer, (data * 3)[:10]))


def test_full_batch_uses_one_batch_every_step_even_a_list():
    x, y = regression()
    optimizer = optax.adam(0.05)
    trained, history = pj.fit(model(), mse, optimizer=optimizer, full_batch=[x, y], steps=6)
    assert_same_training(trained, history, *hand_loop(model(), optimizer, [[x, y]] * 6))
    # The positional tuple (x, y) keeps its meaning: one batch at every step.
    trained, history = pj.fit(model(), mse, (x, y), optimizer, steps=6)
    assert_same_training(trained, history, *hand_loop(model(), optimizer, [(x, y)] * 6))


def test_an_ambiguous_positional_list_is_refused_with_both_keywords():
    data = [regression(seed=s) for s in range(3)]
    with pytest.raises(TypeError, match=r"positional list of 3 items is ambiguous.*batches=.*"
                                        r"full_batch="):  # fmt: skip
        pj.fit(model(), mse, data, steps=3)
    with pytest.raises(TypeError, match=r"positional tuple of 3 items is ambiguous"):
        pj.fit(model(), mse, tuple(data), steps=3)
    with pytest.raises(TypeError, match=r"positional list of 2 items is ambiguous"):
        pj.fit(model(), mse, list(regression()), steps=3)
    with pytest.raises(TypeError, match=r"pass the training data once.*got batches and "
                                        r"full_batch"):  # fmt: skip
        pj.fit(model(), mse, batches=data, full_batch=data[0], steps=3)
    with pytest.raises(TypeError, match=r"got none of them"):
        pj.fit(model(), mse, steps=3)
    with pytest.raises(TypeError, match=r"got a dict, which is one batch; pass it as full_batch"):
        pj.fit(model(), mse, batches={"x": data[0][0]}, steps=3)
    with pytest.raises(TypeError, match=r"batches= takes an iterable of batches.*got 3 \(int\)"):
        pj.fit(model(), mse, batches=3, steps=3)
