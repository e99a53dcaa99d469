"""xr_toolz (eager NumPy and jit) against its anchors, xskillscore, xarray+flox and xrft.

Run: ``uv run python benchmarks/xr.py [--size full|small] [--repeats 3] [--psd-time T]``.
Default size is an ERA5-like daily year, 365 × 721 × 1440 (time, lat, lon) float32 (1.5 GB
per array); ``--size small`` is 365 × 91 × 180 for a quick run.

Rows, each on the same DataArray(s) in one run:

1. ``RMSE("time")`` and ``Correlation("time")`` (skipna False and True) against
   ``xskillscore.rmse`` / ``xskillscore.pearson_r`` (reference = a seasonal cycle plus
   noise, prediction = reference plus noise; no NaN, so both skipna rows do all the work
   but mask nothing);
2. ``Climatology("month")`` and ``RemoveClimatology("month")`` against xarray's
   ``groupby("time.month").mean()`` and ``groupby("time.month") - mean`` with
   ``use_flox=True`` (one year of days: ``month``, not ``dayofyear``);
3. ``PowerSpectrum(("lat", "lon"), detrend="constant", window="hann")`` against
   ``xrft.power_spectrum`` with the same settings, on the first ``--psd-time`` maps (xrft
   makes complex128 copies of its input: all 365 full-size maps would need ~6 GB each).

Columns: the anchor's time, ours eagerly on NumPy-backed DataArrays, ours under
``eqx.filter_jit`` on JAX-backed DataArrays (made once, outside the timing; compile time,
``.lower().compile()``, in its own column; ``jax.block_until_ready`` on the output), and
``ratio = anchor time / our time`` (> 1: we are faster). Times are medians of ``--repeats``
runs after one untimed run, whose output is compared with the anchor's (max |Δ| over
max |anchor| printed).
The peak RSS of the process is printed at the end.
"""

from __future__ import annotations

# first: it sets OpenBLAS's variables before NumPy loads
import _openblas_env  # noqa: F401

# isort: split
import argparse
import gc
import os
import platform
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np
import pandas as pd
import xarray as xr

import xr_toolz as xt

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import xrft
    import xskillscore as xs

ROWS: list[tuple[str, str, float, float, float, float, float, float]] = []


def build(nt: int, ny: int, nx: int, seed: int = 0) -> tuple[xr.DataArray, xr.DataArray]:
    """``(reference, prediction)``: a 290 K field with a seasonal cycle, and it plus noise."""
    rng = np.random.default_rng(seed)
    time_ = pd.date_range("2001-01-01", periods=nt, freq="D")
    lat = np.linspace(-90.0, 90.0, ny)
    lon = np.linspace(0.0, 360.0, nx, endpoint=False)
    season = (10 * np.cos(2 * np.pi * np.arange(nt) / 365.0)).astype(np.float32)
    ref = rng.standard_normal((nt, ny, nx), dtype=np.float32)
    ref += 290.0
    ref += season[:, None, None]
    pred = rng.standard_normal((nt, ny, nx), dtype=np.float32)
    pred *= 0.5
    pred += ref
    coords = {
        "time": time_,
        "lat": ("lat", lat, {"units": "degree"}),
        "lon": ("lon", lon, {"units": "degree"}),
    }
    dims = ("time", "lat", "lon")
    attrs = {"units": "K"}
    return (
        xr.DataArray(ref, dims=dims, coords=coords, attrs=attrs, name="t2m"),
        xr.DataArray(pred, dims=dims, coords=coords, attrs=attrs, name="t2m"),
    )


def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """``(output of one untimed call, median seconds of repeats)``."""
    out = jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def data(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, xr.DataArray) else x)


def maxdiff(a: Any, b: Any) -> float:
    """Max |a - b| over max |a|: the relative disagreement with the anchor ``a``."""
    a, b = data(a), data(b)
    d = np.subtract(a, b)  # in the inputs' dtype: float64 copies of a full cube OOM'd
    np.abs(d, out=d)
    return float(np.nanmax(d) / np.nanmax(np.abs(a)))


def to_jax(x: xr.DataArray) -> xr.DataArray:
    return jax.tree.map(jax.numpy.asarray, x)


def jitted(
    ours: Callable[..., Any], jargs: tuple[Any, ...], ref_out: np.ndarray, repeats: int
) -> tuple[float, float, float]:
    """``(compile s, median run s, max |Δ| against the anchor)`` of ``eqx.filter_jit(ours)``."""
    fn = eqx.filter_jit(ours)
    start = time.perf_counter()
    fn.lower(*jargs).compile()
    t_compile = time.perf_counter() - start
    out, t_jit = timed(lambda: fn(*jargs), repeats)
    return t_compile, t_jit, maxdiff(ref_out, out)


def compare(
    name: str,
    anchor: Callable[..., Any],
    ours: Callable[..., Any],
    args: tuple[xr.DataArray, ...],
    repeats: int,
) -> None:
    """One row: the anchor, ours eager, ours jit on the same inputs (module docstring)."""
    ref_out, t_anchor = timed(lambda: anchor(*args), repeats)
    ref_out = data(ref_out)
    eager_out, t_eager = timed(lambda: ours(*args), repeats)
    d_eager = maxdiff(ref_out, eager_out)
    del eager_out
    gc.collect()
    t_compile, t_jit, d_jit = jitted(ours, tuple(to_jax(a) for a in args), ref_out, repeats)
    del ref_out
    gc.collect()
    row = (name, t_anchor, t_eager, t_anchor / t_eager, t_jit, t_anchor / t_jit, t_compile)
    ROWS.append((*row, max(d_eager, d_jit)))  # type: ignore[arg-type]
    print(f"  {name}: anchor {t_anchor:.3f}s eager {t_eager:.3f}s jit {t_jit:.3f}s "
          f"compile {t_compile:.2f}s  rel |Δ| eager {d_eager:.2e} jit {d_jit:.2e}",
          flush=True)  # fmt: skip


def xrft_psd(a: xr.DataArray) -> xr.DataArray:
    with warnings.catch_warnings():  # xrft 1.0.1 calls the deprecated DataArray.drop
        warnings.simplefilter("ignore", FutureWarning)
        return xrft.power_spectrum(a, dim=["lat", "lon"], detrend="constant", window="hann")


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "small"], default="full")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--psd-time", type=int, default=73, help="maps in the PSD rows")
    parser.add_argument("--only", nargs="+", default=["metrics", "clim", "psd"],
                        choices=["metrics", "clim", "psd"])  # fmt: skip
    args = parser.parse_args()
    shape = (365, 721, 1440) if args.size == "full" else (365, 91, 180)
    with open("/proc/cpuinfo") as info:
        models = [ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")]
    cpu = models[0] if models else platform.machine()
    print(f"{cpu}, {os.cpu_count()} CPUs, JAX {jax.__version__} on {jax.default_backend()}, "
          f"NumPy {np.__version__}, xarray {xr.__version__}, xskillscore {xs.__version__}, "
          f"xrft {xrft.__version__}; shape {shape} float32; median of {args.repeats} after "
          f"one untimed run", flush=True)  # fmt: skip
    ref, pred = build(*shape)
    r = args.repeats
    if "metrics" in args.only:
        for skipna in (False, True):
            compare(f"RMSE time skipna={skipna}",
                    lambda a, b, s=skipna: xs.rmse(a, b, dim="time", skipna=s),
                    xt.metrics.RMSE("time", skipna=skipna), (ref, pred), r)  # fmt: skip
            compare(f"Correlation time skipna={skipna}",
                    lambda a, b, s=skipna: xs.pearson_r(a, b, dim="time", skipna=s),
                    xt.metrics.Correlation("time", skipna=skipna), (ref, pred), r)  # fmt: skip
    del pred
    gc.collect()
    if "clim" in args.only:
        with xr.set_options(use_flox=True):
            compare("Climatology month", lambda a: a.groupby("time.month").mean(),
                    xt.detrend.Climatology("month"), (ref,), r)  # fmt: skip
            compare("RemoveClimatology month",
                    lambda a: a.groupby("time.month") - a.groupby("time.month").mean(),
                    xt.detrend.RemoveClimatology("month"), (ref,), r)  # fmt: skip
    if "psd" in args.only:
        sub = ref.isel(time=slice(0, args.psd_time)).copy()
        del ref
        gc.collect()
        compare(f"PowerSpectrum (lat, lon) x{sub.sizes['time']}",
                xrft_psd,
                xt.transforms.PowerSpectrum(("lat", "lon"), detrend="constant", window="hann"),
                (sub,), r)  # fmt: skip
    print()
    head = (f"{'row':<34} {'anchor s':>9} {'eager s':>9} {'eager ×':>8} {'jit s':>9} "
            f"{'jit ×':>7} {'compile s':>9} {'rel |Δ|':>9}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for name, ta, te, re_, tj, rj, tc, d in ROWS:
        print(f"{name:<34} {ta:9.3f} {te:9.3f} {re_:8.2f} {tj:9.3f} {rj:7.2f} {tc:9.2f} {d:9.2e}")
    print("× = anchor time / our time (> 1: we are faster); targets: jit ≥ 2, eager ≥ 1")
    print(f"peak RSS {peak_gib():.2f} GiB")


if __name__ == "__main__":
    main()
