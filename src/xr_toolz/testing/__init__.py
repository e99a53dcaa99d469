"""Synthetic, CF-conventional xarray data for tests, notebooks and benchmarks."""

from ._ice import polar_sea_ice as polar_sea_ice
from ._reanalysis import reanalysis_like as reanalysis_like

__all__ = ["polar_sea_ice", "reanalysis_like"]
