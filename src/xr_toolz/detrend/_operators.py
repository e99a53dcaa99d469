"""Climatology, anomalies and polynomial detrending of xarray objects along a named dim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import xarray as xr

import pipekit as pk
from pipekit.validate import check_int
from pipekit_array import float_values, values_of

from ._groups import FREQS, Freq, time_groups
from ._kernels import group_mean, poly_detrend, remove_group_mean

__all__ = ["Climatology", "Detrend", "RemoveClimatology"]


def _check_dim(owner: str, dim: object) -> str:
    if not isinstance(dim, str) or not dim:
        raise pk.ConfigError(
            f"{owner}: dim must be the name of a dimension (a non-empty str, e.g. 'time'), "
            f"got {dim!r}"
        )
    return dim


def _check_freq(owner: str, freq: object) -> str:
    if freq not in FREQS:
        raise pk.ConfigError(f"{owner}: freq must be one of {list(FREQS)}, got {freq!r}")
    return str(freq)


def _each_variable(x: Any, dim: str, owner: str, fn: Callable[[xr.DataArray], Any]) -> Any:
    """``fn`` on a DataArray, or on every data variable of a Dataset that has ``dim``."""
    if isinstance(x, xr.DataArray):
        return fn(x)
    if isinstance(x, xr.Dataset):
        if not any(dim in v.dims for v in x.data_vars.values()):
            raise ValueError(
                f"{owner}: no data variable of the Dataset has dim={dim!r}; its dims are "
                f"{tuple(x.dims)}"
            )
        out = {k: fn(v) if dim in v.dims else v for k, v in x.data_vars.items()}
        return xr.Dataset(out, attrs=dict(x.attrs))
    raise TypeError(
        f"{owner} takes an xarray.DataArray or Dataset (dims by name), got "
        f"{type(x).__name__}; wrap a bare array as xr.DataArray(values, dims=(...))"
    )


def _axis(x: xr.DataArray, dim: str, owner: str) -> int:
    if dim not in x.dims:
        raise ValueError(
            f"{owner}: dim={dim!r} is not a dimension of the input; its dims are {x.dims}"
        )
    return x.dims.index(dim)


class Climatology(pk.Operator):
    r"""Mean per calendar group along ``dim``: ``x.groupby(f"{dim}.{freq}").mean()``.

    .. math:: c_g = \operatorname{mean}\{x_t : g(t) = g,\ x_t \ne \mathrm{NaN}\}

    The result replaces ``dim`` by a dimension named ``freq`` whose coordinate is the
    sorted distinct groups present (xarray's): days of year 1..366, months 1..12, seasons
    ``DJF, JJA, MAM, SON``. Attributes (``units``, ...) are kept; NaN is left out
    (skipna); a group with no valid value is NaN.

    Leap years: ``freq="dayofyear"`` groups by xarray's ``time.dayofyear``, the ordinal
    day. Day 60 is Feb 29 in a leap year and Mar 1 otherwise (every day after Feb 28 of a
    leap year is one ordinal later than the same date of a common year), and day 366 is
    Dec 31 of a leap year only: its mean averages the leap years' Dec 31 alone.

    Args:
        freq: ``"dayofyear"``, ``"month"`` or ``"season"``.
        dim: the time dimension (its coordinate must hold dates).

    Example:
        >>> from xr_toolz.detrend import Climatology
        >>> from xr_toolz.testing import reanalysis_like
        >>> Climatology("month")(reanalysis_like()).sizes["month"]
        12
    """

    freq: Freq = eqx.field(static=True)
    dim: str = eqx.field(static=True)

    def __init__(self, freq: Freq = "dayofyear", dim: str = "time") -> None:
        self.freq = _check_freq("Climatology", freq)
        self.dim = _check_dim("Climatology", dim)

    def _apply(self, x: Any) -> Any:
        return _each_variable(x, self.dim, "Climatology", self._one)

    def _one(self, x: xr.DataArray) -> xr.DataArray:
        axis = _axis(x, self.dim, "Climatology")
        labels, ids = time_groups(x, self.dim, self.freq, "Climatology")
        values = group_mean(float_values(x, values=values_of(x)), ids, len(labels), axis)
        dims = tuple(self.freq if d == self.dim else d for d in x.dims)
        coords = {k: c for k, c in x.coords.items() if self.dim not in c.dims}
        coords[self.freq] = (self.freq, labels)
        return xr.DataArray(values, dims=dims, coords=coords, attrs=dict(x.attrs), name=x.name)


class RemoveClimatology(pk.Operator):
    r"""Anomalies: each value minus the :class:`Climatology` of its group.

    .. math:: a_t = x_t - c_{g(t)}

    Equal to ``x.groupby(f"{dim}.{freq}") - x.groupby(f"{dim}.{freq}").mean()``. Dims,
    coords and attrs are the input's (an anomaly keeps the ``units`` of a temperature
    difference: K stays K); NaN stays NaN. Leap days are grouped as in
    :class:`Climatology`.

    Args:
        freq: ``"dayofyear"``, ``"month"`` or ``"season"``.
        dim: the time dimension (its coordinate must hold dates).
    """

    freq: Freq = eqx.field(static=True)
    dim: str = eqx.field(static=True)

    def __init__(self, freq: Freq = "dayofyear", dim: str = "time") -> None:
        self.freq = _check_freq("RemoveClimatology", freq)
        self.dim = _check_dim("RemoveClimatology", dim)

    def _apply(self, x: Any) -> Any:
        return _each_variable(x, self.dim, "RemoveClimatology", self._one)

    def _one(self, x: xr.DataArray) -> xr.DataArray:
        axis = _axis(x, self.dim, "RemoveClimatology")
        labels, ids = time_groups(x, self.dim, self.freq, "RemoveClimatology")
        values = float_values(x, values=values_of(x))
        return x.copy(data=remove_group_mean(values, ids, len(labels), axis))


class Detrend(pk.Operator):
    r"""Remove a least-squares polynomial of ``degree`` along ``dim`` from every series.

    .. math:: r_t = x_t - \sum_{k=0}^{d} \hat\beta_k\, t^k

    fitted in the sample index ``t`` (as ``scipy.signal.detrend``: ``degree=0`` equals
    ``type="constant"``, ``degree=1`` ``type="linear"``; higher degrees equal the residual
    of ``numpy.polyfit``). NaN values are left out of the fit and stay NaN; a series with
    at most ``degree`` valid values is NaN throughout. Dims, coords and attrs are kept.

    Args:
        dim: the dimension along which each series is detrended.
        degree: the polynomial degree, an int >= 0.
    """

    dim: str = eqx.field(static=True)
    degree: int = eqx.field(static=True)

    def __init__(self, dim: str = "time", degree: int = 1) -> None:
        self.dim = _check_dim("Detrend", dim)
        self.degree = check_int("Detrend", "degree", degree, minimum=0)

    def _apply(self, x: Any) -> Any:
        return _each_variable(x, self.dim, "Detrend", self._one)

    def _one(self, x: xr.DataArray) -> xr.DataArray:
        axis = _axis(x, self.dim, "Detrend")
        values = float_values(x, values=values_of(x))
        if hasattr(values, "dask"):  # lazy: one task per chunk of the other dims
            series = values.rechunk({axis: -1})
            return x.copy(data=series.map_blocks(poly_detrend, self.degree, axis))
        return x.copy(data=poly_detrend(values, self.degree, axis))
