"""Conformance examples: geotoolz.viz, the picture operators (merged into examples.EXAMPLES).

TrueColor, FalseColor and StretchToUint8 take the suite's Sentinel-2-like scene (band
names B02...QA60, uint16, fill 0); ApplyColormap one band of it (with its band axis, fill
0) or its NDVI (float, NaN nodata); Hillshade a smooth float32 DEM on the scene's grid with
SRTM's fill value -32768, so the nodata checks apply to every operator.
"""

from __future__ import annotations

import numpy as np

import geotoolz as gz
from geocatalog import GeoTensor

from ._case import Case, float_scene, scene


def one_band() -> GeoTensor:
    return scene()[3:4]  # B08, (1, y, x) uint16, fill 0


def ndvi() -> GeoTensor:
    return gz.indices.NDVI(red_idx=2, nir_idx=3)(float_scene())  # (y, x), NaN nodata


def dem() -> GeoTensor:
    """Hills of a few hundred metres on the scene's 10 m grid: float32, fill -32768."""
    grid = scene()
    rows, cols = np.mgrid[: grid.height, : grid.width].astype(np.float32)
    z = 300.0 + 80.0 * np.sin(rows / 6.0) * np.cos(cols / 9.0) + 2.5 * rows
    values = z.astype(np.float32)[None]
    return grid.replace(values=values, fill_value=-32768.0, band_names=("elevation",))


EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.viz.TrueColor": [
        Case(gz.viz.TrueColor()),
        Case(gz.viz.TrueColor(bands=(2, 1, 0)), make_input=float_scene),
    ],
    "geotoolz.viz.FalseColor": [
        Case(gz.viz.FalseColor(("B08", "B04", "B03"))),
        Case(gz.viz.FalseColor((9, "B8A", -11)), make_input=float_scene),
    ],
    "geotoolz.viz.StretchToUint8": [
        Case(gz.viz.StretchToUint8()),
        Case(gz.viz.StretchToUint8(p_min=0, p_max=100), make_input=float_scene),
    ],
    "geotoolz.viz.ApplyColormap": [
        Case(gz.viz.ApplyColormap(), make_input=one_band),
        Case(gz.viz.ApplyColormap("RdYlGn", vmin=-0.2, vmax=0.8), make_input=ndvi),
    ],
    "geotoolz.viz.Hillshade": [
        Case(gz.viz.Hillshade(), make_input=dem),
        Case(gz.viz.Hillshade(90, 30, 2.0, compute_edges=True), make_input=dem),
    ],
}
