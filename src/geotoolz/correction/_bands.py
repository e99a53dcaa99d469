"""Which bands a correction corrects, passes through or consumes, and per-band parameters.

All of it is decided from the static band count (``values.shape[-3]``), on the host, so
under jit the layout is part of the trace and the per-band parameters are constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import pipekit as pk
from pipekit.validate import check_index

from .._carrier import band_axis_size
from .._errors import BandIndexError, GeotoolzValueError

__all__ = [
    "BandLayout",
    "band_layout",
    "broadcast_bands",
    "check_keep_bands",
    "degrees_to_cos",
    "per_band",
]


@dataclass(frozen=True)
class BandLayout:
    """Band roles, as non-negative indices into the input's band axis."""

    n: int
    corrected: tuple[int, ...]
    kept: tuple[int, ...]
    sun_zenith: int | None
    out: tuple[int, ...]  # the input bands of the output, in order (sun zenith dropped)

    def kept_mask(self) -> np.ndarray:
        return np.isin(np.arange(self.n), self.kept)


def check_keep_bands(owner: str, keep_bands: Any) -> tuple[int, ...]:
    if isinstance(keep_bands, int) and not isinstance(keep_bands, bool):
        keep_bands = (keep_bands,)
    if not isinstance(keep_bands, list | tuple):
        raise pk.ConfigError(
            f"{owner}: keep_bands must be a list of band indices passed through uncorrected "
            f"(e.g. [-1] for a QA band, [] for none), got {keep_bands!r}"
        )
    return tuple(check_index(owner, "keep_bands", b) for b in keep_bands)


def band_layout(
    owner: str, values: Any, keep_bands: tuple[int, ...], sun_zenith_band: int | None = None
) -> BandLayout:
    """Resolve ``keep_bands`` and ``sun_zenith_band`` against the input's band count."""
    n = band_axis_size(owner, values, "band axis", 0)
    for b in keep_bands:
        band_axis_size(owner, values, "keep_bands", b)
    if sun_zenith_band is not None:
        band_axis_size(owner, values, "sun_zenith_band", sun_zenith_band)
    kept = tuple(sorted({b % n for b in keep_bands}))
    sza = None if sun_zenith_band is None else sun_zenith_band % n
    if sza is not None and sza in kept:
        raise BandIndexError(
            f"{owner}: sun_zenith_band={sun_zenith_band} is also in keep_bands={keep_bands}; "
            f"the sun zenith band is consumed (dropped from the output), so it cannot be kept"
        )
    corrected = tuple(b for b in range(n) if b not in kept and b != sza)
    if not corrected:
        raise GeotoolzValueError(
            f"{owner}: no band left to correct among {n} (keep_bands={keep_bands}, "
            f"sun_zenith_band={sun_zenith_band}); the input needs at least one optical band"
        )
    out = tuple(b for b in range(n) if b != sza)
    return BandLayout(n, corrected, kept, sza, out)


def per_band(
    owner: str, name: str, value: float | tuple[float, ...], layout: BandLayout, neutral: float
) -> np.ndarray:
    """``(n,)`` float64: ``value`` at the corrected bands, ``neutral`` at the others.

    A single number applies to every corrected band; a sequence must hold one number per
    corrected band, in band order.
    """
    full = np.full(layout.n, neutral, dtype=np.float64)
    values = (value,) if isinstance(value, float | int) else tuple(value)
    if len(values) == 1:
        full[list(layout.corrected)] = values[0]
        return full
    if len(values) != len(layout.corrected):
        others = []
        if layout.kept:
            others.append(f"kept bands {list(layout.kept)}")
        if layout.sun_zenith is not None:
            others.append(f"sun zenith band {layout.sun_zenith}")
        besides = f" (besides {' and '.join(others)})" if others else ""
        raise GeotoolzValueError(
            f"{owner}: {name} has {len(values)} values, but the input has "
            f"{len(layout.corrected)} bands to correct{besides} out of {layout.n}; pass one "
            f"{name} per corrected band, in band order, or a single number for all"
        )
    full[list(layout.corrected)] = values
    return full


def broadcast_bands(xp: Any, vector: np.ndarray, ndim: int, dtype: Any) -> Any:
    """``(n,)`` host vector as a ``(1, ..., n, 1, 1)`` array of rank ``ndim``."""
    shape = (1,) * (ndim - 3) + (vector.shape[0], 1, 1)
    return xp.asarray(np.reshape(vector, shape), dtype=dtype)


def degrees_to_cos(xp: Any, zenith: Any) -> Any:
    """``cos(zenith)`` for zenith in degrees; NaN outside [0, 90) (sun at or below the horizon)."""
    cos = xp.cos(zenith * (math.pi / 180.0))
    # Compare the angle, not the cosine: cos(90 deg) is 6e-17 in floating point, not 0.
    day = (zenith >= 0) & (zenith < 90)
    return xp.where(day, cos, xp.asarray(math.nan, dtype=cos.dtype))
