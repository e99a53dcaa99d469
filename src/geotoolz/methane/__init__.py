"""Methane: CH4 absorption, covariance estimators, the matched filter, plume masking,
source rates and Sentinel-2 multi-band retrievals."""

from ._absorption import (
    ch4_absorption_spectrum as ch4_absorption_spectrum,
    ch4_unit_absorption as ch4_unit_absorption,
)
from ._area import pixel_areas as pixel_areas
from ._components import component_sizes as component_sizes, label_components as label_components
from ._covariance import (
    CovarianceEstimate as CovarianceEstimate,
    empirical_covariance as empirical_covariance,
    ledoit_wolf_covariance as ledoit_wolf_covariance,
    oas_covariance as oas_covariance,
)
from ._ime import (
    VARON2021_S2_U_EFF as VARON2021_S2_U_EFF,
    ColumnToMass as ColumnToMass,
    IMEFlux as IMEFlux,
    calibrate_u_eff as calibrate_u_eff,
)
from ._matched_filter import MatchedFilter as MatchedFilter, matched_filter as matched_filter
from ._multiband import (
    S2_SWIR_CENTERS_NM as S2_SWIR_CENTERS_NM,
    S2_SWIR_FWHM_NM as S2_SWIR_FWHM_NM,
    AbstractMultiBand as AbstractMultiBand,
    MultiBandMultiPass as MultiBandMultiPass,
    MultiBandSinglePass as MultiBandSinglePass,
    delta_r_to_ppm_m as delta_r_to_ppm_m,
    mbsp_delta_r as mbsp_delta_r,
)
from ._plume import PlumeMask as PlumeMask, robust_threshold as robust_threshold

__all__ = [
    # absorption
    "ch4_absorption_spectrum",
    "ch4_unit_absorption",
    # covariance
    "CovarianceEstimate",
    "empirical_covariance",
    "ledoit_wolf_covariance",
    "oas_covariance",
    # matched filter
    "MatchedFilter",
    "matched_filter",
    # Sentinel-2 multi-band retrievals
    "AbstractMultiBand",
    "MultiBandMultiPass",
    "MultiBandSinglePass",
    "S2_SWIR_CENTERS_NM",
    "S2_SWIR_FWHM_NM",
    "delta_r_to_ppm_m",
    "mbsp_delta_r",
    # plume masking and quantification
    "ColumnToMass",
    "IMEFlux",
    "PlumeMask",
    "VARON2021_S2_U_EFF",
    "calibrate_u_eff",
    "component_sizes",
    "label_components",
    "pixel_areas",
    "robust_threshold",
]
