"""geotoolz.fusion.AlignAndStack vs rasterio.warp.reproject (GDAL's warper), bilinear.

Run: ``uv run python benchmarks/fusion.py [--repeats 5] [--size 1024]``. Medians of
``--repeats`` calls after a warm-up call (which also compiles); ratios against
``rasterio.warp.reproject`` of the same source onto the same 10 m UTM grid, measured in
this run (one band, float32, ``num_threads=1`` and the default approximate transformer).

Rows: a 30 m DEM in the target's CRS (the separable per-axis path), and the same DEM in
EPSG:4326 (target centres projected with pyproj), each eagerly on NumPy and under
``pipekit_jax.jit``; then the 10 m grid averaged onto 30 m (``resampling="average"``
against GDAL's ``average``).
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import geocatalog as gc
import geotoolz as gz
import pipekit_jax as pj
from _timing import median_time


def grids(size: int) -> tuple[gc.GeoTensor, gc.GeoTensor, gc.GeoTensor]:
    """A 10 m UTM 30N target, and smooth relief on a 30 m UTM and a 0.0003° grid covering it."""
    target = gc.GeoTensor(
        np.zeros((1, size, size), np.float32), Affine(10, 0, 495000, 0, -10, 4500000), 32630
    )
    n = size // 3 + 8
    rng = np.random.default_rng(0)
    relief = np.cumsum(np.cumsum(rng.standard_normal((1, n, n)), axis=1), axis=2)
    utm = gc.GeoTensor(relief.astype(np.float32), Affine(30, 0, 494880, 0, -30, 4500120), 32630)
    left, bottom, right, top = rasterio.warp.transform_bounds(
        "EPSG:32630", "EPSG:4326", 494880, 4500120 - 30 * n, 494880 + 30 * n, 4500120
    )
    shape = (1, int((top - bottom) / 0.0003) + 2, int((right - left) / 0.0003) + 2)
    geo_values = rng.standard_normal(shape).cumsum(axis=1).cumsum(axis=2).astype(np.float32)
    geo = gc.GeoTensor(geo_values, Affine(0.0003, 0, left, 0, -0.0003, top), "EPSG:4326")
    return target, utm, geo


def gdal(src: gc.GeoTensor, dst: gc.GeoTensor, resampling: Resampling = Resampling.bilinear):
    out = np.full((1, dst.height, dst.width), np.nan, np.float32)
    with warnings.catch_warnings():  # affine's deprecation of `*`, used inside rasterio
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        rasterio.warp.reproject(
            np.asarray(src.values), out,
            src_transform=src.transform, src_crs=src.crs_string,
            dst_transform=dst.transform, dst_crs=dst.crs_string,
            resampling=resampling, dst_nodata=np.nan, num_threads=1,
        )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"JAX {jax.__version__} on {jax.default_backend()}, rasterio {rasterio.__version__} "
          f"(GDAL {rasterio.__gdal_version__})")  # fmt: skip
    target, utm, geo = grids(args.size)
    align = gz.fusion.AlignAndStack(target_grid="target", names=("target", "dem"))
    compiled = pj.jit(align)
    on_device = jax.tree.map(jnp.asarray, target)
    print(f"\nDEM onto a {args.size}² 10 m grid, bilinear      median s   x rasterio")
    for label, dem in (("DEM in the target's CRS", utm), ("DEM in EPSG:4326", geo)):
        dem_on_device = jax.tree.map(jnp.asarray, dem)
        base = median_time(lambda d=dem: gdal(d, target), args.repeats, warmup=True)
        rows = [
            ("rasterio.warp.reproject", base),
            ("AlignAndStack, NumPy",
             median_time(lambda d=dem: align(target, d), args.repeats, warmup=True)),
            ("AlignAndStack, pipekit_jax.jit",
             median_time(lambda d=dem_on_device: jax.block_until_ready(compiled(on_device, d)),
                         args.repeats, warmup=True)),
        ]  # fmt: skip
        print(f"  {label}")
        for name, seconds in rows:
            print(f"    {name:<38} {seconds:9.4f}   {seconds / base:8.2f}")

    # Downsampling: the 10 m grid's values averaged onto a 30 m grid over the same area.
    fine = target.replace(values=np.random.default_rng(1).random(target.shape, np.float32))
    coarse = gc.GeoTensor(np.zeros((1, args.size // 3, args.size // 3), np.float32),
                          Affine(30, 0, 495000, 0, -30, 4500000), 32630)  # fmt: skip
    average = gz.fusion.AlignAndStack(target_grid="coarse", names=("coarse", "fine"),
                                      resampling="average")  # fmt: skip
    compiled_average = pj.jit(average)
    coarse_on_device, fine_on_device = (jax.tree.map(jnp.asarray, g) for g in (coarse, fine))
    base = median_time(lambda: gdal(fine, coarse, Resampling.average), args.repeats, warmup=True)
    rows = [
        ("rasterio.warp.reproject", base),
        ("AlignAndStack, NumPy",
         median_time(lambda: average(coarse, fine), args.repeats, warmup=True)),
        ("AlignAndStack, pipekit_jax.jit",
         median_time(lambda: jax.block_until_ready(
             compiled_average(coarse_on_device, fine_on_device)), args.repeats, warmup=True)),
    ]  # fmt: skip
    print(f"\n{args.size}² at 10 m averaged onto 30 m (resampling='average')")
    for name, seconds in rows:
        print(f"    {name:<38} {seconds:9.4f}   {seconds / base:8.2f}")


if __name__ == "__main__":
    main()
