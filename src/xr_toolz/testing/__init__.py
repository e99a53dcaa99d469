"""Synthetic, CF-conventional xarray data for tests, notebooks and benchmarks."""

from ._ensemble import ensemble_forecast as ensemble_forecast
from ._reanalysis import reanalysis_like as reanalysis_like

__all__ = ["ensemble_forecast", "reanalysis_like"]
