"""Case 3: train a small CNN on random catalog chips, then infer a whole scene chip by chip.

Training (the seed's ``GeoDataset``, without torch): random 64² chips from a catalog
(``Catalog.iter_random_slices``), loaded with ``gc.load_raster``, preprocessed and
augmented by the *same* operators the inference pipeline uses, and an equinox CNN trained
with optax to predict NDVI from the preprocessed bands (a self-supervised toy target, so the
example needs no labels). Inference: Case 3's ``infer`` pipeline as written, eagerly on NumPy
and as one compiled program; the prediction is written as a COG.

    uv run python examples/case03_chips/train_and_infer.py --out /tmp/case3 [--steps 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from affine import Affine

import geocatalog as gc
import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch


class TinyCNN(eqx.Module):
    """13 bands -> 1 channel, one sample ``(C, H, W)`` at a time (equinox convention)."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d

    def __init__(self, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.conv1 = eqx.nn.Conv2d(13, 8, 3, padding=1, key=k1)
        self.conv2 = eqx.nn.Conv2d(8, 1, 1, key=k2)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.where(jnp.isnan(x), 0.0, x) / 10_000.0  # masked pixels carry no signal
        return self.conv2(jax.nn.relu(self.conv1(x)))


# Shared preprocessing: the same Sequential in both paths (no train/serve skew).
preprocess = pk.Sequential([
    gz.radiometry.ToFloat32(),
    gz.radiometry.PercentileClip(p_min=2, p_max=98, axis=(-2, -1)),
    gz.cloud.ApplyMask(gz.cloud.MaskFromQABits(qa_band=-1, bits=[10, 11])),
])  # fmt: skip
augment = pk.Sequential([gz.augment.RandomFlip(p=0.5), gz.augment.RandomRotate90()])
ndvi = gz.indices.NDVI(red_idx=2, nir_idx=3)


def make_catalog(folder: Path, n: int = 4) -> gc.Catalog:
    """``n`` synthetic 256² scenes in one UTM zone, as COGs, in a GeoParquet catalog."""
    folder.mkdir(parents=True, exist_ok=True)
    paths, when = [], {}
    for i in range(n):
        transform = Affine(10.0, 0.0, 399_960.0 + 2560.0 * i, 0.0, -10.0, 4_500_000.0)
        scene = gc.testing.synthetic_scene(256, 256, seed=i, transform=transform)
        path = gc.save_cog(scene, str(folder / f"scene_{i}.tif"))
        paths.append(path)
        when[path] = dt.datetime(2024, 5, 1 + i, 10, 30, tzinfo=dt.UTC)
    return gc.open_catalog(gc.build_catalog(paths, str(folder / "catalog.parquet"),
                                            datetime_fn=when.__getitem__))  # fmt: skip


def training_batches(catalog: gc.Catalog, n: int, batch: int, seed: int):
    """Batches of (input, target) chips: the seed's dataset loop, NumPy path, keyed augment."""
    key = jax.random.key(seed)
    xs, ys = [], []
    for sl in catalog.iter_random_slices(chip_size=(64, 64), n=n, seed=seed):
        key, sub = jax.random.split(key)
        gt = gc.load_raster(sl)
        x = augment(preprocess(gt), key=sub)  # same key -> same flip/rotation for the target
        y = augment(ndvi(gt), key=sub)
        xs.append(np.asarray(x.values))
        ys.append(np.nan_to_num(np.asarray(y.values))[None])
        if len(xs) == batch:
            yield np.stack(xs), np.stack(ys)
            xs, ys = [], []


def train(catalog: gc.Catalog, steps: int, batch: int = 8, seed: int = 0) -> tuple[TinyCNN, list]:
    model = TinyCNN(jax.random.key(seed))
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, state, x, y):
        def loss(m):
            return jnp.mean((jax.vmap(m)(x) - y) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimiser.update(grads, state, model)
        return eqx.apply_updates(model, updates), state, value

    losses = []
    for x, y in training_batches(catalog, steps * batch, batch, seed):
        model, state, value = step(model, state, jnp.asarray(x), jnp.asarray(y))
        losses.append(float(value))
    return model, losses


def case3_infer(model: TinyCNN) -> pk.Sequential:
    """Case 3's inference pipeline as the seed writes it."""
    patcher = gp.SpatialPatcher(
        geometry=gp.SpatialRectangular((64, 64)),
        sampler=gp.SpatialRegularStride((48, 48)),
        window=gp.SpatialHann(),
        aggregation=gp.SpatialOverlapAdd(),
    )
    return pk.Sequential([
        GridSampler(patcher),
        ApplyToChips(pk.Sequential([
            preprocess,  # same object as training
            pa.ModelOp(model, batch_size=8),
        ])),
        Stitch(gp.SpatialOverlapAdd()),
    ])  # fmt: skip


def main(out: str, steps: int) -> dict:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(folder)
    model, losses = train(catalog, steps)
    infer = case3_infer(model)
    scene_path = next(iter(catalog.iter_slices())).href
    eager = infer(gp.RasterField(scene_path))  # reads only the chips' windows
    compiled = eqx.filter_jit(infer)(jax.tree.map(jnp.asarray, gc.read_raster(scene_path)))
    gap = float(np.nanmax(np.abs(np.asarray(compiled.values) - eager.values)))
    target = ndvi(gc.read_raster(scene_path)).values
    valid = np.isfinite(target)
    rmse = float(np.sqrt(np.mean((np.nan_to_num(eager.values[0]) - target)[valid] ** 2)))
    path = gc.save_cog(eager, os.path.join(out, "prediction.tif"))
    print(f"trained {len(losses)} steps: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    print(f"prediction {eager.shape} written to {path}; eager vs compiled max |diff| {gap:.2e}; "
          f"RMSE vs NDVI {rmse:.3f}")  # fmt: skip
    return {"losses": losses, "prediction": path, "scene": scene_path, "gap": gap, "rmse": rmse}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="case3_out")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    main(args.out, args.steps)
