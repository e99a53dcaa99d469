"""Conformance examples: normalize operators (merged into examples.EXAMPLES).

The scalers are fitted on the suite's scene (their statistics are array leaves and their
YAML config alike), the histogram matcher on a 10 x 10 chip of another seed (a small
reference table). Inputs: the uint16 scene (fill 0, so both nodata checks run) and the
float reflectance scene.
"""

from __future__ import annotations

import geotoolz as gz
from geocatalog.testing import synthetic_scene

from ._case import Case, float_scene, scene

_SCENE = scene()
_REFERENCE = synthetic_scene(10, 10, seed=11)

EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.normalize.StandardScaler": [
        Case(gz.normalize.StandardScaler().fit(_SCENE)),
        Case(gz.normalize.StandardScaler().fit(float_scene()), make_input=float_scene),
    ],
    "geotoolz.normalize.RobustScaler": [
        Case(gz.normalize.RobustScaler().fit(_SCENE)),
        Case(gz.normalize.RobustScaler(quantile_range=(10, 90)).fit(_SCENE)),
    ],
    "geotoolz.normalize.MinMaxScaler": [
        Case(gz.normalize.MinMaxScaler().fit(_SCENE)),
        Case(gz.normalize.MinMaxScaler(feature_range=(-1, 1)).fit(float_scene()), float_scene),
    ],
    "geotoolz.normalize.HistogramMatch": [
        Case(gz.normalize.HistogramMatch(_REFERENCE)),
        Case(gz.normalize.HistogramMatch(_REFERENCE), make_input=float_scene),
    ],
    "geotoolz.normalize.AsinhScale": [
        Case(gz.normalize.AsinhScale(500.0)),
        Case(gz.normalize.AsinhScale([0.05] * 12 + [1.0]), make_input=float_scene),
    ],
}
