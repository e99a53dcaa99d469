"""The CH4 absorption spectrum (1400-2522 nm) and its band averages for any sensor.

Where the numbers come from
---------------------------
``ch4_absorption.npz`` (next to this module) is derived from the methane look-up table
that mag1c ships (``mag1c/ch4.lut`` + ``mag1c/ch4.hdr``, commit
``8b9ceae186f4e125bc9f628db82f41bce4c6011f`` of https://github.com/markusfoote/mag1c,
BSD-3-Clause, notice in ``ch4_absorption_NOTICE.txt``; Foote et al. 2020,
doi:10.1109/TGRS.2020.2976888). That table is an ENVI file of float64 at-sensor
radiances simulated with MODTRAN: 31 800 wavelengths from 1399.59 to 2522.04 nm (a grid
regular in wavenumber, 0.1 cm⁻¹) × 7 methane enhancements
``c = 0, 500, 1000, 2000, 4000, 8000, 16000`` ppm·m (the concentrations mag1c's
``generate_template_from_bands`` fits against). The header does not record the
observation geometry.

How they were derived
---------------------
(``tools/derive_ch4_absorption.py --mag1c <clone> --check`` repeats it.)

1. At every table wavelength λ, ordinary least squares of ``ln L(λ, c)`` on
   ``[1, c]`` over the seven enhancements gives the slope ``s(λ) = d ln L / dc``
   (per ppm·m). mag1c fits the same line after convolving with a sensor's bands; we
   fit before, so any sensor's bands can be formed later.
2. Convention: the table is read as a two-way path with air-mass factor 2 (overhead sun,
   nadir view), so the vertical-column coefficient is ``coef(λ) = -s(λ) / 2``.
3. ``coef`` is clipped at 0: 2 582 of 31 800 slopes are positive by at most 1.5e-7
   (MODTRAN band-model noise; methane does not emit light here).
4. Stored: ``wavelength_nm`` and ``coefficient`` as float32 (about 200 KB compressed).

Conventions
-----------
- ``ch4_absorption_spectrum()`` returns ``coef`` such that a vertical column enhancement
  ΔX (ppm·m) changes the at-sensor radiance by the two-way transmittance
  ``T = exp(-coef · ΔX · AMF)``, ``AMF = 1/cos θ_sun + 1/cos θ_view``.
- ``ch4_unit_absorption`` returns the band-averaged **negative** unit absorption
  ``k_b = -AMF · ∫ SRF_b(λ) coef(λ) dλ`` (Gaussian SRF of unit area), the first-order
  radiance change ``L(ΔX) ≈ L(0) · (1 + k_b · ΔX)``. With ``amf=2`` it reproduces mag1c's
  template (which is ``k`` × 1e5) up to mag1c's fitting after convolution.
- Outside 1399.59-2522.04 nm the coefficient is taken as 0 (methane's weaker 1166 nm
  band is not in the table).

Why the geometry is a convention and not a fact: the LUT's MODTRAN geometry is not
documented with it; if the table was run for another air-mass factor ``m``, every
absolute ``coef`` here is off by ``2/m``. Relative band shapes (what detection needs)
are unaffected.
"""

from __future__ import annotations

import functools
import importlib.resources
import math

import numpy as np

from .._errors import GeotoolzValueError

__all__ = ["ch4_absorption_spectrum", "ch4_unit_absorption"]

_TABLE = "ch4_absorption.npz"
_HALF_WIDTH_SIGMAS = 8.0  # the Gaussian beyond ±8σ weighs < 1.3e-15: left out
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
_erf = np.frompyfunc(math.erf, 1, 1)


@functools.cache
def _table() -> tuple[np.ndarray, np.ndarray]:
    with importlib.resources.files(__package__).joinpath(_TABLE).open("rb") as fh:
        data = np.load(fh)
        wavelength = np.asarray(data["wavelength_nm"], dtype=np.float64)
        coefficient = np.asarray(data["coefficient"], dtype=np.float64)
    wavelength.setflags(write=False)
    coefficient.setflags(write=False)
    return wavelength, coefficient


def ch4_absorption_spectrum() -> tuple[np.ndarray, np.ndarray]:
    """The high-resolution CH4 absorption coefficient, per ppm·m of vertical column.

    Returns:
        ``(wavelength_nm, coef)``, float64 arrays of 31 800 points (1399.59-2522.04 nm,
        increasing, 0.1 cm⁻¹ steps). ``exp(-coef · ΔX · AMF)`` is the two-way
        transmittance of a vertical enhancement ΔX (ppm·m) for the air-mass factor
        ``AMF = 1/cos θ_sun + 1/cos θ_view``. Fresh copies: callers may modify them.

    Example:
        >>> wl, coef = ch4_absorption_spectrum()
        >>> bool(coef[(wl > 2300) & (wl < 2400)].mean() > coef[(wl > 2100) & (wl < 2200)].mean())
        True

    Note:
        Derived from mag1c's MODTRAN look-up table; see this module's docstring for the
        derivation and the geometry convention.
    """
    wavelength, coefficient = _table()
    return wavelength.copy(), coefficient.copy()


def _gaussian_average(
    wavelength: np.ndarray, values: np.ndarray, center: float, sigma: float
) -> float:
    """Exact ∫ N(λ; center, σ) f(λ) dλ for f linear between table points, 0 outside."""
    lo = np.searchsorted(wavelength, center - _HALF_WIDTH_SIGMAS * sigma, side="right") - 1
    hi = np.searchsorted(wavelength, center + _HALF_WIDTH_SIGMAS * sigma, side="left") + 1
    lo, hi = max(lo, 0), min(hi, wavelength.size)
    if hi - lo < 2:
        return 0.0
    a, b = wavelength[lo : hi - 1], wavelength[lo + 1 : hi]
    fa, fb = values[lo : hi - 1], values[lo + 1 : hi]
    slope = (fb - fa) / (b - a)
    intercept = fa - slope * a
    u = (wavelength[lo:hi] - center) / sigma
    cdf = 0.5 * (1.0 + _erf(u / math.sqrt(2.0)).astype(np.float64))
    pdf = np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    # f = α + βλ, λ = c + σu:  ∫ f φ(u) du = (α + βc)(Φ(u_b) − Φ(u_a)) + βσ(φ(u_a) − φ(u_b))
    mass = (intercept + slope * center) * np.diff(cdf) - slope * sigma * np.diff(pdf)
    return float(mass.sum())


def ch4_unit_absorption(
    centers_nm: np.ndarray | tuple[float, ...] | list[float],
    fwhm_nm: np.ndarray | tuple[float, ...] | list[float],
    amf: float = 2.0,
) -> np.ndarray:
    """Band-averaged CH4 unit absorption ``k`` (per ppm·m, ≤ 0) for Gaussian bands.

    ``k_b = -amf · ∫ SRF_b(λ) coef(λ) dλ`` with ``SRF_b`` the unit-area Gaussian of
    centre ``centers_nm[b]`` and full width at half maximum ``fwhm_nm[b]``; ``coef`` is
    :func:`ch4_absorption_spectrum`, linear between its points and 0 outside
    1399.59-2522.04 nm. The integral is exact for that piecewise-linear spectrum, so a
    band narrower than the table's spacing gives the spectrum's value at its centre and a
    broad band (Sentinel-2 B12, FWHM 180 nm) the right average.

    Args:
        centers_nm: band centres in nanometres, shape ``(bands,)``.
        fwhm_nm: band full widths at half maximum in nanometres, same shape, > 0.
        amf: air-mass factor ``1/cos θ_sun + 1/cos θ_view`` (2 for overhead sun and a
            nadir view; the convention the table is stored in).

    Returns:
        float64 array ``(bands,)``: the first-order relative radiance change per ppm·m,
        ``L(ΔX) ≈ L(0) · (1 + k · ΔX)``; negative where methane absorbs, which makes
        the matched-filter target ``t = μ ⊙ k`` point the way radiance drops.

    Example:
        >>> k = ch4_unit_absorption([1610.0, 2190.0, 2350.0], [90.0, 180.0, 8.5])
        >>> bool(k[2] < k[1] < 0)
        True

    Note:
        A band average of the linear coefficient is the small-ΔX limit of the band-
        averaged transmittance (mag1c instead fits ``ln`` of band-averaged radiance over
        0-16 000 ppm·m). It is what a matched filter linearises around.
    """
    centers = np.asarray(centers_nm, dtype=np.float64).reshape(-1)
    fwhm = np.asarray(fwhm_nm, dtype=np.float64).reshape(-1)
    if centers.shape != fwhm.shape:
        raise GeotoolzValueError(
            f"ch4_unit_absorption: fwhm_nm must have one value per band centre "
            f"({centers.size}), got {fwhm.size}; pass equal-length sequences"
        )
    if not (np.all(np.isfinite(centers)) and np.all(np.isfinite(fwhm)) and np.all(fwhm > 0)):
        raise GeotoolzValueError(
            "ch4_unit_absorption: centers_nm must be finite and fwhm_nm finite and > 0, "
            f"got centers_nm={centers.tolist()}, fwhm_nm={fwhm.tolist()}"
        )
    if not (math.isfinite(amf) and amf > 0):
        raise GeotoolzValueError(
            f"ch4_unit_absorption: amf must be a finite number > 0 "
            f"(1/cos θ_sun + 1/cos θ_view, 2 for nadir), got {amf!r}"
        )
    wavelength, coefficient = _table()
    sigmas = fwhm * _FWHM_TO_SIGMA
    mean = [
        _gaussian_average(wavelength, coefficient, c, s)
        for c, s in zip(centers, sigmas, strict=True)
    ]
    return -float(amf) * np.asarray(mean, dtype=np.float64)
