"""A synthetic EMIT-like imaging-spectrometer radiance cube, with an optional CH4 plume.

``synthetic_emit_scene()`` builds at-sensor radiance (µW cm⁻² sr⁻¹ nm⁻¹, float32) on
EMIT-like bands (285 Gaussian bands, 380-2500 nm, ~7.4 nm apart, FWHM ~8.5 nm) from
smooth mixtures of vegetation, soil and water reflectance under a simple atmosphere, with
push-broom column gains and shot + read noise. A methane enhancement map is applied by
Beer-Lambert on the absorption table's own wavelength grid and then integrated through
each band's response, so a matched filter that linearises the band averages is tested
against physics it did not assume. NumPy and geocatalog only: the absorption table is an
argument (e.g. ``geotoolz.methane.ch4_absorption_spectrum()``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from affine import Affine

from .._errors import GeoValueError
from .._geotensor import GeoTensor
from ._scene import _smooth_field

__all__ = [
    "EMITScene",
    "emit_bands",
    "emit_reflectance",
    "emit_solar_irradiance",
    "synthetic_emit_scene",
]

_SIGMA_PER_FWHM = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
_GRID_STEP_NM = 0.5  # the background's high-resolution grid
_GRID_MARGIN_NM = 60.0
_RATIO_NODES = 513  # enhancements at which the plume's band ratio is computed exactly
_REFERENCE_RADIANCE = 10.0  # µW cm⁻² sr⁻¹ nm⁻¹, where the SNR argument applies


class EMITScene(NamedTuple):
    """:func:`synthetic_emit_scene`'s result.

    ``radiance``: ``(bands, height, width)`` float32 GeoTensor; ``wavelengths`` and
    ``fwhm``: band centres and widths (nm, plain floats, YAML-ready); ``enhancement``: the
    injected ``(height, width)`` CH4 map in ppm·m (zeros when none was given).
    """

    radiance: GeoTensor
    wavelengths: tuple[float, ...]
    fwhm: tuple[float, ...]
    enhancement: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def emit_solar_irradiance(wavelength_nm: np.ndarray) -> np.ndarray:
    """The cube's top-of-atmosphere solar irradiance (µW cm⁻² nm⁻¹) at ``wavelength_nm``.

    The cube's radiance is in µW cm⁻² sr⁻¹ nm⁻¹, so these values are the ``esun`` that a
    radiance-unit correction (``DarkObjectSubtraction(esun=...)``) needs for it (sun at
    zenith, Earth-Sun distance 1 AU).
    """
    return _solar(np.asarray(wavelength_nm, dtype=np.float64))


def _dips(wl: np.ndarray, bands: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Sum of Gaussian features ``depth · exp(-½((λ - centre)/width)²)``."""
    return sum(d * np.exp(-0.5 * ((wl - c) / w) ** 2) for c, w, d in bands)


def emit_reflectance(wavelength_nm: np.ndarray) -> np.ndarray:
    """Reflectance spectra ``(3, λ)`` of vegetation, soil and water (shapes, not a library).

    Vegetation: chlorophyll absorption at 450/670 nm, the red edge at ~715 nm, a NIR
    plateau ~0.45, leaf-water dips at 970/1200/1450/1940 nm; soil: rising 0.08-0.35 with
    water and clay (2200 nm) features; water: ~0.06 in the blue, near 0 beyond 900 nm.
    """
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    veg = 0.04 + 0.05 * np.exp(-0.5 * ((wl - 550) / 35) ** 2)
    veg = veg + 0.42 * _sigmoid((wl - 715) / 12) * (1 - 0.55 * _sigmoid((wl - 1350) / 60))
    veg = veg * (1 - _dips(wl, ((970, 25, 0.06), (1200, 35, 0.12), (1450, 50, 0.55))))
    veg = veg * (1 - _dips(wl, ((1940, 60, 0.7), (2500, 150, 0.3))))
    soil = 0.08 + 0.27 * _sigmoid((wl - 900) / 250)
    soil = soil * (1 - _dips(wl, ((1410, 25, 0.12), (1910, 35, 0.18), (2205, 20, 0.12))))
    water = 0.06 * np.exp(-(((wl - 420) / 260) ** 2)) + 0.004
    return np.stack([veg, soil, water])


def _solar(wl: np.ndarray) -> np.ndarray:
    """Top-of-atmosphere solar irradiance (µW cm⁻² nm⁻¹): a 5778 K body, 195 at 500 nm."""
    x = 1.4388e7 / (wl * 5778.0)  # hc / (λ k T), λ in nm
    planck = wl**-5 / np.expm1(x)
    x0 = 1.4388e7 / (500.0 * 5778.0)
    return 195.0 * planck / (500.0**-5 / np.expm1(x0))


#: (centre nm, width nm, vertical optical depth): O2, H2O and CO2 features.
_GAS_BANDS = (
    (687, 3, 0.08), (762, 3, 0.9), (720, 10, 0.05), (820, 12, 0.06), (940, 20, 0.35),
    (1130, 30, 0.6), (1380, 45, 3.5), (1870, 55, 4.0), (2600, 80, 3.0),
    (1575, 8, 0.02), (1605, 8, 0.03), (2010, 10, 0.25), (2060, 10, 0.3),
)  # fmt: skip
_H2O = (3, 4, 5, 6, 7, 8)  # indices of the water-vapour features in _GAS_BANDS


def _optical_depth(wl: np.ndarray, which: tuple[int, ...] | None = None) -> np.ndarray:
    """Vertical optical depth: Rayleigh + aerosol + gas features (``which``: only those)."""
    um = wl / 1000.0
    if which is not None:
        return _dips(wl, tuple(_GAS_BANDS[i] for i in which))
    return 0.0088 * um**-4.05 + 0.08 * um**-1.3 + _dips(wl, _GAS_BANDS)


def _band_weights(grid: np.ndarray, centre: float, sigma: float) -> tuple[slice, np.ndarray]:
    """Trapezoid weights of a unit-area Gaussian on ``grid`` (±6σ window, sum 1)."""
    lo = int(np.searchsorted(grid, centre - 6 * sigma))
    hi = int(np.searchsorted(grid, centre + 6 * sigma))
    g = grid[lo:hi]
    srf = np.exp(-0.5 * ((g - centre) / sigma) ** 2)
    step = np.gradient(g) if g.size > 1 else np.ones(1)
    w = srf * step
    return slice(lo, hi), w / w.sum()


def _ch4_ratio(
    enhancement: np.ndarray,
    absorption: tuple[np.ndarray, np.ndarray],
    centres: np.ndarray,
    sigmas: np.ndarray,
    amf: float,
) -> np.ndarray:
    """``(bands, n_pixels)``: band radiance with the plume over band radiance without it."""
    table_wl = np.asarray(absorption[0], dtype=np.float64)
    table_coef = np.asarray(absorption[1], dtype=np.float64)
    lo, hi = table_wl[0], table_wl[-1]
    # the table's own grid inside its range, the background grid outside (coef 0 there)
    outside = np.arange(centres.min() - _GRID_MARGIN_NM, centres.max() + _GRID_MARGIN_NM, 0.5)
    outside = outside[(outside < lo) | (outside > hi)]
    grid = np.concatenate([outside[outside < lo], table_wl, outside[outside > hi]])
    coef = np.concatenate(
        [np.zeros((outside < lo).sum()), table_coef, np.zeros((outside > hi).sum())]
    )
    background = _solar(grid) * np.exp(-amf * _optical_depth(grid))
    ratio = np.ones((centres.size, enhancement.size))
    pixels = np.flatnonzero(enhancement)
    if pixels.size == 0:
        return ratio
    # The band ratio is a smooth function of the enhancement alone: evaluate it exactly on
    # _RATIO_NODES enhancements spanning the map and interpolate linearly. The
    # relative interpolation error is at most step² (amf · max coef)² / 8: with the
    # table's max coef 7.3e-5 and amf 2, 4e-6 for a 20 000 ppm·m map (step 39 ppm·m), 1e-4
    # for 10⁵ ppm·m; the noise is ~1/snr = 2.5e-3.
    values = enhancement[pixels]
    nodes = np.linspace(min(values.min(), 0.0), max(values.max(), 0.0), _RATIO_NODES)
    for b, (c, s) in enumerate(zip(centres, sigmas, strict=True)):
        window, w = _band_weights(grid, c, s)
        if not np.any(coef[window] > 0):
            continue
        weighted = w * background[window]
        trans = np.exp(-amf * nodes[:, None] * coef[None, window])
        ratio[b, pixels] = np.interp(values, nodes, trans @ weighted / weighted.sum())
    return ratio


def emit_bands(
    n_bands: int = 285, wavelength_range: tuple[float, float] = (380.0, 2500.0)
) -> tuple[np.ndarray, np.ndarray]:
    """EMIT-like band centres (evenly spaced) and FWHMs (1.15 × spacing, ±3 % smooth ripple)."""
    centres = np.linspace(wavelength_range[0], wavelength_range[1], n_bands)
    spacing = (wavelength_range[1] - wavelength_range[0]) / max(n_bands - 1, 1)
    ripple = 1.0 + 0.03 * np.sin(2 * np.pi * (centres - centres[0]) / 900.0)
    return centres, 1.15 * spacing * ripple


def synthetic_emit_scene(
    height: int = 64,
    width: int = 48,
    *,
    n_bands: int = 285,
    wavelength_range: tuple[float, float] = (380.0, 2500.0),
    enhancement: np.ndarray | None = None,
    absorption: tuple[np.ndarray, np.ndarray] | None = None,
    amf: float = 2.0,
    snr: float = 400.0,
    column_gain_std: float = 0.01,
    seed: int = 0,
    fill_value: float = -9999.0,
    crs: str = "EPSG:32611",
    transform: Affine | None = None,
) -> EMITScene:
    """A deterministic EMIT-like radiance cube ``(n_bands, height, width)`` (float32).

    Model, per pixel and band ``b`` (Gaussian response ``SRF_b``, ``AMF = amf``)::

        L_b = G_col,b · ρ_b · ∫ SRF_b E_sun cosθ/π · e^{-AMF τ} dλ · R_b(ΔX) · w_b + L_path,b
        R_b(ΔX) = ∫ SRF_b E T e^{-AMF · coef · ΔX} dλ / ∫ SRF_b E T dλ

    - ρ: smooth mixtures of :func:`emit_reflectance` (vegetation, soil, water) with
      abundances from Gaussian random fields (softmax) and ±10 % brightness;
    - atmosphere: a 5778 K solar spectrum, Rayleigh + aerosol and O2/H2O/CO2 features
      (sun at zenith, so cosθ = 1 and the air mass is ``amf``), on a 0.5 nm grid; ``w_b``
      varies water vapour smoothly in space (±5 % column); ``L_path`` a small blue haze;
    - ``R_b``: the plume, Beer-Lambert on the absorption table's own grid (1 without one);
    - ``G``: per detector column and band gains ``1 + column_gain_std · N(0, 1)``
      (push-broom striping);
    - noise: ``sd = sqrt(L · L_ref + (0.1 L_ref)²) / snr`` with ``L_ref = 10``: shot noise
      plus a read floor, so the SNR is about ``snr`` at radiance 10.

    The random draws do not depend on ``enhancement``: a scene with a plume minus the same
    scene without one is the plume's signal (up to the noise's radiance dependence).

    Arguments:
        height, width: grid size in pixels (rows along track, columns = detector elements).
        n_bands, wavelength_range: evenly spaced band centres (EMIT: 285, 380-2500 nm);
            FWHM 1.15 × the spacing (:func:`emit_bands`).
        enhancement: optional ``(height, width)`` CH4 vertical column enhancement, ppm·m.
        absorption: ``(wavelength_nm, coef per ppm·m)`` with ``exp(-coef·ΔX·AMF)`` the
            transmittance, e.g. ``geotoolz.methane.ch4_absorption_spectrum()``; required
            with ``enhancement``.
        amf, snr, column_gain_std: as above.
        seed: ``numpy.random.default_rng`` seed; same seed, same bytes.
        fill_value: the GeoTensor's nodata value (EMIT's -9999; no pixel holds it).
        crs, transform: georeferencing; default UTM 11N, 60 m pixels.

    Example:
        >>> scene = synthetic_emit_scene(8, 6, seed=1)
        >>> scene.radiance.shape, scene.radiance.dtype.name, len(scene.wavelengths)
        ((285, 8, 6), 'float32', 285)
        >>> round(scene.wavelengths[1] - scene.wavelengths[0], 2)
        7.46
    """
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise GeoValueError(
            f"synthetic_emit_scene: height and width must be positive integers, got "
            f"{(height, width)}"
        )
    if int(n_bands) != n_bands or n_bands < 1:
        raise GeoValueError(f"synthetic_emit_scene: n_bands must be an int >= 1, got {n_bands!r}")
    shape = (int(height), int(width))
    ench = np.zeros(shape) if enhancement is None else np.asarray(enhancement, np.float64)
    if ench.shape != shape or not np.all(np.isfinite(ench)):
        raise GeoValueError(
            f"synthetic_emit_scene: enhancement must be a finite {shape} map in ppm·m, got "
            f"shape {ench.shape}"
        )
    if np.any(ench != 0) and absorption is None:
        raise GeoValueError(
            "synthetic_emit_scene: an enhancement needs absorption=(wavelength_nm, coef); "
            "pass geotoolz.methane.ch4_absorption_spectrum()"
        )
    centres, fwhm = emit_bands(int(n_bands), wavelength_range)
    sigmas = fwhm * _SIGMA_PER_FWHM

    rng = np.random.default_rng(seed)
    fields = np.stack([_smooth_field(rng, shape, sigma=s) for s in (10.0, 7.0, 14.0)])
    brightness = _smooth_field(rng, shape, sigma=5.0)
    vapour = _smooth_field(rng, shape, sigma=12.0)
    gains = 1.0 + column_gain_std * rng.standard_normal((centres.size, 1, shape[1]))
    noise = rng.standard_normal((centres.size, *shape), dtype=np.float32)

    fields[2] -= 1.2  # water is the rarest cover
    abundance = np.exp(2.0 * fields)
    abundance /= abundance.sum(axis=0)
    rho = np.einsum("kb,kyx->byx", emit_reflectance(centres), abundance)
    rho *= 1.0 + 0.1 * np.clip(brightness, -2.5, 2.5)

    grid = np.arange(centres.min() - _GRID_MARGIN_NM, centres.max() + _GRID_MARGIN_NM, 0.5)
    sun = _solar(grid) / np.pi
    ground = sun * np.exp(-amf * _optical_depth(grid))
    haze = sun * 0.02 * (grid / 450.0) ** -4 * np.exp(-0.5 * amf * _optical_depth(grid))
    tau_h2o = _optical_depth(grid, _H2O)
    base = np.empty(centres.size)
    path = np.empty(centres.size)
    water = np.empty(centres.size)
    for b, (c, s) in enumerate(zip(centres, sigmas, strict=True)):
        window, w = _band_weights(grid, c, s)
        base[b], path[b] = w @ ground[window], w @ haze[window]
        water[b] = w @ tau_h2o[window]
    vapour_t = np.exp(-amf * 0.05 * water[:, None, None] * np.clip(vapour, -3, 3)[None])

    radiance = gains * rho * base[:, None, None] * vapour_t
    if np.any(ench != 0):
        assert absorption is not None
        ratio = _ch4_ratio(ench.reshape(-1), absorption, centres, sigmas, amf)
        radiance *= ratio.reshape(centres.size, *shape)
    radiance += path[:, None, None]
    sd = np.sqrt(radiance * _REFERENCE_RADIANCE + (0.1 * _REFERENCE_RADIANCE) ** 2) / snr
    out = (radiance + sd * noise).astype(np.float32)
    if transform is None:
        transform = Affine(60.0, 0.0, 500040.0, 0.0, -60.0, 3900000.0)
    return EMITScene(
        GeoTensor(out, transform, crs, fill_value=fill_value),
        tuple(float(v) for v in centres),
        tuple(float(v) for v in fwhm),
        ench,
    )
