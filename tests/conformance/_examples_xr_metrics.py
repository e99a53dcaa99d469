"""Conformance examples: xr_toolz.metrics (merged into examples.EXAMPLES).

A metric takes two DataArrays; the input is a Dataset holding both (``ref``, ``pred``)
and the call unpacks it. xarray objects are JAX pytrees (``xr_toolz._pytree``: data
leaves, labels static), so NumPy == ``eqx.filter_jit`` runs on every example (float32
both sides); the no-retrace check opts out (new coordinates are new constants under jit,
by design), and so does the GeoTensor nodata probe, with the reason given (NaN is a
DataArray's nodata).
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
    "nodata": "DataArray input: NaN is the nodata and skipna is tested in tests/xr_toolz",
}


def pair() -> xr.Dataset:
    rng = np.random.default_rng(3)
    shape = (12, 4, 5)
    ref = rng.normal(280.0, 3.0, shape)
    pred = ref + rng.normal(0.5, 1.0, shape)
    pred[0, 1, 2] = np.nan
    coords = {"time": np.arange(12), "lat": np.linspace(-60, 60, 4), "lon": np.arange(5.0)}
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {"ref": (dims, ref, {"units": "K"}), "pred": (dims, pred, {"units": "K"})}, coords
    )


def call_pair(op: pk.Operator, ds: xr.Dataset) -> Any:
    return op(ds["ref"], ds["pred"])


def _cases(op: pk.Operator, weighted: pk.Operator) -> list[Case]:
    return [
        Case(op, make_input=pair, call=call_pair, vmap=False, extra=ON_DATAARRAY),
        Case(weighted, make_input=pair, call=call_pair, vmap=False, extra=ON_DATAARRAY),
    ]


EXAMPLES: dict[str, list[Case]] = {
    f"xr_toolz.metrics.{name}": _cases(
        getattr(M, name)("time"), getattr(M, name)(("lat", "lon"), weights="cos_lat")
    )
    for name in ("RMSE", "MAE", "Bias", "R2", "NRMSE", "SkillScore")
}
EXAMPLES["xr_toolz.metrics.Correlation"] = _cases(
    M.Correlation("time"),
    M.Correlation(("lat", "lon"), method="spearman", skipna=False, weights="cos_lat"),
)
