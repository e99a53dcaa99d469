"""Conformance examples: xr_toolz.detrend (merged into examples.EXAMPLES).

The operators take a DataArray (dims by name) and read the grouping from its time
coordinate (static under jit: host NumPy group ids). xarray objects are JAX pytrees
(``xr_toolz._pytree``: data leaves, labels static), so NumPy == ``eqx.filter_jit`` runs
on every example (float32 both sides); the no-retrace check opts out (new coordinates
are new constants under jit, by design), and so does the GeoTensor nodata probe, with
the reason given (NaN is a DataArray's nodata).
"""

from __future__ import annotations

import xarray as xr

from xr_toolz.detrend import Climatology, Detrend, RemoveClimatology
from xr_toolz.testing import reanalysis_like

from ._case import XARRAY_RETRACE, Case


def t2m() -> xr.DataArray:
    return reanalysis_like(nlat=3, nlon=4, seed=1)


ON_DATAARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "NaN is the DataArray's nodata: tested (skipna) in tests/xr_toolz/test_detrend.py",
}


def _case(op) -> Case:
    # Anomalies of ~290 K data in float32 (the jit check's dtype): rounding of the group
    # sums is ~1e-4 K, so NumPy == jit holds to 1e-3 K, not 1e-5.
    return Case(op, make_input=t2m, vmap=False, extra=ON_DATAARRAY, jit_atol=1e-3)


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.detrend.Climatology": [
        _case(Climatology()),
        _case(Climatology("month")),
        _case(Climatology("season", dim="time")),
    ],
    "xr_toolz.detrend.RemoveClimatology": [
        _case(RemoveClimatology()),
        _case(RemoveClimatology("season")),
    ],
    "xr_toolz.detrend.Detrend": [
        _case(Detrend()),
        _case(Detrend(degree=0)),
        _case(Detrend(dim="lon", degree=2)),
    ],
}
