"""Conformance examples: pipekit_jax.nn networks, Ensemble, and YAML-able ModelOps of them.

The networks map one sample's array, so ``call_values`` applies them to the scene's
``.values`` (a bare array out); wrapped in ``pipekit_array.ModelOp`` they take the
GeoTensor itself and are YAML-able (the suite round-trips them). Merged into
``examples.EXAMPLES`` list by list (this module adds cases to ``pipekit_array.ModelOp``
and ``pipekit.Sequential``).
"""

from __future__ import annotations

from typing import Any

import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj
from pipekit_jax import nn

from ._case import Case
from ._examples_model import call_stacked, float_scene


def call_values(op: pk.Operator, x: Any) -> Any:
    return op(x.values)


def call_uncertainty(op: pk.Operator, x: Any) -> Any:
    return op.predict_with_uncertainty(x.values)


# 40 x 48 scenes and their 20 x 24 chips: UNet's three levels need multiples of 4.
ENSEMBLE = pj.Ensemble.from_seeds(nn.ConvNet(13, 3, widths=(6,)), seeds=[0, 1, 2])

EXAMPLES: dict[str, list[Case]] = {
    "pipekit_jax.nn.MLP": [
        Case(nn.MLP(13, 3, width=8, feature_axis=-3), make_input=float_scene, call=call_values),
        Case(
            nn.MLP(13, 2, width=4, depth=0, activation="tanh", feature_axis=-3, seed=2),
            make_input=float_scene,
            call=call_values,
        ),
    ],
    "pipekit_jax.nn.ConvNet": [
        Case(nn.ConvNet(13, 4, widths=(8, 8)), make_input=float_scene, call=call_values),
        Case(nn.ConvNet(13, 2, (4,), kernel_size=5, seed=9), float_scene, call_values),
    ],
    "pipekit_jax.nn.UNet": [
        Case(nn.UNet(13, 2, widths=(4, 8, 8)), make_input=float_scene, call=call_values),
    ],
    "pipekit_jax.Ensemble": [
        Case(ENSEMBLE, make_input=float_scene, call=call_values),
        Case(ENSEMBLE, make_input=float_scene, call=call_uncertainty),
    ],
    "pipekit_array.ModelOp": [
        Case(pa.ModelOp(nn.ConvNet(13, 4, widths=(8,), seed=3)), make_input=float_scene),
        Case(pa.ModelOp(nn.UNet(13, 2, (4, 4)), batch_size=2), float_scene, call_stacked),
        Case(pa.ModelOp(ENSEMBLE, method="predict_with_uncertainty"), make_input=float_scene),
    ],
    "pipekit.Sequential": [
        Case(pk.Sequential([gz.radiometry.ToFloat32(), pa.ModelOp(nn.ConvNet(13, 2, (4,)))])),
    ],
}
