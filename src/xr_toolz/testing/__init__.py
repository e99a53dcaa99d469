"""Synthetic, CF-conventional xarray data for tests, notebooks and benchmarks."""

from ._ensemble import ensemble_forecast as ensemble_forecast
from ._ice import polar_sea_ice as polar_sea_ice
from ._ocean import (
    DEFAULT_EDDIES as DEFAULT_EDDIES,
    ocean_profiles as ocean_profiles,
    ssh_eddies as ssh_eddies,
)
from ._reanalysis import reanalysis_like as reanalysis_like

__all__ = [
    "DEFAULT_EDDIES",
    "ensemble_forecast",
    "ocean_profiles",
    "polar_sea_ice",
    "reanalysis_like",
    "ssh_eddies",
]
