"""The operator contract, checked on every registered Operator of our packages.

For each example: YAML round-trip (or refusal for forbid_in_yaml), config_hash identical
in a fresh process, pickle round-trip, NumPy path (returns NumPy) equal to the jit path,
no retrace across locations with exact output transforms, and vmap over stacked scenes.
Host I/O operators (files have no traced form) opt out of the jit checks with a reason,
``Case.extra["jit"]`` (see ``_case.ON_HOST``), and of vmap with ``vmap=False``.
"""

from __future__ import annotations

import importlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import geocatalog as gc
import pipekit as pk

from .examples import EXAMPLES, PACKAGES, Case

CASES = [
    pytest.param(target, case, id=f"{target}-{i}")
    for target, cases in EXAMPLES.items()
    for i, case in enumerate(cases)
]


def test_every_registered_operator_has_examples():
    registered = pk.registry.public_operators(include_modules=PACKAGES, include_forbidden=True)
    missing = sorted(set(registered) - set(EXAMPLES))
    assert not missing, (
        f"operators without conformance examples (add them to examples.py): {missing}"
    )
    unknown = sorted(set(EXAMPLES) - set(registered))
    assert not unknown, f"examples for unregistered targets: {unknown}"


@pytest.mark.parametrize("target", sorted(EXAMPLES))
def test_target_is_the_public_import_path(target):
    module, _, name = target.rpartition(".")
    assert getattr(importlib.import_module(module), name) is pk.registry.lookup(target)
    for case in EXAMPLES[target]:
        assert pk.registry.target_name(type(case.op)) == target


def assert_same(a, b, *, exact_geo=True, jitted=False, atol=1e-5):
    """Equal outputs: arrays within float tolerance (NaN == NaN), georeferencing exact.

    ``jitted``: ``b`` came from the jit path, where a float64 constant the eager path
    promotes to (e.g. an xarray coordinate) is JAX's default float32 (x64 off); ``b``'s
    dtype is then ``a``'s as JAX canonicalizes it.
    """
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k], exact_geo=exact_geo, jitted=jitted, atol=atol)
        return
    if a is None:
        assert b is None
        return
    if isinstance(a, xr.Dataset):
        assert isinstance(b, xr.Dataset) and list(a.data_vars) == list(b.data_vars)
        xr.testing.assert_identical(a.coords.to_dataset(), b.coords.to_dataset())
        assert a.attrs == b.attrs
        for name in a.data_vars:
            assert_same(a[name], b[name], jitted=jitted, atol=atol)
        return
    if isinstance(a, xr.DataArray):  # labels exact, data within float tolerance
        assert isinstance(b, xr.DataArray) and a.dims == b.dims and a.name == b.name
        xr.testing.assert_identical(a.coords.to_dataset(), b.coords.to_dataset())
        assert a.attrs == b.attrs
        a, b = a.data, b.data
    if isinstance(a, gc.GeoTensor):
        assert isinstance(b, gc.GeoTensor)
        assert a.lattice == b.lattice
        np.testing.assert_array_equal(np.asarray(a.offset), np.asarray(b.offset))
        if exact_geo and a.batch_shape:
            assert [u.transform for u in gc.unstack(a)] == [u.transform for u in gc.unstack(b)]
        elif exact_geo:
            assert a.transform == b.transform
        a, b = a.values, b.values
    a, b = np.asarray(a), np.asarray(b)
    want = jax.dtypes.canonicalize_dtype(a.dtype) if jitted else a.dtype
    assert a.shape == b.shape and b.dtype == want, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=atol, equal_nan=True)


def skip_if_opted_out(case: Case, check: str) -> None:
    """Skip ``check`` for an example that opts out of it with a reason (``Case.extra``)."""
    reason = case.extra.get(check)
    if reason:
        pytest.skip(reason)


def numpy_leaves_only(tree) -> bool:
    leaves = jax.tree.leaves(tree)
    return all(isinstance(leaf, np.ndarray | np.generic) for leaf in leaves)


def forbidden_in_yaml(op: pk.Operator) -> bool:
    """The instance-level decision (``_forbidden_in_yaml``) of ``op`` or any nested Operator."""
    nested = jax.tree.leaves(op, is_leaf=lambda x: x is not op and isinstance(x, pk.Operator))
    children = [o for o in nested if isinstance(o, pk.Operator)]
    return op._forbidden_in_yaml() or any(forbidden_in_yaml(o) for o in children)


@pytest.mark.parametrize(("target", "case"), CASES)
def test_yaml_round_trip(target, case: Case):
    if forbidden_in_yaml(case.op):
        with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
            pk.dumps_yaml(case.op)
        return
    again = pk.loads_yaml(pk.dumps_yaml(case.op))
    assert type(again) is type(case.op)
    # NaN != NaN, so compare the states as canonical JSON text.
    assert json.dumps(again.state, sort_keys=True) == json.dumps(case.op.state, sort_keys=True)
    assert pk.config_hash(again) == pk.config_hash(case.op)
    x = case.make_input()
    assert_same(case.call(again, x), case.call(case.op, x))


@pytest.mark.parametrize(("target", "case"), CASES)
def test_pickle_round_trip(target, case: Case):
    again = pickle.loads(pickle.dumps(case.op))
    assert type(again) is type(case.op)
    x = case.make_input()
    assert_same(case.call(again, x), case.call(case.op, x))


@pytest.mark.parametrize(("target", "case"), CASES)
def test_numpy_path_equals_jit_path(target, case: Case):
    skip_if_opted_out(case, "jit")
    # Both paths see the same numbers: JAX's default dtypes (float64 -> float32, x64 off).
    x = jax.tree.map(lambda leaf: np.asarray(jnp.asarray(leaf)), case.make_input())
    eager = case.call(case.op, x)
    assert numpy_leaves_only(eager), "the eager path on NumPy input must return NumPy arrays"
    jitted = eqx.filter_jit(case.call)(case.op, jax.tree.map(jnp.asarray, x))
    jax.effects_barrier()
    assert_same(eager, jitted, jitted=True, atol=case.jit_atol)


@pytest.mark.parametrize(("target", "case"), CASES)
def test_no_retrace_across_locations(target, case: Case):
    skip_if_opted_out(case, "jit")
    skip_if_opted_out(case, "retrace")
    traces = []

    @eqx.filter_jit
    def run(op, x):
        traces.append(1)
        return case.call(op, x)

    big = case.make_input()
    h, w = big.height // 2, big.width // 2
    for r0, c0 in [(0, 0), (3, 7), (h, w), (1, 0)]:
        chip = big[..., r0 : r0 + h, c0 : c0 + w]
        out = run(case.op, chip)
        for value in out.values() if isinstance(out, dict) else [out]:
            if isinstance(value, gc.GeoTensor):  # exact, float64 (per element of a stack)
                pairs = [(value, chip)]
                if chip.batch_shape:
                    pairs = list(zip(gc.unstack(value), gc.unstack(chip), strict=True))
                assert all(v.transform == c.transform for v, c in pairs)
    jax.effects_barrier()
    assert len(traces) == 1


@pytest.mark.parametrize(("target", "case"), [c for c in CASES if c.values[1].vmap])
def test_vmap_over_stacked_scenes(target, case: Case):
    x = case.make_input()
    h, w = x.height // 2, x.width // 2
    chips = [x[..., 0:h, 0:w], x[..., h:, w:], x[..., 5 : 5 + h, 2 : 2 + w]]
    batched = eqx.filter_vmap(case.call, in_axes=(None, 0))(case.op, gc.stack(chips))
    jax.effects_barrier()
    for i, chip in enumerate(chips):
        want = case.call(case.op, chip)
        got = jax.tree.map(lambda leaf, i=i: leaf[i], batched)
        assert_same(want, got)


def test_config_hash_identical_in_a_fresh_process():
    texts = [
        pk.dumps_yaml(c.op)
        for cases in EXAMPLES.values()
        for c in cases
        if not forbidden_in_yaml(c.op)
    ]
    code = (
        "import json, sys, pipekit as pk\n"
        "print(json.dumps([pk.config_hash(pk.loads_yaml(t)) for t in json.load(sys.stdin)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert json.loads(proc.stdout) == [pk.config_hash(pk.loads_yaml(t)) for t in texts]


@pytest.mark.parametrize(("target", "case"), CASES)
def test_get_config_is_strict_json_and_loads_back_to_the_same_hash(target, case: Case):
    if forbidden_in_yaml(case.op):
        return  # closures and model objects are not config (refused by dumps and loaders)
    text = json.dumps(case.op.get_config(), allow_nan=False)  # raises on NaN / inf
    again = pk.Operator.from_state(json.loads(text))
    assert type(again) is type(case.op)
    assert pk.config_hash(again) == pk.config_hash(case.op)
