"""The conformance ``Case`` record and the default input, shared by every examples module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import pipekit as pk
from geocatalog import GeoTensor
from geocatalog.testing import synthetic_scene

# Small but real: 13 bands (12 reflectance + QA60), uint16 DN, UTM 30N, 10 m pixels.
SCENE_SHAPE = (40, 48)


def scene() -> GeoTensor:
    return synthetic_scene(*SCENE_SHAPE, seed=7)


def float_scene() -> GeoTensor:
    """The scene as reflectance (DN / 10,000, float32); nodata is NaN (``fill_value`` NaN)."""
    gt = scene()
    return gt.replace(values=gt.values.astype(np.float32) / 10_000, fill_value=float("nan"))


def call_single(op: pk.Operator, x: Any) -> Any:
    return op(x)


#: ``Case.extra`` of examples called on ``x.values``: the op never sees the fill value.
ON_BARE_VALUES = {"nodata": "called on x.values: a bare array has no fill value (NaN only)"}


#: ``Case.extra`` of host I/O operators: reading or writing a file has no traced form, so
#: the jit checks (NumPy == jit, no retrace) and the nodata checks (run eager and jit) do
#: not apply; their behaviour is tested against rasterio in tests/geotoolz/test_io.py.
ON_HOST = {
    "jit": "host I/O: a file is read or written eagerly; there is no traced path",
    "nodata": "host I/O: nodata round-trips through the file (tests/geotoolz/test_io.py)",
}


#: ``Case.extra["retrace"]`` of xr_toolz examples. Under jit a DataArray's data is the leaf
#: and its labels (coords, attrs) are static (``xr_toolz._pytree``), so the NumPy == jit
#: check runs; the no-retrace check slices a GeoTensor at several locations, and for a
#: DataArray new coordinates are new constants: it compiles again, by design.
XARRAY_RETRACE = "xarray labels are static under jit: new coordinates compile again"


@dataclass(frozen=True)
class Case:
    op: pk.Operator
    make_input: Callable[[], Any] = scene
    call: Callable[[pk.Operator, Any], Any] = call_single
    vmap: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    #: Absolute tolerance of NumPy == jit. Raise it only for float32 results made by
    #: cancellation from large values (anomalies of 290 K data: ulp(290) = 3e-5, summed),
    #: and say so where the case is built.
    jit_atol: float = 1e-5
