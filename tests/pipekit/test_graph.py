"""Graph: a Case-11-shaped DAG (three inputs, two outputs, a diamond) with stand-in operators.

Stand-ins: ``Counted`` for MaskClouds/LeeSpeckle (identity that counts runs), ``Gain`` for
LinearToDB and the classifier (a trainable weight), ``Add`` for AlignAndStack.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk

from .helpers import COUNTER, Add, Counted, Gain, Mul


def case11_graph():
    opt, sar, dem = pk.Input("optical"), pk.Input("sar"), pk.Input("dem")
    opt_clean = Counted("mask")(opt)
    sar_db = Gain(2.0)(Counted("speckle")(sar))
    fused = Counted("fused")(Add()(opt_clean, sar_db, dem))
    # Diamond: `fused` feeds both the classifier and the product below.
    classify = Gain(0.5)(fused)
    crop_map = Mul()(classify, fused)
    return pk.Graph(
        inputs={"optical": opt, "sar": sar, "dem": dem},
        outputs={"crop_map": crop_map, "fused_stack": fused},
    )


def inputs(xp=np):
    o = xp.asarray(np.linspace(0, 1, 6, dtype=np.float32))
    s = xp.asarray(np.linspace(1, 2, 6, dtype=np.float32))
    d = xp.asarray(np.full(6, 0.25, dtype=np.float32))
    return {"optical": o, "sar": s, "dem": d}


def reference(o, s, d, w_sar=2.0, w_cls=0.5):
    fused = o + w_sar * s + d
    return {"crop_map": (w_cls * fused) * fused, "fused_stack": fused}


def test_runs_each_node_once_and_matches_reference():
    g = case11_graph()
    COUNTER.calls.clear()
    out = g(**inputs())
    assert COUNTER.calls == {"mask": 1, "speckle": 1, "fused": 1}
    ref = reference(**{k[0]: v for k, v in zip("osd", inputs().values(), strict=True)})
    for name in ("crop_map", "fused_stack"):
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-6)


def test_jits_with_one_trace_and_same_numbers():
    g = case11_graph()
    COUNTER.calls.clear()
    f = eqx.filter_jit(lambda graph, kw: graph(**kw))
    out1 = f(g, inputs(jnp))
    out2 = f(g, {k: v + 1 for k, v in inputs(jnp).items()})
    assert COUNTER.calls == {"mask": 1, "speckle": 1, "fused": 1}  # traced once, each node once
    eager = g(**inputs())
    np.testing.assert_allclose(out1["crop_map"], eager["crop_map"], rtol=1e-6)
    assert out2["fused_stack"].shape == (6,)


def test_grad_wrt_array_leaf_matches_finite_differences():
    g = case11_graph()
    kw = inputs(jnp)

    def loss(graph):
        return jnp.sum(graph(**kw)["crop_map"])

    grads = eqx.filter_grad(loss)(g)
    gains = [op for op in g.ops if isinstance(op, Gain)]
    assert len(gains) == 2
    eps = 1e-2
    for op in gains:
        idx = g.ops.index(op)
        grad_leaf = float(grads.ops[idx].weight)

        def at(w, idx=idx):
            return float(loss(eqx.tree_at(lambda t: t.ops[idx].weight, g, jnp.float32(w))))

        w0 = float(op.weight)
        fd = (at(w0 + eps) - at(w0 - eps)) / (2 * eps)
        assert grad_leaf == pytest.approx(fd, rel=1e-3)
    # Analytic check as well: d/dw_cls sum(w_cls * fused^2) = sum(fused^2).
    o, s, d = (np.asarray(v) for v in kw.values())
    fused = o + 2.0 * s + d
    cls_idx = g.ops.index(gains[1])
    assert float(grads.ops[cls_idx].weight) == pytest.approx(float(np.sum(fused**2)), rel=1e-5)


def test_summary_lists_nodes_in_execution_order():
    text = case11_graph().summary()
    assert text.splitlines()[0] == (
        "Graph: inputs [optical, sar, dem] -> outputs [crop_map <- mul, fused_stack <- counted_2]"
    )
    names = [line.split()[0] for line in text.splitlines()[3:]]
    assert names == ["counted", "counted_1", "gain", "add", "counted_2", "gain_1", "mul"]
    add_row = next(line for line in text.splitlines() if line.startswith("add "))
    assert "counted, gain, dem" in add_row


def test_validation_names_the_node():
    a, b, stray = pk.Input("a"), pk.Input("b"), pk.Input("stray")
    with pytest.raises(pk.GraphError, match=r"input\(s\) \['b'\] are not used"):
        pk.Graph(inputs={"a": a, "b": b}, outputs={"y": Counted("x")(a)})
    with pytest.raises(pk.GraphError, match=r"output 'y' is not reachable .* Input\('stray'\)"):
        pk.Graph(inputs={"a": a}, outputs={"y": Add()(a, stray)})
    with pytest.raises(pk.GraphError, match="output 'y' is a int, not a node"):
        pk.Graph(inputs={"a": a}, outputs={"y": 3})
    with pytest.raises(pk.GraphError, match=r"inputs\['x'\] is Input\('a'\)"):
        pk.Graph(inputs={"x": a}, outputs={"y": a})
    with pytest.raises(pk.GraphError, match="must be a node"):
        Add()(a, 3.0)
    with pytest.raises(TypeError, match=r"missing \['b'\]"):
        pk.Graph(inputs={"a": a, "b": b}, outputs={"y": Add()(a, b)})(a=1)


def test_config_form_round_trips_through_yaml_and_shares_operators():
    x = pk.Input("x")
    shared = Gain(3.0)
    g = pk.Graph(inputs={"x": x}, outputs={"y": shared(shared(x))})
    assert len(g.ops) == 1  # one operator object, stored once
    text = pk.dumps_yaml(g)
    assert "op: gain\n" in text  # the second node refers to the first node's operator
    again = pk.loads_yaml(text)
    assert len(again.ops) == 1
    assert again.state == g.state
    assert pk.config_hash(again) == pk.config_hash(g)
    np.testing.assert_allclose(again(x=np.float32(2))["y"], 18.0)


def test_config_form_errors():
    gain = {"op": Gain(1.0), "args": ["x"]}
    with pytest.raises(
        pk.GraphError, match="reads 'z', which is neither an input nor an earlier node"
    ):
        pk.Graph(inputs=["x"], nodes={"g": {"op": Gain(1.0), "args": ["z"]}}, outputs={"y": "g"})
    with pytest.raises(pk.GraphError, match=r"node\(s\) \['g'\] do not reach any output"):
        pk.Graph(inputs=["x"], nodes={"g": gain}, outputs={"y": "x"})
    with pytest.raises(pk.GraphError, match="names 'nope'"):
        pk.Graph(inputs=["x"], nodes={"g": gain}, outputs={"y": "nope"})


def test_random_nodes_get_keys():
    from .helpers import Noise

    x = pk.Input("x")
    g = pk.Graph(inputs={"x": x}, outputs={"y": Noise(1.0)(x)})
    key = jax.random.key(3)
    out = g(x=jnp.zeros(3), key=key)["y"]
    (k1,) = jax.random.split(key, 1)
    np.testing.assert_allclose(out, jax.random.normal(k1, (3,)), rtol=1e-6)
