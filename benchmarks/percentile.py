"""Benchmark: ``pipekit_array.nanpercentile`` against ``np.nanpercentile``.

Run: ``uv run python benchmarks/percentile.py [--sizes 1024 2048] [--repeats 7] [--jnp]``.

For each ``(13, size, size)`` float32 image with ~6 % NaNs and ``q=(2, 98)`` over
the spatial axes, prints the median time of ``--repeats`` runs after a warm-up
call (compilation excluded, reported separately), and its speed relative to
``np.nanpercentile`` measured in the same run (``x NumPy`` > 1 is faster). The
rows are timed round-robin, so that load changes on a shared machine hit every
row alike. ``--jnp`` adds ``jnp.nanpercentile`` under jit (slow: it sorts).
Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pipekit_array import nanpercentile

Q = (2.0, 98.0)


def scene(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(13, size, size)).astype(np.float32)
    x[rng.random(x.shape) < 0.06] = np.nan
    return x


def rows_for(x: np.ndarray, with_jnp: bool) -> dict[str, tuple[Callable[[], Any], float]]:
    """Each row's zero-argument callable and its compile time (0 for NumPy)."""
    xj = jnp.asarray(x)

    def jitted(fn: Callable[[jax.Array], jax.Array]) -> tuple[Callable[[], Any], float]:
        start = time.perf_counter()
        compiled = jax.jit(fn).lower(xj).compile()
        return (lambda: compiled(xj)), time.perf_counter() - start

    def np_nanpercentile() -> np.ndarray:
        with warnings.catch_warnings():  # no all-NaN band here; keep it quiet anyway
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanpercentile(x, Q, axis=(-2, -1))

    rows = {
        "np.nanpercentile (baseline)": (np_nanpercentile, 0.0),
        "nanpercentile, NumPy path": (lambda: nanpercentile(x, Q), 0.0),
    }
    for method in ("radix", "host", "auto"):
        rows[f"jit {method}"] = jitted(lambda a, m=method: nanpercentile(a, Q, method=m))
    for method in ("radix", "auto"):
        rows[f"jit {method}, bands 2:4 only (DCE)"] = jitted(
            lambda a, m=method: nanpercentile(a, Q, method=m)[:, 2:4]
        )
    if with_jnp:
        rows["jit jnp.nanpercentile (sorts)"] = jitted(
            lambda a: jnp.nanpercentile(a, jnp.asarray(Q), axis=(-2, -1))
        )
    return rows


def check_agreement(x: np.ndarray, rows: dict[str, tuple[Callable[[], Any], float]]) -> None:
    """Every row must give NumPy's numbers before its time means anything."""
    reference = rows["np.nanpercentile (baseline)"][0]()
    for name, (fn, _) in rows.items():
        got = np.asarray(fn(), dtype=np.float64)
        expected = reference[:, 2:4] if "2:4" in name else reference
        if not np.allclose(got, expected, rtol=1e-6, atol=0):
            raise AssertionError(f"{name} disagrees with np.nanpercentile")


def time_rows(rows: dict[str, tuple[Callable[[], Any], float]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeats):
        for name, (fn, _) in rows.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--jnp", action="store_true", help="add jnp.nanpercentile (slow)")
    args = parser.parse_args()
    print(
        f"nanpercentile benchmark: q={Q}, 13 bands, ~6% NaN, float32; "
        f"median of {args.repeats} after warm-up; {os.cpu_count()} CPUs "
        f"({platform.machine()}), jax {jax.__version__} on {jax.default_backend()}, "
        f"numpy {np.__version__}"
    )
    header = f"{'shape':<17}{'row':<36}{'median s':>10}{'x NumPy':>9}{'compile s':>11}"
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        x = scene(size)
        rows = rows_for(x, args.jnp)
        check_agreement(x, rows)
        medians = time_rows(rows, args.repeats)
        baseline = medians["np.nanpercentile (baseline)"]
        for name, median in medians.items():
            compile_s = rows[name][1]
            compiled = f"{compile_s:11.2f}" if compile_s else f"{'':11}"
            print(f"{x.shape!s:<17}{name:<36}{median:10.4f}{baseline / median:9.2f}{compiled}")


if __name__ == "__main__":
    main()
