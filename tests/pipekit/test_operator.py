import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk

from .helpers import AddConst, Gain, Nested, Noise


def test_state_is_constructor_arguments_nested():
    op = Nested(inner=AddConst(2), bits=[10, 11], label="m")
    assert op.state == {
        "_target_": "tests.pipekit.helpers.Nested",
        "inner": {"_target_": "tests.pipekit.helpers.AddConst", "value": 2.0},
        "bits": [10, 11],
        "label": "m",
    }
    assert op.bits == (10, 11)  # list converted to a hashable tuple
    cfg = op.get_config()
    cfg["inner"]["value"] = 99.0  # a copy: mutating it leaves the operator alone
    assert op.inner.value == 2.0


def test_from_state_round_trip_and_type_check():
    op = Nested(inner=AddConst(2), bits=[1], label="x")
    again = pk.Operator.from_state(op.state)
    assert again.state == op.state
    assert isinstance(Nested.from_state(op.state), Nested)
    with pytest.raises(pk.ConfigError, match="got a state for AddConst"):
        Nested.from_state(AddConst(1).state)
    with pytest.raises(pk.ConfigError, match="unknown argument"):
        pk.Operator.from_state({"_target_": "tests.pipekit.helpers.AddConst", "valu": 1})


def test_registration_uses_public_path():
    assert pk.registry.lookup("pipekit.Sequential") is pk.Sequential
    assert pk.registry.target_name(pk.Tap) == "pipekit.Tap"
    # Abstract bases and forbidden classes are not offered to sandboxes.
    allowed = pk.registry.public_operators(include_modules=["pipekit"])
    assert "pipekit.Identity" in allowed and "pipekit.Graph" in allowed
    assert not {"pipekit.Lambda", "pipekit.Tap", "pipekit.Sink"} & set(allowed)
    trimmed = pk.registry.public_operators(include_modules=["pipekit"], exclude_classes=["Graph"])
    assert "pipekit.Graph" not in trimmed


def test_array_config_is_refused_with_a_teaching_error():
    class TakesArray(pk.Operator):
        table: np.ndarray

        def _apply(self, x):
            return x

    with pytest.raises(pk.ConfigError, match=r"TakesArray.table is an array of shape \(3,\)"):
        _ = TakesArray(np.ones(3)).state


def test_parameters_stay_out_of_config():
    op = Gain(init=0.5)
    assert op.state == {"_target_": "tests.pipekit.helpers.Gain", "init": 0.5}
    assert [leaf.shape for leaf in jax.tree.leaves(eqx.filter(op, eqx.is_array))] == [()]


def test_repr_shows_config():
    assert repr(AddConst(2)) == "AddConst(value=2.0)"
    assert "weight" not in repr(Gain(0.5))


def test_pipe_operator_flattens():
    a, b, c = AddConst(1), AddConst(2), AddConst(3)
    pipe = a | b | c
    assert isinstance(pipe, pk.Sequential) and len(pipe) == 3
    assert pipe.ops == (a, b, c)
    assert float(pipe(np.float32(0))) == 6.0


def test_pickle_round_trip():
    op = Nested(inner=Gain(2.0), bits=[3])
    again = pickle.loads(pickle.dumps(op))
    assert again.state == op.state
    np.testing.assert_array_equal(again(np.ones(2, np.float32)), np.full(2, 2.0, np.float32))


def test_key_plumbing_numpy_and_jax():
    pipe = pk.Sequential([AddConst(1), Noise(0.1), Noise(0.2)])
    x = np.zeros(4, np.float32)
    # NumPy path: Generator.spawn gives each random child its own stream, reproducibly.
    a = pipe(x, key=np.random.default_rng(0))
    b = pipe(x, key=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    children = np.random.default_rng(0).spawn(2)
    expected = 1 + 0.1 * children[0].standard_normal(4) + 0.2 * children[1].standard_normal(4)
    np.testing.assert_allclose(a, expected, rtol=1e-6)
    # JAX path: split into one key per random child.
    key = jax.random.key(1)
    out = eqx.filter_jit(lambda p, v, k: p(v, key=k))(pipe, jnp.zeros(4), key)
    k1, k2 = jax.random.split(key, 2)
    ref = 1 + 0.1 * jax.random.normal(k1, (4,)) + 0.2 * jax.random.normal(k2, (4,))
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_key_to_deterministic_operator_is_an_error():
    with pytest.raises(TypeError, match="AddConst is deterministic and takes no key"):
        AddConst(1)(np.zeros(2), key=jax.random.key(0))
