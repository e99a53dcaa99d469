"""Conformance examples: augment operators (merged into examples.EXAMPLES).

Under jit the suite's key is traced, and a GeoTensor cannot carry a traced random flip
(its static lattice would depend on it), so the examples apply the operators to
``x.values`` with one fixed key: the NumPy path then decides on the host, the jit path with
``lax.cond``/``lax.switch`` on the traced draw, and the two must agree. Key 3 flips
left-right only (p=0.5) and rotates by k=3, so both paths really move pixels.

The photometric operators (noise, jitter, dropout) keep the grid, so they run on the
GeoTensor itself, traced key and all. RandomCrop on a GeoTensor moves the grid: its output
transform is not the chip's, so that example opts out of the no-retrace check (which
compares them); its bare-values example runs it. The exact crop transform is tested against
rasterio.windows.transform in tests/geotoolz/test_augment_more.py.
"""

from __future__ import annotations

from typing import Any

import jax

import geotoolz as gz
import pipekit as pk
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_scene

from ._case import ON_BARE_VALUES, Case, float_scene


def square_scene() -> GeoTensor:
    # Quarter turns under jit need H == W; the suite's chips (halves of this) are square too.
    return synthetic_scene(40, 40, seed=7)


def call_with_key(op: pk.Operator, x: Any) -> Any:
    return op(x.values, key=jax.random.key(3))


def call_gt_with_key(op: pk.Operator, x: Any) -> Any:
    return op(x, key=jax.random.key(3))


CROP_MOVES_GRID = {
    "retrace": "a crop moves the grid (output transform != chip transform, by design); "
    "the bare-values example checks the retrace, test_augment_more.py the transform"
}


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
    "geotoolz.augment.GaussianNoise": [
        Case(gz.augment.GaussianNoise(sigma=50.0), call=call_gt_with_key),
        Case(gz.augment.GaussianNoise(sigma=0.01), make_input=float_scene, call=call_gt_with_key),
    ],
    "geotoolz.augment.BrightnessJitter": [
        Case(gz.augment.BrightnessJitter(max_delta=300.0), call=call_gt_with_key),
        Case(
            gz.augment.BrightnessJitter(max_delta=0.05),
            make_input=float_scene,
            call=call_gt_with_key,
        ),
    ],
    "geotoolz.augment.ContrastJitter": [
        Case(gz.augment.ContrastJitter(lower=0.5, upper=1.5), call=call_gt_with_key),
        Case(gz.augment.ContrastJitter(0.8, 1.2), make_input=float_scene, call=call_gt_with_key),
    ],
    "geotoolz.augment.BandDropout": [
        Case(gz.augment.BandDropout(p=0.5), call=call_gt_with_key),
        Case(gz.augment.BandDropout(p=0.3), make_input=float_scene, call=call_gt_with_key),
    ],
    "geotoolz.augment.RandomCrop": [
        Case(gz.augment.RandomCrop((16, 20)), call=call_gt_with_key, extra=CROP_MOVES_GRID),
        Case(gz.augment.RandomCrop(12), call=call_with_key, extra=ON_BARE_VALUES),
    ],
    "geotoolz.augment.Compose": [
        Case(
            gz.augment.Compose(
                [
                    gz.augment.GaussianNoise(20.0),
                    gz.augment.BrightnessJitter(100.0),
                    gz.augment.BandDropout(0.3),
                    gz.augment.ContrastJitter(0.7, 1.3),
                ],
                p=0.5,
            ),
            call=call_gt_with_key,
        ),
        Case(
            gz.augment.Compose([gz.augment.RandomFlip(0.5), gz.augment.GaussianNoise(0.01)], p=0.5),
            make_input=float_scene,
            call=call_with_key,
            extra=ON_BARE_VALUES,
        ),
        Case(
            gz.augment.Compose([gz.augment.RandomCrop(16), gz.augment.BandDropout(0.5)], p=1.0),
            call=call_gt_with_key,
            extra=CROP_MOVES_GRID,
        ),
    ],
}
