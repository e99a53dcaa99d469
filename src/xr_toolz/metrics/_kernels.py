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

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipekit_array import namespace

from ._numpy_paths import _np_pearson, _np_rmse, _numpy_unweighted

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


#: Under JAX, a reduction over leading axes keeping at least this many elements per step
#: streams over the leading index (:meth:`_Reduction.sums`).
_STREAM_MIN_KEPT = 4096


class _Reduction:
    """The inputs of one metric call and how to reduce per-element terms over ``axes``.

    A metric asks for sums of terms computed from the prepared inputs: ``r`` and ``p`` in
    the float dtype with masked elements 0 (``skipna``), ``valid`` the pairwise mask (None
    without ``skipna``) and the effective weight ``w``: the given weights (0 where masked),
    the validity mask as 0/1 when there are no weights but a mask, or none at all when every
    element counts with weight 1 (no weight array, no multiplications).

    Under JAX, when ``axes`` are the leading axes (``dim="time"`` on time-first data) and
    the kept slice is large, the terms are computed and summed one leading index at a time
    in a ``fori_loop``: XLA's CPU backend reduces over a major axis ~20x slower than it
    streams slices (benchmarks/README.md, xr_toolz section), and computing the terms
    inside the loop keeps them out of memory. Elsewhere the terms are full arrays reduced
    in place (no transpose), siblings in one variadic ``lax.reduce`` under JAX.
    """

    def __init__(
        self, ref: Any, pred: Any, weights: Any | None, axes: Sequence[int], skipna: bool
    ) -> None:
        xp = namespace(ref)
        if tuple(ref.shape) != tuple(pred.shape):
            raise ValueError(
                f"metric kernel: ref and pred must have one shape, got {tuple(ref.shape)} "
                f"and {tuple(pred.shape)}"
            )
        ndim = ref.ndim
        self.xp, self.skipna = xp, skipna
        self.axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
        dtype = xp.result_type(ref, pred)
        if not xp.isdtype(dtype, "real floating"):
            dtype = xp.float32 if ref.dtype == xp.float32 else xp.asarray(0.0).dtype
        self.dtype = dtype
        self.n = math.prod(ref.shape[a] for a in self.axes)
        self.inputs = (ref, pred, weights)
        k = len(self.axes)
        kept = math.prod(ref.shape[k:])
        self.stream = (
            _is_jax(xp)
            and 0 < k < ndim
            and self.axes == tuple(range(k))
            and self.n > 1
            and kept >= _STREAM_MIN_KEPT
        )
        if self.stream:
            lead = (self.n, *ref.shape[k:])
            w = None if weights is None else xp.broadcast_to(weights, ref.shape)
            self.inputs = tuple(None if v is None else xp.reshape(v, lead) for v in (ref, pred, w))

    def prepared(self, ref: Any, pred: Any, w: Any | None) -> tuple[Any, Any, Any, Any]:
        """``(r, p, w, valid)`` of (a slice of) the inputs; see the class docstring."""
        xp, dtype = self.xp, self.dtype
        r, p = _as(xp, ref, dtype), _as(xp, pred, dtype)
        w = None if w is None else _as(xp, w, dtype)
        valid = None
        if self.skipna:
            bad = xp.isnan(r) | xp.isnan(p)
            if w is not None:
                bad = bad | xp.isnan(w)
            zero = xp.zeros((), dtype=dtype)
            r, p = xp.where(bad, zero, r), xp.where(bad, zero, p)
            w = xp.astype(~bad, dtype) if w is None else xp.where(bad, zero, w)
            valid = ~bad
        return r, p, w, valid

    def sums(self, terms: Callable[[Any, Any, Any], tuple[Any, ...]]) -> tuple[Any, ...]:
        """``sum(w v)`` over the reduced axes for each ``v`` of ``terms(r, p, valid)``, and
        ``sum(w)`` last (the count ``n``, a Python int, when every weight is 1)."""
        xp = self.xp

        def weighted(ref: Any, pred: Any, w: Any | None) -> tuple[Any, ...]:
            r, p, w, valid = self.prepared(ref, pred, w)
            vs = tuple(terms(r, p, valid))
            return vs if w is None else (*(w * v for v in vs), w)

        if self.stream:
            from jax import lax

            def step(t: Any) -> tuple[Any, ...]:
                return weighted(
                    *(None if v is None else lax.dynamic_index_in_dim(v, t, 0, False)
                      for v in self.inputs)
                )  # fmt: skip

            out = lax.fori_loop(1, self.n, lambda t, acc: _add_tuples(acc, step(t)), step(0))
        else:
            vs = weighted(*self.inputs)
            if _is_jax(xp) and len(vs) > 1:
                out = _sum_together(vs, self.axes)
            else:
                out = tuple(xp.sum(v, axis=self.axes) for v in vs)
        unit_weights = self.inputs[2] is None and not self.skipna
        return (*out, self.n) if unit_weights else tuple(out)

    def means(self, terms: Callable[[Any, Any, Any], tuple[Any, ...]]) -> tuple[Any, ...]:
        """The weighted means over the valid elements of each term; NaN where none is."""
        *totals, den = self.sums(terms)
        if isinstance(den, int):
            if den == 0:
                return tuple(_nan(self.xp, t) for t in totals)
            return tuple(t / den for t in totals)
        return tuple(_ratio(self.xp, t, den) for t in totals)

    def expand(self, kept: Any) -> Any:
        """A kept-shape array (a mean) broadcastable against what ``terms`` receives."""
        if not self.stream:
            for a in self.axes:
                kept = self.xp.expand_dims(kept, axis=a)
        return kept

    def anomaly(self, v: Any, mean: Any, valid: Any | None) -> Any:
        """``v`` less its (expanded) mean, 0 at masked elements (so they drop from sums)."""
        d = v - mean
        return d if valid is None else self.xp.where(valid, d, self.xp.zeros((), dtype=d.dtype))


def _sum_together(vs: tuple[Any, ...], axes: tuple[int, ...]) -> tuple[Any, ...]:
    """Sibling sums of JAX arrays as ONE variadic ``lax.reduce`` (XLA's CPU backend runs
    them 1.2-2x slower as separate reduces), differentiable: a generic ``lax.reduce`` has
    no derivative rule, so the tangents are plain sums (linear, hence transposable)."""
    import jax
    from jax import lax

    @jax.custom_jvp
    def together(*vs: Any) -> tuple[Any, ...]:
        zeros = tuple(jax.numpy.zeros((), dtype=v.dtype) for v in vs)
        return tuple(lax.reduce(vs, zeros, _add_tuples, axes))

    @together.defjvp
    def _jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> Any:
        return together(*primals), tuple(jax.numpy.sum(t, axis=axes) for t in tangents)

    return together(*vs)


def _add_tuples(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _is_jax(xp: Any) -> bool:
    return "jax" in getattr(xp, "__name__", "")


def _as(xp: Any, v: Any, dtype: Any) -> Any:
    return v if v.dtype == dtype else xp.astype(v, dtype)


def _nan(xp: Any, total: Any) -> Any:
    return xp.full(total.shape, float("nan"), dtype=total.dtype)


def _prepare_flat(
    ref: Any, pred: Any, weights: Any | None, axes: Sequence[int], skipna: bool
) -> tuple[Any, Any, Any, Any, Any]:
    """``(xp, r, p, w, valid)`` with the reduced axes moved last and flattened into one.

    For the rank correlation, whose pairwise ranks need one series axis. Masked elements
    (``skipna``) get value 0 and weight 0, so they drop out of every sum without a
    ``0 * NaN``; ``valid`` marks the elements kept.
    """
    red = _Reduction(ref, pred, weights, axes, skipna)
    xp, ndim = red.xp, ref.ndim
    keep = tuple(i for i in range(ndim) if i not in red.axes)
    kept_shape = tuple(ref.shape[i] for i in keep)

    def flat(v: Any) -> Any:
        return xp.reshape(xp.permute_dims(v, (*keep, *red.axes)), (*kept_shape, red.n))

    pr, pp, pw, pvalid = red.prepared(ref, pred, weights)
    r, p = flat(pr), flat(pp)
    w = xp.ones_like(r) if pw is None else flat(xp.broadcast_to(pw, ref.shape))
    valid = xp.ones(r.shape, dtype=xp.bool) if pvalid is None else flat(pvalid)
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
    if _numpy_unweighted(ref, pred, weights):
        out = _np_rmse(ref, pred, axes, skipna)
        if out is not None:
            return out
    red = _Reduction(ref, pred, weights, axes, skipna)
    (msd,) = red.means(lambda r, p, valid: ((p - r) * (p - r),))
    return red.xp.sqrt(msd)


def mae(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Mean absolute error :math:`\langle |p - r| \rangle_w`."""
    red = _Reduction(ref, pred, weights, axes, skipna)
    return red.means(lambda r, p, valid: (red.xp.abs(p - r),))[0]


def bias(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Mean error, prediction minus reference: :math:`\langle p - r \rangle_w`."""
    red = _Reduction(ref, pred, weights, axes, skipna)
    return red.means(lambda r, p, valid: (p - r,))[0]


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

    Two passes (means, then the anomaly products), never the one-pass moment formula:
    on 290 K float32 data its cancellation loses the signal.
    """
    if (
        _numpy_unweighted(ref, pred, weights)
        and ref.shape == pred.shape
        and not (skipna and (np.isnan(ref).any() or np.isnan(pred).any()))
    ):
        # Eager NumPy with nothing to leave out: the unmasked formula in place, no masks
        # (the ``any`` is cheap next to the masking passes it saves).
        return _np_pearson(ref, pred, axes)
    red = _Reduction(ref, pred, weights, axes, skipna)
    xp = red.xp
    mr, mp = (red.expand(m) for m in red.means(lambda r, p, valid: (r, p)))

    def products(r: Any, p: Any, valid: Any) -> tuple[Any, ...]:
        dr, dp = red.anomaly(r, mr, valid), red.anomaly(p, mp, valid)
        return dr * dp, dr * dr, dp * dp

    num, srr, spp, _ = red.sums(products)
    return xp.clip(_ratio(xp, num, xp.sqrt(srr * spp)), -1.0, 1.0)


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
    xp, r, p, w, valid = _prepare_flat(ref, pred, weights, axes, skipna)
    rr, rp = _average_ranks(xp, r, valid), _average_ranks(xp, p, valid)
    zero = xp.zeros_like(rr)
    return _pearson(xp, xp.where(valid, rr, zero), xp.where(valid, rp, zero), w)


def r2(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""Coefficient of determination of ``pred`` against ``ref``.

    .. math:: R^2 = 1 - \frac{\sum w (r - p)^2}{\sum w (r - \langle r \rangle_w)^2}
    """
    red = _Reduction(ref, pred, weights, axes, skipna)
    mr = red.expand(red.means(lambda r, p, valid: (r,))[0])

    def squares(r: Any, p: Any, valid: Any) -> tuple[Any, ...]:
        d, dr = r - p, red.anomaly(r, mr, valid)
        return d * d, dr * dr

    sdd, srr, _ = red.sums(squares)
    return 1.0 - _ratio(red.xp, sdd, srr)


def nrmse(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r"""RMSE over the reference's (population, weighted) standard deviation.

    .. math:: \mathrm{NRMSE} = \frac{\sqrt{\langle (p - r)^2 \rangle_w}}
              {\sqrt{\langle (r - \langle r \rangle_w)^2 \rangle_w}}
    """
    red = _Reduction(ref, pred, weights, axes, skipna)
    mr = red.expand(red.means(lambda r, p, valid: (r,))[0])

    def squares(r: Any, p: Any, valid: Any) -> tuple[Any, ...]:
        d, dr = p - r, red.anomaly(r, mr, valid)
        return d * d, dr * dr

    mdd, mrr = red.means(squares)
    return _ratio(red.xp, red.xp.sqrt(mdd), red.xp.sqrt(mrr))


def skill_score(
    ref: Any, pred: Any, weights: Any | None = None, *, axes: Sequence[int], skipna: bool = True
) -> Any:
    r""":math:`1 - \mathrm{NRMSE}`: 1 perfect, 0 an error as large as the reference's spread."""
    return 1.0 - nrmse(ref, pred, weights, axes=axes, skipna=skipna)
