r"""Pure array kernels of the xr_toolz metrics: functions of arrays and integer axes.

Every kernel takes ``(ref, pred, weights, *, axes, skipna)`` on arrays of one shape
(``weights`` the same shape, or None), reduces over ``axes`` and returns the kept axes in
their order. The namespace comes from the input (``pipekit_array.namespace``), so one
kernel runs on NumPy and under ``jax.jit`` on JAX arrays (``axes`` and ``skipna`` static).

The reduction is a weighted mean over the valid elements,

.. math:: \langle v \rangle_w = \frac{\sum_i w_i v_i}{\sum_i w_i},

with :math:`w_i = 1` unweighted. With ``skipna`` an element is valid when neither
``ref``, ``pred`` nor ``weights`` is NaN there (pairwise, as xskillscore's
``_match_nans``); without it any NaN makes the result NaN. A slice with no valid
element (or zero total weight) gives NaN, without a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipekit_array import namespace

__all__ = [
    "bias",
    "mae",
    "nrmse",
    "pearson_r",
    "r2",
    "rmse",
    "skill_score",
    "spearman_r",
]


def _prepare(
    ref: Any, pred: Any, weights: Any | None, axes: Sequence[int], skipna: bool
) -> tuple[Any, Any, Any, Any, Any]:
    """``(xp, r, p, w, valid)`` with the reduced axes moved last and flattened into one.

    Masked elements (``skipna``) get value 0 and weight 0, so they drop out of every sum
    without a ``0 * NaN``; ``valid`` marks the elements kept.
    """
    xp = namespace(ref)
    if tuple(ref.shape) != tuple(pred.shape):
        raise ValueError(
            f"metric kernel: ref and pred must have one shape, got {tuple(ref.shape)} and "
            f"{tuple(pred.shape)}"
        )
    ndim = ref.ndim
    axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
    keep = tuple(i for i in range(ndim) if i not in axes)
    dtype = xp.result_type(ref, pred)
    if not xp.isdtype(dtype, "real floating"):
        dtype = xp.float32 if ref.dtype == xp.float32 else xp.asarray(0.0).dtype
    kept_shape = tuple(ref.shape[i] for i in keep)
    n = 1
    for a in axes:
        n *= ref.shape[a]

    def flat(v: Any) -> Any:
        v = xp.astype(xp.permute_dims(v, (*keep, *axes)), dtype)
        return xp.reshape(v, (*kept_shape, n))

    r, p = flat(ref), flat(pred)
    w = xp.ones_like(r) if weights is None else flat(weights)
    if skipna:
        valid = ~(xp.isnan(r) | xp.isnan(p) | xp.isnan(w))
        zero = xp.zeros_like(r)
        r, p, w = xp.where(valid, r, zero), xp.where(valid, p, zero), xp.where(valid, w, zero)
    else:
        valid = xp.ones(r.shape, dtype=xp.bool)
    return xp, r, p, w, valid


def _ratio(xp: Any, num: Any, den: Any) -> Any:
    """``num / den``, NaN where ``den`` is 0 (no valid element, or a constant input)."""
    zero = den == 0
    nan = xp.asarray(float("nan"), dtype=den.dtype)
    return xp.where(zero, nan, num / xp.where(zero, xp.ones_like(den), den))


def _wmean(xp: Any, v: Any, w: Any) -> Any:
    return _ratio(xp, xp.sum(w * v, axis=-1), xp.sum(w, axis=-1))


def _anomalies(xp: Any, v: Any, w: Any) -> Any:
    return v - xp.expand_dims(_wmean(xp, v, w), axis=-1)


def rmse(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Root-mean-square error :math:`\sqrt{\langle (p - r)^2 \rangle_w}`."""
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    return xp.sqrt(_wmean(xp, (p - r) ** 2, w))


def mae(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Mean absolute error :math:`\langle |p - r| \rangle_w`."""
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    return _wmean(xp, xp.abs(p - r), w)


def bias(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Mean error, prediction minus reference: :math:`\langle p - r \rangle_w`."""
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    return _wmean(xp, p - r, w)


def _pearson(xp: Any, r: Any, p: Any, w: Any) -> Any:
    dr, dp = _anomalies(xp, r, w), _anomalies(xp, p, w)
    num = xp.sum(w * dr * dp, axis=-1)
    den = xp.sqrt(xp.sum(w * dr * dr, axis=-1) * xp.sum(w * dp * dp, axis=-1))
    return xp.clip(_ratio(xp, num, den), -1.0, 1.0)


def pearson_r(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Weighted Pearson correlation, clipped to [-1, 1].

    .. math:: \rho = \frac{\sum w\,\delta r\,\delta p}{\sqrt{\sum w\,\delta r^2
              \sum w\,\delta p^2}}, \quad \delta v = v - \langle v \rangle_w
    """
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    return _pearson(xp, r, p, w)


def _average_ranks(xp: Any, v: Any, valid: Any) -> Any:
    """1-based ranks along the last axis among the valid elements, ties averaged.

    ``rank_i = #{j valid: v_j < v_i} + (#{j valid: v_j == v_i} + 1) / 2`` (scipy's
    ``rankdata(method="average")``). Pairwise, so it costs ``n**2`` per slice in memory:
    fine for series of a few thousand, not for a million-pixel map (rank there first).
    A NaN element (``skipna=False``) keeps NaN, so the correlation is NaN.
    """
    vi, vj = xp.expand_dims(v, axis=-1), xp.expand_dims(v, axis=-2)
    vj_valid = xp.expand_dims(valid, axis=-2)
    one, zero = xp.ones_like(vi * vj), xp.zeros_like(vi * vj)
    less = xp.sum(xp.where(vj_valid & (vj < vi), one, zero), axis=-1)
    equal = xp.sum(xp.where(vj_valid & (vj == vi), one, zero), axis=-1)
    ranks = less + (equal + 1.0) / 2.0
    return xp.where(xp.isnan(v), v, ranks)


def spearman_r(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Spearman rank correlation: :func:`pearson_r` of the average ranks of the valid pairs.

    Ranks are taken among the elements valid in both inputs (with ``skipna``), as
    ``scipy.stats.spearmanr`` on the pairs left after dropping NaN.
    """
    xp, r, p, w, valid = _prepare(ref, pred, weights, axes, skipna)
    rr, rp = _average_ranks(xp, r, valid), _average_ranks(xp, p, valid)
    zero = xp.zeros_like(rr)
    return _pearson(xp, xp.where(valid, rr, zero), xp.where(valid, rp, zero), w)


def r2(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Coefficient of determination of ``pred`` against ``ref``.

    .. math:: R^2 = 1 - \frac{\sum w (r - p)^2}{\sum w (r - \langle r \rangle_w)^2}
    """
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    dr = _anomalies(xp, r, w)
    return 1.0 - _ratio(xp, xp.sum(w * (r - p) ** 2, axis=-1), xp.sum(w * dr * dr, axis=-1))


def nrmse(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""RMSE over the reference's (population, weighted) standard deviation.

    .. math:: \mathrm{NRMSE} = \frac{\sqrt{\langle (p - r)^2 \rangle_w}}
              {\sqrt{\langle (r - \langle r \rangle_w)^2 \rangle_w}}
    """
    xp, r, p, w, _ = _prepare(ref, pred, weights, axes, skipna)
    dr = _anomalies(xp, r, w)
    return _ratio(xp, xp.sqrt(_wmean(xp, (p - r) ** 2, w)), xp.sqrt(_wmean(xp, dr * dr, w)))


def skill_score(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r""":math:`1 - \mathrm{NRMSE}`: 1 perfect, 0 an error as large as the reference's spread."""
    return 1.0 - nrmse(ref, pred, weights, axes=axes, skipna=skipna)
