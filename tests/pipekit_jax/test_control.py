"""Branch, Switch, Scan, Checkpoint, Stack and the predicates of pipekit_jax.

Oracles: Python control flow written out by hand (``if``, clamped indexing, a loop over
hand-set weights, ``np.stack`` of member outputs), analytic gradients of products of
gains, central finite differences in float64 on the NumPy path, ``np.digitize``.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import re
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.ad_checkpoint import print_saved_residuals

import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj

# ------------------------------------------------------------------------ test operators


def _xp(*arrays: Any) -> Any:
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


class Gain(pk.Operator):
    """x * weight, ``weight`` a (size,) trainable leaf built from config."""

    init: float = eqx.field(static=True)
    size: int = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    weight: Any

    def __init__(self, init: float = 1.0, size: int = 3, dtype: str = "float32") -> None:
        self.init, self.size, self.dtype = float(init), int(size), str(dtype)
        self.weight = np.full(self.size, self.init, dtype=self.dtype)

    def _apply(self, x: Any) -> Any:
        return x * self.weight


class Layer(pk.Operator):
    """tanh(weight @ x + bias): a nonlinear layer with seeded (size, size) weights."""

    seed: int = eqx.field(static=True)
    size: int = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    weight: Any
    bias: Any

    def __init__(self, seed: int = 0, size: int = 3, dtype: str = "float32") -> None:
        self.seed, self.size, self.dtype = int(seed), int(size), str(dtype)
        rng = np.random.default_rng(self.seed)
        self.weight = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(dtype)
        self.bias = (0.3 * rng.standard_normal(size)).astype(dtype)

    def _apply(self, x: Any) -> Any:
        xp = _xp(x, self.weight, self.bias)
        return xp.tanh(self.weight @ x + self.bias)


class Total(pk.Operator):
    """The sum of x: a scalar (changes the structure of a vector input)."""

    def _apply(self, x: Any) -> Any:
        return _xp(x).sum(x)


class FirstAsIndex(pk.Operator):
    """x[0] truncated to int32: an index that depends on the (possibly traced) input."""

    def _apply(self, x: Any) -> Any:
        return x[0].astype(_xp(x).int32)


class Noise(pk.Operator):
    """x + scale * N(0, 1): a random operator."""

    scale: float = eqx.field(static=True)

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)

    def _apply(self, x: Any, *, key: Any) -> Any:
        if isinstance(key, np.random.Generator):
            return x + self.scale * key.standard_normal(np.shape(x)).astype(np.float32)
        return x + self.scale * jax.random.normal(key, jnp.shape(x), dtype=jnp.float32)


def positive() -> pk.Operator:
    return pa.MeanScalar() | pj.GreaterThan(0.0)


def with_weight(op: pk.Operator, weight: Any, where: Any = None) -> pk.Operator:
    where = where or (lambda o: o.weight)
    return eqx.tree_at(where, op, np.asarray(weight, dtype=np.asarray(where(op)).dtype))


def jitted(op: pk.Operator, x: Any, **kwargs: Any) -> Any:
    return eqx.filter_jit(lambda o, v: o(v, **kwargs))(op, jnp.asarray(x))


def program(op: pk.Operator, x: Any) -> str:
    """The jaxpr of ``op(x)`` with every number replaced by N (shapes, lengths, consts)."""
    jaxpr = eqx.filter_make_jaxpr(lambda o, v: o(v))(op, x)[0]
    return re.sub(r"\d+", "N", str(jaxpr))


def hlo(op: pk.Operator, x: Any) -> str:
    text = eqx.filter_jit(lambda o, v: o(v)).lower(op, x).as_text()
    return re.sub(r"\d+", "N", text)


def fd_grad(loss: Any, op: pk.Operator, eps: float = 1e-6) -> list[np.ndarray]:
    """Central finite differences of ``loss(op)`` w.r.t. each float64 array leaf of ``op``."""
    leaves, treedef = jax.tree.flatten(op)
    grads = []
    for j, leaf in enumerate(leaves):
        if not eqx.is_inexact_array(leaf):
            continue
        g = np.zeros_like(leaf)
        for idx in np.ndindex(leaf.shape):
            values = []
            for sign in (1.0, -1.0):
                bumped = leaf.copy()
                bumped[idx] += sign * eps
                new = list(leaves)
                new[j] = bumped
                values.append(loss(jax.tree.unflatten(treedef, new)))
            g[idx] = (values[0] - values[1]) / (2 * eps)
        grads.append(g)
    return grads


def assert_grad_matches_fd(make: Any, x: np.ndarray) -> None:
    """jax.grad of sum(op(x)) in float32 == finite differences in float64 (NumPy path)."""
    op64, op32 = make("float64"), make("float32")
    want = fd_grad(lambda o: float(np.sum(o(x.astype(np.float64)))), op64)
    grad = eqx.filter_jit(eqx.filter_grad(lambda o, v: jnp.sum(o(v))))(op32, jnp.asarray(x))
    got = [np.asarray(g) for g in jax.tree.leaves(eqx.filter(grad, eqx.is_inexact_array))]
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


X = np.array([0.5, -1.0, 2.0], dtype=np.float32)

# ---------------------------------------------------------------------------------- Branch


@pytest.mark.parametrize("x", [X, -X])
def test_branch_picks_the_branch_on_both_paths(x):
    op = pj.Branch(positive(), Gain(2.0), Gain(-3.0))
    want = x * (2.0 if x.mean() > 0 else -3.0)  # the Python `if` written out
    eager = op(x)
    assert isinstance(eager, np.ndarray)
    np.testing.assert_allclose(eager, want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted(op, x)), want, rtol=1e-6)
    assert "cond" in str(eqx.filter_make_jaxpr(lambda o, v: o(v))(op, jnp.asarray(x))[0])


def test_branch_under_vmap_decides_per_sample():
    op = pj.Branch(positive(), Gain(2.0), Gain(-3.0))
    xs = np.stack([X, -X, 2 * X])
    got = eqx.filter_jit(eqx.filter_vmap(lambda o, v: o(v), in_axes=(None, 0)))(op, xs)
    np.testing.assert_allclose(np.asarray(got), np.stack([op(v) for v in xs]), rtol=1e-6)


def test_branch_gradient_flows_through_the_taken_branch_only():
    op = pj.Branch(positive(), Gain(2.0), Gain(-3.0))
    grad = eqx.filter_grad(lambda o, v: jnp.sum(o(v) ** 2))(op, X)  # NumPy x, traced weights
    # d/dw sum((x w)^2) = 2 x^2 w in the taken branch (mean(X) > 0: true_op), 0 elsewhere.
    np.testing.assert_allclose(np.asarray(grad.true_op.weight), 2 * X**2 * 2.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(grad.false_op.weight), np.zeros(3))


def test_branch_gradient_matches_finite_differences():
    def make(dtype: str) -> pk.Operator:
        return pj.Branch(positive(), Layer(0, dtype=dtype), Layer(1, dtype=dtype))

    assert_grad_matches_fd(make, X)
    assert_grad_matches_fd(make, -X)


def test_branch_structure_mismatch_names_both_branches_under_jit():
    op = pj.Branch(positive(), pk.Identity(), Total())
    np.testing.assert_array_equal(op(X), X)  # eager: only the taken branch runs
    with pytest.raises(pj.ControlFlowError, match=r"Branch: .*lax.cond.*true_op \(Identity\)"):
        jitted(op, X)
    with pytest.raises(pj.ControlFlowError, match=r"false_op \(Total\) returned"):
        jitted(op, X)


@pytest.mark.parametrize(
    ("pred", "got"),
    [(pa.MeanScalar(), "dtype float32"), (pj.GreaterThan(0.0), r"shape \(3,\)")],
)
def test_branch_predicate_must_be_a_boolean_scalar(pred, got):
    op = pj.Branch(pred, pk.Identity(), pk.Identity())
    for run in (lambda: op(X), lambda: jitted(op, X)):
        with pytest.raises(pj.ControlFlowError, match=rf"Branch: pred .*boolean scalar.*{got}"):
            run()


def test_branch_rejects_non_operators():
    with pytest.raises(pk.ConfigError, match="Branch: true_op must be a pipekit Operator"):
        pj.Branch(positive(), abs, pk.Identity())


def test_branch_splits_the_key_among_random_children():
    key = jax.random.key(5)
    op = pj.Branch(positive(), Noise(1.0), Noise(10.0))
    # The pred is a Sequential, which takes a key (as containers do): three takers.
    _, k_true, _ = jax.random.split(key, 3)
    want = Noise(1.0)(X, key=k_true)
    np.testing.assert_allclose(np.asarray(op(X, key=key)), np.asarray(want), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted(op, X, key=key)), np.asarray(want), rtol=1e-6)
    got = op(X, key=np.random.default_rng(0))
    assert isinstance(got, np.ndarray) and not np.allclose(got, X)


# ---------------------------------------------------------------------------------- Switch


@pytest.mark.parametrize("i", [-3, 0, 1, 2, 3, 99])
def test_switch_clamps_the_index_like_lax_switch(i):
    gains = (2.0, 3.0, 5.0)
    op = pj.Switch(FirstAsIndex(), [Gain(g) for g in gains])
    x = np.array([i, 1.0, 2.0], dtype=np.float32)
    want = x * gains[min(max(i, 0), len(gains) - 1)]
    np.testing.assert_allclose(op(x), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted(op, x)), want, rtol=1e-6)


def test_switch_gradient_and_vmap():
    op = pj.Switch(FirstAsIndex(), [Gain(2.0), Gain(3.0)])
    x = np.array([1.0, 1.0, 2.0], dtype=np.float32)
    grad = eqx.filter_jit(eqx.filter_grad(lambda o, v: jnp.sum(o(v))))(op, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(grad.ops[1].weight), x)  # d sum(x w)/dw = x
    np.testing.assert_array_equal(np.asarray(grad.ops[0].weight), np.zeros(3))
    xs = np.array([[0, 1, 1], [1, 1, 1], [7, 1, 1]], dtype=np.float32)
    got = eqx.filter_vmap(lambda o, v: o(v), in_axes=(None, 0))(op, xs)
    np.testing.assert_allclose(np.asarray(got), np.stack([op(v) for v in xs]))


def test_switch_errors_name_the_op_and_argument():
    with pytest.raises(pk.ConfigError, match="Switch: ops must be a non-empty list"):
        pj.Switch(FirstAsIndex(), [])
    with pytest.raises(pj.ControlFlowError, match=r"Switch: index_op .*integer scalar.*float32"):
        pj.Switch(pa.MeanScalar(), [pk.Identity()])(X)
    op = pj.Switch(FirstAsIndex(), [pk.Identity(), pk.Identity(), Total()])
    with pytest.raises(pj.ControlFlowError, match=r"ops\[0\] \(Identity\).*ops\[2\] \(Total\)"):
        jitted(op, X)


# ------------------------------------------------------------------------------------ Scan


def test_scan_stacks_identical_copies_of_the_inexact_leaves():
    scan = pj.Scan(Layer(0), length=4)
    assert scan.op.weight.shape == (4, 3, 3) and scan.op.bias.shape == (4, 3)
    assert isinstance(scan.op.weight, np.ndarray)
    for step in scan.steps():
        np.testing.assert_array_equal(step.weight, Layer(0).weight)
    want = X
    for _ in range(4):
        want = Layer(0)(want)
    np.testing.assert_allclose(scan(X), want, rtol=1e-6)


def test_scan_applies_each_repetition_with_its_own_weights():
    gains = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [4.0, 1.0, -0.5]], np.float32)
    scan = with_weight(pj.Scan(Gain(), length=3), gains, lambda s: s.op.weight)
    want = X * gains.prod(axis=0)
    eager = scan(X)
    assert isinstance(eager, np.ndarray)
    np.testing.assert_allclose(eager, want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted(scan, X)), want, rtol=1e-6)
    np.testing.assert_allclose(pk.Sequential(scan.steps())(X), want, rtol=1e-6)


def test_scan_gradient_is_per_repetition_analytic():
    gains = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [4.0, 1.0, -0.5]], np.float32)
    scan = with_weight(pj.Scan(Gain(), length=3), gains, lambda s: s.op.weight)
    grad = eqx.filter_jit(eqx.filter_grad(lambda o, v: jnp.sum(o(v))))(scan, jnp.asarray(X))
    # d/dw_ik sum_k x_k prod_j w_jk = x_k prod_{j != i} w_jk
    want = np.stack([X * np.prod(np.delete(gains, i, axis=0), axis=0) for i in range(3)])
    np.testing.assert_allclose(np.asarray(grad.op.weight), want, rtol=1e-6)


def test_scan_gradient_matches_finite_differences():
    def make(dtype: str) -> pk.Operator:
        scan = pj.Scan(Layer(0, dtype=dtype), length=3)
        rng = np.random.default_rng(1)  # make the repetitions differ
        weight = scan.op.weight + 0.2 * rng.standard_normal(scan.op.weight.shape)
        return with_weight(scan, weight, lambda s: s.op.weight)

    assert_grad_matches_fd(make, X)


def test_scan_program_size_does_not_grow_with_length():
    x = jnp.asarray(X)
    one, hundred = pj.Scan(Layer(0), length=1), pj.Scan(Layer(0), length=100)
    assert program(hundred, x) == program(one, x)
    assert hlo(hundred, x) == hlo(one, x)
    # The measure is sensitive: an unrolled Sequential grows with its length.
    assert len(program(pk.Sequential([Layer(0)] * 10), x)) > 5 * len(
        program(pk.Sequential([Layer(0)]), x)
    )


def test_scan_step_must_keep_the_structure():
    scan = pj.Scan(Total(), length=2)
    for run in (lambda: scan(X), lambda: jitted(scan, X)):
        with pytest.raises(pj.ControlFlowError, match=r"Scan: .*op \(Total\) must return its"):
            run()
    with pytest.raises(pk.ConfigError, match="Scan: length must be an int >= 1, got 0"):
        pj.Scan(Gain(), length=0)


def test_scan_gives_each_step_its_own_key():
    key = jax.random.key(2)
    scan = pj.Scan(Noise(0.5), length=3)
    want = jnp.asarray(X)
    for k in jax.random.split(key, 3):
        want = Noise(0.5)(want, key=k)
    np.testing.assert_allclose(np.asarray(jitted(scan, X, key=key)), np.asarray(want), rtol=1e-5)
    eager = scan(X, key=np.random.default_rng(0))
    assert isinstance(eager, np.ndarray) and not np.allclose(eager, X)


def test_scan_yaml_holds_op_and_length_and_weights_load_beside_it(tmp_path):
    gains = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], np.float32)
    scan = with_weight(pj.Scan(Gain(init=1.5), length=2), gains, lambda s: s.op.weight)
    state = scan.state
    assert state["length"] == 2 and state["op"]["init"] == 1.5
    again = pk.loads_yaml(pk.dumps_yaml(scan))
    assert pk.config_hash(again) == pk.config_hash(scan)  # weights are not config
    np.testing.assert_array_equal(again.op.weight, np.full((2, 3), 1.5, np.float32))
    eqx.tree_serialise_leaves(tmp_path / "w.eqx", scan)
    loaded = eqx.tree_deserialise_leaves(tmp_path / "w.eqx", again)
    np.testing.assert_allclose(np.asarray(loaded(X)), scan(X), rtol=1e-6)
    assert pk.config_hash(pj.Scan(Gain(init=1.5), length=3)) != pk.config_hash(scan)


# ------------------------------------------------------------------------------ Checkpoint


def test_checkpoint_is_transparent_and_remats_under_grad():
    inner = pk.Sequential([Layer(0), Layer(1)])
    op = pj.Checkpoint(inner)
    eager = op(X)
    assert isinstance(eager, np.ndarray)
    np.testing.assert_array_equal(eager, inner(X))

    def loss(o: pk.Operator, v: Any) -> Any:
        return jnp.sum(o(v))

    grad = eqx.filter_jit(eqx.filter_grad(loss))(op, jnp.asarray(X))
    want = eqx.filter_jit(eqx.filter_grad(loss))(inner, jnp.asarray(X))
    for g, w in zip(jax.tree.leaves(grad.op), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)
    text = str(eqx.filter_make_jaxpr(eqx.filter_grad(loss))(op, jnp.asarray(X))[0])
    assert "checkpoint" in text or "remat" in text
    assert_grad_matches_fd(lambda d: pj.Checkpoint(Layer(0, dtype=d)), X)


def saved_avals(fn: Any, x: Any) -> list[str]:
    """The types of the residuals reverse mode keeps for ``fn(x)``, as JAX lists them."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_saved_residuals(fn, x)
    return sorted(line.split(" ", 1)[0] for line in out.getvalue().splitlines())


@pytest.mark.parametrize("policy", [None, "dots_saveable", "everything_saveable"])
def test_checkpoint_policy_keeps_what_jax_checkpoint_keeps(policy):
    inner = pk.Sequential([Layer(0), Layer(1)])
    x = jnp.asarray(X)

    def by_hand(v: Any) -> Any:  # the oracle: jax.checkpoint of the same two layers
        rule = None if policy is None else getattr(jax.checkpoint_policies, policy)
        return jnp.sum(jax.checkpoint(lambda u: inner(u), policy=rule)(v))

    got = saved_avals(lambda v: jnp.sum(pj.Checkpoint(inner, policy=policy)(v)), x)
    assert got == saved_avals(by_hand, x)
    np.testing.assert_allclose(
        np.asarray(jax.grad(lambda v: jnp.sum(pj.Checkpoint(inner, policy=policy)(v)))(x)),
        np.asarray(jax.grad(lambda v: jnp.sum(inner(v)))(x)), rtol=1e-6,
    )  # fmt: skip


def test_checkpoint_policies_keep_the_intermediates_they_name():
    inner = pk.Sequential([Layer(0), Layer(1)])

    def kept(fn: Any) -> list[str]:  # primitives whose outputs are kept for the backward pass
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            print_saved_residuals(fn, jnp.asarray(X))
        return sorted(re.findall(r"output of (\w+)", out.getvalue()))

    def checkpointed(policy: str) -> Any:
        return lambda v: jnp.sum(pj.Checkpoint(inner, policy=policy)(v))

    assert kept(checkpointed("nothing_saveable")) == []  # everything is recomputed
    assert kept(checkpointed("dots_saveable")) == ["dot_general", "dot_general"]  # one a layer
    plain = kept(lambda v: jnp.sum(inner(v)))
    assert kept(checkpointed("everything_saveable")) == plain and "tanh" in plain


def test_checkpoint_policy_goes_to_yaml_and_is_checked():
    op = pj.Checkpoint(Layer(0), policy="dots_saveable")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again.policy == "dots_saveable"
    assert pk.config_hash(again) == pk.config_hash(op)
    assert pk.config_hash(op) != pk.config_hash(pj.Checkpoint(Layer(0)))
    with pytest.raises(pk.ConfigError, match=r"Checkpoint: policy must be None or one of .*"
                       r"'dots_saveable'.*got 'dots'"):  # fmt: skip
        pj.Checkpoint(Layer(0), policy="dots")


# ----------------------------------------------------------------------------------- Stack


def members(gains: list[float]) -> list[pk.Operator]:
    return [with_weight(Gain(), np.full(3, g)) for g in gains]


def test_stack_evaluates_every_member_on_both_paths():
    ops = [with_weight(Layer(0), Layer(s).weight) for s in range(4)]  # same config, 4 weights
    stack = pj.Stack(ops)
    want = np.stack([op(X) for op in ops])  # the loop written out
    eager = stack(X)
    assert isinstance(eager, np.ndarray) and eager.shape == (4, 3)
    np.testing.assert_allclose(eager, want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted(stack, X)), want, rtol=1e-5)
    for got, op in zip(stack.members(), ops, strict=True):
        np.testing.assert_array_equal(got.weight, op.weight)
    assert len(stack) == 4 and stack.ops == stack.members()


def test_stack_program_holds_the_member_once():
    x = jnp.asarray(X)
    assert program(pj.Stack(members([1.0] * 8)), x) == program(pj.Stack(members([1.0, 2.0])), x)


def test_stack_gradient_per_member():
    stack = pj.Stack(members([1.0, 2.0, -1.0]))
    scale = np.array([1.0, 10.0, 100.0], np.float32)[:, None]

    def loss(o: pk.Operator, v: Any) -> Any:
        return jnp.sum(o(v) * scale)

    grad = eqx.filter_jit(eqx.filter_grad(loss))(stack, jnp.asarray(X))
    np.testing.assert_allclose(np.asarray(grad.template.weight), scale * X, rtol=1e-6)


def test_stack_refuses_members_that_differ_outside_their_array_leaves():
    with pytest.raises(pk.ConfigError, match=r"at ops\[1\]\.init: 2\.0 \(ops\[0\] has 1\.0\)"):
        pj.Stack([Gain(1.0), Gain(2.0)])
    with pytest.raises(pk.ConfigError, match=r"at ops\[2\]\.ops\[1\]: Gain \(ops\[0\] has Layer\)"):
        pj.Stack([Gain() | Layer()] * 2 + [Gain() | Gain()])
    odd = eqx.tree_at(lambda g: g.weight, Gain(), np.ones(4, np.float32))
    with pytest.raises(pk.ConfigError, match=r"at ops\[1\]\.weight: array float32\[4\]"):
        pj.Stack([Gain(), odd])
    with pytest.raises(pk.ConfigError, match="Stack: ops must be a non-empty list"):
        pj.Stack([])


def test_stack_yaml_lists_the_members_and_weights_load_beside_it(tmp_path):
    stack = pj.Stack(members([1.0, 2.0, 3.0]))
    state = stack.state
    assert [m["_target_"] for m in state["ops"]] == [pk.registry.target_name(Gain)] * 3
    again = pk.loads_yaml(pk.dumps_yaml(stack))
    assert again.size == 3 and pk.config_hash(again) == pk.config_hash(stack)
    eqx.tree_serialise_leaves(tmp_path / "w.eqx", stack)
    loaded = eqx.tree_deserialise_leaves(tmp_path / "w.eqx", again)
    np.testing.assert_allclose(loaded(X), np.stack([X, 2 * X, 3 * X]), rtol=1e-6)


def test_stack_gives_every_member_the_same_key():
    stack = pj.Stack([Noise(1.0), Noise(1.0)])
    for key in (jax.random.key(0), np.random.default_rng(0)):
        out = np.asarray(stack(X, key=key))
        np.testing.assert_array_equal(out[0], out[1])
        assert not np.allclose(out[0], X)
    jit_out = np.asarray(jitted(stack, X, key=jax.random.key(0)))
    np.testing.assert_allclose(jit_out, np.asarray(stack(X, key=jax.random.key(0))), rtol=1e-6)


# --------------------------------------------------------------- containers and contract


def test_inside_sequential_and_graph_with_yaml_round_trip():
    scan = pj.Scan(Layer(0), length=3)
    branch = pj.Branch(positive(), Gain(2.0), Gain(-1.0))
    x = pk.Input("x")
    a = scan(x)
    b = pj.Checkpoint(branch)(a)
    graph = pk.Graph(inputs={"x": x}, outputs={"a": a, "b": b})
    seq = pk.Sequential([scan, branch, pj.Stack(members([1.0, 2.0]))])
    want_a = scan(X)
    want_b = branch(want_a)
    for op in (graph, pk.loads_yaml(pk.dumps_yaml(graph))):
        for out in (op(x=X), eqx.filter_jit(lambda o, v: o(x=v))(op, jnp.asarray(X))):
            np.testing.assert_allclose(np.asarray(out["a"]), want_a, rtol=1e-5)
            np.testing.assert_allclose(np.asarray(out["b"]), want_b, rtol=1e-5)
    want = np.stack([want_b, 2 * want_b])
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, seq)  # the Stack's member weights are not config
    buffer.seek(0)
    loaded = eqx.tree_deserialise_leaves(buffer, pk.loads_yaml(pk.dumps_yaml(seq)))
    for op in (seq, loaded):
        np.testing.assert_allclose(op(X), want, rtol=1e-5)
        np.testing.assert_allclose(np.asarray(jitted(op, X)), want, rtol=1e-5)


@pytest.mark.parametrize(
    "op",
    [
        pj.Branch(positive(), Gain(2.0), Layer(1)),
        pj.Switch(FirstAsIndex(), [Gain(2.0), Layer(1)]),
        with_weight(pj.Scan(Gain(), 2), [[1, 2, 3], [4, 5, 6]], lambda s: s.op.weight),
        pj.Checkpoint(Layer(3)),
        pj.Stack(members([1.0, 5.0])),
    ],
    ids=["Branch", "Switch", "Scan", "Checkpoint", "Stack"],
)
def test_pickle_and_hash_are_stable(op):
    again = pickle.loads(pickle.dumps(op))
    for a, b in zip(jax.tree.leaves(again), jax.tree.leaves(op), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again(X), op(X))
    assert pk.config_hash(again) == pk.config_hash(op)
    assert pk.config_hash(pk.loads_yaml(pk.dumps_yaml(op))) == pk.config_hash(op)


# ------------------------------------------------------------------------------ predicates


def test_greater_than_and_digitize_match_numpy():
    x = np.array([-1.0, 0.0, 0.2, 0.5, 0.7, 2.0, np.nan], np.float32)
    edges = (0.0, 0.5, 1.0)
    for path in (lambda op, v: op(v), jitted):
        np.testing.assert_array_equal(np.asarray(path(pj.GreaterThan(0.5), x)), x > 0.5)
        got = np.asarray(path(pj.Digitize(edges), x))
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, np.digitize(x, edges))
    ints = np.array([0, 1, 2, 3], np.int32)  # compared as float32
    np.testing.assert_array_equal(pj.Digitize((1.5,))(ints), np.digitize(ints, (1.5,)))
    np.testing.assert_array_equal(np.asarray(jitted(pj.GreaterThan(1.5), ints)), ints > 1.5)


def test_predicate_config_errors():
    with pytest.raises(pk.ConfigError, match=r"Digitize: edges must be strictly increasing"):
        pj.Digitize((0.0, 1.0, 1.0))
    with pytest.raises(pk.ConfigError, match="GreaterThan: threshold must be finite"):
        pj.GreaterThan(float("nan"))
    with pytest.raises(TypeError, match="GreaterThan compares a bare array"):
        pj.GreaterThan(0.0)({"a": X})
