"""Array kernels of the detrend family: group means, anomalies, polynomial residuals.

Each is a function of arrays and integer axes that runs on NumPy and, unchanged, under
``jax.jit`` on JAX arrays. What must be static under jit (the group of every time step,
the number of groups, the polynomial degree) comes in as host NumPy / Python values,
computed from coordinates by the Operators.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from jaxtyping import Float, Int

from pipekit_array import namespace, nan_of

__all__ = ["group_mean", "poly_detrend", "remove_group_mean"]


def _is_jax(xp: Any) -> bool:
    return "jax" in getattr(xp, "__name__", "")


def _group_sums(xp: Any, v: Any, group_ids: np.ndarray, n_groups: int) -> Any:
    """Sums of ``v`` (time on the FIRST axis) per group: ``(n_groups, ...)``.

    Time first, as it is stored in a ``(time, lat, lon)`` cube: no transpose. NumPy: a
    one-hot matmul ``onehot.T @ v`` on the contiguous ``(time, rest)`` view (one BLAS
    GEMM; exact sums of products by 0/1). JAX: a segment sum (``jax.ops.segment_sum``
    with the static ``num_segments``), which, unlike a float32 matmul on GPU, is never
    computed at reduced (TF32) precision.
    """
    if _is_jax(xp):
        import jax

        return jax.ops.segment_sum(v, xp.asarray(group_ids), num_segments=n_groups)
    onehot = np.zeros((n_groups, group_ids.shape[0]), dtype=v.dtype)
    onehot[group_ids, np.arange(group_ids.shape[0])] = 1
    flat = np.reshape(v, (v.shape[0], -1))
    return np.reshape(onehot @ flat, (n_groups, *v.shape[1:]))


#: Under JAX, group sums of time-first data with at least this many elements per step
#: stream over time (:func:`_streamed_group_sums`).
_STREAM_MIN_KEPT = 4096


def _streamed_group_sums(v: Any, group_ids: np.ndarray, n_groups: int) -> tuple[Any, Any]:
    """JAX: NaN-free sums and valid counts per group, one time step at a time.

    A ``fori_loop`` adds step ``t`` (NaN as 0) into row ``g_t`` of two ``(n_groups, ...)``
    accumulators, updated in place. XLA's CPU backend reduces over the major (time) axis of
    a cube far slower than it streams contiguous steps (benchmarks/README.md, xr_toolz),
    and masking inside the loop keeps the masked copy out of memory.
    """
    import jax.numpy as jnp
    from jax import lax

    ids = jnp.asarray(group_ids, dtype=jnp.int32)
    zeros = jnp.zeros((n_groups, *v.shape[1:]), dtype=v.dtype)

    def add(acc: Any, g: Any, row: Any) -> Any:
        return lax.dynamic_update_index_in_dim(acc, lax.dynamic_index_in_dim(acc, g, 0) + row, g, 0)

    def step(t: Any, carry: tuple[Any, Any]) -> tuple[Any, Any]:
        row = lax.dynamic_index_in_dim(v, t, 0)
        valid = ~jnp.isnan(row)
        g = ids[t]
        return add(carry[0], g, jnp.where(valid, row, 0)), add(carry[1], g, valid.astype(v.dtype))

    return lax.fori_loop(0, v.shape[0], step, (zeros, zeros))


def _check_groups(fn: str, values: Any, axis: int, group_ids: np.ndarray, n_groups: int) -> None:
    ids = np.asarray(group_ids)
    if ids.ndim != 1 or ids.shape[0] != values.shape[axis]:
        raise ValueError(
            f"{fn}: group_ids must be 1-d with one id per step of axis {axis} "
            f"(length {values.shape[axis]}), got shape {ids.shape}"
        )
    if ids.size and (ids.min() < 0 or ids.max() >= n_groups):
        raise ValueError(
            f"{fn}: group_ids must lie in [0, n_groups={n_groups}), got "
            f"[{ids.min()}, {ids.max()}]; pass n_groups = the number of distinct groups"
        )


def group_mean(
    values: Float[Any, "*shape"], group_ids: Int[np.ndarray, " n"], n_groups: int, axis: int
) -> Float[Any, "*shape"]:
    r"""Mean of ``values`` along ``axis`` per group, NaN left out: the group axis replaces it.

    .. math:: c_g = \frac{\sum_t [g_t = g]\,[v_t \ne \mathrm{NaN}]\, v_t}
                         {\sum_t [g_t = g]\,[v_t \ne \mathrm{NaN}]}

    A group with no valid value gives NaN (no division by zero, no warning).

    Args:
        values: floating array (integers: cast first).
        group_ids: host NumPy ints in ``[0, n_groups)``, one per step of ``axis``. Static
            under jit: the grouping is metadata (the time coordinate), not data.
        n_groups: the number of groups (static).
        axis: the axis reduced (negative counts from the end).
    """
    xp = namespace(values)
    axis = axis % values.ndim
    _check_groups("group_mean", values, axis, group_ids, n_groups)
    v = xp.moveaxis(values, axis, 0) if axis else values
    if _is_jax(xp) and v.ndim > 1 and math.prod(v.shape[1:]) >= _STREAM_MIN_KEPT:
        sums, counts = _streamed_group_sums(v, group_ids, n_groups)
    elif isinstance(v, np.ndarray) and not np.isnan(v).any():
        # NumPy without NaN: no masked copy, and the counts are the group sizes.
        sums = _group_sums(xp, v, group_ids, n_groups)
        sizes = np.bincount(group_ids, minlength=n_groups).astype(v.dtype)
        counts = np.reshape(sizes, (n_groups,) + (1,) * (v.ndim - 1))
    else:
        valid = ~xp.isnan(v)
        sums = _group_sums(xp, xp.where(valid, v, xp.zeros_like(v)), group_ids, n_groups)
        counts = _group_sums(xp, xp.astype(valid, v.dtype), group_ids, n_groups)
    empty = counts == 0
    mean = sums / xp.where(empty, xp.ones_like(counts), counts)
    mean = xp.where(empty, nan_of(v.dtype), mean)
    return xp.moveaxis(mean, 0, axis) if axis else mean


def remove_group_mean(
    values: Float[Any, "*shape"], group_ids: Int[np.ndarray, " n"], n_groups: int, axis: int
) -> Float[Any, "*shape"]:
    r"""Anomalies: ``values`` minus the :func:`group_mean` of each step's group.

    .. math:: a_t = v_t - c_{g_t}

    NaN stays NaN; the shape is the input's.
    """
    xp = namespace(values)
    axis = axis % values.ndim
    clim = group_mean(values, group_ids, n_groups, axis)
    return values - xp.take(clim, xp.asarray(group_ids), axis=axis)


def poly_detrend(values: Float[Any, "*shape"], degree: int, axis: int) -> Float[Any, "*shape"]:
    r"""Residual of a least-squares polynomial of ``degree`` in the sample index along ``axis``.

    .. math:: r_t = v_t - \sum_{k=0}^{d} \hat\beta_k\, s_t^k, \qquad
              \hat\beta = \arg\min_\beta \sum_t [v_t \ne \mathrm{NaN}]
              \Big(v_t - \sum_k \beta_k s_t^k\Big)^2

    with :math:`s_t = (2t - (n-1))/(n-1)` the index ``t = 0..n-1`` mapped onto [-1, 1]
    (the fit is the same polynomial in ``t``; the scaling only conditions the normal
    equations). ``degree=0`` removes the mean and ``degree=1`` the line, as
    ``scipy.signal.detrend(type="constant" / "linear")``; like scipy, the abscissa is the
    sample index, not the time coordinate's values.

    NaN: missing values are left out of the fit and stay NaN; a series with at most
    ``degree`` valid values (too few to fit) is NaN throughout.
    """
    xp = namespace(values)
    axis = axis % values.ndim
    v = xp.moveaxis(values, axis, -1)
    n = v.shape[-1]
    k = degree + 1
    s = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    basis = xp.asarray(np.stack([s**j for j in range(k)]), dtype=v.dtype)  # (k, n)
    valid = ~xp.isnan(v)
    w = xp.astype(valid, v.dtype)
    y = xp.where(valid, v, xp.zeros_like(v))
    # Normal equations per series: A = B diag(w) B^T (k x k), b = B (w y) (k).
    gram = xp.stack([xp.stack([w @ (basis[i] * basis[j]) for j in range(k)], axis=-1)
                     for i in range(k)], axis=-2)  # fmt: skip
    rhs = xp.stack([y @ basis[i] for i in range(k)], axis=-1)[..., None]
    enough = xp.sum(w, axis=-1) > degree
    eye = xp.asarray(np.eye(k), dtype=v.dtype)
    gram = xp.where(enough[..., None, None], gram, xp.broadcast_to(eye, gram.shape))
    coef = xp.linalg.solve(gram, rhs)[..., 0]  # (..., k)
    trend = coef @ basis
    out = xp.where(enough[..., None] & valid, v - trend, nan_of(v.dtype))
    return xp.moveaxis(out, -1, axis)
