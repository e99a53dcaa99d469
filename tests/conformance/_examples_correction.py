"""Conformance examples: radiometric correction (merged into examples.EXAMPLES).

TOAToBOA and the per-pixel RadianceToReflectance take the seed's Case 8 layout
``[B02, B03, B04, B08, SZA, QA60]``: the suite's scene's first four bands (uint16 DN), a
sun zenith band in whole degrees (28-39, rising across the columns, so chips at other
offsets see other angles) and QA60; ``fill_value`` 0 as the scene's.
"""

from __future__ import annotations

import numpy as np

import geotoolz as gz
from geocatalog import GeoTensor

from ._case import Case, float_scene, scene


def toa_scene() -> GeoTensor:
    gt = scene()
    values = np.asarray(gt.values)
    width = values.shape[-1]
    sza = np.broadcast_to(28 + (np.arange(width) * 12) // width, values.shape[-2:])
    stack = np.concatenate([values[:4], sza[None].astype(np.uint16), values[-1:]])
    return gt.replace(values=stack)


def masked_toa_scene() -> GeoTensor:
    """As after ``gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])``: float32, clouds NaN."""
    return gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(toa_scene())


def toa_scene_without_qa() -> GeoTensor:
    gt = toa_scene()
    return gt.replace(values=np.asarray(gt.values)[:5])


# Landsat 8 OLI-like Esun (W m-2 um-1) of B02 B03 B04 B08 (illustrative, per band).
_ESUN4 = [1958.0, 1827.0, 1551.0, 1036.0]

EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.correction.DNToRadiance": [
        Case(gz.correction.DNToRadiance(gain=0.01, offset=-0.1)),
        Case(gz.correction.DNToRadiance(gain=[0.012] * 12 + [1.0], offset=[-60.0] * 12 + [0.0])),
    ],
    "geotoolz.correction.RadianceToReflectance": [
        Case(
            gz.correction.RadianceToReflectance(
                esun=1800.0, sun_zenith=35.0, day_of_year=172, keep_bands=[-1]
            ),
            make_input=float_scene,
        ),
        Case(
            gz.correction.RadianceToReflectance(
                esun=_ESUN4, sun_zenith_band=-2, earth_sun_distance=1.0123, keep_bands=[-1]
            ),
            make_input=toa_scene,
        ),
    ],
    "geotoolz.correction.DarkObjectSubtraction": [
        Case(gz.correction.DarkObjectSubtraction(percentile=1, scale=10_000, keep_bands=[-1])),
        Case(
            gz.correction.DarkObjectSubtraction(
                percentile=0.5, esun=1800.0, sun_zenith=40.0, day_of_year=15, keep_bands=[-1]
            ),
            make_input=float_scene,
        ),
    ],
    "geotoolz.correction.TOAToBOA": [
        Case(gz.correction.TOAToBOA(sun_zenith_band=-2), make_input=toa_scene),
        Case(gz.correction.TOAToBOA(sun_zenith_band=-2), make_input=masked_toa_scene),
        Case(
            gz.correction.TOAToBOA(sun_zenith_band=4, keep_bands=[], dark_percentile=2.0),
            make_input=toa_scene_without_qa,
        ),
    ],
}
