"""geotoolz.methane.MatchedFilter: eager NumPy and jit against a plain NumPy per-column loop.

Run: ``uv run python benchmarks/methane.py [--small] [--rows R --cols C --bands B]
[--repeats 3] [--covariance empirical ledoit_wolf oas]``. Default size is an EMIT-like
scene, 1000 rows × 1280 columns × 285 bands (float32, ~1.5 GB; our layout is
``(bands, rows, cols)``); ``--small`` is 400 × 256 × 285 (more rows than bands, so the
empirical covariance of a column is not singular) for a quick smoke run.

Rows, per covariance estimator, all ``per_column=True`` and ridge 1e-5, float32:

1. ``MatchedFilter`` eagerly on a NumPy GeoTensor (fill value -9999);
2. ``eqx.filter_jit(MatchedFilter)`` on the same GeoTensor as JAX arrays: compile time
   (``.lower().compile()``) apart from the steady-state run (``block_until_ready``);
3. the baseline: a plain NumPy loop over detector columns, written here independently:
   mean, ``S = X_cᵀX_c/n``, the same shrinkage formula (scikit-learn's Ledoit-Wolf / OAS),
   ``Σ + ridge·tr(Σ)/p·I``, ``np.linalg.solve`` and ``α = X_c q / tᵀq``. mag1c itself is
   torch-based and not installed; this loop is the same algorithm in NumPy.

The three α maps are compared first (max |Δα| over the background std of α); the
script's loop is also checked on a few columns against ``tests/geotoolz/_mf_reference.py``
(scikit-learn, float64) when that file imports. Times are medians of ``--repeats`` runs
after one untimed run (whose output is the one compared).

The cube: ``synthetic_emit_scene`` at full size would take about a minute and several GB
of float64 intermediates, so a 32-row EMIT-like scene (full width, so each column keeps
its own detector gains) is tiled down the rows; each tile gets a per-pixel brightness
factor ``1 + 0.05·N(0, 1)`` and fresh sensor-like noise (``sqrt(10 L + 1)/400``), and a
Gaussian CH4 plume (peak 2000 ppm·m, σ = 3 % of the rows) is applied by the linearised
Beer-Lambert model ``L·(1 + k α)``.
"""

from __future__ import annotations

# first: it sets OpenBLAS's variables before NumPy loads
import _openblas_env

# isort: split
import argparse
import faulthandler
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import geocatalog as gc
import geotoolz as gz
from geocatalog.testing import synthetic_emit_scene

RIDGE = 1e-5
PLUME_PEAK = 2000.0  # ppm·m


def build_cube(rows: int, cols: int, bands: int, seed: int = 0) -> tuple[gc.GeoTensor, Any]:
    """An EMIT-like float32 cube ``(bands, rows, cols)`` (module docstring) and its scene."""
    base_rows = min(rows, 32)
    scene = synthetic_emit_scene(base_rows, cols, n_bands=bands, seed=seed)
    base = np.asarray(scene.radiance.values, dtype=np.float32)
    op = gz.methane.MatchedFilter(wavelengths=scene.wavelengths, fwhm=scene.fwhm)
    k = op.unit_absorption().astype(np.float32)
    rng = np.random.default_rng(seed + 1)
    cube = np.empty((bands, rows, cols), np.float32)
    yy, xx = np.mgrid[0:rows, 0:cols]
    sigma = 0.03 * rows
    plume = PLUME_PEAK * np.exp(-((yy - rows / 2) ** 2 + (xx - cols / 2) ** 2) / (2 * sigma**2))
    plume = plume.astype(np.float32)
    for start in range(0, rows, base_rows):
        stop = min(start + base_rows, rows)
        block = base[:, : stop - start]
        gain = 1 + 0.05 * rng.standard_normal((1, stop - start, cols), dtype=np.float32)
        clean = block * gain * (1 + k[:, None, None] * plume[None, start:stop])
        noise = rng.standard_normal(clean.shape, dtype=np.float32)
        noise *= np.sqrt(10 * np.abs(clean) + 1) / 400
        cube[:, start:stop] = clean + noise
    radiance = scene.radiance
    return gc.GeoTensor(cube, radiance.transform, radiance.crs, radiance.fill_value), scene


def reference_alpha(cube: np.ndarray, k: np.ndarray, covariance: str) -> np.ndarray:
    """α ``(rows, cols)``: the plain per-column NumPy matched filter (module docstring)."""
    bands, rows, cols = cube.shape
    columns = np.ascontiguousarray(cube.transpose(2, 1, 0))  # (cols, rows, bands)
    eye = np.eye(bands, dtype=cube.dtype)
    out = np.empty((rows, cols), cube.dtype)
    for c in range(cols):
        x = columns[c]
        mu = x.mean(axis=0)
        xc = x - mu
        s = (xc.T @ xc) / rows
        m = np.trace(s) / bands
        if covariance == "empirical":
            rho = 0.0
        elif covariance == "ledoit_wolf":
            # scikit-learn's ledoit_wolf_shrinkage; sum(X²ᵀX²) = Σ_k ‖x_k‖⁴ (no 2nd product)
            beta_ = np.sum(np.sum(xc * xc, axis=1, dtype=np.float64) ** 2)
            delta_ = np.sum(s.astype(np.float64) ** 2)
            beta = (beta_ / rows - delta_) / (bands * rows)
            delta = (delta_ - 2 * m * np.trace(s) + bands * m * m) / bands
            rho = 0.0 if beta == 0 else min(beta, delta) / delta
        else:  # oas, scikit-learn >= 1.2
            alpha = np.mean(s.astype(np.float64) ** 2)
            num = alpha + m * m
            den = (rows + 1) * (alpha - m * m / bands)
            rho = 1.0 if den == 0 else min(num / den, 1.0)
        sigma = (1 - rho) * s + rho * m * eye
        sigma += RIDGE * np.trace(sigma) / bands * eye
        t = mu * k
        q = np.linalg.solve(sigma, t)
        out[:, c] = xc @ q / (t @ q)
    return out


def sklearn_check(cube: np.ndarray, k: np.ndarray, covariance: str, alpha: np.ndarray) -> str:
    """Max |Δα| / std(α) of the loop against tests/geotoolz/_mf_reference.py on 4 columns."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "geotoolz"))
    try:
        from _mf_reference import reference_matched_filter
    except ImportError as exc:  # scikit-learn missing: say so, do not fail the benchmark
        return f"not run ({exc})"
    cols = np.linspace(0, cube.shape[2] - 1, 4).astype(int)
    ref = reference_matched_filter(cube[:, :, cols], k, covariance=covariance, ridge=RIDGE)
    return f"{np.max(np.abs(ref - alpha[:, cols])) / np.std(ref):.2e}"


def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, float, float]:
    """``(first output, first-call seconds, median of repeats seconds)``."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return out, first, statistics.median(times)


def blas_kernel() -> str:
    """NumPy's BLAS and the kernel it chose (threadpoolctl, when installed)."""
    dropped = f"; dropped {_openblas_env.DROPPED}" if _openblas_env.DROPPED else ""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"threadpoolctl not installed{dropped}"
    libs = [f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()]
    return ", ".join(libs) + dropped


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="400 x 256 x 285")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--cols", type=int, default=1280)
    parser.add_argument("--bands", type=int, default=285)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--covariance", nargs="+", default=["empirical", "ledoit_wolf", "oas"],
        choices=["empirical", "ledoit_wolf", "oas"],
    )  # fmt: skip
    parser.add_argument(
        "--solver", nargs="+", default=["qr", "cholesky"], choices=["qr", "cholesky"],
        help="MatchedFilter solver(s) to time",
    )  # fmt: skip
    parser.add_argument("--no-jit", action="store_true", help="skip the jit rows")
    parser.add_argument(
        "--keep-openblas-env", action="store_true",
        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE if set (dropped by default)",
    )  # fmt: skip
    parser.add_argument(
        "--jit-timeout", type=float, default=600.0,
        help="exit with a traceback if one jit compile + runs takes longer (jaxlib 0.10.2's "
        "batched CPU LAPACK kernels can deadlock XLA's thread pool; README section)",
    )  # fmt: skip
    args = parser.parse_args()
    rows, cols = (400, 256) if args.small else (args.rows, args.cols)
    with open("/proc/cpuinfo") as info:
        models = [ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")]
    cpu = models[0] if models else platform.machine()
    print(f"{cpu}, {os.cpu_count()} CPUs, JAX {jax.__version__} on {jax.default_backend()}, "
          f"NumPy {np.__version__} ({blas_kernel()}), "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; "
          f"median of {args.repeats} after one untimed run")  # fmt: skip

    start = time.perf_counter()
    gt, scene = build_cube(rows, cols, args.bands)
    k = gz.methane.MatchedFilter(wavelengths=scene.wavelengths, fwhm=scene.fwhm)
    k = k.unit_absorption().astype(np.float32)
    cube = np.asarray(gt.values)
    built = time.perf_counter() - start
    print(
        f"cube ({args.bands}, {rows}, {cols}) float32 {cube.nbytes / 2**30:.2f} GiB, {built:.1f} s"
    )
    gt_jax = jax.tree.map(jnp.asarray, gt)
    core = np.zeros((rows, cols), bool)
    core[rows // 2 - 2 : rows // 2 + 3, cols // 2 - 2 : cols // 2 + 3] = True

    table = []
    for covariance in args.covariance:
        print(f"[{covariance}] NumPy reference loop ...", flush=True)
        ref, _, t_ref = timed(lambda c=covariance: reference_alpha(cube, k, c), args.repeats)
        table.append((covariance, "plain NumPy loop (baseline)", t_ref, t_ref, ""))
        for solver in args.solver:
            op = gz.methane.MatchedFilter(
                wavelengths=scene.wavelengths, fwhm=scene.fwhm, covariance=covariance,
                solver=solver,
            )  # fmt: skip
            tag = f"[{covariance}, {solver}]"
            print(f"{tag} eager MatchedFilter ...", flush=True)
            eager, _, t_eager = timed(lambda o=op: o(gt), args.repeats)
            eager = np.asarray(eager.values)[0]
            if args.no_jit:
                jitted, t_jit, t_compile = eager, float("nan"), float("nan")
            else:
                print(f"{tag} jit: compile ...", flush=True)
                faulthandler.dump_traceback_later(args.jit_timeout, exit=True)
                start = time.perf_counter()
                compiled = eqx.filter_jit(op).lower(gt_jax).compile()
                t_compile = time.perf_counter() - start
                jitted, _, t_jit = timed(lambda c=compiled: c(gt_jax), args.repeats)
                faulthandler.cancel_dump_traceback_later()
                jitted = np.asarray(jitted.values)[0]
                del compiled

            std = float(np.std(ref[~core]))
            print(f"{tag} agreement, max |Δα| / std(α) = {std:.1f} ppm·m: "
                  f"eager-ref {np.max(np.abs(eager - ref)) / std:.2e}, "
                  f"jit-ref {np.max(np.abs(jitted - ref)) / std:.2e}, "
                  f"jit-eager {np.max(np.abs(jitted - eager)) / std:.2e}; "
                  f"ref vs scikit-learn (4 cols, float64) "
                  f"{sklearn_check(cube, k, covariance, ref)}; plume core α "
                  f"ref {np.mean(ref[core]):.0f} / jit {np.mean(jitted[core]):.0f} "
                  f"(injected ~{PLUME_PEAK:.0f})")  # fmt: skip
            table.append((covariance, f"MatchedFilter {solver}, eager NumPy", t_eager, t_ref, ""))
            table.append((covariance, f"MatchedFilter {solver}, filter_jit", t_jit, t_ref,
                          f"{t_compile:10.2f}"))  # fmt: skip
            print(
                f"{tag} ref {t_ref:.2f} s, eager {t_eager:.2f} s, jit {t_jit:.2f} s "
                f"(compile {t_compile:.2f} s); peak RSS {peak_gib():.1f} GiB",
                flush=True,
            )

    print(f"\nMatchedFilter per_column=True, ({args.bands}, {rows}, {cols}) float32")
    print(f"  {'covariance':<12} {'row':<36} {'median s':>9} {'x NumPy ref':>12} {'compile s':>10}")
    for covariance, name, seconds, t_ref, extra in table:
        print(f"  {covariance:<12} {name:<36} {seconds:9.3f} {seconds / t_ref:12.2f} {extra}")
    print(f"peak RSS {peak_gib():.1f} GiB")


if __name__ == "__main__":
    main()
