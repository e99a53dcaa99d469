"""Conformance examples: pipekit_array.qc value checks (merged into examples.EXAMPLES).

Every case passes on its input, also with nodata written in (the nodata suite swaps the
fill value for 65535 / -9999, which the range check must leave out), so a "warn" case
emits nothing under ``filterwarnings = error``.
"""

from __future__ import annotations

import pipekit_array as pa

from ._case import Case, float_scene

EXAMPLES: dict[str, list[Case]] = {
    "pipekit_array.qc.AssertValueRange": [
        Case(pa.qc.AssertValueRange(min_val=0, max_val=10_000)),
        Case(pa.qc.AssertValueRange(0.0, 1.0, on_error="warn"), make_input=float_scene),
        Case(pa.qc.AssertValueRange(min_val=0.0, on_error="log_and_continue")),
    ],
    "pipekit_array.qc.AssertNoNaN": [
        Case(pa.qc.AssertNoNaN()),
        Case(pa.qc.AssertNoNaN(allow_nodata=True, on_error="warn"), make_input=float_scene),
    ],
    "pipekit_array.qc.AssertValidFraction": [
        Case(pa.qc.AssertValidFraction(min_valid=0.5)),
        Case(pa.qc.AssertValidFraction(0.9, on_error="log_and_continue"), make_input=float_scene),
    ],
}
