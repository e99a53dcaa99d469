"""SelectBands: keep some bands of a stack, in a given order."""

from __future__ import annotations

from typing import Any

import equinox as eqx

import pipekit as pk

from .._carrier import band_names_of, rewrap, values_of
from .._errors import GeotoolzValueError

__all__ = ["SelectBands"]


class SelectBands(pk.Operator):
    """Keep the bands ``bands`` (indices on the band axis ``-3``, in that order).

    Handy after :class:`AlignAndStack` to feed a model one sensor's bands (e.g. the
    single-sensor baselines of Case 11). Negative indices count from the end.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.fusion.SelectBands((2, 0))(np.arange(3.0).reshape(3, 1, 1)).ravel().tolist()
        [2.0, 0.0]
    """

    bands: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, bands: tuple[int, ...]) -> None:
        bands = tuple(bands)
        if not bands or not all(isinstance(b, int) and not isinstance(b, bool) for b in bands):
            raise pk.ConfigError(
                f"SelectBands: bands must be a non-empty tuple of ints, got {bands!r}"
            )
        self.bands = bands

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        n = values.shape[-3] if values.ndim >= 3 else 0
        if not all(-n <= b < n for b in self.bands):
            raise GeotoolzValueError(
                f"SelectBands(bands={self.bands}) needs values (..., band, y, x) with more than "
                f"{max(abs(b) for b in self.bands)} bands, got shape {tuple(values.shape)}"
            )
        names = band_names_of(x)
        if names is not None:
            names = tuple(names[b] for b in self.bands)
            if len(set(names)) != len(names):  # a band picked twice: names must be unique
                names = None
        return rewrap(x, values[..., list(self.bands), :, :], band_names=names)
