import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk

from .helpers import AddConst, Gain


def test_len_iter_index_slice():
    ops = [AddConst(1), AddConst(2), AddConst(3)]
    seq = pk.Sequential(ops)
    assert len(seq) == 3
    assert list(seq) == ops
    assert seq[1] is ops[1]
    assert seq[-1] is ops[2]
    tail = seq[1:]
    assert isinstance(tail, pk.Sequential) and list(tail) == ops[1:]
    assert float(tail(np.float32(0))) == 5.0


def test_summary_table_lists_steps_and_config():
    text = pk.Sequential([AddConst(1), Gain(0.5)]).summary()
    lines = text.splitlines()
    assert lines[0] == "Sequential: 2 step(s)"
    assert lines[1].split() == ["step", "operator", "config"]
    assert lines[3].split() == ["0", "AddConst", "value=1.0"]
    assert lines[4].split() == ["1", "Gain", "init=0.5"]


def test_construction_errors_name_the_problem():
    with pytest.raises(pk.ConfigError, match=r"ops\[1\] is a ufunc, not an Operator"):
        pk.Sequential([AddConst(1), np.sqrt])
    with pytest.raises(pk.ConfigError, match="expects a list of Operators"):
        pk.Sequential(AddConst(1))


def test_jit_equals_eager_and_whole_pipeline_is_one_pytree():
    seq = pk.Sequential([AddConst(1), Gain(3.0), AddConst(-2)])
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_allclose(eqx.filter_jit(seq)(jnp.asarray(x)), (x + 1) * 3 - 2)
    np.testing.assert_allclose(seq(x), (x + 1) * 3 - 2)
    grads = eqx.filter_grad(lambda s, v: jnp.sum(s(v)))(seq, jnp.asarray(x))
    # d/dw sum((x+1) * w - 2) = sum(x + 1)
    assert float(grads.ops[1].weight) == pytest.approx(float(np.sum(x + 1)))
