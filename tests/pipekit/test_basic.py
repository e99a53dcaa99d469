import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk


def test_identity_and_lambda():
    assert pk.Identity()("x") == "x"
    assert pk.Lambda(lambda a, b: a - b)(5, 3) == 2
    with pytest.raises(pk.ConfigError, match="Lambda\\(fn\\) expects a callable, got int"):
        pk.Lambda(3)


def test_tap_gets_concrete_numpy_values_under_jit_and_vmap():
    seen = []
    pipe = pk.Tap(lambda v: seen.append(v)) | pk.Lambda(lambda v: v * 2)
    out = eqx.filter_jit(pipe)(jnp.arange(3.0))
    jax.effects_barrier()
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    assert len(seen) == 1 and isinstance(seen[0], np.ndarray)
    np.testing.assert_array_equal(seen[0], [0.0, 1.0, 2.0])
    seen.clear()
    eqx.filter_vmap(pipe)(jnp.arange(6.0).reshape(2, 3))
    jax.effects_barrier()
    assert sorted(float(v.sum()) for v in seen) == [3.0, 12.0]


def test_tap_is_called_once_per_compiled_call():
    calls = []
    f = eqx.filter_jit(pk.Tap(lambda v: calls.append(float(v))))
    for i in range(3):
        f(jnp.float32(i))
    jax.effects_barrier()
    assert calls == [0.0, 1.0, 2.0]


def test_sink_consumes_and_returns_none():
    store = []
    assert pk.Sink(store.append)(np.ones(2)) is None
    out = eqx.filter_jit(pk.Sink(store.append))(jnp.ones(2))
    jax.effects_barrier()
    assert out is None and len(store) == 2
    np.testing.assert_array_equal(store[1], np.ones(2))


def test_callable_holders_are_forbidden_in_yaml():
    for cls in (pk.Lambda, pk.Tap, pk.Sink):
        assert cls.forbid_in_yaml
    assert not pk.Identity.forbid_in_yaml
