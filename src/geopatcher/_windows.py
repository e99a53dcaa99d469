"""Chip windows: per-pixel weights for overlap-add, boundary-aware.

A window is a separable profile ``w(r, c) = p(r) q(c)`` sampled at pixel centres and scaled
to a maximum of 1. **Boundary-aware**: on a chip side that touches the field border, the
profile is held at its maximum from the peak out to that side. A plain taper sends the
weight of the outermost pixels towards 0 where no other chip overlaps them: with a Hann
window sampled at its end points (weight exactly 0) overlap-add returns 0/0 on the image
border. Here every pixel a chip covers gets a weight > 0, and pixels on the field border
get full weight. Weighted overlap-add of the identity therefore returns the input
everywhere, borders included.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ._config import piece
from ._errors import PatchConfigError

__all__ = ["SpatialBoxcar", "SpatialGaussian", "SpatialHann", "SpatialTukey", "chip_weights"]


def _centres(n: int) -> np.ndarray:
    """Pixel centres of a chip of ``n`` pixels, as fractions of its length: ``(i + 0.5) / n``."""
    return (np.arange(n, dtype=np.float64) + 0.5) / n


@piece
@dataclasses.dataclass(frozen=True)
class SpatialBoxcar:
    """Uniform weights: overlap-add is the plain mean of the chips covering a pixel."""

    def profile(self, n: int) -> np.ndarray:
        """The 1-D profile over ``n`` pixels, maximum 1."""
        return np.ones(n)


@piece
@dataclasses.dataclass(frozen=True)
class SpatialHann:
    """Hann taper ``p(i) = sin²(π (i + ½) / n)``, sampled at pixel centres, scaled to max 1.

    Sampling at centres (not at the end points, where the taper is 0) keeps every weight > 0.
    """

    def profile(self, n: int) -> np.ndarray:
        """The 1-D profile over ``n`` pixels, maximum 1."""
        p = np.sin(np.pi * _centres(n)) ** 2
        return p / p.max()


@piece
@dataclasses.dataclass(frozen=True)
class SpatialGaussian:
    """Gaussian taper ``p(i) = exp(-½ ((i + ½ - n/2) / (sigma_scale n))²)``, max 1.

    Arguments:
        sigma_scale: the standard deviation as a fraction of the chip size (0.125: the chip
            edge lies 4 sigma from the centre, as in MONAI's ``sliding_window_inference``).
    """

    sigma_scale: float = 0.125

    def __post_init__(self) -> None:
        if isinstance(self.sigma_scale, bool) or not (
            isinstance(self.sigma_scale, int | float) and self.sigma_scale > 0
        ):
            raise PatchConfigError(
                f"SpatialGaussian(sigma_scale) must be a positive number; received "
                f"{self.sigma_scale!r}"
            )
        object.__setattr__(self, "sigma_scale", float(self.sigma_scale))

    def profile(self, n: int) -> np.ndarray:
        """The 1-D profile over ``n`` pixels, maximum 1."""
        z = (_centres(n) - 0.5) / self.sigma_scale
        p = np.exp(-0.5 * z * z)
        return p / p.max()


@piece
@dataclasses.dataclass(frozen=True)
class SpatialTukey:
    """Tukey (tapered cosine) window: flat in the middle, cosine tapers of ``alpha / 2`` each side.

    With ``x = (i + ½) / n``: ``p = ½ (1 - cos(2π x / alpha))`` for ``x < alpha / 2``, 1 in
    the middle, and the mirror image at the far end. ``alpha = 0`` is the boxcar,
    ``alpha = 1`` the Hann window.
    """

    alpha: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not (
            isinstance(self.alpha, int | float) and 0 <= self.alpha <= 1
        ):
            raise PatchConfigError(
                f"SpatialTukey(alpha) must be a number in [0, 1]; received {self.alpha!r}"
            )
        object.__setattr__(self, "alpha", float(self.alpha))

    def profile(self, n: int) -> np.ndarray:
        """The 1-D profile over ``n`` pixels, maximum 1."""
        if self.alpha == 0:
            return np.ones(n)
        x = _centres(n)
        edge = np.minimum(x, 1 - x)  # distance to the nearer chip end, as a fraction
        p = np.where(edge < self.alpha / 2, 0.5 * (1 - np.cos(2 * np.pi * edge / self.alpha)), 1.0)
        return p / p.max()


Window = SpatialBoxcar | SpatialHann | SpatialGaussian | SpatialTukey


@functools.lru_cache(maxsize=256)
def _held(window: Window, n: int, start: bool, end: bool) -> np.ndarray:
    """``window.profile(n)`` held at its maximum from the peak to each touching side."""
    p = window.profile(n).copy()
    peak = np.flatnonzero(p == p.max())
    if start:
        p[: peak[0]] = 1.0
    if end:
        p[peak[-1] + 1 :] = 1.0
    p.setflags(write=False)
    return p


def chip_weights(
    window: Window, size: tuple[int, int], offsets: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Per-chip weights ``(n, rows, cols)`` (float64) for chips at ``offsets`` on ``shape``.

    A chip side touches the border when the chip starts at or before the field's first
    row/column, or ends at or beyond its last.

    Example:
        >>> w = chip_weights(SpatialHann(), (4, 4), np.array([[0, 0], [0, 2]]), (4, 6))
        >>> w[0, 0].round(3).tolist(), w[1, 0].round(3).tolist()
        ([1.0, 1.0, 1.0, 0.172], [0.172, 1.0, 1.0, 1.0])
    """
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    (h, w), (rows, cols) = size, shape
    out = np.empty((len(offsets), h, w))
    for i, (r, c) in enumerate(offsets):
        pr = _held(window, h, bool(r <= 0), bool(r + h >= rows))
        pc = _held(window, w, bool(c <= 0), bool(c + w >= cols))
        np.multiply(pr[:, None], pc[None, :], out=out[i])
    return out
