"""Conformance examples: xr_toolz ensemble and contingency metrics (merged into EXAMPLES).

An ensemble metric takes ``(observation, ensemble)``: the input is
``xr_toolz.testing.ensemble_forecast`` (``analysis``, ``forecast``) and the call unpacks
it; a contingency metric scores one member against the analysis. NumPy == jit runs on
every example (DataArrays are pytrees); the retrace check slices GeoTensors (opt-out, see
``XARRAY_RETRACE``) and a DataArray has no vmap (``vmap=False``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

import pipekit as pk
import xr_toolz

from ._case import XARRAY_RETRACE, Case

M = xr_toolz.metrics

ON_DATAARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "DataArray input: NaN is the nodata; NaN handling is tested in tests/xr_toolz",
}


def forecast() -> xr.Dataset:
    ds = xr_toolz.testing.ensemble_forecast(n_members=6, n_leads=4, nlat=4, nlon=6, seed=5)
    ds["analysis"][0, 1, 2] = np.nan
    return ds


def call_ensemble(op: pk.Operator, ds: xr.Dataset) -> Any:
    return op(ds["analysis"], ds["forecast"])


def call_member(op: pk.Operator, ds: xr.Dataset) -> Any:
    return op(ds["analysis"], ds["forecast"].isel(member=0, drop=True))


def _case(op: pk.Operator, call: Any = call_ensemble, **kw: Any) -> Case:
    return Case(op, make_input=forecast, call=call, vmap=False, extra=ON_DATAARRAY, **kw)


EXAMPLES: dict[str, list[Case]] = {
    # The kernel works on members minus the observation, so float32 does not cancel 288 K
    # against 288 K; the default tolerance holds.
    "xr_toolz.metrics.CRPS": [
        _case(M.CRPS()),
        _case(M.CRPS(dim=("lat", "lon"), weights="cos_lat")),
    ],
    # spread and rmse are roots of means of squared anomalies of 288 K data: in float32
    # the ensemble mean carries ulp(288) = 3e-5, so allow 1e-4 absolute.
    "xr_toolz.metrics.SpreadSkill": [
        _case(M.SpreadSkill(dim="time"), jit_atol=1e-4),
        _case(M.SpreadSkill(dim=("lat", "lon"), components=True), jit_atol=1e-4),
    ],
    "xr_toolz.metrics.RankHistogram": [
        _case(M.RankHistogram()),
        _case(M.RankHistogram(dim="time")),
    ],
}
for _name in ("POD", "FAR", "CSI", "IoU"):
    _op = getattr(M, _name)
    EXAMPLES[f"xr_toolz.metrics.{_name}"] = [
        _case(_op(270.0, "time"), call_member),
        _case(_op(285.0, ("lat", "lon"), skipna=False, weights="cos_lat"), call_member),
    ]
