"""A synthetic Sentinel-2-like scene for tests, examples and benchmarks.

``synthetic_scene()`` builds a Sentinel-2-like GeoTensor (13 bands, uint16 DN) with
smooth land cover (water, vegetation, bare soil), plausible spectra, opaque clouds and
cirrus flagged in a QA60-style band. Fast (a 2048 x 2048 scene in about a second) and
identical bit for bit for one seed.
"""

from __future__ import annotations

import numpy as np
from affine import Affine

from .._errors import GeoValueError
from .._geotensor import GeoTensor

__all__ = [
    "COVER_SOIL",
    "COVER_VEGETATION",
    "COVER_WATER",
    "QA_CIRRUS_BIT",
    "QA_OPAQUE_BIT",
    "S2_BANDS",
    "synthetic_scene",
]

#: Band order of :func:`synthetic_scene`: 12 reflectance bands, then the QA60 bit mask.
S2_BANDS: tuple[str, ...] = (
    "B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12", "B01", "B09", "QA60",
)  # fmt: skip
#: QA60 bit set on opaque clouds (Sentinel-2 L1C/L2A convention).
QA_OPAQUE_BIT = 10
#: QA60 bit set on cirrus.
QA_CIRRUS_BIT = 11

# Surface reflectance per class (rows: water, vegetation, bare soil) in S2_BANDS order
# (B02 B03 B04 B08 B05 B06 B07 B8A B11 B12 B01 B09), after typical USGS/ECOSTRESS spectra.
_SPECTRA = np.array(
    [
        [0.060, 0.050, 0.030, 0.010, 0.025, 0.015, 0.012, 0.010, 0.005, 0.003, 0.070, 0.005],
        [0.030, 0.070, 0.040, 0.400, 0.100, 0.250, 0.350, 0.420, 0.200, 0.100, 0.030, 0.150],
        [0.120, 0.150, 0.190, 0.250, 0.210, 0.230, 0.240, 0.260, 0.300, 0.270, 0.110, 0.090],
    ],
    dtype=np.float32,
)
# Opaque-cloud reflectance per band relative to the visible (clouds are grey, darker in SWIR).
_CLOUD_SHAPE = np.array(
    [1.00, 1.00, 1.00, 0.98, 1.00, 0.99, 0.98, 0.97, 0.75, 0.55, 1.02, 0.90], dtype=np.float32
)
#: Surface classes of a ``cover`` map (:func:`synthetic_scene`): water, vegetation, bare soil.
COVER_WATER, COVER_VEGETATION, COVER_SOIL = 0, 1, 2
_WATER, _VEGETATION, _SOIL = COVER_WATER, COVER_VEGETATION, COVER_SOIL


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Zero-mean, unit-std periodic Gaussian random field with correlation length ~``sigma`` px.

    Spectral synthesis: complex white noise times a Gaussian gain
    ``exp(-2 (pi sigma k)^2)`` (the Fourier transform of a Gaussian blur of width
    ``sigma``), drawn only where the gain exceeds 1e-6, then one inverse FFT.
    """
    height, width = shape
    k_cut = np.sqrt(np.log(1e6) / 2.0) / (np.pi * sigma)  # gain(k_cut) = 1e-6
    m_rows = min(height // 2, int(np.ceil(k_cut * height)))
    m_cols = min(width // 2, int(np.ceil(k_cut * width)))
    rows = np.r_[0 : m_rows + 1, height - m_rows : height] if m_rows else np.r_[0:1]
    rows = np.unique(rows % height)
    cols = np.arange(m_cols + 1)
    ky = np.fft.fftfreq(height)[rows][:, None]
    kx = np.fft.rfftfreq(width)[cols][None, :]
    gain = np.exp(-2.0 * (np.pi * sigma) ** 2 * (kx * kx + ky * ky)).astype(np.float32)
    draws = rng.standard_normal((2, rows.size, cols.size), dtype=np.float32)
    spectrum = np.zeros((height, width // 2 + 1), dtype=np.complex64)
    spectrum[np.ix_(rows, cols)] = (draws[0] + 1j * draws[1]) * gain
    spectrum[0, 0] = 0.0
    field = np.fft.irfft2(spectrum, s=shape).astype(np.float32)
    std = field.std()
    return field / std if std > 0 else field


def _top_fraction(field: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the ``fraction`` largest values of ``field`` (exact up to ties)."""
    n = round(fraction * field.size)
    if n <= 0:
        return np.zeros(field.shape, dtype=bool)
    if n >= field.size:
        return np.ones(field.shape, dtype=bool)
    flat = field.ravel()
    threshold = np.partition(flat, flat.size - n)[flat.size - n]
    return field >= threshold


def synthetic_scene(
    height: int = 256,
    width: int = 256,
    *,
    seed: int = 0,
    crs: str = "EPSG:32630",
    transform: Affine | None = None,
    cloud_fraction: float = 0.15,
    cover: np.ndarray | None = None,
) -> GeoTensor:
    """Return a deterministic Sentinel-2-like scene as a ``(13, height, width)`` uint16 GeoTensor.

    Bands follow :data:`S2_BANDS`: ``B02 B03 B04 B08 B05 B06 B07 B8A B11 B12 B01 B09 QA60``,
    so red (B04) is index 2, NIR (B08) index 3 and the QA band index -1; the scene carries
    them as ``band_names``. Reflectance bands are digital numbers ``DN = round(reflectance
    * 10000)`` as in L1C/L2A products, at least 1 so that ``fill_value=0`` marks nodata
    only; in QA60, bit 10 (value 1024) marks opaque clouds and bit 11 (2048) cirrus, 0
    means clear (so ``fill_value`` describes the reflectance bands: leave QA60 out of
    nodata masks).

    Content: two smooth Gaussian random fields classify the surface into water (~20 %),
    vegetation (red ~0.04, NIR ~0.40, rising red edge, NDVI ~0.8) and bare soil (gently
    rising 0.12-0.30); a third field modulates brightness by a few percent, and each band
    gets noise of sd ``0.002 + 2 %`` of the reflectance. Opaque clouds are the top
    ``cloud_fraction`` of a smooth field (so the flagged fraction matches the request),
    blended over the surface with opacity 0.75-1 towards a grey 0.5-0.8 reflectance;
    cirrus covers another ``cloud_fraction / 2`` outside them and adds ~0.03.

    Arguments:
        height, width: grid size in pixels.
        seed: seed of ``numpy.random.default_rng``; same seed, same bytes.
        crs: coordinate reference system (default UTM zone 30N).
        transform: corner-anchored affine; default ``Affine(10, 0, 399960, 0, -10, 4500000)``,
            a real 10 m Sentinel-2 grid.
        cloud_fraction: fraction of pixels flagged as opaque cloud, in ``[0, 1]``.
        cover: optional ``(height, width)`` integer map of :data:`COVER_WATER` (0),
            :data:`COVER_VEGETATION` (1) and :data:`COVER_SOIL` (2) that replaces the random
            land cover (brightness, noise and clouds are still drawn from ``seed``), so other
            sensors can share one truth (see :func:`synthetic_fusion_scenes`).

    Example:
        >>> scene = synthetic_scene(64, 64, seed=1)
        >>> scene.shape, scene.dtype.name, scene.fill_value
        ((13, 64, 64), 'uint16', 0)
        >>> S2_BANDS[2], S2_BANDS[3], S2_BANDS[-1]
        ('B04', 'B08', 'QA60')
    """
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise GeoValueError(
            f"synthetic_scene needs positive integer height and width; received {(height, width)}"
        )
    if not 0.0 <= cloud_fraction <= 1.0:
        raise GeoValueError(
            f"synthetic_scene: cloud_fraction must lie in [0, 1]; received {cloud_fraction}"
        )
    shape = (int(height), int(width))
    if cover is not None:
        cover = np.asarray(cover)
        if (
            cover.shape != shape
            or not np.issubdtype(cover.dtype, np.integer)
            or not np.isin(cover, (_WATER, _VEGETATION, _SOIL)).all()
        ):
            raise GeoValueError(
                f"synthetic_scene: cover must be a {shape} integer map of 0 (water), "
                f"1 (vegetation) and 2 (bare soil); received {cover.dtype}{cover.shape}"
            )
    rng = np.random.default_rng(seed)
    wetness = _smooth_field(rng, shape, sigma=24.0)
    greenness = _smooth_field(rng, shape, sigma=12.0)
    brightness = _smooth_field(rng, shape, sigma=6.0)
    clouds = _smooth_field(rng, shape, sigma=20.0)
    cirrus = _smooth_field(rng, shape, sigma=32.0)

    if cover is None:
        land = np.where(greenness > -0.3, _VEGETATION, _SOIL).astype(np.uint8)
        cover = np.where(wetness < -0.85, _WATER, land).astype(np.uint8)
    opaque = _top_fraction(clouds, cloud_fraction)
    thin = _top_fraction(np.where(opaque, -np.inf, cirrus), cloud_fraction / 2.0) & ~opaque

    if opaque.any():
        lo, hi = clouds[opaque].min(), clouds[opaque].max()
        depth = np.sqrt(np.clip((clouds - lo) / max(hi - lo, np.float32(1e-6)), 0.0, 1.0))
    else:
        depth = np.zeros(shape, dtype=np.float32)
    alpha = np.where(opaque, np.float32(0.75) + np.float32(0.25) * depth, np.float32(0.0))
    # refl = (1 - alpha) * (surface + cirrus) + alpha * cloud_white * cloud_shape[band]
    keep = (np.float32(1.0) - alpha) * np.float32(10000.0)
    cloud_dn = alpha * (np.float32(0.5) + np.float32(0.3) * depth) * np.float32(10000.0)
    cirrus_dn = np.float32(0.03 * 10000.0) * thin
    gain = np.float32(1.0) + np.float32(0.05) * np.clip(brightness, -2.0, 2.0)

    out = np.empty((len(S2_BANDS), *shape), dtype=np.uint16)
    surface = np.empty(shape, dtype=np.float32)
    sd = np.empty(shape, dtype=np.float32)
    for band in range(len(S2_BANDS) - 1):
        np.multiply(_SPECTRA[:, band][cover], gain, out=surface)
        noise = rng.standard_normal(shape, dtype=np.float32)
        np.multiply(surface, np.float32(0.02), out=sd)
        sd += np.float32(0.002)
        noise *= sd
        surface += noise  # surface reflectance with noise of sd 0.002 + 2 %
        surface *= keep
        surface += cirrus_dn
        surface += cloud_dn * _CLOUD_SHAPE[band]
        np.rint(surface, out=surface)
        np.clip(surface, 1.0, 10000.0, out=surface)
        out[band] = surface
    qa = (opaque.astype(np.uint16) << QA_OPAQUE_BIT) | (thin.astype(np.uint16) << QA_CIRRUS_BIT)
    out[-1] = qa
    if transform is None:
        transform = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)
    return GeoTensor(out, transform, crs, fill_value=0, band_names=S2_BANDS)
