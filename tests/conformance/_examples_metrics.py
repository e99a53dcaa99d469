"""Conformance examples: pipekit_array.metrics (merged into examples.EXAMPLES).

A metric takes two carriers; the call compares the scene with itself with its bands in
reverse order, which keeps every nodata pixel where it was (all bands at the fill value).
"""

from __future__ import annotations

from typing import Any

import pipekit as pk
import pipekit_array as pa

from ._case import Case, float_scene


def call_band_reversed(op: pk.Operator, x: Any) -> Any:
    return op(x, x.replace(values=x.values[..., ::-1, :, :]))


EXAMPLES: dict[str, list[Case]] = {
    f"pipekit_array.metrics.{name}": [
        Case(getattr(pa.metrics, name)(), call=call_band_reversed),
        Case(getattr(pa.metrics, name)(), make_input=float_scene, call=call_band_reversed),
    ]
    for name in ("RMSE", "MAE", "Bias", "Correlation", "R2")
}
