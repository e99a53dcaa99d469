"""The CH4 matched filter on radiance cubes: per detector column, masked, jit- and vmap-able."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import numpy as np
from jaxtyping import ArrayLike, Bool, Float

import pipekit as pk
from pipekit.validate import check_bool, check_int

from .._carrier import fill_pixels, float_dtype, namespace, nan_of, rewrap, values_of
from .._errors import GeotoolzValueError
from .._types import COVARIANCE_ESTIMATORS, CovarianceEstimator
from ._absorption import ch4_unit_absorption
from ._covariance import (
    CovarianceEstimate,
    empirical_covariance,
    ledoit_wolf_covariance,
    oas_covariance,
)
from ._mf_solve import MATCHED_FILTER_SOLVERS, MatchedFilterSolver, solve_for

__all__ = ["MATCHED_FILTER_SOLVERS", "MatchedFilter", "MatchedFilterSolver", "matched_filter"]

_ESTIMATORS: dict[str, Callable[[Any, Any], CovarianceEstimate]] = {
    "empirical": empirical_covariance,
    "ledoit_wolf": ledoit_wolf_covariance,
    "oas": oas_covariance,
}
#: mag1c's reweighted-L1 epsilon (1e-9 in its 1e5-scaled units) expressed in ppm·m.
_L1_EPSILON = 1e-4


def _ratio(xp: Any, num: Any, den: Any) -> Any:
    positive = den > 0
    return xp.where(positive, num / xp.where(positive, den, xp.ones_like(den)), nan_of(den.dtype))


#: Bytes of samples one mapped step works on: a few groups at a time keep each group's
#: centred pixels, Gram matrix and score in cache. Filtering every column at once streams
#: several scene-sized intermediates through memory and ran 1.4-3.6x slower than a plain
#: NumPy loop over columns; chunks of a few MB beat it (benchmarks/methane.py).
_CHUNK_BYTES = 4 * 2**20


def _filter_groups(
    groups: tuple[Any, Any],
    k: Any,
    covariance: str,
    iterations: int,
    ridge: float,
    solver: str,
) -> Any:
    """α ``(g, n)`` for ``groups = (samples (g, n, p), nodata (g, n))``, ``k`` ``(1, p)``.

    A pixel is invalid where ``nodata`` is True or any of its bands is NaN.
    """
    samples, nodata = groups
    xp = namespace(samples)
    estimate = _ESTIMATORS[covariance]
    valid = xp.all(xp.isfinite(samples), axis=-1) & ~nodata
    x = xp.where(valid[..., None], samples, xp.zeros_like(samples))

    est = estimate(x, valid)
    mu = est.location
    target = mu * k
    q = solve_for(xp, solver, x, valid, est, target, ridge)
    score = xp.sum((x - mu[..., None, :]) * q[..., None, :], axis=-1)
    norm = xp.sum(target * q, axis=-1)[..., None]
    if iterations == 0:
        alpha = _ratio(xp, score, norm)
    else:
        # mag1c (Foote et al. 2020): albedo factor R = xᵀμ / μᵀμ, α ≥ 0, then re-estimate
        # μ, Σ on x − R·α·t (plume removed) with reweighted-L1 weights 1 / (R (α + ε)).
        mu_sq = xp.sum(mu * mu, axis=-1)[..., None]
        albedo = _ratio(xp, xp.sum(x * mu[..., None, :], axis=-1), mu_sq)
        albedo = xp.where(valid & (albedo > 0), albedo, xp.ones_like(albedo))
        zero = xp.zeros_like(score)
        alpha = xp.maximum(_ratio(xp, score, albedo * norm), zero)
        alpha = xp.where(valid, alpha, zero)
        for _ in range(iterations):
            weight = 1.0 / (albedo * (alpha + _L1_EPSILON))
            cleaned = x - (albedo * alpha)[..., None] * target[..., None, :]
            est = estimate(cleaned, valid)
            mu = est.location
            target = mu * k
            q = solve_for(xp, solver, cleaned, valid, est, target, ridge)
            score = xp.sum((x - mu[..., None, :]) * q[..., None, :], axis=-1)
            norm = xp.sum(target * q, axis=-1)[..., None]
            alpha = xp.maximum(_ratio(xp, score - weight, albedo * norm), zero)
            alpha = xp.where(valid, alpha, zero)
    return xp.where(valid, alpha, nan_of(alpha.dtype))


def _map_groups(fn: Callable[[tuple[Any, Any]], Any], samples: Any, nodata: Any) -> Any:
    """``fn((samples, nodata))`` a chunk of groups at a time (module ``_CHUNK_BYTES``).

    JAX: ``jax.lax.map`` over chunks (one compiled step for all of them, so it jits, vmaps
    and differentiates); NumPy: a loop. The chunk is the largest divisor of ``g`` within
    the byte budget when one is at least half of it; otherwise the last chunk is padded
    with nodata groups, a copy that cost ~1/3 of the run where it was measured.
    """
    g, n, p = samples.shape
    chunk = max(1, min(g, _CHUNK_BYTES // max(1, n * p * samples.dtype.itemsize)))
    if isinstance(samples, np.ndarray):
        return np.concatenate(
            [fn((samples[i : i + chunk], nodata[i : i + chunk])) for i in range(0, g, chunk)]
        )
    import jax
    import jax.numpy as jnp

    divisor = next(d for d in range(chunk, 0, -1) if g % d == 0)
    if 2 * divisor >= chunk:
        chunk = divisor
    steps = -(-g // chunk)
    if steps * chunk > g:
        samples = jnp.pad(samples, ((0, steps * chunk - g), (0, 0), (0, 0)))
        nodata = jnp.pad(nodata, ((0, steps * chunk - g), (0, 0)), constant_values=True)
    chunks = (
        jnp.reshape(samples, (steps, chunk, n, p)),
        jnp.reshape(nodata, (steps, chunk, n)),
    )
    out = jax.lax.map(fn, chunks)
    return jnp.reshape(out, (steps * chunk, n))[:g]


def matched_filter(
    values: Float[ArrayLike, "*batch band y x"],
    unit_absorption: Sequence[float] | np.ndarray,
    covariance: CovarianceEstimator = "empirical",
    per_column: bool = True,
    iterations: int = 0,
    ridge: float = 1e-5,
    solver: MatchedFilterSolver = "qr",
    nodata: Bool[ArrayLike, "*batch y x"] | None = None,
) -> Float[ArrayLike, "*batch 1 y x"]:
    """The matched filter on float values; see :class:`MatchedFilter`.

    A pixel is nodata where any band is NaN or ``nodata`` (a per-pixel mask, e.g.
    :func:`pipekit_array.fill_pixels`) is True. The mask is per pixel on purpose: a mask
    broadcast over the bands (``float_values``) let XLA fuse its band reduction into
    every element's computation, which doubled the jit time of a full scene.
    """
    xp = namespace(values)
    n_band, n_row, n_col = values.shape[-3:]
    batch = tuple(values.shape[:-3])
    k = np.asarray(unit_absorption, dtype=np.dtype(str(values.dtype)))
    k = xp.asarray(np.reshape(k, (1, n_band)))  # (group, band)
    pixels = xp.moveaxis(values, -3, -1)  # (..., y, x, band)
    if nodata is None:
        nodata = xp.zeros((*batch, n_row, n_col), dtype=xp.bool)
    if per_column:
        samples = xp.moveaxis(pixels, -2, -3)  # (..., x, y, band): one group per column
        nodata = xp.moveaxis(nodata, -1, -2)
        n = n_row
    else:
        samples = pixels
        n = n_row * n_col
    alpha = _map_groups(
        functools.partial(
            _filter_groups,
            k=k,
            covariance=covariance,
            iterations=iterations,
            ridge=ridge,
            solver=solver,
        ),
        xp.reshape(samples, (-1, n, n_band)),
        xp.reshape(nodata, (-1, n)),
    )
    if per_column:  # (..., x, y) back to (..., y, x)
        alpha = xp.moveaxis(xp.reshape(alpha, (*batch, n_col, n_row)), -1, -2)
    else:
        alpha = xp.reshape(alpha, (*batch, n_row, n_col))
    return alpha[..., None, :, :]


@functools.cache
def _ch4_k(wavelengths: tuple[float, ...], fwhm: tuple[float, ...], amf: float) -> np.ndarray:
    return ch4_unit_absorption(wavelengths, fwhm, amf=amf)


def _float_tuple(owner: str, name: str, value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    ok = isinstance(value, Sequence | np.ndarray) and not isinstance(value, str)
    items = tuple(value) if ok else ()
    if (
        not ok
        or not items
        or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in items
        )
    ):
        raise pk.ConfigError(
            f"{owner}: {name} must be a non-empty sequence of finite numbers (one per band, "
            f"nanometres), got {value!r}"
        )
    return tuple(float(v) for v in items)


class MatchedFilter(pk.Operator):
    r"""CH4 matched filter: column enhancement α (ppm·m) per pixel of a radiance cube.

    For a radiance cube ``(..., band, rows, cols)`` with per-group background mean ``μ``
    and covariance ``Σ`` (estimated over the group's valid pixels):

    .. math::

        \alpha = \frac{(x - \mu)^\top \Sigma^{-1} t}{t^\top \Sigma^{-1} t}, \qquad
        t = \mu \odot k

    with ``k`` the band-averaged unit absorption (:func:`ch4_unit_absorption`, per ppm·m,
    negative), i.e. the least-squares enhancement under the linearised Beer-Lambert model
    ``x ≈ μ (1 + k α) + noise`` (Thompson et al. 2015, AMT 8, 4383; Foote et al. 2020).

    Args:
        target: ``"ch4"`` (``k`` from ``wavelengths``, ``fwhm`` and ``amf``), or the unit
            absorption itself, one float per band (e.g. a mag1c template / 1e5).
        wavelengths: band centres in nm, one per band (required for ``"ch4"``).
        fwhm: band full widths at half maximum in nm, one per band.
        amf: air-mass factor ``1/cos θ_sun + 1/cos θ_view`` (2: overhead sun, nadir).
        covariance: ``"empirical"`` (maximum likelihood), ``"ledoit_wolf"`` or ``"oas"``
            (shrinkage towards ``tr Σ/p · I``; use them when a group has few pixels for its
            bands). See :mod:`geotoolz.methane` covariance functions.
        per_column: estimate ``μ, Σ`` per detector column over the rows (push-broom
            sensors: each column is its own detector element with its own response);
            ``False`` pools the whole scene.
        iterations: 0 for the plain filter. ``n > 0`` runs mag1c's scheme (Foote et al.
            2020): albedo factor ``R = xᵀμ/μᵀμ`` per pixel (from the first ``μ``) divides
            α, α is clamped at 0, and ``n`` times ``μ, Σ`` are re-estimated on
            ``x − R·α·t`` (the plume signal removed) with the reweighted-L1 term
            ``1/(R(α + 1e-4))`` subtracted from the score.
        ridge: ``Σ + ridge · (tr Σ/p) · I`` before solving (relative to the mean variance,
            > 0), so a singular estimate (fewer pixels than bands, a dead band) still
            solves. The default 1e-5 lies above float32 rounding (~1e-7) and well below
            sensor noise (~1e-3 of a scene's variance). ``Σ⁻¹t`` comes from a QR
            factorisation of the (centred, weighted, ridge-augmented) pixels, never an
            inverse: float32 (the jit path) then agrees with float64 to ~1e-4.
            Where ``tᵀΣ⁻¹t ≤ 0`` α is NaN rather than a wrong number.
        solver: ``"qr"`` (default) as above; ``"cholesky"`` factors the estimate ``Σ``
            itself, the cost of a plain NumPy filter (~4x less than QR on a
            1000-row, 285-band column, see ``benchmarks/methane.py``), with float32
            agreement ~5e-3 of α's background spread instead of ~3e-5.

    Nodata: a pixel with any NaN band, or at the input's ``fill_value`` in every band, is
    left out of ``μ`` and ``Σ`` (by weights, so shapes are static and it jits) and gets NaN.
    Output: float ``(..., 1, rows, cols)``, the input's carrier, ``fill_value`` NaN.
    Integer input is computed in float32. Runs eagerly on NumPy and under
    ``eqx.filter_jit`` / ``filter_vmap`` with the same numbers (float tolerance).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> rng = np.random.default_rng(0)
        >>> x = 10.0 + rng.normal(size=(4, 64, 3))
        >>> mf = gz.methane.MatchedFilter(target=(-1e-3, 0.0, -5e-4, 0.0), per_column=False)
        >>> mf(x).shape
        (1, 64, 3)
    """

    target: str | tuple[float, ...] = eqx.field(static=True)
    wavelengths: tuple[float, ...] | None = eqx.field(static=True)
    fwhm: tuple[float, ...] | None = eqx.field(static=True)
    amf: float = eqx.field(static=True)
    covariance: CovarianceEstimator = eqx.field(static=True)
    per_column: bool = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    ridge: float = eqx.field(static=True)
    solver: MatchedFilterSolver = eqx.field(static=True)

    def __init__(
        self,
        target: str | tuple[float, ...] = "ch4",
        wavelengths: tuple[float, ...] | None = None,
        fwhm: tuple[float, ...] | None = None,
        amf: float = 2.0,
        covariance: CovarianceEstimator = "empirical",
        per_column: bool = True,
        iterations: int = 0,
        ridge: float = 1e-5,
        solver: MatchedFilterSolver = "qr",
    ) -> None:
        owner = "MatchedFilter"
        self.wavelengths = _float_tuple(owner, "wavelengths", wavelengths)
        self.fwhm = _float_tuple(owner, "fwhm", fwhm)
        if isinstance(target, str):
            if target != "ch4":
                raise pk.ConfigError(
                    f"{owner}: target must be 'ch4' or a sequence of unit absorptions (one "
                    f"per band, per ppm·m), got {target!r}"
                )
            if self.wavelengths is None or self.fwhm is None:
                raise pk.ConfigError(
                    f"{owner}: target='ch4' needs wavelengths and fwhm (band centres and "
                    f"widths in nm), got wavelengths={wavelengths!r}, fwhm={fwhm!r}; pass "
                    f"them, or pass the unit absorption as target=(k_1, ..., k_bands)"
                )
            self.target = target
        else:
            self.target = _float_tuple(owner, "target", target)  # type: ignore[assignment]
        n = len(self.target) if isinstance(self.target, tuple) else len(self.wavelengths)
        for name, seq in (("wavelengths", self.wavelengths), ("fwhm", self.fwhm)):
            if seq is not None and len(seq) != n:
                raise pk.ConfigError(
                    f"{owner}: {name} must have one value per band ({n}), got {len(seq)}"
                )
        if self.fwhm is not None and min(self.fwhm) <= 0:
            raise pk.ConfigError(f"{owner}: fwhm must be > 0 nm, got {self.fwhm!r}")
        if isinstance(amf, bool) or not isinstance(amf, numbers.Real) or not amf > 0:
            raise pk.ConfigError(
                f"{owner}: amf must be a number > 0 (1/cos θ_sun + 1/cos θ_view, 2 for "
                f"nadir), got {amf!r}"
            )
        self.amf = float(amf)
        if covariance not in COVARIANCE_ESTIMATORS:
            raise pk.ConfigError(
                f"{owner}: covariance must be one of {list(COVARIANCE_ESTIMATORS)}, "
                f"got {covariance!r}"
            )
        self.covariance = covariance
        check_bool(owner, "per_column", per_column)
        self.per_column = per_column
        self.iterations = check_int(owner, "iterations", iterations, minimum=0)
        if isinstance(ridge, bool) or not isinstance(ridge, numbers.Real) or not ridge > 0:
            raise pk.ConfigError(
                f"{owner}: ridge must be a number > 0 (relative to the mean band "
                f"variance, e.g. 1e-5; it keeps a singular Σ solvable), got {ridge!r}"
            )
        self.ridge = float(ridge)
        if solver not in MATCHED_FILTER_SOLVERS:
            raise pk.ConfigError(
                f"{owner}: solver must be one of {list(MATCHED_FILTER_SOLVERS)} ('qr' for "
                f"float32 accuracy, 'cholesky' for speed), got {solver!r}"
            )
        self.solver = solver
        if not np.any(self.unit_absorption() != 0):
            raise pk.ConfigError(
                f"{owner}: the unit absorption is 0 in every band (no band sees the "
                f"target; CH4 absorbs at 1400-2522 nm here), so α is undefined; pass "
                f"SWIR bands"
            )

    def unit_absorption(self) -> np.ndarray:
        """``k`` per band (per ppm·m): the ``target`` tuple, or CH4 over the given bands."""
        if isinstance(self.target, tuple):
            return np.asarray(self.target, dtype=np.float64)
        assert self.wavelengths is not None and self.fwhm is not None  # checked in __init__
        return _ch4_k(self.wavelengths, self.fwhm, self.amf)

    def _apply(self, x: Any) -> Any:
        shape = tuple(values_of(x).shape)
        k = self.unit_absorption()
        if len(shape) < 3 or shape[-3] != k.size:
            raise GeotoolzValueError(
                f"MatchedFilter: expects radiance of shape (..., band, rows, cols) with "
                f"{k.size} bands (one per target value / wavelength), got shape {shape}; "
                f"select the bands the target was built for"
            )
        values = values_of(x)
        xp = namespace(values)
        out = matched_filter(
            xp.astype(values, float_dtype(xp, values)),
            k,
            covariance=self.covariance,
            per_column=self.per_column,
            iterations=self.iterations,
            ridge=self.ridge,
            solver=self.solver,
            nodata=fill_pixels(x),
        )
        return rewrap(x, out, fill_value=float("nan"))
