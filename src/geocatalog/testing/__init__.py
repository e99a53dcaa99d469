"""Deterministic synthetic data for tests, examples and benchmarks.

- :func:`synthetic_scene`: a Sentinel-2-like GeoTensor (13 bands, uint16 DN) with smooth
  land cover (water, vegetation, bare soil), plausible spectra, opaque clouds and cirrus
  flagged in a QA60-style band. Fast (a 2048 x 2048 scene in about a second) and identical
  bit for bit for one seed.
- :func:`synthetic_s1_scene` (VV/VH intensity with gamma speckle of known ENL, 20 m) and
  :func:`synthetic_dem` (smooth relief in metres, 30 m): grids shifted off the optical one,
  covering its footprint with a margin, in the same CRS.
- :func:`synthetic_fusion_scenes`: optical, Sentinel-1 and DEM scenes of one ground truth,
  plus labels on the optical grid that need all three sensors.
- :func:`synthetic_emit_scene`: an EMIT-like radiance cube (285 bands, 380-2500 nm) with
  an optional CH4 enhancement applied by Beer-Lambert (the absorption table is passed in).

- :func:`gaussian_plume`: the column enhancement (kg/m² or ppm·m) of a steady Gaussian
  methane plume from a point source, with a closed-form mass budget (Q/U per metre).
- :func:`synthetic_s2_methane_pair`: S2-like target and reference passes over one
  heterogeneous surface, the target with a plume absorbing in B11/B12 (Beer–Lambert).

Everything here is NumPy and geocatalog only (no pipeline framework).
"""

from ._emit import (
    EMITScene as EMITScene,
    emit_bands as emit_bands,
    emit_reflectance as emit_reflectance,
    emit_solar_irradiance as emit_solar_irradiance,
    synthetic_emit_scene as synthetic_emit_scene,
)
from ._plume import (
    CH4_MOLAR_MASS as CH4_MOLAR_MASS,
    GAS_CONSTANT as GAS_CONSTANT,
    STABILITY_CLASSES as STABILITY_CLASSES,
    STANDARD_PRESSURE as STANDARD_PRESSURE,
    STANDARD_TEMPERATURE as STANDARD_TEMPERATURE,
    gaussian_plume as gaussian_plume,
    kg_m2_per_ppm_m as kg_m2_per_ppm_m,
    pasquill_gifford_sigmas as pasquill_gifford_sigmas,
)
from ._s2_methane import (
    S2_METHANE_BANDS as S2_METHANE_BANDS,
    S2MethanePair as S2MethanePair,
    synthetic_s2_methane_pair as synthetic_s2_methane_pair,
)
from ._scene import (
    COVER_SOIL as COVER_SOIL,
    COVER_VEGETATION as COVER_VEGETATION,
    COVER_WATER as COVER_WATER,
    QA_CIRRUS_BIT as QA_CIRRUS_BIT,
    QA_OPAQUE_BIT as QA_OPAQUE_BIT,
    S2_BANDS as S2_BANDS,
    synthetic_scene as synthetic_scene,
)
from ._sensors import (
    DEM_BANDS as DEM_BANDS,
    FUSION_CLASSES as FUSION_CLASSES,
    S1_BANDS as S1_BANDS,
    UPLAND_METRES as UPLAND_METRES,
    FusionScenes as FusionScenes,
    synthetic_dem as synthetic_dem,
    synthetic_fusion_scenes as synthetic_fusion_scenes,
    synthetic_s1_scene as synthetic_s1_scene,
)

__all__ = [
    # optical
    "synthetic_scene",
    "S2_BANDS",
    "QA_CIRRUS_BIT",
    "QA_OPAQUE_BIT",
    "COVER_SOIL",
    "COVER_VEGETATION",
    "COVER_WATER",
    # SAR, DEM and fusion
    "synthetic_s1_scene",
    "synthetic_dem",
    "synthetic_fusion_scenes",
    "FusionScenes",
    "S1_BANDS",
    "DEM_BANDS",
    "FUSION_CLASSES",
    "UPLAND_METRES",
    # methane plumes
    "gaussian_plume",
    "synthetic_s2_methane_pair",
    "S2MethanePair",
    "S2_METHANE_BANDS",
    "kg_m2_per_ppm_m",
    "pasquill_gifford_sigmas",
    "CH4_MOLAR_MASS",
    "GAS_CONSTANT",
    "STABILITY_CLASSES",
    "STANDARD_PRESSURE",
    "STANDARD_TEMPERATURE",
    # imaging spectroscopy
    "synthetic_emit_scene",
    "EMITScene",
    "emit_bands",
    "emit_reflectance",
    "emit_solar_irradiance",
]
