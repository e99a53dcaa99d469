"""geopatcher: stitching a big scene, and chips vmapped vs a loop of jit calls.

Run: ``uv run python benchmarks/patch.py [--repeats 5]``. Prints two tables; every ratio
is against a baseline measured in the same run (medians of ``--repeats`` runs after a
warm-up call that also compiles). Timings are never asserted in tests.

1. Stitch a ``(4, 4096, 4096)`` float32 scene from 256² chips at 50 % overlap (stride
   128, 961 chips), Hann window, identity op, through
   ``Sequential([GridSampler, ApplyToChips(Identity), Stitch])``: the NumPy (host) path,
   the JAX path under ``eqx.filter_jit``, and the same with the input donated (XLA then
   reuses its buffer for the output instead of faulting in a fresh 256 MiB). Baselines:
   ``np.copyto`` of the array (the memory-bandwidth limit) and a jitted ``x + 1`` (what XLA
   pays to write a fresh array of that size here).
2. 256 chips ``(13, 64, 64)`` through the Case 1 pipeline (MaskClouds, PercentileClip,
   NDVI): one ``eqx.filter_jit`` of ``eqx.filter_vmap`` vs a Python loop of per-chip calls
   of one jitted function; and the same two without PercentileClip (whose exact selection
   is a host callback on CPU), to show what vmap gains where none runs.
   ``benchmarks/vmap_floor.py`` splits that vmapped program into its parts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from affine import Affine

import geocatalog as gc
import geopatcher as gp
import geotoolz as gz
import pipekit as pk
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch


def median_time(fn: Callable[[], Any], repeats: int, setup: Callable[[], Any] | None = None):
    """Median seconds of ``fn(setup())`` (``setup`` untimed) after one warm-up call."""
    arg = setup() if setup else None
    jax.block_until_ready(fn(arg) if setup else fn())
    times = []
    for _ in range(repeats):
        arg = setup() if setup else None
        if setup:
            jax.block_until_ready(arg)
        start = time.perf_counter()
        jax.block_until_ready(fn(arg) if setup else fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stitch_rows(repeats: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    x = rng.random((4, 4096, 4096), dtype=np.float32)
    gt = gc.GeoTensor(x, Affine(10.0, 0, 399_960.0, 0, -10.0, 4_500_000.0), "EPSG:32630")
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(256), gp.SpatialRegularStride(128),
                                gp.SpatialHann(), gp.SpatialOverlapAdd())  # fmt: skip
    infer = pk.Sequential([GridSampler(patcher), ApplyToChips(pk.Identity()), Stitch()])
    # Correctness first: both paths give the input back (identity op, exact overlap-add).
    host = infer(gt)
    on_device = jax.tree.map(jnp.asarray, gt)
    jitted = eqx.filter_jit(infer)
    assert np.abs(host.values - x).max() < 1e-6
    assert float(jnp.abs(jitted(on_device).values - on_device.values).max()) < 1e-6
    dst = np.empty_like(x)
    plus_one = jax.jit(lambda v: v + 1)
    donated = eqx.filter_jit(infer, donate="all")
    return [
        ("np.copyto (bandwidth limit)", median_time(lambda: np.copyto(dst, x), repeats)),
        ("jax.jit(x + 1), fresh output", median_time(lambda: plus_one(on_device.values), repeats)),
        ("NumPy path (host)", median_time(lambda: infer(gt), repeats)),
        ("JAX path, filter_jit", median_time(lambda: jitted(on_device), repeats)),
        ("JAX path, input donated", median_time(
            lambda g: donated(g), repeats, setup=lambda: jax.tree.map(jnp.copy, on_device)
        )),
    ]  # fmt: skip


def case1() -> pk.Sequential:
    """Seed Case 1: mask clouds, clip to the 2nd-98th percentiles, NDVI."""
    return pk.Sequential([
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        gz.radiometry.PercentileClip(p_min=2, p_max=98),
        gz.indices.NDVI(red_idx=2, nir_idx=3),
    ])  # fmt: skip


def chips() -> tuple[gc.GeoTensor, list[gc.GeoTensor]]:
    """256 chips (13, 64, 64) of a synthetic 1024² scene: stacked, and one by one (on device)."""
    scene = gc.testing.synthetic_scene(1024, 1024, seed=3)
    starts = range(0, 1024, 64)
    cut = [scene[..., r : r + 64, c : c + 64] for r in starts for c in starts]
    return jax.tree.map(jnp.asarray, gc.stack(cut)), [jax.tree.map(jnp.asarray, c) for c in cut]


def vmap_rows(repeats: int) -> list[tuple[str, float]]:
    op, (stacked, singles) = case1(), chips()
    vmapped = eqx.filter_jit(eqx.filter_vmap(lambda op, c: op(c), in_axes=(None, 0)))
    one = eqx.filter_jit(lambda op, c: op(c))
    got = vmapped(op, stacked)
    for i in (0, 77, 255):  # same numbers as one chip at a time
        want = np.asarray(one(op, singles[i]).values)
        np.testing.assert_allclose(np.asarray(got.values[i]), want, rtol=1e-6, equal_nan=True)

    # The same without PercentileClip: what vmap gains where no host selection runs.
    no_clip = pk.Sequential([op.ops[0], op.ops[2]])
    return [
        ("Python loop of 256 jit calls", median_time(lambda: [one(op, c) for c in singles],
                                                     repeats)),
        ("one jit of vmap over 256 chips", median_time(lambda: vmapped(op, stacked), repeats)),
        ("  no PercentileClip: loop", median_time(lambda: [one(no_clip, c) for c in singles],
                                                  repeats)),
        ("  no PercentileClip: vmap", median_time(lambda: vmapped(no_clip, stacked), repeats)),
    ]  # fmt: skip


def table(title: str, rows: list[tuple[str, float]], baseline: str) -> None:
    base = dict(rows)[baseline]
    print(f"\n{title}")
    print(f"  {'row':34s} {'median s':>10s} {'x ' + baseline[:18]:>22s}")
    for name, seconds in rows:
        print(f"  {name:34s} {seconds:10.4f} {seconds / base:22.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"JAX {jax.__version__} on {jax.devices()[0].platform}")  # fmt: skip
    table("Stitch (4, 4096, 4096) float32, 256² chips, stride 128 (961 chips), Hann, identity",
          stitch_rows(args.repeats), "np.copyto (bandwidth limit)")  # fmt: skip
    rows = vmap_rows(args.repeats)
    table("256 chips (13, 64, 64) through Case 1", rows, "one jit of vmap over 256 chips")
    (_, loop), (_, vmap), (_, loop_nc), (_, vmap_nc) = rows
    print(f"  vmap speed-up over the loop: {loop / vmap:.1f}x "
          f"({loop_nc / vmap_nc:.1f}x without PercentileClip)")  # fmt: skip


if __name__ == "__main__":
    main()
