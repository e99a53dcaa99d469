"""Methane: the CH4 absorption spectrum, covariance estimators and the matched filter."""

from ._absorption import (
    ch4_absorption_spectrum as ch4_absorption_spectrum,
    ch4_unit_absorption as ch4_unit_absorption,
)
from ._covariance import (
    CovarianceEstimate as CovarianceEstimate,
    empirical_covariance as empirical_covariance,
    ledoit_wolf_covariance as ledoit_wolf_covariance,
    oas_covariance as oas_covariance,
)
from ._matched_filter import MatchedFilter as MatchedFilter, matched_filter as matched_filter

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
]
