r"""Pure array kernels of the ensemble and contingency metrics (NumPy, or JAX under ``jit``).

Ensemble kernels take ``(obs, ens, weights, *, axes)``: ``ens`` has the members on its
LAST axis and ``obs.shape == ens.shape[:-1]``; ``weights`` (obs's shape, or None) weight
the mean over ``axes`` (axes of ``obs``). Contingency kernels take
``(ref, pred, weights, *, axes, skipna, threshold)``, the signature of
:mod:`xr_toolz.metrics._kernels` plus the event threshold. The namespace comes from the
input (``pipekit_array.namespace``); ``axes``, ``skipna`` and ``threshold`` are static.

A point (an element of ``obs``) with no valid value gives NaN and is left out of the mean
over ``axes``; a slice with no valid point (or zero total weight) gives NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipekit_array import namespace

__all__ = [
    "contingency_counts",
    "crps_ensemble",
    "csi",
    "far",
    "pod",
    "rank_histogram",
    "spread_skill",
]


def _float(xp: Any, *arrays: Any) -> Any:
    """The float dtype of the result: the inputs' own, or the default float for ints."""
    dtype = xp.result_type(*arrays)
    if xp.isdtype(dtype, "real floating"):
        return dtype
    return xp.asarray(0.0).dtype


def _ratio(xp: Any, num: Any, den: Any) -> Any:
    """``num / den``, NaN where ``den`` is 0, without a 0/0 warning."""
    zero = den == 0
    nan = xp.asarray(float("nan"), dtype=den.dtype)
    return xp.where(zero, nan, num / xp.where(zero, xp.ones_like(den), den))


def _wmean(xp: Any, v: Any, w: Any | None, axes: Sequence[int]) -> Any:
    """Weighted mean of ``v`` over ``axes``, leaving out NaN values and NaN weights."""
    axes = tuple(sorted({a % v.ndim for a in axes})) if v.ndim else ()
    valid = ~xp.isnan(v)
    w = xp.ones_like(v) if w is None else xp.astype(w, v.dtype)
    valid = valid & ~xp.isnan(w)
    zero = xp.zeros_like(v)
    v, w = xp.where(valid, v, zero), xp.where(valid, w, zero)
    if not axes:
        return _ratio(xp, w * v, w)
    return _ratio(xp, xp.sum(w * v, axis=axes), xp.sum(w, axis=axes))


def _point_crps(xp: Any, obs: Any, ens: Any) -> Any:
    r"""The CRPS of each point, NaN members left out; NaN where obs or every member is NaN.

    .. math:: \mathrm{CRPS} = \frac1M\sum_i |x_i - y|
              - \frac1{2M^2}\sum_{i,j}|x_i - x_j|,\qquad
              \sum_{i,j}|x_i - x_j| = 2\sum_{k=0}^{M-1}(2k - M + 1)\,x_{(k)}

    with :math:`x_{(k)}` the members sorted ascending (O(M log M), not the O(M^2) pairs).
    The members are taken relative to the observation (:math:`d_i = x_i - y`) first, which
    changes neither term and keeps float32 from cancelling 280 K against 280 K.
    """
    dtype = _float(xp, obs, ens)
    d = xp.astype(ens, dtype) - xp.expand_dims(xp.astype(obs, dtype), axis=-1)
    member_ok = ~xp.isnan(d)
    n = xp.astype(xp.sum(xp.astype(member_ok, dtype), axis=-1), dtype)
    zero = xp.zeros_like(d)
    absdiff = xp.sum(xp.where(member_ok, xp.abs(d), zero), axis=-1)
    ds = xp.sort(d, axis=-1)  # NaN sorts last, in NumPy and in JAX
    k = xp.reshape(xp.astype(xp.arange(d.shape[-1]), dtype), (1,) * (d.ndim - 1) + (-1,))
    nk = xp.expand_dims(n, axis=-1)
    coef = xp.where(k < nk, 2.0 * k - nk + 1.0, zero)
    pairs = 2.0 * xp.sum(coef * xp.where(xp.isnan(ds), zero, ds), axis=-1)
    out = _ratio(xp, absdiff, n) - _ratio(xp, pairs, 2.0 * n * n)
    nan = xp.asarray(float("nan"), dtype=dtype)
    return xp.where((n == 0) | xp.isnan(xp.astype(obs, dtype)), nan, out)


def crps_ensemble(obs: Any, ens: Any, weights: Any | None = None, *, axes: Sequence[int]) -> Any:
    """Mean ensemble CRPS over ``axes`` (``xskillscore.crps_ensemble``, ``fair=False``)."""
    xp = namespace(ens)
    return _wmean(xp, _point_crps(xp, obs, ens), weights, axes)


def spread_skill(
    obs: Any, ens: Any, weights: Any | None = None, *, axes: Sequence[int]
) -> tuple[Any, Any, Any]:
    r"""``(spread, rmse, ratio)`` of the ensemble over ``axes``.

    .. math:: s = \sqrt{\langle \tfrac{1}{M-1}\textstyle\sum_i (x_i - \bar x)^2\rangle},
              \quad e = \sqrt{\langle (\bar x - y)^2 \rangle},
              \quad r = \sqrt{\tfrac{M+1}{M}}\, s / e

    For a reliable ensemble (the truth one more draw of the members' distribution)
    :math:`E[(\bar x - y)^2] = \frac{M+1}{M} E[\mathrm{var}]`, so :math:`r \to 1`
    (Fortin et al. 2014, MWR 142, 1149). A point with a NaN observation or member is left
    out of both means (the two must average the same points). Needs ``M >= 2``.
    """
    xp = namespace(ens)
    dtype = _float(xp, obs, ens)
    obs, ens = xp.astype(obs, dtype), xp.astype(ens, dtype)
    m = ens.shape[-1]
    mean = xp.mean(ens, axis=-1)
    var = xp.sum((ens - xp.expand_dims(mean, axis=-1)) ** 2, axis=-1) / (m - 1)
    err2 = (mean - obs) ** 2
    nan = xp.asarray(float("nan"), dtype=dtype)
    bad = xp.isnan(err2) | xp.isnan(var)
    var, err2 = xp.where(bad, nan, var), xp.where(bad, nan, err2)
    spread = xp.sqrt(_wmean(xp, var, weights, axes))
    rmse = xp.sqrt(_wmean(xp, err2, weights, axes))
    return spread, rmse, _ratio(xp, ((m + 1) / m) ** 0.5 * spread, rmse)


def rank_histogram(obs: Any, ens: Any, *, axes: Sequence[int]) -> Any:
    """Counts of the observation's rank among the members, ``M + 1`` bins on a new last axis.

    The rank is ``1 + #{x_i < y} + #{x_i == y} // 2``: without ties, 1 + the number of
    members below the observation (xskillscore's rank). With ties it is the middle of the
    tied ranks (rounded down), the expected value of xskillscore's random tie-breaking
    without a random key, so one call gives one answer on NumPy and under ``jit``. A
    point with a NaN observation or member is not counted. Integer counts.
    """
    xp = namespace(ens)
    y = xp.expand_dims(obs, axis=-1)
    below = xp.sum(xp.astype(ens < y, xp.int32), axis=-1)
    tied = xp.sum(xp.astype(ens == y, xp.int32), axis=-1)
    rank0 = below + tied // 2  # 0-based rank, 0 .. M
    valid = ~(xp.isnan(obs) | xp.any(xp.isnan(ens), axis=-1))
    bins = xp.reshape(xp.arange(ens.shape[-1] + 1), (1,) * obs.ndim + (-1,))
    hit = (xp.expand_dims(rank0, axis=-1) == bins) & xp.expand_dims(valid, axis=-1)
    axes = tuple(sorted({a % obs.ndim for a in axes})) if obs.ndim else ()
    return xp.sum(xp.astype(hit, xp.int32), axis=axes) if axes else xp.astype(hit, xp.int32)


def contingency_counts(
    ref: Any, pred: Any, weights: Any | None, *, axes: Sequence[int], skipna: bool, threshold: float
) -> tuple[Any, Any, Any]:
    """``(hits, misses, false_alarms)`` of the event ``value >= threshold`` over ``axes``.

    ``>=`` is xskillscore's rule for edges ``[-inf, threshold, inf]`` (the lower bin
    excludes its right edge). Weighted counts: the sum of the weights of the points in
    each cell (1 each unweighted). With ``skipna`` a pair with a NaN (or a NaN weight) is
    not counted; without it a NaN makes the counts of its slice NaN.
    """
    xp = namespace(ref)
    dtype = _float(xp, ref, pred)
    r, p = xp.astype(ref, dtype), xp.astype(pred, dtype)
    w = xp.ones_like(r) if weights is None else xp.astype(weights, dtype)
    nan_any = xp.isnan(r) | xp.isnan(p) | xp.isnan(w)
    zero = xp.zeros_like(r)
    w = xp.where(nan_any, zero, w)
    obs_yes, fct_yes = r >= threshold, p >= threshold
    axes = tuple(sorted({a % r.ndim for a in axes})) if r.ndim else ()

    def total(cell: Any) -> Any:
        v = xp.where(cell, w, zero)
        return xp.sum(v, axis=axes) if axes else v

    counts = (total(obs_yes & fct_yes), total(obs_yes & ~fct_yes), total(~obs_yes & fct_yes))
    if skipna:
        return counts
    poisoned = xp.astype(nan_any, dtype)
    poisoned = xp.sum(poisoned, axis=axes) if axes else poisoned
    nan = xp.asarray(float("nan"), dtype=dtype)
    return tuple(xp.where(poisoned > 0, nan, c) for c in counts)  # type: ignore[return-value]


def pod(
    ref: Any,
    pred: Any,
    weights: Any | None = None,
    *,
    axes: Sequence[int],
    skipna: bool = True,
    threshold: float,
) -> Any:
    """Probability of detection ``hits / (hits + misses)`` (xskillscore ``hit_rate``)."""
    h, m, _ = contingency_counts(ref, pred, weights, axes=axes, skipna=skipna, threshold=threshold)
    return _ratio(namespace(h), h, h + m)


def far(
    ref: Any,
    pred: Any,
    weights: Any | None = None,
    *,
    axes: Sequence[int],
    skipna: bool = True,
    threshold: float,
) -> Any:
    """False alarm ratio ``false_alarms / (hits + false_alarms)``."""
    h, _, f = contingency_counts(ref, pred, weights, axes=axes, skipna=skipna, threshold=threshold)
    return _ratio(namespace(h), f, h + f)


def csi(
    ref: Any,
    pred: Any,
    weights: Any | None = None,
    *,
    axes: Sequence[int],
    skipna: bool = True,
    threshold: float,
) -> Any:
    """Critical success index ``hits / (hits + misses + false_alarms)`` (= IoU of the events)."""
    h, m, f = contingency_counts(ref, pred, weights, axes=axes, skipna=skipna, threshold=threshold)
    return _ratio(namespace(h), h, h + m + f)
