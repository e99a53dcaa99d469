"""Masked mean and covariance estimators (empirical, Ledoit-Wolf, OAS) for batches of samples.

Each estimator takes ``samples`` of shape ``(..., n, p)`` (``n`` samples of ``p``
features, any leading batch axes: one estimate per detector column) and an optional
boolean ``valid`` of shape ``(..., n)``. Invalid samples are left out by weights, not by
dropping rows, so the shapes never depend on the data and the code runs under
``jax.jit``/``vmap``; an invalid sample may hold NaN. With every sample valid the
results equal scikit-learn's ``EmpiricalCovariance``, ``LedoitWolf`` and ``OAS`` (the
maximum-likelihood covariance, normalised by ``n``, ``assume_centered=False``); with a
mask they equal those estimators fitted on the valid rows only.

Notation (shared by both shrinkage estimators, one normalisation throughout): ``n`` the
number of valid samples, ``S = (1/n) Σ_k (x_k − x̄)(x_k − x̄)ᵀ`` the empirical covariance,
``m = tr(S)/p`` and the target ``F = m·I``; the estimate is ``(1 − ρ) S + ρ F``.

- **Ledoit & Wolf (2004)**, "A well-conditioned estimator for large-dimensional
  covariance matrices", J. Multivariate Anal. 88, 365-411, Lemma 3.2-3.4 with their
  normalised Frobenius norm ``‖A‖² = tr(AAᵀ)/p``: ``d² = ‖S − mI‖²``,
  ``b̄² = (1/n²) Σ_k ‖x_k x_kᵀ − S‖²`` (centred ``x_k``), ``b² = min(b̄², d²)``,
  ``ρ = b²/d²`` (0 when ``d² = 0``). Expanding ``Σ_k ‖x_k x_kᵀ − S‖² = (1/p)(Σ_k ‖x_k‖⁴ −
  n·tr(S²))`` avoids the ``n`` outer products.
- **OAS, Chen, Wiesel, Eldar & Hero (2010)**, "Shrinkage algorithms for MMSE covariance
  estimation", IEEE TSP 58(10), 5016-5029, eq. 23 without its ``2/p`` terms (as
  scikit-learn ≥ 1.2 writes it): ``ρ = min((tr(S²) + tr(S)²) / ((n + 1)(tr(S²) −
  tr(S)²/p)), 1)`` (1 when the denominator is 0). The dropped terms change ``ρ`` by
  ``O(1/p)``; we keep scikit-learn's form so one oracle checks both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._carrier import namespace

__all__ = [
    "CovarianceEstimate",
    "empirical_covariance",
    "ledoit_wolf_covariance",
    "oas_covariance",
]


class CovarianceEstimate(NamedTuple):
    """A location, a covariance and the shrinkage used (scikit-learn's ``*_`` attributes).

    ``location`` ``(..., p)``, ``covariance`` ``(..., p, p)``, ``shrinkage`` ``(...)``
    (0 for the empirical estimate), ``n_valid`` ``(...)`` the samples used (as the
    samples' float dtype). Where ``n_valid == 0`` location and covariance are 0.
    """

    location: Any
    covariance: Any
    shrinkage: Any
    n_valid: Any


def _centred(samples: Any, valid: Any | None) -> tuple[Any, Any, Any]:
    """``(x̄, centred samples with invalid rows 0, n)`` for ``(..., n, p)`` samples."""
    xp = namespace(samples)
    if valid is None:
        valid = xp.ones(samples.shape[:-1], dtype=xp.bool)
    weights = xp.astype(valid, samples.dtype)[..., None]
    x0 = xp.where(valid[..., None], samples, xp.zeros_like(samples))
    n = xp.sum(weights, axis=(-2, -1))
    safe_n = xp.where(n > 0, n, xp.ones_like(n))
    mean = xp.sum(x0, axis=-2) / safe_n[..., None]
    centred = (x0 - mean[..., None, :]) * weights
    return mean, centred, n


def _empirical(samples: Any, valid: Any | None) -> tuple[Any, Any, Any, Any]:
    xp = namespace(samples)
    mean, centred, n = _centred(samples, valid)
    safe_n = xp.where(n > 0, n, xp.ones_like(n))
    cov = xp.matmul(xp.matrix_transpose(centred), centred) / safe_n[..., None, None]
    return mean, centred, n, cov


def _trace(xp: Any, a: Any) -> Any:
    return xp.sum(xp.linalg.diagonal(a), axis=-1)


def _shrink(xp: Any, cov: Any, rho: Any) -> Any:
    p = cov.shape[-1]
    m = _trace(xp, cov) / p
    eye = xp.reshape(xp.eye(p, dtype=cov.dtype), (1,) * (cov.ndim - 2) + (p, p))
    rho_ = rho[..., None, None]
    return (1 - rho_) * cov + (rho_ * m[..., None, None]) * eye


def empirical_covariance(samples: Any, valid: Any | None = None) -> CovarianceEstimate:
    """Maximum-likelihood mean and covariance ``S`` (normalised by ``n``) of the valid samples.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0], [9.0, 9.0]])
        >>> est = empirical_covariance(x, valid=np.array([True, True, True, False]))
        >>> est.location, est.covariance
        (array([3., 3.]), array([[ 2.66666667, -0.66666667],
               [-0.66666667,  4.66666667]]))
    """
    xp = namespace(samples)
    mean, _, n, cov = _empirical(samples, valid)
    return CovarianceEstimate(mean, cov, xp.zeros_like(n), n)


def ledoit_wolf_covariance(samples: Any, valid: Any | None = None) -> CovarianceEstimate:
    """Ledoit-Wolf (2004) shrinkage of ``S`` towards ``tr(S)/p · I`` (module docstring).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(20, 5))
        >>> est = ledoit_wolf_covariance(x)
        >>> float(np.round(est.shrinkage, 4))
        0.6415
    """
    xp = namespace(samples)
    mean, centred, n, cov = _empirical(samples, valid)
    p = cov.shape[-1]
    safe_n = xp.where(n > 0, n, xp.ones_like(n))
    m = _trace(xp, cov) / p
    tr_s2 = xp.sum(cov * cov, axis=(-2, -1))
    # Σ_k ‖x_k‖⁴ over valid centred samples (invalid rows are 0)
    fourth = xp.sum(xp.sum(centred * centred, axis=-1) ** 2, axis=-1)
    b_bar2 = (fourth / safe_n - tr_s2) / (p * safe_n)
    d2 = (tr_s2 - 2 * m * _trace(xp, cov) + p * m * m) / p
    b2 = xp.minimum(b_bar2, d2)
    positive = d2 > 0
    rho = xp.where(positive, b2 / xp.where(positive, d2, xp.ones_like(d2)), xp.zeros_like(d2))
    return CovarianceEstimate(mean, _shrink(xp, cov, rho), rho, n)


def oas_covariance(samples: Any, valid: Any | None = None) -> CovarianceEstimate:
    """Oracle Approximating Shrinkage (Chen et al. 2010) of ``S`` towards ``tr(S)/p · I``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(20, 5))
        >>> est = oas_covariance(x)
        >>> float(np.round(est.shrinkage, 4))
        0.79
    """
    xp = namespace(samples)
    mean, _, n, cov = _empirical(samples, valid)
    p = cov.shape[-1]
    tr_s = _trace(xp, cov)
    tr_s2 = xp.sum(cov * cov, axis=(-2, -1))
    num = tr_s2 + tr_s * tr_s
    den = (n + 1) * (tr_s2 - tr_s * tr_s / p)
    nonzero = den != 0
    ratio = num / xp.where(nonzero, den, xp.ones_like(den))
    rho = xp.where(nonzero, xp.minimum(ratio, xp.ones_like(ratio)), xp.ones_like(den))
    return CovarianceEstimate(mean, _shrink(xp, cov, rho), rho, n)
