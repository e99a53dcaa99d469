"""Two Sentinel-2-like passes over one surface, the target with a methane plume in B11/B12.

``synthetic_s2_methane_pair()`` is the test bed of the multi-band methane retrievals
(Varon et al. 2021): a plume-free reference pass and a target pass of the same ground,
whose B12 (strongly) and B11 (weakly) are attenuated by a :func:`gaussian_plume` through
Beer–Lambert with per-band absorption coefficients passed in (geocatalog computes no
spectroscopy of its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import GeoValueError
from .._geotensor import GeoTensor
from ._plume import gaussian_plume
from ._scene import _smooth_field

__all__ = ["S2_METHANE_BANDS", "S2MethanePair", "synthetic_s2_methane_pair"]

#: Band order of :func:`synthetic_s2_methane_pair` (B11 is index 2, B12 index 3).
S2_METHANE_BANDS: tuple[str, ...] = ("B04", "B8A", "B11", "B12")

# Surface reflectance (rows: bare soil, vegetation, bright sand) in S2_METHANE_BANDS order:
# B12/B11 is ~0.9 on soil, ~0.5 on vegetation, ~0.85 on sand: a heterogeneous SWIR scene.
_ENDMEMBERS = np.array(
    [[0.19, 0.26, 0.30, 0.27], [0.04, 0.42, 0.20, 0.10], [0.32, 0.40, 0.45, 0.38]],
    dtype=np.float64,
)


@dataclass(frozen=True)
class S2MethanePair:
    """A target pass (with the plume), a plume-free reference pass, and the truth.

    Attributes:
        target: ``(4, H, W)`` float32 reflectance, bands :data:`S2_METHANE_BANDS`.
        reference: the same ground on another date, without methane.
        enhancement: ``(1, H, W)`` float64 injected column enhancement ΔX in ppm·m.
    """

    target: GeoTensor
    reference: GeoTensor
    enhancement: GeoTensor


def synthetic_s2_methane_pair(
    height: int = 96,
    width: int = 96,
    *,
    k_b11: float,
    k_b12: float,
    seed: int = 0,
    flux_kg_h: float = 20_000.0,
    wind_speed: float = 3.0,
    stability: str = "D",
    heterogeneity: float = 1.0,
    noise_sd: float = 0.001,
    reference_gain: float = 1.03,
    res: float = 20.0,
) -> S2MethanePair:
    r"""Two S2-like passes over one heterogeneous surface, the target with a CH4 plume.

    Surface: per pixel a mixture of bare soil, vegetation and bright sand whose fractions
    follow smooth random fields (correlation ~6-16 pixels), with ``heterogeneity`` (0-1)
    scaling how far the mixture departs from pure soil; all four bands come from the same
    mixture, so the bands are correlated as real spectra are, while the B12/B11 ratio
    varies across the scene. The reference pass is the same surface times
    ``reference_gain`` (another sun angle); each pass gets independent Gaussian noise of
    ``noise_sd`` reflectance.

    Plume: :func:`gaussian_plume` in ppm·m (``flux_kg_h``, ``wind_speed``, towards +x from
    the centre of pixel ``(H/2, W/6)``). Beer–Lambert with the given unit absorptions
    (per ppm·m, negative where methane absorbs, e.g. from
    ``geotoolz.methane.ch4_unit_absorption``): the target's band ``b`` is multiplied by
    :math:`\exp(k_b \Delta X)`.

    Example:
        >>> pair = synthetic_s2_methane_pair(32, 32, k_b11=-7e-7, k_b12=-4.3e-6, seed=1)
        >>> pair.target.shape, pair.reference.shape, pair.enhancement.shape
        ((4, 32, 32), (4, 32, 32), (1, 32, 32))
        >>> bool((pair.target.values[3] <= pair.reference.values[3] / 1.03 + 0.01).all())
        True
    """
    if not (k_b11 <= 0 and k_b12 <= 0):
        raise GeoValueError(
            "synthetic_s2_methane_pair: k_b11 and k_b12 are unit absorptions per ppm·m, <= 0 "
            f"(radiance drops where methane absorbs); got {k_b11}, {k_b12}"
        )
    if not 0.0 <= heterogeneity <= 1.0 or noise_sd < 0:
        raise GeoValueError(
            "synthetic_s2_methane_pair: heterogeneity must lie in [0, 1] and noise_sd be >= 0; "
            f"got {heterogeneity}, {noise_sd}"
        )
    shape = (int(height), int(width))
    rng = np.random.default_rng(seed)
    green = _smooth_field(rng, shape, sigma=10.0).astype(np.float64)
    sand = _smooth_field(rng, shape, sigma=16.0).astype(np.float64)
    bright = _smooth_field(rng, shape, sigma=6.0).astype(np.float64)
    f_veg = heterogeneity * np.clip(0.5 + 0.35 * green, 0.0, 1.0)
    f_sand = heterogeneity * np.clip(0.25 + 0.3 * sand, 0.0, 1.0) * (1.0 - f_veg)
    f_soil = 1.0 - f_veg - f_sand
    fractions = np.stack([f_soil, f_veg, f_sand])  # (3, H, W)
    surface = np.tensordot(_ENDMEMBERS.T, fractions, axes=1)  # (4, H, W) linear mixture
    surface = surface * (1.0 + 0.05 * np.clip(bright, -2.0, 2.0))
    plume = gaussian_plume(
        *shape, flux_kg_h=flux_kg_h, wind_speed=wind_speed, stability=stability, res=res,
        source_rowcol=(shape[0] / 2, shape[1] / 6), units="ppm_m", oversample=2,
    )  # fmt: skip
    dx = plume.values[0]
    attenuation = np.ones((len(S2_METHANE_BANDS), *shape))
    attenuation[2] = np.exp(k_b11 * dx)
    attenuation[3] = np.exp(k_b12 * dx)
    target = surface * attenuation + rng.normal(0.0, noise_sd, surface.shape)
    reference = surface * reference_gain + rng.normal(0.0, noise_sd, surface.shape)
    return S2MethanePair(_on_grid(target, plume), _on_grid(reference, plume), plume)


def _on_grid(values: np.ndarray, like: GeoTensor) -> GeoTensor:
    return GeoTensor(values.astype(np.float32), like.transform, like.crs_string, float("nan"))
