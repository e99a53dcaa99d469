"""An independent NumPy/scikit-learn matched filter: a plain loop over groups, float64.

No code shared with ``geotoolz.methane``: each column's valid pixels are selected by
boolean indexing (not weights), the covariance comes from scikit-learn's estimators on
those rows, ``Σ⁻¹t`` from ``np.linalg.solve`` on the ridged ``Σ`` (not scaled), and the
mag1c iterations are written from Foote et al. (2020) directly.
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

_SKLEARN = {"empirical": EmpiricalCovariance, "ledoit_wolf": LedoitWolf, "oas": OAS}


def estimate(samples: np.ndarray, covariance: str) -> tuple[np.ndarray, np.ndarray]:
    """Location and covariance of ``(n, p)`` samples with scikit-learn's estimator."""
    fit = _SKLEARN[covariance]().fit(samples)
    return fit.location_, fit.covariance_


def _filter_group(x, k, covariance, iterations, ridge):
    """α for one group's valid ``(n, p)`` pixels."""
    mu, cov = estimate(x, covariance)
    p = cov.shape[0]

    def solve(cov, t):
        ridged = cov + ridge * np.trace(cov) / p * np.eye(p)
        return np.linalg.solve(ridged, t)

    t = mu * k
    q = solve(cov, t)
    if iterations == 0:
        return (x - mu) @ q / (t @ q)
    r = x @ mu / (mu @ mu)  # albedo factor, from the first mean
    r = np.where(r > 0, r, 1.0)
    alpha = np.maximum((x - mu) @ q / (r * (t @ q)), 0.0)
    for _ in range(iterations):
        weight = 1.0 / (r * (alpha + 1e-4))
        mu, cov = estimate(x - (r * alpha)[:, None] * t[None, :], covariance)
        t = mu * k
        q = solve(cov, t)
        alpha = np.maximum(((x - mu) @ q - weight) / (r * (t @ q)), 0.0)
    return alpha


def reference_matched_filter(
    values: np.ndarray,
    k: np.ndarray,
    *,
    covariance: str = "empirical",
    per_column: bool = True,
    iterations: int = 0,
    ridge: float = 1e-5,
    nodata: np.ndarray | None = None,
) -> np.ndarray:
    """α ``(rows, cols)`` of a ``(bands, rows, cols)`` cube; NaN at invalid pixels.

    A pixel is invalid when any band is not finite or ``nodata[row, col]`` is True.
    """
    values = np.asarray(values, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    _, rows, cols = values.shape
    valid = np.all(np.isfinite(values), axis=0)
    if nodata is not None:
        valid &= ~nodata
    out = np.full((rows, cols), np.nan)
    groups = [(slice(None), c) for c in range(cols)] if per_column else [(slice(None), slice(None))]
    for index in groups:
        pixels = values[(slice(None), *index)]  # (bands, rows) or (bands, rows, cols)
        ok = valid[index]
        if not ok.any():
            continue
        x = pixels[:, ok].T  # (n_valid, bands)
        alpha = _filter_group(x, k, covariance, iterations, ridge)
        block = np.full(ok.shape, np.nan)
        block[ok] = alpha
        out[index] = block
    return out
