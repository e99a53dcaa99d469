"""Conformance examples: xr_toolz.transforms (merged into examples.EXAMPLES).

The spectra take a DataArray (Coherence a Dataset of two, PSDScore two DataArrays unpacked
from a Dataset) with evenly spaced coordinates; EOF a (time, lat, lon) DataArray with NaN
land. Each runs NumPy == ``eqx.filter_jit`` end to end (labels static, data traced); the
retrace check does not apply to xarray labels (``XARRAY_RETRACE``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

import xr_toolz

from ._case import XARRAY_RETRACE, Case

T = xr_toolz.transforms

ON_DATAARRAY = {
    "retrace": XARRAY_RETRACE,
    "nodata": "DataArray input: a Fourier transform has no nodata rule (NaN spreads)",
}


def sst() -> xr.DataArray:
    rng = np.random.default_rng(5)
    ny, nx = 12, 16
    # Anomalies (no 290 K offset): in float32 a Fourier transform's rounding is relative to
    # its largest bin, and an offset's zero-frequency bin would swamp every other.
    values = rng.normal(0.0, 1.0, (2, ny, nx)) + np.linspace(0.0, 2.0, nx)
    da = xr.DataArray(
        values,
        dims=("time", "y", "x"),
        coords={"time": [0, 1], "y": np.arange(ny) * 1000.0, "x": np.arange(nx) * 1000.0},
        attrs={"units": "K"},
        name="sst",
    )
    da.x.attrs["units"] = "m"
    da.y.attrs["units"] = "m"
    return da


def sst_and_air() -> xr.Dataset:
    da = sst()
    air = 0.5 * da + np.random.default_rng(6).normal(0.0, 1.0, da.shape)
    return xr.Dataset({"sst": da, "air": air})


def sst_anomaly_maps() -> xr.DataArray:
    """(time, lat, lon) anomalies with two well-separated planted modes and land (NaN)."""
    rng = np.random.default_rng(7)
    nt, lat, lon = 20, np.linspace(-50.0, 50.0, 6), np.arange(8) * 45.0
    t = np.arange(nt)
    p1 = np.sin(np.deg2rad(lat))[:, None] * np.ones(8)
    p2 = np.ones(6)[:, None] * np.cos(np.deg2rad(lon))
    values = (
        3.0 * np.sin(2 * np.pi * 2 * t / nt)[:, None, None] * p1
        + 1.0 * np.cos(2 * np.pi * 3 * t / nt)[:, None, None] * p2
        + 0.2 * rng.normal(size=(nt, 6, 8))
    )
    values[:, 0, :2] = np.nan  # land: NaN at every time, left out and returned as NaN
    return xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={"time": t, "lat": lat, "lon": lon},
        attrs={"units": "K"},
        name="sst",
    )


def ssh_tracks() -> xr.Dataset:
    """A red reference (random walks) and a smoothed, noisy prediction along ``x`` (km)."""
    rng = np.random.default_rng(8)
    ref = np.cumsum(rng.normal(size=(4, 48)), axis=1)
    kernel = np.ones(5) / 5
    pred = np.stack([np.convolve(r, kernel, mode="same") for r in ref])
    pred = pred + 0.1 * rng.normal(size=ref.shape)
    coords = {"x": ("x", np.arange(48) * 5.0, {"units": "km"})}
    dims = ("track", "x")
    return xr.Dataset({"ref": (dims, ref), "pred": (dims, pred)}, coords)


def call_pair(op: Any, ds: xr.Dataset) -> Any:
    return op(ds["ref"], ds["pred"])


EXAMPLES: dict[str, list[Case]] = {
    "xr_toolz.transforms.PSDScore": [
        Case(
            T.PSDScore("x"),
            make_input=ssh_tracks,
            call=call_pair,
            vmap=False,
            extra={"retrace": XARRAY_RETRACE},
        ),
    ],
    "xr_toolz.transforms.EOF": [
        # A DataArray is not a GeoTensor: the nodata checks skip it; NaN land is in the input.
        Case(
            T.EOF("time", 2, "cos_lat"),
            make_input=sst_anomaly_maps,
            vmap=False,
            extra={"retrace": XARRAY_RETRACE},
        ),
    ],
    "xr_toolz.transforms.PowerSpectrum": [
        Case(T.PowerSpectrum("x"), make_input=sst, vmap=False, extra=ON_DATAARRAY),
        Case(
            T.PowerSpectrum(("y", "x"), detrend="linear", window="hann"),
            make_input=sst,
            vmap=False,
            extra=ON_DATAARRAY,
        ),
    ],
    "xr_toolz.transforms.IsotropicSpectrum": [
        Case(
            T.IsotropicSpectrum(("y", "x"), 2, detrend="constant"),
            make_input=sst,
            vmap=False,
            extra=ON_DATAARRAY,
        ),
    ],
    "xr_toolz.transforms.Coherence": [
        Case(
            T.Coherence(("sst", "air"), "x", "time", detrend="linear"),
            make_input=sst_and_air,
            vmap=False,
            extra=ON_DATAARRAY,
        ),
    ],
}
