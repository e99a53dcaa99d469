"""Core benchmarks: framework overhead, Case 1 jit vs NumPy, pipeline vs hand-written JAX.

Run: ``uv run python benchmarks/core.py [--size 2048] [--repeats 7]``. Prints one table;
every ratio is against a baseline measured in the same run (medians of ``--repeats``
runs after a warm-up call, compilation excluded). Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene
from pipekit_array import nanpercentile


class AddOne(pk.Operator):
    """The trivial op of the overhead row."""

    def _apply(self, x: Any) -> Any:
        return x + 1


def add_one(x: Any) -> Any:
    return x + 1


def median_time(fn: Callable[[], Any], repeats: int, inner: int = 1) -> float:
    jax.block_until_ready(fn())  # warm-up: compile, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            out = fn()
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def case1() -> pk.Sequential:
    return pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            gz.radiometry.PercentileClip(p_min=2, p_max=98),
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )


@jax.jit
def case1_by_hand(values: jax.Array) -> jax.Array:
    """Case 1 as an expert writes it directly in JAX: only the red and NIR bands are
    masked and clipped (same percentile kernel), so this is the bar for the pipeline."""
    qa = values[-1].astype(jnp.uint32)
    cloudy = (qa & jnp.uint32((1 << 10) | (1 << 11))) != 0

    def clean(band: jax.Array) -> jax.Array:
        band = jnp.where(cloudy, jnp.float32(jnp.nan), band.astype(jnp.float32))
        lo, hi = nanpercentile(band, (2.0, 98.0), axis=(-2, -1))
        return jnp.clip(band, lo, hi)

    red, nir = clean(values[2]), clean(values[3])
    den = nir + red
    return jnp.where(den == 0, jnp.float32(jnp.nan), (nir - red) / jnp.where(den == 0, 1, den))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="scene height = width")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str, float]] = []

    # 1. Framework overhead: an eager Sequential of 10 trivial ops vs 10 direct calls.
    seq = pk.Sequential([AddOne() for _ in range(10)])
    x0 = 1.0

    def direct() -> float:
        x = x0
        for _ in range(10):
            x = add_one(x)
        return x

    t_direct = median_time(direct, args.repeats, inner=20_000)
    t_seq = median_time(lambda: seq(x0), args.repeats, inner=20_000)
    rows.append(("eager Sequential, 10 trivial ops", "10 direct calls", t_direct, "pipekit", t_seq))

    # 2. Case 1 on a (13, size, size) scene: jit vs NumPy eager.
    scene = synthetic_scene(args.size, args.size)
    pipe = case1()
    jitted = eqx.filter_jit(pipe)
    scene_jax = jax.tree.map(jnp.asarray, scene)
    t_numpy = median_time(lambda: pipe(scene), max(3, args.repeats // 2))
    t_jit = median_time(lambda: jitted(scene_jax).values, args.repeats)
    shape = f"(13, {args.size}, {args.size}) {scene.values.dtype}"
    rows.append((f"Case 1 {shape}", "NumPy eager", t_numpy, "eqx.filter_jit", t_jit))

    # 3. The jitted pipeline vs the same math written by hand in JAX.
    t_hand = median_time(lambda: case1_by_hand(scene_jax.values), args.repeats)
    rows.append((f"Case 1 {shape}", "hand-written jax.jit", t_hand, "pipeline jit", t_jit))

    # 4. PercentileClip alone on (13, 1024, 1024): every band read, no dead-code elimination.
    small = synthetic_scene(1024, 1024)
    masked = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(small)
    clip = gz.radiometry.PercentileClip(p_min=2, p_max=98)
    clip_jit = eqx.filter_jit(clip)
    masked_jax = jax.tree.map(jnp.asarray, masked)
    t_clip_np = median_time(lambda: clip(masked), args.repeats)
    t_clip_jit = median_time(lambda: clip_jit(masked_jax).values, args.repeats)
    values = np.asarray(masked.values)

    def numpy_formula() -> np.ndarray:
        lo = np.nanpercentile(values, 2, axis=(-2, -1), keepdims=True)
        hi = np.nanpercentile(values, 98, axis=(-2, -1), keepdims=True)
        return np.clip(values, lo, hi)

    t_formula = median_time(numpy_formula, args.repeats)
    label = "PercentileClip (13, 1024, 1024) float32"
    rows.append((label, "np.nanpercentile+clip", t_formula, "jit", t_clip_jit))
    rows.append((label, "pipekit NumPy path", t_clip_np, "jit", t_clip_jit))
    radix = eqx.filter_jit(gz.radiometry.PercentileClip(p_min=2, p_max=98, method="radix"))
    t_radix = median_time(lambda: radix(masked_jax).values, args.repeats)
    rows.append((label, "pipekit NumPy path", t_clip_np, "jit method=radix", t_radix))

    device = f"{jax.devices()[0].platform} ({jax.device_count()} device)"
    print(f"machine: {platform.machine()}, {device}, jax {jax.__version__}, numpy {np.__version__}")
    head = (
        f"{'case':44s} {'baseline':22s} {'time':>10s}   {'candidate':16s} {'time':>10s}"
        f"  {'ratio':>7s}"
    )
    print(head)
    print("-" * len(head))
    for case, base, tb, cand, tc in rows:
        unit, scale = ("µs", 1e6) if tb < 1e-3 else ("ms", 1e3)
        print(
            f"{case:44s} {base:22s} {tb * scale:8.2f}{unit}   {cand:16s} {tc * scale:8.2f}{unit}"
            f"  {tc / tb:6.2f}×"
        )
    print("ratio = candidate time / baseline time (lower is faster)")


if __name__ == "__main__":
    main()
