"""Case 11, trained: cross-sensor fusion (optical + SAR + DEM) as a differentiable Graph.

Run: ``uv run python examples/case11_fusion/train_fusion.py [out_dir] [--steps 300]``.

The Graph is Case 11's as written, with ``crop_classifier`` a ``pipekit_jax.nn.ConvNet``
behind ``pa.ModelOp`` and one learnable fusion parameter in front of it: a
``BandNormalize`` whose per-band gains and biases start as the standardisation of the
training scenes and are trained with the network. Labels of the synthetic scenes
(``geocatalog.testing.synthetic_fusion_scenes``) depend on all three sensors: water, and
for land vegetation vs. soil (optical), smooth vs. rough (SAR), lowland vs. upland (DEM).
The script trains with ``pipekit_jax.fit``, compares held-out accuracy with the same model
trained on one sensor at a time, saves the trained Graph with ``pipekit_jax.save`` and
checks that ``pipekit_jax.load`` rebuilds it exactly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj
from pipekit_jax import nn

N_CLASSES = len(gc.testing.FUSION_CLASSES)
SIZE = 48  # optical pixels per side (10 m)
#: Band indices of each sensor in the fused stack: 12 optical + QA, VV/VH in dB, DEM.
SENSORS = {"optical": tuple(range(12)), "sar": (13, 14), "dem": (15,)}


def scenes(seeds: range) -> list[gc.testing.FusionScenes]:
    return [gc.testing.synthetic_fusion_scenes(SIZE, SIZE, seed=s, cloud_fraction=0.05)
            for s in seeds]  # fmt: skip


def fused_stack() -> pk.Graph:
    """Case 11 up to the fused stack (no parameters): used for band statistics."""
    opt, sar, dem = pk.Input("optical"), pk.Input("sar"), pk.Input("dem")
    opt_clean = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(opt)
    sar_db = gz.sar.LinearToDB()(gz.sar.LeeSpeckle(window=7)(sar))
    fused = gz.fusion.AlignAndStack(target_grid="optical")(opt_clean, sar_db, dem)
    return pk.Graph(inputs={"optical": opt, "sar": sar, "dem": dem},
                    outputs={"fused_stack": fused})  # fmt: skip


def band_stats(train: list[gc.testing.FusionScenes]) -> tuple[tuple[float, ...], ...]:
    graph = fused_stack()
    stacks = [graph(optical=s.optical, sar=s.s1, dem=s.dem)["fused_stack"].values for s in train]
    values = np.concatenate([v.reshape(v.shape[0], -1) for v in stacks], axis=1)
    mean, std = np.nanmean(values, axis=1), np.nanstd(values, axis=1)
    return tuple(map(float, mean)), tuple(float(max(s, 1e-3)) for s in std)


def case11(mean: tuple[float, ...], std: tuple[float, ...], bands: tuple[int, ...],
           seed: int = 0) -> pk.Graph:  # fmt: skip
    """Case 11's Graph as written; ``bands`` picks the sensors the classifier sees."""
    crop_classifier = nn.ConvNet(in_channels=len(bands), num_classes=N_CLASSES,
                                 widths=(32, 32), kernel_size=5, seed=seed)  # fmt: skip
    opt, sar, dem = pk.Input("optical"), pk.Input("sar"), pk.Input("dem")
    opt_clean = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(opt)
    sar_db = gz.sar.LinearToDB()(gz.sar.LeeSpeckle(window=7)(sar))
    fused = gz.fusion.AlignAndStack(target_grid="optical")(opt_clean, sar_db, dem)
    if bands != tuple(range(len(mean))):
        fused = gz.fusion.SelectBands(bands)(fused)
    gains = gz.fusion.BandNormalize(tuple(mean[b] for b in bands), tuple(std[b] for b in bands))
    classify = pa.ModelOp(crop_classifier)(gz.radiometry.FillNodata(0.0)(gains(fused)))
    return pk.Graph(
        inputs={"optical": opt, "sar": sar, "dem": dem},
        outputs={"crop_map": classify, "fused_stack": fused},
    )


def as_batch(items: list[gc.testing.FusionScenes]) -> dict[str, Any]:
    """Scenes stacked per input (JAX arrays) and their labels ``(n, H, W)`` int32."""
    return {
        "optical": jax.tree.map(jnp.asarray, gc.stack([s.optical for s in items])),
        "sar": jax.tree.map(jnp.asarray, gc.stack([s.s1 for s in items])),
        "dem": jax.tree.map(jnp.asarray, gc.stack([s.dem for s in items])),
        "labels": jnp.asarray(np.stack([s.labels.values for s in items]), jnp.int32),
    }


def logits(graph: pk.Graph, batch: dict[str, Any]) -> jax.Array:
    def one(o: Any, s: Any, d: Any) -> jax.Array:
        return graph(optical=o, sar=s, dem=d)["crop_map"].values

    return jax.vmap(one)(batch["optical"], batch["sar"], batch["dem"])


def loss_fn(graph: pk.Graph, batch: dict[str, Any]) -> jax.Array:
    """Mean per-pixel cross-entropy of the crop map against the labels."""
    log_p = jax.nn.log_softmax(logits(graph, batch), axis=1)
    picked = jnp.take_along_axis(log_p, batch["labels"][:, None], axis=1)
    return -jnp.mean(picked)


def accuracy(graph: pk.Graph, batch: dict[str, Any]) -> float:
    predicted = jnp.argmax(pj.jit(lambda b: logits(graph, b))(batch), axis=1)
    return float(jnp.mean(predicted == batch["labels"]))


def train(graph: pk.Graph, batch: dict[str, Any], steps: int) -> tuple[pk.Graph, list[float]]:
    trained, history = pj.fit(graph, loss_fn, batch, optax.adam(3e-3), steps=steps,
                              log_every=max(1, steps // 5))  # fmt: skip
    return trained, history.loss


def main(out_dir: str, steps: int = 300) -> dict[str, Any]:
    train_scenes, test_scenes = scenes(range(0, 6)), scenes(range(100, 103))
    mean, std = band_stats(train_scenes)
    train_batch, test_batch = as_batch(train_scenes), as_batch(test_scenes)
    fused, losses = train(case11(mean, std, tuple(range(len(mean)))), train_batch, steps)
    result: dict[str, Any] = {"losses": losses, "fused_accuracy": accuracy(fused, test_batch)}
    for name, bands in SENSORS.items():
        single, _ = train(case11(mean, std, bands), train_batch, steps)
        result[f"{name}_accuracy"] = accuracy(single, test_batch)
    path = pj.save(fused, Path(out_dir) / "case11", overwrite=True)
    again = pj.load(path, allowed=pk.registry.public_operators())
    result["reload_gap"] = float(jnp.max(jnp.abs(logits(again, test_batch)
                                                 - logits(fused, test_batch))))  # fmt: skip
    result.update(saved=str(path), config_hash=pk.config_hash(fused),
                  weights_hash=pj.weights_hash(fused), trained=fused)  # fmt: skip
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="fusion_out")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    out = main(args.out_dir, args.steps)
    print(
        f"loss {out['losses'][0]:.3f} -> {out['losses'][-1]:.3f}; held-out accuracy: fused "
        f"{out['fused_accuracy']:.3f}, optical {out['optical_accuracy']:.3f}, SAR "
        f"{out['sar_accuracy']:.3f}, DEM {out['dem_accuracy']:.3f}; saved {out['saved']}"
    )
