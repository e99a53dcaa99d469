"""Call overhead of compiled pipelines, and the cost of loading a big pipeline from YAML.

Run: ``uv run --group bench python benchmarks/overhead.py [--repeats 7]``. Two tables,
ratios against baselines measured in the same run (medians of ``--repeats`` rounds):

1. Calling a compiled ``Sequential([NDVI])`` on a tiny input (a ``(2, 4, 4)`` float32
   array, and a 2-band 4 x 4 GeoTensor): ``pipekit_jax.jit(op)``, ``jax.jit`` of a
   closure over the op, ``eqx.filter_jit(op)``, and ``eqx.filter_jit`` of a function
   taking the op as an argument (what a training step does). Compute is nil, so the time
   is dispatch overhead.
2. ``pk.loads_yaml`` of a 1,000-node pipeline (a Sequential of 1,000 operators) against
   ``yaml.load(text, Loader=yaml.CSafeLoader)`` of the same text (parse only) and against
   Hydra's ``OmegaConf.create`` + ``hydra.utils.instantiate`` of the same ``_target_``
   tree (Hydra is in the bench dependency group only).

Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import timeit
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import yaml
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_jax as pj
from _timing import median_time


def per_call_us(fn: Callable[[], Any], repeats: int, number: int = 2000) -> float:
    """Median over ``repeats`` rounds of the mean time of ``number`` calls, in µs."""
    jax.block_until_ready(fn())
    rounds = [timeit.timeit(fn, number=number) / number * 1e6 for _ in range(repeats)]
    return statistics.median(rounds)


def overhead_rows(repeats: int) -> list[tuple[str, float]]:
    op = pk.Sequential([gz.indices.NDVI(red_idx=0, nir_idx=1)])
    x = jnp.linspace(0.1, 0.9, 32, dtype=jnp.float32).reshape(2, 4, 4)
    transform = Affine(10.0, 0, 500_000.0, 0, -10.0, 4_000_000.0)
    gt = jax.tree.map(jnp.asarray, gc.GeoTensor(np.asarray(x), transform, "EPSG:32630"))
    ours = pj.jit(op)
    closure = jax.jit(lambda v: op(v))
    filtered = eqx.filter_jit(op)
    as_arg = eqx.filter_jit(lambda o, v: o(v))
    rows = [
        ("array: jax.jit(lambda x: op(x))", per_call_us(lambda: closure(x), repeats)),
        ("array: pipekit_jax.jit(op)", per_call_us(lambda: ours(x), repeats)),
        ("array: eqx.filter_jit(op)", per_call_us(lambda: filtered(x), repeats)),
        ("array: eqx.filter_jit(f)(op, x)", per_call_us(lambda: as_arg(op, x), repeats)),
        ("GeoTensor: jax.jit(lambda g: op(g))", per_call_us(lambda: closure(gt), repeats)),
        ("GeoTensor: pipekit_jax.jit(op)", per_call_us(lambda: ours(gt), repeats)),
        ("GeoTensor: eqx.filter_jit(op)", per_call_us(lambda: filtered(gt), repeats)),
    ]
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(closure(x)), rtol=1e-6)
    return rows


def big_pipeline_yaml(n: int = 1000) -> str:
    steps = [
        gz.indices.NDVI(red_idx=2, nir_idx=3),
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        gz.radiometry.PercentileClip(p_min=2, p_max=98),
        gz.radiometry.ToFloat32(),
        pk.Identity(),
    ]
    return pk.dumps_yaml(pk.Sequential([steps[i % len(steps)] for i in range(n - 1)]))


def yaml_rows(repeats: int) -> list[tuple[str, float]]:
    text = big_pipeline_yaml()
    loaded = pk.loads_yaml(text)
    assert len(loaded.ops) == 999  # 999 steps + the Sequential: 1,000 _target_ nodes
    rows = [
        ("yaml.load(CSafeLoader), parse only", median_time(
            lambda: yaml.load(text, Loader=yaml.CSafeLoader), repeats)),
        ("pk.loads_yaml (parse + build)", median_time(lambda: pk.loads_yaml(text), repeats)),
    ]  # fmt: skip
    try:
        from hydra.utils import instantiate
        from omegaconf import OmegaConf
    except ImportError:  # not in the default groups: uv run --group bench
        return rows

    def hydra() -> Any:
        cfg = OmegaConf.create(yaml.load(text, Loader=yaml.CSafeLoader))
        return instantiate(cfg, _convert_="all")  # plain lists of built operators

    built = hydra()
    assert pk.config_hash(built) == pk.config_hash(loaded)
    rows.append(("Hydra OmegaConf.create + instantiate", median_time(hydra, repeats)))
    return rows


def table(title: str, rows: list[tuple[str, float]], baseline: str, unit: str) -> None:
    base = dict(rows)[baseline]
    print(f"\n{title}")
    print(f"  {'row':40s} {'median ' + unit:>12s} {'x baseline':>11s}")
    for name, value in rows:
        print(f"  {name:40s} {value:12.4g} {value / base:11.2f}")
    print(f"  baseline: {baseline}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"JAX {jax.__version__} on {jax.devices()[0].platform}")  # fmt: skip
    table("Call overhead, Sequential([NDVI]) on a tiny input", overhead_rows(args.repeats),
          "array: jax.jit(lambda x: op(x))", "µs")  # fmt: skip
    table("Loading a 1,000-node pipeline from YAML", yaml_rows(args.repeats),
          "yaml.load(CSafeLoader), parse only", "s")  # fmt: skip


if __name__ == "__main__":
    main()
