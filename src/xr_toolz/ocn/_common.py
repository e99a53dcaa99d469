"""Input checks shared by the ocean Operators: names, numbers, a variable of a Dataset."""

from __future__ import annotations

import math
from typing import Any

import xarray as xr

import pipekit as pk

from ._errors import OcnTypeError, OcnValueError

__all__ = ["check_name", "check_positive", "field_of"]


def check_name(owner: str, arg: str, value: Any) -> str:
    if not (isinstance(value, str) and value):
        raise pk.ConfigError(f"{owner}: {arg} must be a name (a non-empty str), got {value!r}")
    return value


def check_positive(owner: str, arg: str, value: Any, *, zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (value >= 0 if zero else value > 0):
        bound = "a finite number >= 0" if zero else "a positive finite number"
        raise pk.ConfigError(f"{owner}: {arg} must be {bound}, got {value!r}")
    return float(value)


def field_of(owner: str, x: Any, name: str, arg: str) -> xr.DataArray:
    """``x`` itself (a DataArray) or its variable ``name`` (a Dataset)."""
    if isinstance(x, xr.DataArray):
        return x
    if isinstance(x, xr.Dataset):
        if name not in x.data_vars:
            raise OcnValueError(
                f"{owner}: the Dataset has no variable {name!r} (it has {list(x.data_vars)}); "
                f"name it with {owner}({arg}='...')"
            )
        return x[name]
    raise OcnTypeError(
        f"{owner} takes an xarray.DataArray, or a Dataset with variable {name!r}, got "
        f"{type(x).__name__}; wrap it: xr.DataArray(values, dims=..., coords=...)"
    )
