"""Conformance examples: mask morphology (merged into examples.EXAMPLES).

The inputs are masks made from the suite's scene: three bands thresholded at their median,
as 0/1 uint16 with fill value 255 (a fill outside {0, 1}, which the operators require),
as 0.0/1.0 float32 with fill -1.0, and as bool without a fill value. RemoveSmall* run
under jit (label flooding in a ``lax.while_loop``), so no example opts out of a check.
"""

from __future__ import annotations

import numpy as np

import geotoolz as gz
from geocatalog import GeoTensor

from ._case import Case, scene


def uint_mask() -> GeoTensor:
    gt = scene()
    bands = gt.values[:3]
    m = bands > np.median(bands, axis=(-2, -1), keepdims=True)
    return gt.replace(values=m.astype(np.uint16), fill_value=255, band_names=None)


def float_mask() -> GeoTensor:
    gt = uint_mask()
    return gt.replace(values=gt.values.astype(np.float32), fill_value=-1.0)


def bool_mask() -> GeoTensor:
    gt = uint_mask()
    return gt.replace(values=gt.values.astype(bool), fill_value=None)


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.mask.Erode": [
        Case(gz.mask.Erode(radius=1), make_input=uint_mask),
        Case(gz.mask.Erode(radius=2, structure="disk", border_value=True), make_input=float_mask),
    ],
    "geotoolz.mask.Dilate": [
        Case(gz.mask.Dilate(radius=2, structure="disk"), make_input=uint_mask),
        Case(gz.mask.Dilate(radius=1, iterations=2), make_input=bool_mask),
    ],
    "geotoolz.mask.Open": [
        Case(gz.mask.Open(radius=1, structure="disk"), make_input=uint_mask),
        Case(gz.mask.Open(radius=2), make_input=float_mask),
    ],
    "geotoolz.mask.Close": [
        Case(gz.mask.Close(radius=1, iterations=2), make_input=uint_mask),
        Case(gz.mask.Close(radius=2, structure="disk"), make_input=float_mask),
    ],
    "geotoolz.mask.RemoveSmallObjects": [
        Case(gz.mask.RemoveSmallObjects(min_size=6), make_input=uint_mask),
        Case(gz.mask.RemoveSmallObjects(min_size=3, connectivity=4), make_input=float_mask),
    ],
    "geotoolz.mask.RemoveSmallHoles": [
        Case(gz.mask.RemoveSmallHoles(area_threshold=6), make_input=uint_mask),
        Case(gz.mask.RemoveSmallHoles(area_threshold=4, connectivity=8), make_input=bool_mask),
    ],
    "geotoolz.mask.CombineMasks": [
        Case(gz.mask.CombineMasks("or"), make_input=uint_mask),
        Case(gz.mask.CombineMasks("and"), make_input=float_mask),
        Case(gz.mask.CombineMasks("xor"), make_input=uint_mask),
    ],
    "geotoolz.mask.InvertMask": [
        Case(gz.mask.InvertMask(), make_input=uint_mask),
        Case(gz.mask.InvertMask(), make_input=bool_mask),
    ],
}
