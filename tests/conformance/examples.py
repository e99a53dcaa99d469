"""Example instances for the operator conformance suite.

Every registered Operator of our packages must appear here (the suite fails otherwise):
add a ``Case`` for each new operator, with the input it expects.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

import geotoolz as gz
import pipekit as pk

from ._case import Case, float_scene


def call_graph(op: pk.Operator, x: Any) -> Any:
    return op(scene=x)


# Module-level callables so that Lambda/Tap/Sink pickle.
def double(x: Any) -> Any:
    return x.replace(values=x.values * 2)


def observe(x: Any) -> None:
    np.isnan(x).mean()


def _graph() -> pk.Graph:
    x = pk.Input("scene")
    masked = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(x)
    return pk.Graph(
        inputs={"scene": x},
        outputs={"ndvi": gz.indices.NDVI(red_idx=2, nir_idx=3)(masked), "masked": masked},
    )


def _case1() -> pk.Sequential:
    return pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            gz.radiometry.PercentileClip(p_min=2, p_max=98),
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )


EXAMPLES: dict[str, list[Case]] = {
    "pipekit.Identity": [Case(pk.Identity())],
    "pipekit.Sequential": [Case(_case1()), Case(pk.Sequential([]))],
    "pipekit.Graph": [Case(_graph(), call=call_graph)],
    "pipekit.Lambda": [
        Case(pk.Lambda(double), extra={"nodata": "a user function: what it does is its own"})
    ],
    "pipekit.Tap": [Case(pk.Tap(observe))],
    "pipekit.Sink": [Case(pk.Sink(observe))],
    "pipekit.qc.AssertShape": [
        Case(pk.qc.AssertShape((-1, -1, -1))),
        Case(pk.qc.AssertShape((13, -1, -1), on_error="warn")),
    ],
    "pipekit.qc.AssertHasAttribute": [
        Case(pk.qc.AssertHasAttribute("crs")),
        Case(pk.qc.AssertHasAttribute("transform", on_error="log_and_continue")),
    ],
    "pipekit.qc.AssertCallable": [Case(pk.qc.AssertCallable("replace"))],
    "pipekit.qc.AssertDType": [
        Case(pk.qc.AssertDType("uint16")),
        Case(pk.qc.AssertDType("floating", on_error="warn"), make_input=float_scene),
    ],
    "geotoolz.cloud.MaskFromQABits": [Case(gz.cloud.MaskFromQABits(qa_band=-1, bits=[10, 11]))],
    "geotoolz.cloud.MaskClouds": [
        Case(gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])),
        Case(gz.cloud.MaskClouds(qa_band=12, bits=[10], fill_value=0.0)),
    ],
    "geotoolz.cloud.ApplyMask": [
        Case(gz.cloud.ApplyMask(gz.cloud.MaskFromQABits(qa_band=-1, bits=[10, 11]))),
        Case(gz.cloud.ApplyMask(gz.cloud.MaskFromQABits(-1, [11]), fill_value=-1, keep_band=-1)),
    ],
    "geotoolz.radiometry.ToFloat32": [Case(gz.radiometry.ToFloat32())],
    "geotoolz.radiometry.FillNodata": [
        Case(
            gz.radiometry.FillNodata(0.0),
            make_input=float_scene,
            extra={"nodata": "FillNodata turns nodata into data: its one job, on purpose"},
        ),
        Case(gz.radiometry.FillNodata(1.0), extra={"nodata": "imputation by design"}),
    ],
    "geotoolz.radiometry.PercentileClip": [
        Case(gz.radiometry.PercentileClip(p_min=2, p_max=98)),
        Case(gz.radiometry.PercentileClip(p_min=0, p_max=50, axis=-1), make_input=float_scene),
        Case(gz.radiometry.PercentileClip(p_min=5, p_max=95, method="radix")),
    ],
    "geotoolz.indices.NDVI": [Case(gz.indices.NDVI(red_idx=2, nir_idx=3))],
    "geotoolz.indices.NormalizedDifference": [
        Case(gz.indices.NormalizedDifference(a_idx=1, b_idx=3), make_input=float_scene)
    ],
}

#: Packages whose operators must all have examples.
PACKAGES = list(pk.registry.FAMILY_PACKAGES)

# Examples kept beside the operators' own families (one module each, so that work on one
# family does not touch this file); each defines EXAMPLES of the same form.
_FAMILIES = (
    "active",
    "array_qc",
    "augment",
    "control",
    "correction",
    "io",
    "mask",
    "methane_plume",
    "methane_mf",
    "metrics",
    "model",
    "nn",
    "normalize",
    "patch",
    "qa",
    "sar_fusion",
    "transforms",
    "viz",
    "xr_atm",
    "xr_detrend",
    "xr_ice",
    "xr_geo",
    "xr_metrics",
    "xr_metrics_ensemble",
    "xr_calc",
    "xr_ocn",
    "xr_transforms",
)
for _family in _FAMILIES:
    _module = importlib.import_module(f"{__package__}._examples_{_family}")
    for _target, _cases in _module.EXAMPLES.items():  # a module may add to another's target
        EXAMPLES.setdefault(_target, []).extend(_cases)
