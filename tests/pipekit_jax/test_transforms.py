"""pipekit_jax.jit / vmap / shard: same numbers as eqx.filter_jit, compiled once, sharded."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj


def case1() -> pk.Sequential:
    return pk.Sequential([
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        gz.radiometry.PercentileClip(p_min=2, p_max=98),
        gz.indices.NDVI(red_idx=2, nir_idx=3),
    ])  # fmt: skip


def on_device(tree):
    return jax.tree.map(jnp.asarray, tree)


def scale_by(x, factor):
    return x * factor


def with_label(x):
    return {"values": x * 2, "label": "doubled"}


def test_jit_equals_filter_jit_and_traces_once_across_locations():
    op = case1()
    scene = gc.testing.synthetic_scene(64, 80, seed=1)
    f = pj.jit(op)
    for r0, c0 in [(0, 0), (5, 9), (30, 40)]:
        chip = on_device(scene[..., r0 : r0 + 32, c0 : c0 + 40])
        got = f(chip)
        want = eqx.filter_jit(op)(chip)
        np.testing.assert_array_equal(np.asarray(got.values), np.asarray(want.values))
        assert got.transform == chip.transform  # exact: the offset stays an integer leaf
    assert f.traces == 1
    assert pj.jit(op)(scene[..., :32, :40]).values.dtype == np.float32  # NumPy input is traced


def test_jit_static_arguments_are_part_of_the_cache_key():
    f = pj.jit(pk.Lambda(scale_by))
    x = jnp.arange(3.0)
    np.testing.assert_array_equal(f(x, 2.0), x * 2)
    np.testing.assert_array_equal(f(x + 1, 2.0), (x + 1) * 2)
    assert f.traces == 1
    np.testing.assert_array_equal(f(x, 3.0), x * 3)  # a new static value compiles once more
    assert f.traces == 2
    with pytest.raises(TypeError, match="hashable"):
        f(x, {1.0})  # a set is a leaf, and not hashable


def test_jit_keyword_arguments_and_non_array_outputs():
    x = pk.Input("scene")
    graph = pk.Graph(inputs={"scene": x},
                     outputs={"ndvi": gz.indices.NDVI(red_idx=2, nir_idx=3)(x)})  # fmt: skip
    scene = on_device(gc.testing.synthetic_scene(16, 16, seed=2))
    out = pj.jit(graph)(scene=scene)
    want = graph(scene=jax.tree.map(np.asarray, scene))
    np.testing.assert_allclose(np.asarray(out["ndvi"].values), want["ndvi"].values, rtol=1e-6)
    labelled = pj.jit(pk.Lambda(with_label))(jnp.ones(2))
    assert labelled["label"] == "doubled"
    np.testing.assert_array_equal(labelled["values"], [2.0, 2.0])


def test_jit_passes_parameters_as_arguments_and_pickles():
    op = pa.ModelOp(eqx.nn.Linear(4, 3, key=jax.random.key(0)))
    f = pj.jit(op)
    x = jnp.linspace(0.0, 1.0, 4)
    entry = f.lower(x).compile().as_text().split("ENTRY")[-1]
    assert entry.count("parameter(") == 3  # weight, bias, input: weights are not baked in
    np.testing.assert_allclose(f(x), op.model(x), rtol=1e-6)
    again = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(again(x), op.model(x), rtol=1e-6)
    assert again.traces == 1 and repr(again) == "pipekit_jax.jit(ModelOp)"


def test_vmap_eager_equals_jit_and_maps_only_the_named_axes():
    op = pj.vmap(pk.Lambda(scale_by), in_axes=(0, None))
    x = np.arange(12.0).reshape(3, 4)
    eager = op(x, np.float64(2.0))
    assert isinstance(eager, np.ndarray)
    np.testing.assert_array_equal(eager, x * 2)
    jitted = eqx.filter_jit(op)(jnp.asarray(x, jnp.float32), jnp.float32(2.0))
    np.testing.assert_allclose(np.asarray(jitted), x * 2)
    stacked = gc.stack([gc.testing.synthetic_scene(16, 16, seed=s) for s in range(3)])
    ndvi = pj.vmap(gz.indices.NDVI(red_idx=2, nir_idx=3))
    eager_gt, jit_gt = ndvi(stacked), pj.jit(ndvi)(on_device(stacked))
    for i, one in enumerate(gc.unstack(stacked)):
        want = gz.indices.NDVI(red_idx=2, nir_idx=3)(one)
        np.testing.assert_allclose(eager_gt.values[i], want.values, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(jit_gt.values[i]), want.values, rtol=1e-6)


def test_vmap_refuses_bad_config_at_construction():
    with pytest.raises(pk.ConfigError, match="in_axes"):
        pj.vmap(pk.Identity(), in_axes=None)
    with pytest.raises(pk.ConfigError, match="Operator"):
        pj.Vmap(lambda x: x)
    with pytest.raises(ValueError, match="batch size"):
        pj.vmap(pk.Lambda(scale_by))(np.ones((2, 3)), np.ones(3))


SHARD_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    import geocatalog as gc, geotoolz as gz, pipekit as pk, pipekit_jax as pj
    assert len(jax.devices()) == 4
    op = pj.vmap(pk.Sequential([
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        gz.radiometry.PercentileClip(p_min=2, p_max=98),
        gz.indices.NDVI(red_idx=2, nir_idx=3),
    ]))
    for n in (8, 6):  # 6 does not divide over 4 devices: padded, then cut back
        stacked = jax.tree.map(jnp.asarray, gc.stack(
            [gc.testing.synthetic_scene(32, 24, seed=s) for s in range(n)]))
        single = pj.jit(op)(stacked)
        sharded_fn = pj.shard(op)
        sharded = sharded_fn(stacked)
        np.testing.assert_array_equal(np.asarray(sharded.values), np.asarray(single.values))
        np.testing.assert_array_equal(np.asarray(sharded.offset), np.asarray(single.offset))
        if n == 8:
            assert len(sharded.values.sharding.device_set) == 4
    print("ok")
""")


def test_shard_over_four_host_devices_equals_one_device():
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", SHARD_SCRIPT],
        capture_output=True, text=True, cwd=Path(__file__).parents[2],
        env={**__import__("os").environ, **env}, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"


def test_shard_refuses_unbatched_inputs():
    with pytest.raises(ValueError, match="leading batch axis"):
        pj.shard(pk.Identity())(jnp.ones(()))
