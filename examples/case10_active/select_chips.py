"""Case 10: pick the chips a model is least sure about, across a catalog, for labelling.

The seed's code as written: a score pipeline (the shared preprocessing, a model's
``predict_with_uncertainty`` through ``pa.ModelOp``, ``pa.MeanScalar(field="sigma")``) and
``gz.patch_ops.ActiveSampler`` over every 64² chip of every scene of a catalog. Each scene's
chips are scored in one compiled, vmapped program; the k chosen chips come back as
``GeoSlice`` s, written as JSON lines (one unit of labelling work per line).

    uv run python examples/case10_active/select_chips.py --out /tmp/case10 [--k 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa

sys.path.insert(0, str(Path(__file__).parents[1] / "case03_chips"))
from train_and_infer import make_catalog, preprocess


class UncertainCNN(eqx.Module):
    """A two-headed CNN: a mean and a positive sigma per pixel (an uncertainty model)."""

    conv: eqx.nn.Conv2d

    def __init__(self, key: jax.Array) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 3, padding=1, key=key)

    def predict_with_uncertainty(self, x: jax.Array) -> dict[str, jax.Array]:
        x = jnp.where(jnp.isnan(x), 0.0, x) / 10_000.0
        mean, log_sigma = self.conv(x)
        return {"mean": mean, "sigma": jnp.exp(log_sigma)}


def main(out: str, k: int) -> list:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(folder)
    uq_model = UncertainCNN(jax.random.key(0))

    # Score every chip by predictive uncertainty (the seed's Case 10)
    score_pipeline = pk.Sequential([
        preprocess,
        pa.ModelOp(uq_model, method="predict_with_uncertainty"),
        pa.MeanScalar(field="sigma"),  # GeoTensor -> scalar
    ])  # fmt: skip
    top_k = gz.patch_ops.ActiveSampler(
        base=gp.SpatialPatcher(
            geometry=gp.SpatialRectangular((64, 64)),
            sampler=gp.SpatialRegularStride((64, 64)),
            window=gp.SpatialBoxcar(),
            aggregation=gp.SpatialByIndex(),
        ),
        score_op=score_pipeline,
        k=k,
        mode="top",
    )(catalog)
    with open(folder / "to_label.jsonl", "w") as fh:
        for chip in top_k:
            fh.write(json.dumps({"score": chip.score, **chip.slice.to_dict()}) + "\n")
    for chip in top_k[:3]:
        print(f"{chip.item_id} row {chip.row} col {chip.col}: sigma {chip.score:.4f}")
    print(f"{len(top_k)} chips written to {folder / 'to_label.jsonl'}")
    return top_k


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="case10_out")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    main(args.out, args.k)
