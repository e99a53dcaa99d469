"""Fourier power spectra of DataArrays over named dims, with xrft's coordinates and numbers.

Units rule: a density of a variable in ``U`` over dims whose coordinates are in ``L1``,
``L2`` has ``units = "U^2 L1 L2"`` (``"K^2 m"`` for K along metres, ``"K^2 m^2"`` over
(y, x) both in m; a ``"spectrum"`` is
``"U^2"``); the frequency coordinate ``freq_<dim>`` has ``units = "1/L"``. The isotropic
spectrum (density times ``freq_r``) is ``"U^2 L"`` when both dims share ``L``. A missing
``units`` attr on the data or a coordinate leaves the output without ``units``.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit.validate import check_int
from pipekit_array import values_of

from . import _kernels

__all__ = ["IsotropicSpectrum", "PowerSpectrum", "SpectrumInputError"]

DETRENDS = (None, "constant", "linear")
WINDOWS = (None, "hann")
SCALINGS = ("density", "spectrum")
SPACING_TOL = 1e-3  # xrft's default spacing_tol (relative)


class SpectrumInputError(pk.PipekitError, ValueError):
    """The input of an xr_toolz spectrum cannot be Fourier transformed as given."""


def _check_dims(owner: str, arg: str, dim: Any, n: int | None = None) -> tuple[str, ...]:
    dims = (dim,) if isinstance(dim, str) else dim
    ok = (
        isinstance(dims, tuple | list)
        and dims
        and all(isinstance(d, str) and d for d in dims)
        and len(set(dims)) == len(dims)
        and (n is None or len(dims) == n)
    )
    if not ok:
        want = f"a tuple of {n} distinct dimension names" if n else "a dimension name or a tuple"
        raise pk.ConfigError(f"{owner}: {arg} must be {want}, e.g. ('y', 'x'), got {dim!r}")
    return tuple(dims)


def _check_choice(owner: str, arg: str, value: Any, choices: tuple) -> Any:
    if value not in choices:
        raise pk.ConfigError(f"{owner}: {arg} must be one of {list(choices)}, got {value!r}")
    return value


def _prepare(
    owner: str, x: Any, dims: tuple[str, ...]
) -> tuple[xr.DataArray, tuple[int, ...], list[float]]:
    """The DataArray with coords on ``dims`` other than the dims' own dropped, axes, spacings."""
    if not isinstance(x, xr.DataArray):
        raise SpectrumInputError(
            f"{owner} takes an xarray.DataArray, got {type(x).__name__}; select a variable "
            f"of a Dataset (ds['sst']) or wrap a bare array as xr.DataArray(values, dims=...)"
        )
    missing = [d for d in dims if d not in x.dims]
    if missing:
        raise SpectrumInputError(
            f"{owner}: dim {missing} not in the input's dims {x.dims}; pass names from those"
        )
    extra = [c for c in x.coords if c not in dims and set(x[c].dims) & set(dims)]
    x = x.drop_vars(extra)
    spacing = []
    for d in dims:
        if d not in x.coords or x.sizes[d] < 2:
            raise SpectrumInputError(
                f"{owner}: dim {d!r} needs a 1-D coordinate with at least 2 evenly spaced "
                f"values (its sample positions); assign one with .assign_coords({d}=...)"
            )
        diff = np.diff(np.asarray(x[d].values, dtype=np.float64))
        if diff[0] == 0 or not np.allclose(diff, diff[0], rtol=SPACING_TOL):
            raise SpectrumInputError(
                f"{owner}: coordinate {d!r} is not evenly spaced (steps {diff.min()} to "
                f"{diff.max()}); interpolate onto a regular grid first (.interp)"
            )
        spacing.append(float(abs(diff[0])))
    return x, tuple(x.dims.index(d) for d in dims), spacing


def _freq_coord(x: xr.DataArray, d: str, spacing: float) -> xr.DataArray:
    k = np.fft.fftshift(np.fft.fftfreq(x.sizes[d], spacing))
    attrs: dict[str, Any] = {"spacing": k[1] - k[0]}
    if "units" in x[d].attrs:
        attrs["units"] = f"1/{x[d].attrs['units']}"
    name = f"freq_{d}"
    return xr.DataArray(k, dims=name, coords={name: k}, name=name, attrs=attrs)


def _units(x: xr.DataArray, dims: tuple[str, ...], per: tuple[str, ...]) -> str | None:
    u = x.attrs.get("units")
    lengths = [x[d].attrs.get("units") for d in per]
    if u is None or any(v is None for v in lengths):
        return None
    powers = {v: lengths.count(v) for v in dict.fromkeys(lengths)}
    return " ".join([f"{u}^2", *(v if n == 1 else f"{v}^{n}" for v, n in powers.items())])


class PowerSpectrum(pk.Operator):
    """Power spectral density of a DataArray over named dims: ``xrft.power_spectrum``.

    Arguments:
        dim: the dim(s) to transform, e.g. ``"x"`` or ``("y", "x")``; each needs an evenly
            spaced coordinate (its spacing sets the frequencies and the density).
        detrend: None, ``"constant"`` (remove the mean over ``dim``) or ``"linear"``
            (remove the least-squares line / plane over ``dim``) before the transform.
        window: None or ``"hann"`` (periodic, per dim); no window correction, as xrft's
            default, so a windowed density under-counts the variance (by ~3/8 per dim).
        scaling: ``"density"`` (sums to the mean square times ``1/prod(df)``: Parseval)
            or ``"spectrum"``.

    ``dim`` becomes ``freq_<dim>`` (fftshift-ed, ``spacing`` attr, ``units`` ``1/L``);
    the other dims and their coords are kept, coords on ``dim`` besides ``dim`` dropped.
    Numbers equal ``xrft.power_spectrum(x, dim, detrend=..., window=..., scaling=...)``.
    """

    dim: tuple[str, ...] = eqx.field(static=True)
    detrend: str | None = eqx.field(static=True)
    window: str | None = eqx.field(static=True)
    scaling: str = eqx.field(static=True)

    def __init__(
        self,
        dim: str | tuple[str, ...] = ("y", "x"),
        *,
        detrend: str | None = None,
        window: str | None = None,
        scaling: str = "density",
    ) -> None:
        self.dim = _check_dims("PowerSpectrum", "dim", dim)
        self.detrend = _check_choice("PowerSpectrum", "detrend", detrend, DETRENDS)
        self.window = _check_choice("PowerSpectrum", "window", window, WINDOWS)
        self.scaling = _check_choice("PowerSpectrum", "scaling", scaling, SCALINGS)

    def _apply(self, x: Any) -> xr.DataArray:
        x, axes, spacing = _prepare("PowerSpectrum", x, self.dim)
        ps = _kernels.power_spectrum(
            values_of(x),
            axes,
            spacing,
            detrend_kind=self.detrend,
            window=self.window,
            scaling=self.scaling,
        )
        return _wrap(x, self.dim, spacing, ps, self.scaling)


def _wrap(
    x: xr.DataArray, dims: tuple[str, ...], spacing: list[float], ps: Any, scaling: str
) -> xr.DataArray:
    new = {d: _freq_coord(x, d, s) for d, s in zip(dims, spacing, strict=True)}
    out_dims = tuple(new[d].name if d in new else d for d in x.dims)
    coords: dict[str, Any] = {k: c for k, c in x.coords.items() if not set(c.dims) & set(dims)}
    coords.update({c.name: c for c in new.values()})
    attrs = {k: v for k, v in x.attrs.items() if k not in ("units", "standard_name")}
    units = _units(x, dims, dims if scaling == "density" else ())
    if units is not None:
        attrs["units"] = units
    attrs["long_name"] = f"power spectral {scaling} of {x.name or 'the input'}"
    return xr.DataArray(ps, dims=out_dims, coords=coords, attrs=attrs, name=x.name)


class IsotropicSpectrum(pk.Operator):
    """Isotropic (azimuthally averaged) spectrum over two dims: ``xrft.isotropic_power_spectrum``.

    The 2-D density of :class:`PowerSpectrum` is averaged in ``int(min(N) / nfactor)``
    equal-width bins of ``freq_r = sqrt(freq_y^2 + freq_x^2)`` (``pandas.cut`` edges, as
    xrft), each bin's ``freq_r`` the mean radius in it, and multiplied by ``freq_r`` (so
    ``2π · sum(iso * dfreq_r)``, the ring integral, approximates the variance for rings
    inside the Nyquist square; roughly for a steep spectrum). xrft's default ``truncate=False``:
    bins past the Nyquist radius are kept. The two dims collapse into ``freq_r``.
    """

    dims: tuple[str, str] = eqx.field(static=True)
    nfactor: int = eqx.field(static=True)
    detrend: str | None = eqx.field(static=True)
    window: str | None = eqx.field(static=True)

    def __init__(
        self,
        dims: tuple[str, str] = ("y", "x"),
        nfactor: int = 4,
        *,
        detrend: str | None = None,
        window: str | None = None,
    ) -> None:
        self.dims = _check_dims("IsotropicSpectrum", "dims", dims, n=2)  # type: ignore[assignment]
        self.nfactor = check_int("IsotropicSpectrum", "nfactor", nfactor, minimum=1)
        self.detrend = _check_choice("IsotropicSpectrum", "detrend", detrend, DETRENDS)
        self.window = _check_choice("IsotropicSpectrum", "window", window, WINDOWS)

    def _apply(self, x: Any) -> xr.DataArray:
        x, axes, spacing = _prepare("IsotropicSpectrum", x, self.dims)
        nbins = _kernels.nbins_of(x.sizes[self.dims[1]], x.sizes[self.dims[0]], self.nfactor)
        if nbins < 1:
            raise SpectrumInputError(
                f"IsotropicSpectrum: nfactor={self.nfactor} leaves no radial bin for sizes "
                f"{[x.sizes[d] for d in self.dims]} (bins = int(min size / nfactor)); pass a "
                f"smaller nfactor"
            )
        ps = _kernels.power_spectrum(
            values_of(x), axes, spacing, detrend_kind=self.detrend, window=self.window
        )
        fa, fb = (_freq_coord(x, d, s).values for d, s in zip(self.dims, spacing, strict=True))
        radius, edges = _kernels.radial_bins(fa, fb, nbins)
        if axes[0] > axes[1]:
            radius = radius.T
        iso, kr = _kernels.isotropize(ps, radius, edges, (min(axes), max(axes)))
        kept = tuple(d for d in x.dims if d not in self.dims)
        coords: dict[str, Any] = {
            k: c for k, c in x.coords.items() if not set(c.dims) & set(self.dims)
        }
        coords["freq_r"] = xr.DataArray(np.asarray(kr), dims="freq_r")
        attrs = {k: v for k, v in x.attrs.items() if k not in ("units", "standard_name")}
        u = [x[d].attrs.get("units") for d in self.dims]
        if "units" in x.attrs and u[0] is not None and u[0] == u[1]:
            attrs["units"] = f"{x.attrs['units']}^2 {u[0]}"
            coords["freq_r"].attrs["units"] = f"1/{u[0]}"
        attrs["long_name"] = f"isotropic power spectral density of {x.name or 'the input'}"
        return xr.DataArray(iso, dims=(*kept, "freq_r"), coords=coords, attrs=attrs, name=x.name)
