"""Synthetic, CF-conventional xarray data for tests, notebooks and benchmarks."""

from ._reanalysis import reanalysis_like as reanalysis_like

__all__ = ["reanalysis_like"]
