"""Conformance examples: model operators (merged into examples.EXAMPLES)."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import numpy as np
from array_api_compat import array_namespace

import geocatalog as gc
import pipekit as pk
import pipekit_array as pa

from ._case import Case, float_scene, scene


def nan_scene() -> gc.GeoTensor:
    """Float reflectances with a NaN block and one all-NaN band (NaN-ignoring reductions)."""
    values = scene().values.astype(np.float32) / 10_000
    values[:, 2:9, 30:41] = np.nan
    values[4] = np.nan
    return scene().replace(values=values)


# Module-level models, so that the ops pickle.
class SmallCNN(eqx.Module):
    """13 bands -> 2 channels, same spatial size (one sample: (13, H, W) -> (2, H, W))."""

    conv: eqx.nn.Conv2d

    def __init__(self, seed: int = 0) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 3, padding=1, key=jax.random.key(seed))

    def __call__(self, x: Any) -> Any:
        return self.conv(x)


class UQModel(eqx.Module):
    """A model with a second entry point returning a mean map, a sigma map and a band vector."""

    conv: eqx.nn.Conv2d

    def __init__(self, seed: int = 1) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 1, key=jax.random.key(seed))

    def __call__(self, x: Any) -> Any:
        return self.conv(x)[0]

    def predict_with_uncertainty(self, x: Any) -> dict[str, Any]:
        y = self.conv(x)
        return {"mean": y[0], "sigma": jax.nn.softplus(y[1]), "band_mean": x.mean(axis=(-2, -1))}


def brightness(values: Any) -> Any:
    """An array-API function model: mean over bands (runs on NumPy and under jit)."""
    xp = array_namespace(values)
    return xp.mean(xp.astype(values, xp.float32), axis=-3)


def call_stacked(op: pk.Operator, x: Any) -> dict[str, Any]:
    """Apply ``op`` to a 3-sample stack built from ``x`` (exercises the batched paths)."""
    batch = gc.stack([x, x.replace(values=x.values * 0.5), x.replace(values=x.values + 1.0)])
    out = op(batch)
    return {f"s{i}": out[i] for i in range(3)}


UQ_OP = pa.ModelOp(UQModel(), method="predict_with_uncertainty")


def call_sigma(op: pk.Operator, x: Any) -> Any:
    return op(UQ_OP(x))


EXAMPLES: dict[str, list[Case]] = {
    "pipekit_array.ModelOp": [
        Case(pa.ModelOp(SmallCNN()), make_input=float_scene),
        Case(pa.ModelOp(SmallCNN(), batch_size=2), make_input=float_scene, call=call_stacked),
        Case(pa.ModelOp(SmallCNN(seed=3)), make_input=float_scene, call=call_stacked),
        Case(UQ_OP, make_input=float_scene),
        Case(pa.ModelOp(brightness)),
    ],
    "pipekit_array.MeanScalar": [
        Case(pa.MeanScalar()),
        Case(pa.MeanScalar(), make_input=nan_scene),
        Case(pa.MeanScalar(field="sigma"), make_input=float_scene, call=call_sigma),
    ],
}
