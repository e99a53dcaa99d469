"""Conformance examples: control-flow operators of pipekit_jax (merged into examples.EXAMPLES).

The thresholds sit between the NaN-free band means of the suite's scene and chips
(float scene 0.191; chips 0.149-0.173), at least 0.003 from any of them, so the NumPy and
jit paths pick the same branch and the vmapped chips take different ones.
"""

from __future__ import annotations

from typing import Any

import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
import pipekit_jax as pj

from ._case import ON_BARE_VALUES, Case, float_scene


def call_on_values(op: pk.Operator, x: Any) -> Any:
    """Predicates compare bare arrays: apply them to the pixel values."""
    return op(x.values)


def call_members(op: pk.Operator, x: Any) -> dict[str, Any]:
    """A Stack's output, one entry per member (each a GeoTensor of one scene)."""
    out = op(x)
    return {f"member{i}": out[i] for i in range(len(op))}


def _case1() -> pk.Sequential:
    return pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            gz.radiometry.PercentileClip(p_min=2, p_max=98),
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )


def _bright() -> pk.Sequential:
    return pa.MeanScalar() | pj.GreaterThan(0.155)


def _brightness_bin() -> pk.Sequential:
    return pa.MeanScalar() | pj.Digitize((0.155, 0.18))


def _clip() -> pk.Sequential:
    return pk.Sequential([gz.radiometry.ToFloat32(), gz.radiometry.PercentileClip(2, 98)])


EXAMPLES: dict[str, list[Case]] = {
    "pipekit_jax.Branch": [
        Case(
            pj.Branch(
                _bright(),
                gz.indices.NDVI(red_idx=2, nir_idx=3),
                gz.indices.NormalizedDifference(a_idx=1, b_idx=3),
            ),
            make_input=float_scene,
        ),
        Case(
            pj.Branch(pa.MeanScalar() | pj.GreaterThan(0.3), _clip(), pk.Identity()),
            make_input=float_scene,
        ),
    ],
    "pipekit_jax.Switch": [
        Case(
            pj.Switch(
                _brightness_bin(),
                [pk.Identity(), gz.radiometry.PercentileClip(5, 95), _clip()],
            ),
            make_input=float_scene,
        ),
        # One op: every index clamps to it (uint16 scene, mean ~1900 -> index 1).
        Case(pj.Switch(pa.MeanScalar() | pj.Digitize((0.0,)), [gz.indices.NDVI(2, 3)])),
    ],
    "pipekit_jax.Scan": [
        Case(pj.Scan(gz.radiometry.PercentileClip(2, 98), length=3), make_input=float_scene),
        Case(
            pj.Scan(pk.Sequential([gz.radiometry.ToFloat32(), pk.Identity()]), length=1),
            make_input=float_scene,
        ),
    ],
    "pipekit_jax.Checkpoint": [
        Case(pj.Checkpoint(_case1())),
        Case(pj.Checkpoint(_case1(), policy="dots_saveable")),
        Case(pj.Checkpoint(pj.Scan(_clip(), length=2)), make_input=float_scene),
    ],
    "pipekit_jax.Stack": [
        Case(pj.Stack([gz.indices.NDVI(2, 3), gz.indices.NDVI(2, 3)]), call=call_members),
        Case(pj.Stack([_clip(), _clip(), _clip()]), call=call_members),
    ],
    "pipekit_jax.GreaterThan": [
        Case(
            pj.GreaterThan(0.155), make_input=float_scene, call=call_on_values, extra=ON_BARE_VALUES
        ),
        Case(
            pj.GreaterThan(1500), call=call_on_values, extra=ON_BARE_VALUES
        ),  # uint16 compared as float32
    ],
    "pipekit_jax.Digitize": [
        Case(
            pj.Digitize((0.1, 0.155, 0.3)),
            make_input=float_scene,
            call=call_on_values,
            extra=ON_BARE_VALUES,
        ),
        Case(pj.Digitize((1000.0,)), call=call_on_values, extra=ON_BARE_VALUES),
    ],
}
