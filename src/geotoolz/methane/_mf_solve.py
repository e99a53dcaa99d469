"""How the matched filter solves ``Σ⁻¹t`` per group: QR of the data or Cholesky of ``Σ``."""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np

from ._covariance import CovarianceEstimate

__all__ = ["MATCHED_FILTER_SOLVERS", "MatchedFilterSolver", "solve_for"]

#: How ``Σ⁻¹t`` is solved: ``"qr"`` (float32-accurate) or ``"cholesky"`` (fast).
MatchedFilterSolver = Literal["qr", "cholesky"]
MATCHED_FILTER_SOLVERS: tuple[str, ...] = get_args(MatchedFilterSolver)


def _qr_r(xp: Any, a: Any) -> Any:
    """The ``R`` factor of a batched QR (NumPy and JAX both take ``mode="r"``)."""
    if isinstance(a, np.ndarray):
        return np.linalg.qr(a, mode="r")
    import jax.numpy as jnp

    return jnp.linalg.qr(a, mode="r")


def _solve(xp: Any, x: Any, valid: Any, est: CovarianceEstimate, rhs: Any, ridge: float) -> Any:
    """``Σ_r⁻¹ rhs`` per group, ``Σ_r = Σ + ridge·(tr Σ/p)·I``, from a QR of the data.

    Every estimate here is ``Σ = (1 − ρ) S + ρ m I`` (``S = X_cᵀX_c/n``, ``m = tr Σ/p``,
    ``ρ = 0`` for the empirical one), so ``Σ_r = AᵀA`` with
    ``A = [sqrt((1 − ρ)/n) X_c ; sqrt((ρ + ridge) m) I]``. ``A = QR`` gives
    ``Σ_r⁻¹ rhs = R⁻¹ R⁻ᵀ rhs`` by two solves: no inverse, and ``R`` has the square root of
    ``Σ_r``'s condition number, which keeps float32 (the jit path) close to float64. A
    group without variance (no valid pixel) solves against ``I``; its pixels are nodata.
    """
    p = x.shape[-1]
    centred = (x - est.location[..., None, :]) * xp.astype(valid, x.dtype)[..., None]
    m = xp.sum(xp.linalg.diagonal(est.covariance), axis=-1) / p
    usable = xp.isfinite(m) & (m > 0) & (est.n_valid > 0)
    one = xp.ones_like(m)
    n = xp.where(usable, est.n_valid, one)
    data_weight = xp.where(usable, xp.sqrt((1 - est.shrinkage) / n), xp.zeros_like(m))
    diag_weight = xp.where(usable, xp.sqrt((est.shrinkage + ridge) * m), one)
    eye = xp.broadcast_to(xp.eye(p, dtype=x.dtype), (*m.shape, p, p))
    a = xp.concat(
        [data_weight[..., None, None] * centred, diag_weight[..., None, None] * eye], axis=-2
    )
    return _upper_solve(xp, _qr_r(xp, a), rhs)


def _upper_solve(xp: Any, r: Any, rhs: Any) -> Any:
    """``(RᵀR)⁻¹ rhs`` for upper-triangular ``R``: two triangular solves on JAX.

    JAX gets ``jax.lax.linalg.triangular_solve`` (no LU; the batched LU of jaxlib 0.10's
    CPU LAPACK kernels was seen to deadlock under load). NumPy has no triangular solver:
    two ``numpy.linalg.solve`` calls, eager only.
    """
    if isinstance(r, np.ndarray):
        y = np.linalg.solve(np.swapaxes(r, -1, -2), rhs[..., None])
        return np.linalg.solve(r, y)[..., 0]
    import jax

    solve = jax.lax.linalg.triangular_solve
    y = solve(r, rhs[..., None], left_side=True, lower=False, transpose_a=True)
    return solve(r, y, left_side=True, lower=False)[..., 0]


def _cholesky_solve(xp: Any, est: CovarianceEstimate, rhs: Any, ridge: float) -> Any:
    """``Σ_r⁻¹ rhs`` from a Cholesky factor of the estimate ``Σ_r = Σ + ridge·(tr Σ/p)·I``.

    The cost of a plain per-column filter (the Gram matrix is the estimator's already, so
    this adds one ``p³/3`` factorisation per group), but forming ``Σ`` squares the
    condition number that QR works with: float32 eager and jit then differ by ~5e-3 of
    α's background spread (QR: ~3e-5). ``Σ_r`` is scaled to unit diagonal first, so the
    bands' spread of variances does not add to it.
    """
    cov = est.covariance
    p = cov.shape[-1]
    m = xp.sum(xp.linalg.diagonal(cov), axis=-1) / p
    usable = xp.isfinite(m) & (m > 0) & (est.n_valid > 0)
    eye = xp.broadcast_to(xp.eye(p, dtype=cov.dtype), cov.shape)
    ridge_m = xp.where(usable, ridge * m, xp.ones_like(m))[..., None, None]
    sigma = xp.astype(usable, cov.dtype)[..., None, None] * cov + ridge_m * eye
    d = xp.sqrt(xp.linalg.diagonal(sigma))
    scaled = sigma / (d[..., :, None] * d[..., None, :])
    if isinstance(scaled, np.ndarray):
        return np.linalg.solve(scaled, (rhs / d)[..., None])[..., 0] / d
    import jax

    upper = xp.matrix_transpose(jax.numpy.linalg.cholesky(scaled))
    return _upper_solve(xp, upper, rhs / d) / d


def solve_for(
    xp: Any, solver: str, x: Any, valid: Any, est: CovarianceEstimate, rhs: Any, ridge: float
) -> Any:
    if solver == "cholesky":
        return _cholesky_solve(xp, est, rhs, ridge)
    return _solve(xp, x, valid, est, rhs, ridge)
