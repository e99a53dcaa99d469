"""Synthetic, CF-conventional xarray data for tests, notebooks and benchmarks."""

from ._ocean import ocean_profiles as ocean_profiles, ssh_eddies as ssh_eddies
from ._reanalysis import reanalysis_like as reanalysis_like

__all__ = ["ocean_profiles", "reanalysis_like", "ssh_eddies"]
