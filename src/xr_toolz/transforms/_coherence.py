"""Coherence of two variables of a Dataset over named dims, from ensemble-mean spectra."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import xarray as xr

import pipekit as pk
from pipekit_array import values_of

from . import _kernels
from ._operators import (
    DETRENDS,
    WINDOWS,
    SpectrumInputError,
    _check_choice,
    _check_dims,
    _freq_coord,
    _prepare,
)

__all__ = ["Coherence"]


class Coherence(pk.Operator):
    r"""Magnitude-squared coherence of ``ds[a]`` and ``ds[b]`` over ``dim``, averaged over ``over``.

    .. math:: C(f) = \frac{|\langle S_{ab}(f) \rangle|^2}
              {\langle S_{aa}(f) \rangle \langle S_{bb}(f) \rangle}

    with :math:`S` xrft's cross / power spectral densities (``xrft.cross_spectrum``,
    ``xrft.power_spectrum``, same ``detrend`` and ``window``) and
    :math:`\langle\cdot\rangle` the mean over the ensemble dim ``over`` (times, members):
    no Welch segmenting, so the realisations are what the user has. Without an average
    the coherence is identically 1, hence ``over`` is required.

    Arguments:
        variables: the two data-variable names ``(a, b)`` of the Dataset.
        dim: the dim(s) to transform, each with an evenly spaced coordinate.
        over: the ensemble dim averaged over (removed from the output).
        detrend, window: as :class:`~xr_toolz.transforms.PowerSpectrum`.

    Output: a DataArray in [0, 1], ``units = "1"``, ``dim`` renamed ``freq_<dim>``.
    NaN where either ensemble-mean auto-spectrum is below ``sqrt(eps)`` of its peak (the
    zero frequency after ``detrend``, a constant variable): the ratio there is round-off
    over round-off, which xrft's spectra return as an arbitrary number (or NaN for 0/0)
    that differs between NumPy and JAX; see :func:`xr_toolz.transforms._kernels.coherence`.
    """

    variables: tuple[str, str] = eqx.field(static=True)
    dim: tuple[str, ...] = eqx.field(static=True)
    over: str = eqx.field(static=True)
    detrend: str | None = eqx.field(static=True)
    window: str | None = eqx.field(static=True)

    def __init__(
        self,
        variables: tuple[str, str],
        dim: str | tuple[str, ...] = "x",
        over: str = "time",
        *,
        detrend: str | None = None,
        window: str | None = None,
    ) -> None:
        self.variables = _check_dims("Coherence", "variables", variables, n=2)  # type: ignore[assignment]
        self.dim = _check_dims("Coherence", "dim", dim)
        if not isinstance(over, str) or not over or over in self.dim:
            raise pk.ConfigError(
                f"Coherence: over must be the name of the ensemble dim to average over (a "
                f"non-empty str not in dim={self.dim}), got {over!r}"
            )
        self.over = over
        self.detrend = _check_choice("Coherence", "detrend", detrend, DETRENDS)
        self.window = _check_choice("Coherence", "window", window, WINDOWS)

    def _apply(self, ds: Any) -> xr.DataArray:
        a_name, b_name = self.variables
        if not isinstance(ds, xr.Dataset) or a_name not in ds or b_name not in ds:
            have = tuple(ds.data_vars) if isinstance(ds, xr.Dataset) else type(ds).__name__
            raise SpectrumInputError(
                f"Coherence: input must be an xarray.Dataset holding variables "
                f"{self.variables}, got {have}; build one with xr.Dataset({{...}})"
            )
        a, axes, spacing = _prepare("Coherence", ds[a_name], self.dim)
        b = ds[b_name].drop_vars([c for c in ds[b_name].coords if c not in a.coords])
        if b.dims != a.dims:
            b = b.transpose(*a.dims) if set(b.dims) == set(a.dims) else b
        if b.dims != a.dims or self.over not in a.dims:
            raise SpectrumInputError(
                f"Coherence: {a_name!r} and {b_name!r} must share dims that include "
                f"over={self.over!r}, got {ds[a_name].dims} and {ds[b_name].dims}"
            )
        coh = _kernels.coherence(
            values_of(a),
            values_of(b),
            axes,
            a.dims.index(self.over),
            detrend_kind=self.detrend,
            window=self.window,
        )
        new = {d: _freq_coord(a, d, s) for d, s in zip(self.dim, spacing, strict=True)}
        out_dims = tuple(new[d].name if d in new else d for d in a.dims if d != self.over)
        drop = {*self.dim, self.over}
        coords: dict[str, Any] = {k: c for k, c in a.coords.items() if not set(c.dims) & drop}
        coords.update({c.name: c for c in new.values()})
        attrs = {"units": "1", "long_name": f"coherence of {a_name} and {b_name}"}
        return xr.DataArray(coh, dims=out_dims, coords=coords, attrs=attrs, name="coherence")
