"""Where the time of Case 1 vmapped over 256 chips goes, next to the issue's 30x target.

Run: ``uv run python benchmarks/vmap_floor.py [--repeats 15]``. Medians of ``--repeats``
calls after a warm-up call; every figure comes from this run.

``benchmarks/patch.py`` measures vmap against a loop of per-chip jit calls. This script
splits the vmapped program into its parts, to show how much time the exact percentile
selection may take if vmap is to reach 30x the loop:

1. the loop, and the vmapped program as ``patch.py`` times it;
2. the same program with the host selection replaced by a callback that only writes its
   output: what XLA and the two callbacks (one per band that NDVI reads) cost without
   any selecting;
3. one band's selection outside XLA, on the very rows the callback gets (256 rows of
   4096 values, 21 % NaN): the engine in use (``nanquantile_rows``), a bare ``np.sort``,
   and the cheapest exact alternatives found: an in-place ``np.partition`` of
   order-preserving int32 keys (one side; percentiles 2 and 98 need two), and XLA's own
   ``lax.top_k`` and ``jnp.sort`` of those rows.

The budget line is ``loop / 30 - program without selection``, to be shared by two bands.
"""

from __future__ import annotations

import argparse
import os
import platform

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import geocatalog as gc
import geotoolz as gz
import pipekit_array._percentile as percentile
from _timing import median_time
from patch import case1, chips
from pipekit_array._percentile_select import nanquantile_rows

_QUANTILES = (0.02, 0.98)


def timed(fn, repeats: int) -> float:
    return median_time(lambda: jax.block_until_ready(fn()), repeats, warmup=True)


def program_rows(
    stacked: gc.GeoTensor, singles: list[gc.GeoTensor], repeats: int
) -> tuple[float, float, float]:
    """Loop, vmapped program, vmapped program whose selection callback does nothing."""
    op = case1()
    vmapped = eqx.filter_jit(eqx.filter_vmap(lambda o, c: o(c), in_axes=(None, 0)))
    one = eqx.filter_jit(lambda o, c: o(c))
    loop = timed(lambda: [one(op, c) for c in singles], repeats)
    program = timed(lambda: vmapped(op, stacked), repeats)
    engine = percentile.nanquantile_rows
    percentile.nanquantile_rows = lambda rows, q, **_: np.zeros((len(q), rows.shape[0]))
    try:
        # A fresh jit: the patched kernel is captured at trace time.
        no_select = eqx.filter_jit(eqx.filter_vmap(lambda o, c: o(c), in_axes=(None, 0)))
        empty = timed(lambda: no_select(op, stacked), repeats)
    finally:
        percentile.nanquantile_rows = engine
    return loop, program, empty


def band_rows(stacked: gc.GeoTensor) -> np.ndarray:
    """Band 2 (red) of the 256 masked chips as the callback sees it: ``(256, 4096)``."""
    masked = np.asarray(gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(stacked).values)
    return np.ascontiguousarray(masked[:, 2].reshape(len(masked), -1), dtype=np.float32)


def int_keys(rows: np.ndarray) -> np.ndarray:
    """int32 keys ordered as the floats, NaN (canonicalised) last."""
    bits = np.where(np.isnan(rows), np.float32(np.nan), rows).view(np.int32)
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


def selection_rows(rows: np.ndarray, repeats: int) -> list[tuple[str, float]]:
    k = int(np.floor((rows.shape[1] - 1) * _QUANTILES[0])) + 2  # ranks floor(h) and floor(h) + 1
    keys = int_keys(rows)
    work = keys.copy()

    def partition_in_place() -> None:
        work[...] = keys  # untimed share below: the copy is measured on its own
        work.partition(k - 1, axis=1)

    copy_only = timed(lambda: np.copyto(work, keys), repeats)
    device = jnp.asarray(rows)
    no_nan = jnp.where(jnp.isnan(device), -jnp.inf, device)
    top_k = jax.jit(lambda x: lax.top_k(x, k)[0])
    xla_sort = jax.jit(lambda x: jnp.sort(x, axis=1))
    return [
        ("nanquantile_rows (engine in use)",
         timed(lambda: nanquantile_rows(rows, _QUANTILES, weak_gamma=False), repeats)),
        ("np.sort of the rows", timed(lambda: np.sort(rows, axis=1), repeats)),
        ("int32 keys: np.partition in place, 1 side",
         timed(partition_in_place, repeats) - copy_only),
        ("int32 keys: np.partition with copy, 1 side",
         timed(lambda: np.partition(keys, k - 1, axis=1), repeats)),
        ("XLA lax.top_k, 1 side", timed(lambda: top_k(no_nan), repeats)),
        ("XLA jnp.sort", timed(lambda: xla_sort(device), repeats)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"JAX {jax.__version__} on {jax.default_backend()}, NumPy {np.__version__}")  # fmt: skip

    stacked, singles = chips()
    loop, program, empty = program_rows(stacked, singles, args.repeats)
    print("\nCase 1, 256 chips (13, 64, 64)          median ms")
    print(f"  Python loop of 256 jit calls           {loop * 1e3:9.2f}")
    for name, seconds in (("vmapped program", program), ("vmapped, selection does nothing", empty)):
        print(f"  {name:<38} {seconds * 1e3:9.2f}   ({loop / seconds:.1f}x)")
    budget = loop / 30 - empty
    print(f"  30x budget for the selection           {budget * 1e3:9.2f}   (2 bands: "
          f"{budget / 2 * 1e3:.2f} each)")  # fmt: skip

    rows = band_rows(stacked)
    print(f"\nOne band's selection, rows {rows.shape}, {np.isnan(rows).mean():.0%} NaN"
          "     median ms")  # fmt: skip
    for name, seconds in selection_rows(rows, args.repeats):
        print(f"  {name:<44} {seconds * 1e3:9.2f}")


if __name__ == "__main__":
    main()
