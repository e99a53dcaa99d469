"""Conformance examples: xr_toolz.geo (merged into examples.EXAMPLES).

The operators take a DataArray or Dataset: selections are computed from the (static)
coordinates and applied with ``isel`` or a constant mask, so NumPy == ``eqx.filter_jit``
runs on every example. New coordinates are new constants under jit (a retrace, by design),
and a DataArray's nodata is NaN, tested in tests/xr_toolz/test_geo.py.
"""

from __future__ import annotations

import xarray as xr

from xr_toolz.geo import ApplyRegionMask, AreaWeights, SubsetBBox, SubsetTime, WeightedMean
from xr_toolz.testing import reanalysis_like

from ._case import XARRAY_RETRACE, Case


def t2m() -> xr.DataArray:
    return reanalysis_like("2020-01-01", "2020-03-31", nlat=6, nlon=8, seed=2)


def t2m_dataset() -> xr.Dataset:
    ds = reanalysis_like("2020-01-01", "2020-02-15", nlat=6, nlon=8, seed=3, as_dataset=True)
    return ds.assign(t2m_mean=ds["t2m"].mean("time"))


ON_XARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "NaN is the DataArray's nodata: tested (NaN skipped or kept) in test_geo.py",
}


def _case(op, make_input=t2m, jit_atol: float = 1e-5) -> Case:
    return Case(op, make_input=make_input, vmap=False, extra=ON_XARRAY, jit_atol=jit_atol)


_TRIANGLE = [[-40, -10], [40, -10], [0, 60]]

EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.geo.SubsetBBox": [
        _case(SubsetBBox(0, 100, -30, 60)),
        _case(SubsetBBox(-60, 60, -90, 0)),  # a box in -180..180 on data in 0..360
        _case(SubsetBBox(300, 45, 0, 90), make_input=t2m_dataset),  # across the seam
    ],
    "xr_toolz.geo.SubsetTime": [
        _case(SubsetTime("2020-02-01", "2020-02-29")),
        _case(SubsetTime(None, "2020-01"), make_input=t2m_dataset),
    ],
    "xr_toolz.geo.ApplyRegionMask": [
        _case(ApplyRegionMask(_TRIANGLE)),
        _case(ApplyRegionMask(_TRIANGLE, drop=True)),
        _case(ApplyRegionMask(_TRIANGLE, drop=True), make_input=t2m_dataset),
    ],
    "xr_toolz.geo.AreaWeights": [
        _case(AreaWeights()),
        _case(AreaWeights(normalize=True), make_input=t2m_dataset),
    ],
    "xr_toolz.geo.WeightedMean": [
        # Means of ~290 K float32 data: the sums' rounding is ~1e-5 relative, ~1e-3 K.
        _case(WeightedMean(), jit_atol=1e-3),
        _case(WeightedMean("lat", weights="cos_lat"), jit_atol=1e-3),
        _case(WeightedMean(("time", "lon")), make_input=t2m_dataset, jit_atol=1e-3),
    ],
}
