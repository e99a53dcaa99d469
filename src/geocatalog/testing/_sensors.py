"""Synthetic Sentinel-1 and DEM scenes that share one ground truth with the optical scene.

The truth is a set of smooth random fields defined on the ground (in CRS metres), not on a
pixel grid, so every sensor samples the same world at its own pixel centres: Sentinel-1 on
a 20 m grid, the DEM on a 30 m grid, both with origins shifted off the 10 m optical grid and
covering its footprint with a margin. :func:`synthetic_fusion_scenes` returns all three
plus per-pixel labels on the optical grid that need all three sensors to be predicted.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from affine import Affine

from .._errors import GeoValueError
from .._geotensor import GeoTensor
from ._scene import COVER_SOIL, COVER_VEGETATION, COVER_WATER, synthetic_scene

__all__ = [
    "DEM_BANDS",
    "FUSION_CLASSES",
    "S1_BANDS",
    "UPLAND_METRES",
    "FusionScenes",
    "synthetic_dem",
    "synthetic_fusion_scenes",
    "synthetic_s1_scene",
]

#: Band order of :func:`synthetic_s1_scene`: linear intensity (sigma0) in two polarisations.
S1_BANDS: tuple[str, ...] = ("VV", "VH")
#: Band order of :func:`synthetic_dem`.
DEM_BANDS: tuple[str, ...] = ("elevation",)
#: Elevation (metres) above which ground counts as upland in the labels.
UPLAND_METRES = 300.0
#: Label names of :func:`synthetic_fusion_scenes`, by class index:
#: ``0`` water, else ``1 + 4 * soil + 2 * rough + upland``.
FUSION_CLASSES: tuple[str, ...] = (
    "water",
    "lowland crops",  # vegetation, smooth, lowland
    "upland grassland",  # vegetation, smooth, upland
    "lowland forest",  # vegetation, rough, lowland
    "upland forest",  # vegetation, rough, upland
    "lowland bare soil",  # soil, smooth, lowland
    "upland bare rock",  # soil, smooth, upland
    "lowland built-up",  # soil, rough, lowland
    "upland built-up",  # soil, rough, upland
)

_DEFAULT_OPTICAL = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)
# Mean backscatter in dB, rows (water, smooth land, rough land), columns (VV, VH): rough
# land (forest canopy, buildings) scatters more, in both polarisations.
_SIGMA0_DB = np.array([[-22.0, -29.0], [-12.0, -19.0], [-6.0, -12.0]])
# Correlation lengths (metres) of the truth fields.
_LENGTHS = {"wetness": 240.0, "greenness": 120.0, "roughness": 160.0, "relief": 400.0}
_TEXTURE_LENGTH = 60.0
_N_FEATURES = 64


class _Field:
    """A zero-mean, unit-variance smooth random field on the ground, evaluable on any grid.

    Random Fourier features of a Gaussian covariance ``exp(-|d|^2 / (2 l^2))``:
    ``f(x, y) = sqrt(2 / K) sum_k cos(wx_k x + wy_k y + b_k)``, ``w ~ N(0, I / l^2)``,
    ``b ~ U(0, 2 pi)``, evaluated in float64 from absolute CRS coordinates.
    """

    def __init__(self, seed: int, tag: int, length: float) -> None:
        rng = np.random.default_rng([int(seed), 0x5E45, int(tag)])
        self.wx, self.wy = rng.standard_normal((2, _N_FEATURES)) / length
        self.phase = rng.uniform(0.0, 2.0 * np.pi, _N_FEATURES)

    def on(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Field at the points ``(xs[j], ys[i])`` as an ``(len(ys), len(xs))`` float64 array."""
        a = self.wx[:, None] * xs[None, :] + self.phase[:, None]  # (K, W)
        b = self.wy[:, None] * ys[None, :]  # (K, H)
        # cos(a + b) = cos a cos b - sin a sin b: two matrix products, no per-pixel trig.
        out = np.cos(b).T @ np.cos(a) - np.sin(b).T @ np.sin(a)
        return out * math.sqrt(2.0 / _N_FEATURES)


class _World:
    """The ground truth of one seed: land cover, roughness and relief at any pixel centres."""

    def __init__(self, seed: int) -> None:
        self.fields = {k: _Field(seed, i, ell) for i, (k, ell) in enumerate(_LENGTHS.items())}
        self.texture = [_Field(seed, 10 + band, _TEXTURE_LENGTH) for band in range(2)]

    def cover(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        wet = self.fields["wetness"].on(xs, ys)
        green = self.fields["greenness"].on(xs, ys)
        land = np.where(green > -0.3, COVER_VEGETATION, COVER_SOIL)
        return np.where(wet < -0.85, COVER_WATER, land).astype(np.uint8)

    def rough(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return self.fields["roughness"].on(xs, ys) > 0.3

    def elevation(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return UPLAND_METRES + 120.0 * self.fields["relief"].on(xs, ys)


def _centres(transform: Affine, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """CRS coordinates of the pixel centres of a north-up grid: ``(xs (W,), ys (H,))``."""
    xs = transform.c + transform.a * (np.arange(width) + 0.5)
    ys = transform.f + transform.e * (np.arange(height) + 0.5)
    return xs, ys


def _optical_grid(
    who: str, height: int, width: int, transform: Affine | None
) -> tuple[int, int, Affine]:
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise GeoValueError(
            f"{who} needs positive integer height and width of the optical grid; received "
            f"{(height, width)}"
        )
    transform = _DEFAULT_OPTICAL if transform is None else Affine(*tuple(transform)[:6])
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise GeoValueError(
            f"{who} builds grids around a north-up optical grid (a > 0, b = d = 0, e < 0); "
            f"received transform {tuple(transform)[:6]}"
        )
    return int(height), int(width), transform


def _sensor_grid(
    optical: Affine,
    height: int,
    width: int,
    res: float,
    margin: float | None,
    shift: tuple[float, float],
    who: str,
) -> tuple[Affine, int, int]:
    """A north-up ``res`` grid covering the optical footprint plus ``margin`` metres.

    Its corner is ``(left - margin - shift_x, top + margin + shift_y)``: ``shift`` moves it
    off the optical grid so that no pixel corner of one lies on the other.
    """
    if not (math.isfinite(res) and res > 0):
        raise GeoValueError(f"{who}: res must be a positive pixel size in metres; got {res}")
    margin = 2.0 * res if margin is None else float(margin)
    if not (math.isfinite(margin) and margin >= 0):
        raise GeoValueError(f"{who}: margin must be >= 0 metres; got {margin}")
    left, top = optical.c, optical.f
    right, bottom = left + optical.a * width, top + optical.e * height
    x0 = left - margin - float(shift[0])
    y0 = top + margin + float(shift[1])
    n_cols = math.ceil((right + margin - x0) / res)
    n_rows = math.ceil((y0 - (bottom - margin)) / res)
    return Affine(res, 0.0, x0, 0.0, -res, y0), n_rows, n_cols


def _check_enl(who: str, enl: float) -> float:
    enl = float(enl)
    if not (math.isfinite(enl) and enl > 0):
        raise GeoValueError(
            f"{who}: enl (equivalent number of looks) must be a positive number, e.g. 4.4 for "
            f"Sentinel-1 IW GRD; received {enl}"
        )
    return enl


def synthetic_s1_scene(
    height: int = 256,
    width: int = 256,
    *,
    seed: int = 0,
    crs: str = "EPSG:32630",
    optical_transform: Affine | None = None,
    res: float = 20.0,
    enl: float = 4.4,
    margin: float | None = None,
    shift: tuple[float, float] = (7.0, 3.0),
) -> GeoTensor:
    """Return a Sentinel-1-like ``(2, H, W)`` float32 GeoTensor of VV, VH linear intensity.

    ``z = sigma0 * n`` with ``n ~ Gamma(enl, 1 / enl)`` (mean 1, variance ``1 / enl``), one
    independent draw per pixel and band: fully developed multiplicative speckle of known
    equivalent number of looks. ``sigma0`` (dB) is -22 / -29 (VV / VH) on water, -12 / -19
    on smooth land and -6 / -12 on rough land (forest, buildings), plus a smooth texture of
    0.5 dB standard deviation. Vegetation and bare soil look alike here: only the optical
    scene tells them apart.

    The grid is ``res`` metres, north-up, and covers the optical grid (``height`` x
    ``width`` pixels at ``optical_transform``, default that of
    :func:`~geocatalog.testing.synthetic_scene`) plus ``margin`` metres (default
    ``2 * res``), with its corner moved by ``shift`` metres so no pixel corner coincides.

    Example:
        >>> s1 = synthetic_s1_scene(64, 64, seed=1)
        >>> s1.shape, s1.dtype.name, s1.res, S1_BANDS
        ((2, 37, 37), 'float32', (20.0, 20.0), ('VV', 'VH'))
    """
    h, w, optical = _optical_grid("synthetic_s1_scene", height, width, optical_transform)
    enl = _check_enl("synthetic_s1_scene", enl)
    transform, n_rows, n_cols = _sensor_grid(
        optical, h, w, float(res), margin, shift, "synthetic_s1_scene"
    )
    world = _World(seed)
    xs, ys = _centres(transform, n_rows, n_cols)
    cover, rough = world.cover(xs, ys), world.rough(xs, ys)
    kind = np.where(cover == COVER_WATER, 0, np.where(rough, 2, 1))
    out = np.empty((2, n_rows, n_cols), dtype=np.float32)
    rng = np.random.default_rng([int(seed), 0x51])
    for band in range(2):
        db = _SIGMA0_DB[kind, band] + 0.5 * world.texture[band].on(xs, ys)
        speckle = rng.standard_gamma(enl, size=(n_rows, n_cols), dtype=np.float32)
        out[band] = (10.0 ** (db / 10.0)).astype(np.float32) * (speckle / np.float32(enl))
    return GeoTensor(out, transform, crs, band_names=S1_BANDS)


def synthetic_dem(
    height: int = 256,
    width: int = 256,
    *,
    seed: int = 0,
    crs: str = "EPSG:32630",
    optical_transform: Affine | None = None,
    res: float = 30.0,
    margin: float | None = None,
    shift: tuple[float, float] = (11.0, 17.0),
) -> GeoTensor:
    """Return a ``(1, H, W)`` float32 GeoTensor of smooth terrain elevation in metres.

    ``elevation = 300 + 120 f`` with ``f`` a unit-variance smooth random field of 400 m
    correlation length (about half the area lies above :data:`UPLAND_METRES`). The grid is
    ``res`` metres, north-up, covering the optical footprint as in
    :func:`synthetic_s1_scene` (defaults: 30 m, a ``2 * res`` margin, corner shifted by
    ``shift`` metres).

    Example:
        >>> dem = synthetic_dem(64, 64, seed=1)
        >>> dem.shape, dem.dtype.name, dem.res
        ((1, 26, 26), 'float32', (30.0, 30.0))
    """
    h, w, optical = _optical_grid("synthetic_dem", height, width, optical_transform)
    transform, n_rows, n_cols = _sensor_grid(
        optical, h, w, float(res), margin, shift, "synthetic_dem"
    )
    xs, ys = _centres(transform, n_rows, n_cols)
    elevation = _World(seed).elevation(xs, ys).astype(np.float32)
    return GeoTensor(elevation[None], transform, crs, band_names=DEM_BANDS)


class FusionScenes(NamedTuple):
    """What :func:`synthetic_fusion_scenes` returns: three sensors and the true labels."""

    optical: GeoTensor
    s1: GeoTensor
    dem: GeoTensor
    labels: GeoTensor


def synthetic_fusion_scenes(
    height: int = 256,
    width: int = 256,
    *,
    seed: int = 0,
    crs: str = "EPSG:32630",
    transform: Affine | None = None,
    enl: float = 4.4,
    cloud_fraction: float = 0.1,
) -> FusionScenes:
    """Return matching optical, Sentinel-1 and DEM scenes and labels that need all three.

    One ground truth (seeded smooth fields in CRS metres) drives every sensor:

    - optical (:func:`~geocatalog.testing.synthetic_scene` on the 10 m grid ``transform``,
      with its land cover replaced by the truth's water / vegetation / bare soil);
    - Sentinel-1 (:func:`synthetic_s1_scene`, 20 m): water, smooth or rough land;
    - DEM (:func:`synthetic_dem`, 30 m): elevation, lowland or upland.

    ``labels`` is a ``(height, width)`` uint8 GeoTensor on the optical grid: ``0`` water,
    else ``1 + 4 * soil + 2 * rough + upland`` (names in :data:`FUSION_CLASSES`), evaluated
    at the optical pixel centres. Each land factor is visible to one sensor only (spectra
    tell vegetation from soil, backscatter smooth from rough, the DEM lowland from
    upland), so no single sensor predicts more than a fraction of the classes.

    Example:
        >>> optical, s1, dem, labels = synthetic_fusion_scenes(64, 64, seed=2)
        >>> optical.res, s1.res, dem.res, labels.shape, labels.dtype.name
        ((10.0, 10.0), (20.0, 20.0), (30.0, 30.0), (64, 64), 'uint8')
        >>> labels.transform == optical.transform and len(FUSION_CLASSES)
        9
    """
    h, w, optical_transform = _optical_grid("synthetic_fusion_scenes", height, width, transform)
    world = _World(seed)
    xs, ys = _centres(optical_transform, h, w)
    cover = world.cover(xs, ys)
    rough = world.rough(xs, ys)
    upland = world.elevation(xs, ys) > UPLAND_METRES
    soil = (cover == COVER_SOIL).astype(np.uint8)
    land_class = 1 + 4 * soil + 2 * rough.astype(np.uint8) + upland.astype(np.uint8)
    labels = np.where(cover == COVER_WATER, 0, land_class).astype(np.uint8)
    optical = synthetic_scene(
        h,
        w,
        seed=seed,
        crs=crs,
        transform=optical_transform,
        cloud_fraction=cloud_fraction,
        cover=cover,
    )
    grid = {"seed": seed, "crs": crs, "optical_transform": optical_transform}
    s1 = synthetic_s1_scene(h, w, enl=enl, **grid)
    dem = synthetic_dem(h, w, **grid)
    return FusionScenes(optical, s1, dem, GeoTensor(labels, optical_transform, crs))
