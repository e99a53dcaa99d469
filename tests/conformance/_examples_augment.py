"""Conformance examples: augment operators (merged into examples.EXAMPLES).

Under jit the suite's key is traced, and a GeoTensor cannot carry a traced random flip
(its static lattice would depend on it), so the examples apply the operators to
``x.values`` with one fixed key: the NumPy path then decides on the host, the jit path with
``lax.cond``/``lax.switch`` on the traced draw, and the two must agree. Key 3 flips
left-right only (p=0.5) and rotates by k=3, so both paths really move pixels.
"""

from __future__ import annotations

from typing import Any

import jax

import geotoolz as gz
import pipekit as pk
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_scene

from ._case import ON_BARE_VALUES, Case


def square_scene() -> GeoTensor:
    # Quarter turns under jit need H == W; the suite's chips (halves of this) are square too.
    return synthetic_scene(40, 40, seed=7)


def call_with_key(op: pk.Operator, x: Any) -> Any:
    return op(x.values, key=jax.random.key(3))


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.augment.RandomFlip": [
        Case(
            gz.augment.RandomFlip(p=0.5), call=call_with_key, extra=ON_BARE_VALUES
        ),  # default 40 x 48 scene
        Case(
            gz.augment.RandomFlip(p=1.0),
            make_input=square_scene,
            call=call_with_key,
            extra=ON_BARE_VALUES,
        ),
    ],
    "geotoolz.augment.RandomRotate90": [
        Case(
            gz.augment.RandomRotate90(),
            make_input=square_scene,
            call=call_with_key,
            extra=ON_BARE_VALUES,
        ),
    ],
}
