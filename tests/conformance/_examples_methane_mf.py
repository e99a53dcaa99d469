"""Conformance examples: geotoolz.methane.MatchedFilter (merged into examples.EXAMPLES).

Input: a small EMIT-like radiance cube (40 bands, 2100-2450 nm, 24 x 20) with a CH4 plume
and ``fill_value`` 0.0 (so the nodata suite can respell it as -9999.0). The suite compares
eager NumPy with jit and vmap to 1e-5 absolute; α in ppm·m is ~1e2-1e3 and a float32
covariance solve agrees to ~3e-5 of that spread (tests/geotoolz/test_methane_mf.py checks
it there), so most examples give the unit absorption as a strong target (``target`` =
CH4's band shape scaled to a 50 % band depth per unit), which puts α near 1e-2 and leaves
the same code path (estimators, solve, masking, iterations) under test.
"""

from __future__ import annotations

import numpy as np

import geotoolz as gz
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_emit_scene

from ._case import Case

_BANDS = {"n_bands": 40, "wavelength_range": (2100.0, 2450.0)}


def _plume() -> np.ndarray:
    yy, xx = np.mgrid[:24, :20]
    return 1500.0 * np.exp(-0.5 * (((yy - 12) / 2.0) ** 2 + ((xx - 9) / 2.0) ** 2))


def radiance_cube() -> GeoTensor:
    scene = synthetic_emit_scene(
        24, 20, **_BANDS, enhancement=_plume(),
        absorption=gz.methane.ch4_absorption_spectrum(), seed=7, fill_value=0.0,
    )  # fmt: skip
    return scene.radiance


def _strong_target() -> tuple[float, ...]:
    scene = synthetic_emit_scene(1, 1, **_BANDS)
    k = gz.methane.ch4_unit_absorption(scene.wavelengths, scene.fwhm)
    return tuple(float(v) for v in 0.5 * k / np.abs(k).max())


_K = _strong_target()

EXAMPLES: dict[str, list[Case]] = {
    "geotoolz.methane.MatchedFilter": [
        Case(
            gz.methane.MatchedFilter(target=_K, covariance="empirical", per_column=False),
            make_input=radiance_cube,
        ),
        Case(gz.methane.MatchedFilter(target=_K, covariance="oas"), make_input=radiance_cube),
        Case(
            gz.methane.MatchedFilter(target=_K, covariance="ledoit_wolf", iterations=2),
            make_input=radiance_cube,
        ),
    ],
}
