"""Chips sharded across devices give the same stitched result (2 host devices, subprocess)."""

import subprocess
import sys
from pathlib import Path

CODE = """
import jax, jax.numpy as jnp, numpy as np, equinox as eqx
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import geocatalog as gc, geopatcher as gp, geotoolz as gz, pipekit as pk
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch

assert len(jax.devices()) == 2, jax.devices()
scene = jax.tree.map(jnp.asarray, gc.testing.synthetic_scene(176, 176, seed=1))
patcher = gp.SpatialPatcher(gp.SpatialRectangular(32), gp.SpatialRegularStride(16),
                            gp.SpatialHann())
op = ApplyToChips(pk.Sequential([gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
                                 gz.indices.NDVI(red_idx=2, nir_idx=3)]))
chips = GridSampler(patcher)(scene)
assert len(chips) % 2 == 0, len(chips)
mesh = Mesh(np.array(jax.devices()), ("chips",))
sharded = eqx.tree_at(lambda c: c.values, chips,
                      jax.device_put(chips.values, NamedSharding(mesh, P("chips"))))
assert len(sharded.values.sharding.device_set) == 2
run = eqx.filter_jit(lambda c: Stitch()(op(c)))
want, got = run(chips), run(sharded)
np.testing.assert_allclose(np.asarray(got.values), np.asarray(want.values), rtol=1e-6,
                           equal_nan=True)
assert got.transform == want.transform == gc.GeoTensor.transform.fget(scene)
print("ok", len(chips))
"""


def test_chips_sharded_over_two_devices_stitch_to_the_same_result():
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    import os

    done = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, **env},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok 100")
