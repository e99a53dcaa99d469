"""Metric Operators on DataArrays: ``metric(reference, prediction)`` reduced over named dims."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import namespace, values_of

from . import _kernels

__all__ = [
    "MAE",
    "NRMSE",
    "R2",
    "RMSE",
    "AbstractXrMetric",
    "Bias",
    "Correlation",
    "MetricInputError",
    "SkillScore",
]

#: Latitude coordinate names ``weights="cos_lat"`` looks for, in this order.
LAT_NAMES = ("lat", "latitude")


class MetricInputError(pk.PipekitError, ValueError):
    """The reference and prediction of an xr_toolz metric cannot be compared as given."""


def _check_dim(name: str, dim: Any) -> tuple[str, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, str) else dim
    if (
        not isinstance(dims, tuple | list)
        or not dims
        or not all(isinstance(d, str) and d for d in dims)
    ):
        raise pk.ConfigError(
            f"{name}: dim must be None (all dims), a dimension name or a tuple of names, "
            f"e.g. 'time' or ('lat', 'lon'), got {dim!r}"
        )
    if len(set(dims)) != len(dims):
        raise pk.ConfigError(f"{name}: dim must not repeat a name, got {dim!r}")
    return tuple(dims)


def _same_grid(a: xr.DataArray, b: xr.DataArray) -> bool:
    """Same sizes and equal indexes: what ``xr.align(join="exact")`` checks, without its
    per-call cost (tens of ms on a year of 0.25-degree maps, in ``Indexes`` bookkeeping)."""
    if a.sizes != b.sizes or a.xindexes.keys() != b.xindexes.keys():
        return False
    return all(a.xindexes[k].equals(b.xindexes[k]) for k in a.xindexes)


class AbstractXrMetric(pk.Operator):
    """``(reference, prediction) -> DataArray`` reduced over ``dim``.

    Arguments:
        dim: the dimension name(s) to reduce over; None reduces over all of them. The
            other dims, and the coords that live on them only, are kept.
        skipna: leave out every element where the reference, the prediction or the
            weight is NaN (pairwise); False lets one NaN make the result NaN.
        weights: None, ``"cos_lat"`` (cos of the ``lat``/``latitude`` coordinate, in
            degrees: an area weight on a regular lat-lon grid), or the name of any other
            coordinate of the inputs holding non-negative weights. A name, not an array,
            so the operator stays YAML config.

    The order is ``(reference, prediction)``, as ``pipekit_array.metrics`` and as
    ``pipekit.diff.AB`` calls ``metric(old(x), new(x))``: the old pipeline is the
    reference. Both must have the same dims (any order) and equal coordinates; numbers
    come from the pure kernels of :mod:`xr_toolz.metrics._kernels` (NumPy or JAX data).
    """

    dim: tuple[str, ...] | None = eqx.field(static=True)
    skipna: bool = eqx.field(static=True)
    weights: str | None = eqx.field(static=True)

    _long_name: ClassVar[str]
    _keeps_units: ClassVar[bool] = False

    def __init__(
        self,
        dim: str | tuple[str, ...] | None = None,
        *,
        skipna: bool = True,
        weights: str | None = None,
    ) -> None:
        self._init_common(dim, skipna, weights)

    def _init_common(self, dim: Any, skipna: Any, weights: Any) -> None:
        name = type(self).__name__
        self.dim = _check_dim(name, dim)
        if not isinstance(skipna, bool):
            raise pk.ConfigError(f"{name}: skipna must be True or False, got {skipna!r}")
        if weights is not None and (not isinstance(weights, str) or not weights):
            raise pk.ConfigError(
                f"{name}: weights must be None, 'cos_lat' or the name of a coordinate of "
                f"the inputs (a non-empty str), got {weights!r}"
            )
        self.skipna, self.weights = skipna, weights

    @abc.abstractmethod
    def _kernel(self) -> Callable[..., Any]:
        """The kernel of :mod:`._kernels` this metric computes."""

    def _apply(self, reference: Any, prediction: Any) -> xr.DataArray:
        ref, pred = self._aligned(reference, prediction)
        dims = ref.dims if self.dim is None else self.dim
        missing = [d for d in dims if d not in ref.dims]
        if missing:
            raise MetricInputError(
                f"{type(self).__name__}: dim {missing} not in the inputs' dims {ref.dims}; "
                f"pass dim= with names from those (or None for all)"
            )
        axes = tuple(ref.dims.index(d) for d in dims)
        w = self._weights(ref)
        data = values_of(ref)
        if w is not None:
            w = namespace(data).asarray(w)
        out = self._kernel()(data, values_of(pred), w, axes=axes, skipna=self.skipna)
        kept = tuple(d for d in ref.dims if d not in dims)
        coords = {k: c for k, c in ref.coords.items() if set(c.dims) <= set(kept)}
        attrs = {"long_name": self._long_name}
        units = ref.attrs.get("units")
        if self._keeps_units and units is not None:
            attrs["units"] = units
        elif not self._keeps_units:
            attrs["units"] = "1"
        return xr.DataArray(
            out, dims=kept, coords=coords, attrs=attrs, name=type(self).__name__.lower()
        )

    def _aligned(self, reference: Any, prediction: Any) -> tuple[xr.DataArray, xr.DataArray]:
        name = type(self).__name__
        for arg, x in (("reference", reference), ("prediction", prediction)):
            if not isinstance(x, xr.DataArray):
                raise MetricInputError(
                    f"{name}(reference, prediction): {arg} must be an xarray.DataArray, got "
                    f"{type(x).__name__}; wrap it with xr.DataArray(values, dims=...), or "
                    f"use pipekit_array.metrics for bare arrays and GeoTensors"
                )
        if set(reference.dims) != set(prediction.dims):
            raise MetricInputError(
                f"{name}(reference, prediction): both must have the same dims, got "
                f"{reference.dims} and {prediction.dims}; select or expand_dims first"
            )
        prediction = prediction.transpose(*reference.dims)
        if _same_grid(reference, prediction):
            return reference, prediction  # xr.align would only confirm it, at a cost
        try:
            reference, prediction = xr.align(reference, prediction, join="exact", copy=False)
        except ValueError as err:
            raise MetricInputError(
                f"{name}(reference, prediction): the coordinates differ ({err}); regrid or "
                f"reindex one onto the other first"
            ) from err
        return reference, prediction

    def _weights(self, ref: xr.DataArray) -> np.ndarray | None:
        if self.weights is None:
            return None
        name = type(self).__name__
        if self.weights == "cos_lat":
            lat = next((ref.coords[n] for n in LAT_NAMES if n in ref.coords), None)
            if lat is None:
                raise MetricInputError(
                    f"{name}(weights='cos_lat') needs a latitude coordinate named one of "
                    f"{LAT_NAMES} (degrees); the inputs have coords {tuple(ref.coords)}. "
                    f"Rename yours (e.g. .rename(y='lat')) or pass weights=None"
                )
            w = np.cos(np.deg2rad(np.asarray(lat.values, dtype=np.float64)))
            w = xr.DataArray(w, dims=lat.dims)
        elif self.weights in ref.coords:
            w = xr.DataArray(
                np.asarray(ref.coords[self.weights].values), dims=ref.coords[self.weights].dims
            )
        else:
            raise MetricInputError(
                f"{name}: weights={self.weights!r} is neither 'cos_lat' nor a coordinate of "
                f"the inputs (coords {tuple(ref.coords)}); assign it with .assign_coords first"
            )
        if np.nanmin(w.values, initial=0.0) < 0:
            raise MetricInputError(
                f"{name}: weights={self.weights!r} has negative values (min "
                f"{np.nanmin(w.values)}); weights are non-negative (e.g. cell areas)"
            )
        template = xr.DataArray(np.empty(ref.shape, dtype=bool), dims=ref.dims)
        return np.asarray(w.broadcast_like(template).transpose(*ref.dims).values)


class RMSE(AbstractXrMetric):
    r"""Root-mean-square error :math:`\sqrt{\langle (p - r)^2 \rangle_w}`; keeps ``units``.

    Equals ``xskillscore.rmse(reference, prediction, dim, weights, skipna)``.

    Example:
        >>> import xarray as xr
        >>> from xr_toolz.metrics import RMSE
        >>> ref = xr.DataArray([0.0, 0.0], dims="time", attrs={"units": "K"})
        >>> out = RMSE("time")(ref, xr.DataArray([3.0, 4.0], dims="time"))
        >>> float(out), out.attrs["units"]
        (3.5355339059327378, 'K')
    """

    _long_name: ClassVar[str] = "root-mean-square error"
    _keeps_units: ClassVar[bool] = True

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.rmse


class MAE(AbstractXrMetric):
    r"""Mean absolute error :math:`\langle |p - r| \rangle_w`; keeps ``units``.

    Equals ``xskillscore.mae(reference, prediction, ...)``.
    """

    _long_name: ClassVar[str] = "mean absolute error"
    _keeps_units: ClassVar[bool] = True

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.mae


class Bias(AbstractXrMetric):
    r"""Mean error, prediction minus reference: :math:`\langle p - r \rangle_w`.

    Equals ``xskillscore.me(prediction, reference, ...)`` (xskillscore's ``me(a, b)`` is
    ``a - b``); positive means the prediction runs high.
    """

    _long_name: ClassVar[str] = "mean error (prediction - reference)"
    _keeps_units: ClassVar[bool] = True

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.bias


class Correlation(AbstractXrMetric):
    r"""Pearson or Spearman correlation of the prediction with the reference (unitless).

    Arguments:
        method: ``"pearson"`` (weighted, equals ``xskillscore.pearson_r``) or
            ``"spearman"`` (Pearson of the average ranks among the valid pairs; equals
            ``xskillscore.spearman_r`` without NaN and ``scipy.stats.spearmanr`` on the
            pairs left after dropping NaN). Spearman ranks pairwise, ``n**2`` memory per
            reduced slice.
        dim, skipna, weights: as :class:`AbstractXrMetric`.
    """

    method: Literal["pearson", "spearman"] = eqx.field(static=True)

    _long_name: ClassVar[str] = "correlation"

    def __init__(
        self,
        dim: str | tuple[str, ...] | None = None,
        *,
        method: Literal["pearson", "spearman"] = "pearson",
        skipna: bool = True,
        weights: str | None = None,
    ) -> None:
        if method not in ("pearson", "spearman"):
            raise pk.ConfigError(
                f"Correlation: method must be 'pearson' or 'spearman', got {method!r}"
            )
        self.method = method
        self._init_common(dim, skipna, weights)

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.pearson_r if self.method == "pearson" else _kernels.spearman_r


class R2(AbstractXrMetric):
    r"""Coefficient of determination :math:`1 - \frac{\sum w (r-p)^2}{\sum w (r-\bar r)^2}`.

    Equals ``xskillscore.r2(reference, prediction, ...)`` (sklearn's ``r2_score`` with
    ``y_true=reference``). Not symmetric; NaN for a constant reference.
    """

    _long_name: ClassVar[str] = "coefficient of determination"

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.r2


class NRMSE(AbstractXrMetric):
    r"""RMSE over the reference's standard deviation, :math:`\mathrm{RMSE}/\sigma_r` (unitless).

    :math:`\sigma_r` is the weighted population (``ddof=0``) standard deviation of the
    reference over the same valid elements. 1 means an error as large as the reference's
    own spread (the skill of predicting its mean).
    """

    _long_name: ClassVar[str] = "RMSE normalised by the reference standard deviation"

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.nrmse


class SkillScore(AbstractXrMetric):
    r""":math:`1 - \mathrm{RMSE}/\sigma_r`, i.e. ``1 - NRMSE`` (unitless).

    Named plainly: this is the RMSE skill against the reference's own spread, not the
    MSE skill score :math:`1 - \mathrm{MSE}/\sigma_r^2` (which equals :class:`R2` without
    bias). 1 is perfect, 0 no better than the reference's mean, negative worse.
    """

    _long_name: ClassVar[str] = "RMSE skill score (1 - RMSE / reference std)"

    def _kernel(self) -> Callable[..., Any]:
        return _kernels.skill_score
