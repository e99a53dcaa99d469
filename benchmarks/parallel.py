"""Parallel benchmarks: ProcessMap speed-up on a CPU-bound pipeline, per-item overhead of each map.

Run: ``uv run python benchmarks/parallel.py [--scenes 64] [--size 512] [--repeats 3]``.
Prints one table. Speed-up is against a plain loop in the same run; overheads are
``(map time - list comprehension time) / items`` on a trivial function, medians of
``--repeats`` runs. The speed-up is given twice: "cold" starts and stops a pool in each
call (``keep_pool=False``, what a one-off script pays: workers import JAX and geotoolz),
"warm" reuses the kept pool of an earlier call (``keep_pool=True``, the default).
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import pipekit as pk
import pipekit.parallel as pp
from _timing import median_time
from geocatalog.testing import synthetic_scene

CASE1 = Path(__file__).resolve().parent.parent / "examples" / "case1_ndvi.yaml"


class Case1FromSeed(pk.Operator):
    """Build ``synthetic_scene(size, size, seed)`` in the worker and run the Case-1 pipeline.

    Generating the scene from its seed inside the worker keeps the 13-band input off the
    pickle channel, as a real job would read its scene from storage.
    """

    size: int = 512

    def _apply(self, seed: Any) -> Any:
        pipe = pk.loads_yaml(CASE1.read_text())
        out = pipe(synthetic_scene(self.size, self.size, seed=int(seed)))
        return float(np.nanmean(np.asarray(out)))


def identity(x: Any) -> Any:
    return x


def identity_batch(xs: list[Any]) -> list[Any]:
    return xs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=64)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--items", type=int, default=2000, help="items for the overhead rows")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    op = Case1FromSeed(args.size)
    seeds = list(range(args.scenes))
    op(0)  # warm-up: imports and caches in this process
    loop = median_time(lambda: [op(s) for s in seeds], args.repeats)
    cold = median_time(lambda: pp.ProcessMap(2, keep_pool=False).map(op, seeds), args.repeats)
    assert pp.ProcessMap(2).map(op, seeds[:4]) == [op(s) for s in seeds[:4]]  # warms the pool
    warm = median_time(lambda: pp.ProcessMap(2).map(op, seeds), args.repeats)
    rows.append((f"Case-1 loop, {args.scenes} scenes {args.size}²", f"{loop:8.2f} s"))
    rows.append(("Case-1 ProcessMap(2), cold pool per call", f"{cold:8.2f} s"))
    rows.append(("  speed-up vs loop (cold)", f"{loop / cold:8.2f} x"))
    rows.append(("Case-1 ProcessMap(2), warm kept pool", f"{warm:8.2f} s"))
    rows.append(("  speed-up vs loop (warm)", f"{loop / warm:8.2f} x"))

    items = list(range(args.items))
    base = median_time(lambda: [identity(x) for x in items], args.repeats)
    rows.append((f"list comprehension, {args.items} items", f"{base / len(items) * 1e6:8.2f} µs"))

    def overhead(label: str, run: Callable[[], Any], n: int = len(items)) -> None:
        t = median_time(run, args.repeats)
        rows.append((f"{label} overhead/item", f"{(t - base * n / len(items)) / n * 1e6:8.1f} µs"))

    async def aidentity(x: Any) -> Any:
        return x

    overhead("ThreadMap(2)", lambda: pp.ThreadMap(2).map(identity, items))
    overhead("AsyncMap(8), async fn", lambda: pp.AsyncMap(8).map(aidentity, items))
    overhead("AsyncMap(8), sync fn", lambda: pp.AsyncMap(8).map(identity, items))
    overhead("BatchedMap(64)", lambda: pp.BatchedMap(64).map(identity_batch, items))
    overhead(
        "ProcessMap(2) cold pool",
        lambda: pp.ProcessMap(2, keep_pool=False).map(identity, items),
    )
    overhead("ProcessMap(2) warm pool", lambda: pp.ProcessMap(2).map(identity, items))
    overhead(
        "ProcessMap(2, chunksize=64) warm",
        lambda: pp.ProcessMap(2, chunksize=64).map(identity, items),
    )

    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster, set_as_default=False)
    try:
        pp.DaskMap(client).map(identity, items[:10])  # warm the workers
        n = min(len(items), 500)  # dask's per-task cost is ~ms: fewer items
        overhead(
            "DaskMap(LocalCluster 2 procs)",
            lambda: pp.DaskMap(client).map(identity, items[:n]),
            n,
        )
    finally:
        client.close()
        cluster.close()

    print(
        f"# pipekit.parallel benchmarks ({platform.processor() or platform.machine()}, "
        f"{args.repeats} repeats, medians)"
    )
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
