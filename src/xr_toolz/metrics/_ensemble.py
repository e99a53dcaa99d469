"""Ensemble metrics: ``metric(observation, ensemble)`` with the members on ``member_dim``.

The observation has the ensemble's dims less ``member_dim`` (any order, equal coords);
the score reduces over ``dim`` (None: every dim of the observation). Numbers come from the
pure kernels of :mod:`._ensemble_kernels`, so every operator traces under ``jax.jit``.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import numpy as np
import xarray as xr

import pipekit as pk
from pipekit_array import namespace, values_of

from . import _ensemble_kernels as _k
from ._metrics import AbstractXrMetric, MetricInputError, _check_dim

__all__ = ["CRPS", "AbstractEnsembleMetric", "RankHistogram", "SpreadSkill"]


class AbstractEnsembleMetric(pk.Operator):
    """``(observation, ensemble) -> DataArray`` reduced over ``dim``.

    Arguments:
        member_dim: the ensemble's member dimension (absent from the observation).
        dim: the dimension name(s) of the observation to reduce over; None: all of them.
        weights: None, ``"cos_lat"`` or a coordinate name, as :class:`AbstractXrMetric`
            (weights of the mean over ``dim``; not of the members).

    The order is ``(observation, ensemble)``, xskillscore's. NaN: see each kernel.
    """

    member_dim: str = eqx.field(static=True)
    dim: tuple[str, ...] | None = eqx.field(static=True)
    weights: str | None = eqx.field(static=True)

    _long_name: ClassVar[str]
    _min_members: ClassVar[int] = 1

    def __init__(
        self,
        member_dim: str = "member",
        dim: str | tuple[str, ...] | None = None,
        *,
        weights: str | None = None,
    ) -> None:
        self._init_common(member_dim, dim, weights)

    def _init_common(self, member_dim: Any, dim: Any, weights: Any) -> None:
        name = type(self).__name__
        if not isinstance(member_dim, str) or not member_dim:
            raise pk.ConfigError(
                f"{name}: member_dim must be the name of the members' dimension (a "
                f"non-empty str, e.g. 'member'), got {member_dim!r}"
            )
        self.member_dim = member_dim
        self.dim = _check_dim(name, dim)
        if self.dim is not None and member_dim in self.dim:
            raise pk.ConfigError(
                f"{name}: dim must not hold member_dim {member_dim!r} (the members are the "
                f"ensemble, not a dim to average over), got dim={dim!r}"
            )
        if weights is not None and (not isinstance(weights, str) or not weights):
            raise pk.ConfigError(
                f"{name}: weights must be None, 'cos_lat' or the name of a coordinate of "
                f"the observation (a non-empty str), got {weights!r}"
            )
        self.weights = weights

    # The weight rules (cos_lat, coordinate names, their errors) are the deterministic
    # metrics' own; this class has the one field they read, ``weights``.
    _weights = AbstractXrMetric._weights

    def _prepare(
        self, observation: Any, ensemble: Any
    ) -> tuple[xr.DataArray, xr.DataArray, tuple[int, ...], Any]:
        """The aligned pair (ensemble members last), the reduced axes and the weights."""
        name = type(self).__name__
        for arg, x in (("observation", observation), ("ensemble", ensemble)):
            if not isinstance(x, xr.DataArray):
                raise MetricInputError(
                    f"{name}(observation, ensemble): {arg} must be an xarray.DataArray, got "
                    f"{type(x).__name__}; wrap it with xr.DataArray(values, dims=...)"
                )
        member = self.member_dim
        if member not in ensemble.dims or member in observation.dims:
            raise MetricInputError(
                f"{name}(observation, ensemble): the ensemble must have member_dim "
                f"{member!r} and the observation must not; got dims {ensemble.dims} and "
                f"{observation.dims}. Pass member_dim= with the members' dim name"
            )
        if set(observation.dims) != set(ensemble.dims) - {member}:
            raise MetricInputError(
                f"{name}(observation, ensemble): the ensemble's dims less {member!r} must be "
                f"the observation's, got {ensemble.dims} and {observation.dims}"
            )
        n = ensemble.sizes[member]
        if n < self._min_members:
            raise MetricInputError(
                f"{name}: the ensemble needs at least {self._min_members} members along "
                f"{member!r}, got {n}"
            )
        ensemble = ensemble.transpose(*observation.dims, member)
        try:
            observation, ensemble = xr.align(observation, ensemble, join="exact", exclude=[member])
        except ValueError as err:
            raise MetricInputError(
                f"{name}(observation, ensemble): the coordinates differ ({err}); regrid or "
                f"reindex one onto the other first"
            ) from err
        dims = observation.dims if self.dim is None else self.dim
        missing = [d for d in dims if d not in observation.dims]
        if missing:
            raise MetricInputError(
                f"{name}: dim {missing} not in the observation's dims {observation.dims}; "
                f"pass dim= with names from those (or None for all)"
            )
        axes = tuple(observation.dims.index(d) for d in dims)
        w = self._weights(observation)
        if w is not None:
            w = namespace(values_of(observation)).asarray(w)
        return observation, ensemble, axes, w

    def _wrap(
        self,
        out: Any,
        obs: xr.DataArray,
        axes: tuple[int, ...],
        units: str | None,
        name: str,
        long_name: str,
    ) -> xr.DataArray:
        kept = tuple(d for i, d in enumerate(obs.dims) if i not in axes)
        coords = {k: c for k, c in obs.coords.items() if set(c.dims) <= set(kept)}
        attrs = {"long_name": long_name, "units": "1" if units is None else units}
        return xr.DataArray(out, dims=kept, coords=coords, attrs=attrs, name=name)

    @abc.abstractmethod
    def _apply(self, observation: Any, ensemble: Any) -> Any:
        """Score ``ensemble`` against ``observation``."""


class CRPS(AbstractEnsembleMetric):
    r"""Ensemble continuous ranked probability score, mean over ``dim``; keeps ``units``.

    .. math:: \mathrm{CRPS} = \frac1M\sum_i |x_i - y| - \frac1{2M^2}\sum_{i,j}|x_i - x_j|

    the empirical (``fair=False``) form, computed from the sorted members in O(M log M).
    Equals ``xskillscore.crps_ensemble(observation, ensemble, member_dim=..., dim=...,
    weights=...)``: NaN members are left out of their point's ensemble, a point with a NaN
    observation or no valid member is left out of the mean. 0 is perfect.

    Example:
        >>> import xarray as xr
        >>> from xr_toolz.metrics import CRPS
        >>> obs = xr.DataArray([0.0], dims="time")
        >>> ens = xr.DataArray([[-1.0, 1.0]], dims=("time", "member"))
        >>> float(CRPS()(obs, ens))  # 1 - |(-1) - 1| / 4
        0.5
    """

    _long_name: ClassVar[str] = "continuous ranked probability score"

    def _apply(self, observation: Any, ensemble: Any) -> xr.DataArray:
        obs, ens, axes, w = self._prepare(observation, ensemble)
        out = _k.crps_ensemble(values_of(obs), values_of(ens), w, axes=axes)
        return self._wrap(out, obs, axes, obs.attrs.get("units"), "crps", self._long_name)


class SpreadSkill(AbstractEnsembleMetric):
    r"""Spread-skill ratio :math:`\sqrt{(M+1)/M}\; s / e` of an ensemble (unitless).

    :math:`s` is the root of the mean (over ``dim``) ensemble variance (``ddof=1``),
    :math:`e` the RMSE of the ensemble mean against the observation; the factor
    :math:`\sqrt{(M+1)/M}` corrects the spread of a finite ensemble so that a reliable one
    scores 1 (Fortin et al. 2014): below 1 under-dispersive, above over-dispersive.

    Arguments:
        member_dim, dim, weights: as :class:`AbstractEnsembleMetric`.
        components: False (default) returns the ratio as a DataArray, like every other
            metric (so it plugs into ``pipekit.diff.AB`` and plots); True returns a
            Dataset with ``spread`` and ``rmse`` (in the observation's units) and
            ``ratio``, since a ratio of 1 says nothing about how large both are.

    A point with a NaN observation or member is left out of both means. Needs M >= 2.
    xskillscore has no spread-skill function; the tests check a plain NumPy formula.
    """

    components: bool = eqx.field(static=True)

    _long_name: ClassVar[str] = "spread-skill ratio sqrt((M+1)/M) spread / RMSE(mean)"
    _min_members: ClassVar[int] = 2

    def __init__(
        self,
        member_dim: str = "member",
        dim: str | tuple[str, ...] | None = None,
        *,
        weights: str | None = None,
        components: bool = False,
    ) -> None:
        if not isinstance(components, bool):
            raise pk.ConfigError(
                f"SpreadSkill: components must be True (Dataset of spread, rmse, ratio) or "
                f"False (the ratio), got {components!r}"
            )
        self.components = components
        self._init_common(member_dim, dim, weights)

    def _apply(self, observation: Any, ensemble: Any) -> xr.DataArray | xr.Dataset:
        obs, ens, axes, w = self._prepare(observation, ensemble)
        spread, rmse, ratio = _k.spread_skill(values_of(obs), values_of(ens), w, axes=axes)
        ratio_da = self._wrap(ratio, obs, axes, None, "spread_skill", self._long_name)
        if not self.components:
            return ratio_da
        units = obs.attrs.get("units")
        return xr.Dataset(
            {
                "spread": self._wrap(
                    spread,
                    obs,
                    axes,
                    units,
                    "spread",
                    "ensemble spread (root mean member variance, ddof=1)",
                ),
                "rmse": self._wrap(rmse, obs, axes, units, "rmse", "RMSE of the ensemble mean"),
                "ratio": ratio_da.rename("ratio"),
            }
        )


class RankHistogram(AbstractEnsembleMetric):
    """Talagrand rank histogram: the count of observations at each rank 1..M+1 over ``dim``.

    Returns integer counts on a new last dim ``rank`` (coordinate 1..M+1), named
    ``histogram_rank`` as xskillscore's. Equals ``xskillscore.rank_histogram`` when no
    member ties the observation. Ties: xskillscore draws a random rank among the tied
    ones; this takes the middle one (``1 + #below + #tied // 2``, the expected rank of that
    draw, rounded down), so it is deterministic and needs no random key under ``jit``.
    Points with a NaN observation or member are not counted. Flat is reliable, U-shaped
    under-dispersive, dome-shaped over-dispersive. No ``weights`` (counts).
    """

    _long_name: ClassVar[str] = "rank histogram (observations per rank)"

    def __init__(
        self, member_dim: str = "member", dim: str | tuple[str, ...] | None = None
    ) -> None:
        self._init_common(member_dim, dim, None)

    def _apply(self, observation: Any, ensemble: Any) -> xr.DataArray:
        obs, ens, axes, _ = self._prepare(observation, ensemble)
        counts = _k.rank_histogram(values_of(obs), values_of(ens), axes=axes)
        hist = self._wrap(counts[..., 0], obs, axes, None, "histogram_rank", self._long_name)
        rank = np.arange(1, ens.sizes[self.member_dim] + 2)
        return xr.DataArray(
            counts,
            dims=(*hist.dims, "rank"),
            coords={**hist.coords, "rank": ("rank", rank, {"long_name": "rank"})},
            attrs=hist.attrs,
            name=hist.name,
        )
