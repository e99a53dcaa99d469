"""Histogram matching to a reference scene, and the asinh stretch."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import numpy as np

import pipekit as pk

from .._carrier import float_values, nan_of, rewrap, values_of
from .._errors import GeotoolzValueError
from ._stats import band_matrix, check_bands, leaf_namespace

__all__ = ["AsinhScale", "HistogramMatch"]


def _reference_tables(reference: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per band: the distinct valid values ``u_k`` and their CDF ``q_k = #(v <= u_k) / n``.

    Padded to one width with the last point repeated (quantile 1, the maximum), at least 2.
    """
    matrix = np.asarray(band_matrix("HistogramMatch", reference), dtype=np.float64)
    rows = []
    for b, band in enumerate(matrix):
        band = band[~np.isnan(band)]
        if band.size == 0:
            raise GeotoolzValueError(
                f"HistogramMatch: reference band {b} has no valid pixel (all nodata or NaN); "
                "choose a reference where every band has data"
            )
        unique, counts = np.unique(band, return_counts=True)
        rows.append((np.cumsum(counts) / band.size, unique))
    width = max(2, *(q.size for q, _ in rows))
    quantiles = np.ones((len(rows), width))
    values = np.empty((len(rows), width))
    for b, (q, u) in enumerate(rows):
        quantiles[b, : q.size] = q
        values[b, : u.size], values[b, u.size :] = u, u[-1]
    return quantiles.astype(np.float32), values.astype(np.float32)


def _table(name: str, value: Any) -> np.ndarray:
    try:
        table = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise pk.ConfigError(
            f"HistogramMatch: reference[{name!r}] must be a (band, n) table of floats, got "
            f"{value!r}"
        ) from None
    if table.ndim != 2 or table.shape[1] < 2 or not np.isfinite(table).all():
        raise pk.ConfigError(
            f"HistogramMatch: reference[{name!r}] must be a finite (band, n >= 2) table, got "
            f"shape {table.shape}"
        )
    return table


def _interp(xp: Any, x: Any, xs: Any, ys: Any) -> Any:
    """``np.interp(x, xs, ys)`` for sorted ``xs`` (repeats allowed), in any namespace."""
    i = xp.clip(xp.searchsorted(xs, x, side="left"), 1, xs.shape[0] - 1)
    x0, x1 = xp.take(xs, i - 1), xp.take(xs, i)
    y0, y1 = xp.take(ys, i - 1), xp.take(ys, i)
    dx = x1 - x0
    t = xp.where(dx > 0, (x - x0) / xp.where(dx > 0, dx, xp.ones_like(dx)), xp.ones_like(dx))
    t = xp.clip(t, 0.0, 1.0)
    return y0 + t * (y1 - y0)


class HistogramMatch(pk.Operator):
    """Match each band's histogram to a reference's: ``out = G_b^-1(F_b(x))``.

    ``F_b(x) = #(valid source pixels of band b <= x) / n`` is the source image's empirical
    CDF, per image and band; ``G_b^-1`` interpolates linearly between the reference
    band's distinct values ``u_k`` at their CDF ``q_k``: the algorithm of
    ``skimage.exposure.match_histograms`` (channel-wise), with nodata left out of both
    histograms and kept as nodata (NaN). A stack of scenes is matched image by image.

    The reference is kept as two ``(band, n)`` float32 array leaves, ``quantiles_array``
    and ``values_array`` (``n``: the most distinct values of a band), so a small
    reference chip keeps the operator small. Its config (YAML) is the same tables:
    ``reference={"quantiles": [[...]], "values": [[...]]}``.

    Args:
        reference: a GeoTensor / DataArray / array ``(..., band, y, x)`` (a stack pools
            its scenes), or the tables as a mapping (the YAML form).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> ref = np.array([[[10.0, 20.0, 30.0, 40.0]]])
        >>> gz.normalize.HistogramMatch(ref)(np.array([[[4.0, 1.0, 3.0, 2.0]]]))
        array([[[40., 10., 30., 20.]]])
    """

    quantiles_array: Any
    values_array: Any

    def __init__(self, reference: Any) -> None:
        if isinstance(reference, Mapping):
            if set(reference) != {"quantiles", "values"}:
                raise pk.ConfigError(
                    "HistogramMatch: a reference mapping must have exactly the keys "
                    f"'quantiles' and 'values' (as YAML writes it), got {sorted(reference)}"
                )
            q, v = (
                _table("quantiles", reference["quantiles"]),
                _table("values", reference["values"]),
            )
            if q.shape != v.shape:
                raise pk.ConfigError(
                    f"HistogramMatch: reference quantiles {q.shape} and values {v.shape} "
                    "must have the same (band, n) shape"
                )
        else:
            q, v = _reference_tables(reference)
        self.quantiles_array, self.values_array = q, v

    @property
    def reference(self) -> dict[str, list[list[float]]]:
        """The reference tables as config (read from the leaves)."""
        return {
            "quantiles": np.asarray(self.quantiles_array).astype(float).tolist(),
            "values": np.asarray(self.values_array).astype(float).tolist(),
        }

    def _apply(self, x: Any) -> Any:
        values = float_values(x, values=values_of(x))
        check_bands("HistogramMatch", values, self.quantiles_array.shape[0])
        xp, values = leaf_namespace(values, self.quantiles_array, self.values_array)
        dtype = values.dtype
        quantiles = xp.astype(xp.asarray(self.quantiles_array), dtype)
        table = xp.astype(xp.asarray(self.values_array), dtype)
        lead = values.shape[:-3]
        n_bands, height, width = values.shape[-3:]
        flat = xp.reshape(values, (-1, n_bands, height * width))
        inf = xp.asarray(float("inf"), dtype=dtype)
        pieces = []
        for i in range(flat.shape[0]):  # static: images of a stack, then bands
            for b in range(n_bands):
                piece = flat[i, b]
                missing = xp.isnan(piece)
                ordered = xp.sort(xp.where(missing, inf, piece))
                n = xp.astype(xp.sum(~missing), dtype)
                cdf = xp.astype(xp.searchsorted(ordered, piece, side="right"), dtype) / n
                out = _interp(xp, xp.clip(cdf, 0.0, 1.0), quantiles[b], table[b])
                pieces.append(xp.where(missing, nan_of(dtype), out))
        out = xp.reshape(xp.stack(pieces), (*lead, n_bands, height, width))
        return rewrap(x, out, fill_value=float("nan"))


class AsinhScale(pk.Operator):
    """The asinh stretch: ``asinh(x / s)``, per band ``s`` or one ``s`` for all.

    Linear near 0 (``~ x / s`` for ``|x| << s``) and logarithmic for ``|x| >> s``
    (``~ sign(x) log(2 |x| / s)``), it compresses bright targets without clipping and
    keeps the sign of negative (noise, anomaly) values; Lupton, Gunn & Szalay (1999),
    "A modified magnitude system that produces well-behaved magnitudes, colors, and
    errors even for low signal-to-noise ratio measurements", AJ 118, 1406. Nodata stays
    nodata (NaN).

    Args:
        softening: ``s > 0``: a number, or a list of one per band (axis -3).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> gz.normalize.AsinhScale(2.0)(np.array([[0.0, 2.0]]))
        array([[0.        , 0.88137359]])
    """

    softening: float | tuple[float, ...] = eqx.field(static=True)

    def __init__(self, softening: float | Sequence[float] = 1.0) -> None:
        many = isinstance(softening, Sequence) and not isinstance(softening, str)
        items = list(softening) if many else [softening]
        ok = bool(items) and all(
            not isinstance(s, bool) and isinstance(s, int | float) and math.isfinite(s) and s > 0
            for s in items
        )
        if not ok:
            raise pk.ConfigError(
                "AsinhScale: softening must be a finite number > 0 (or a list of one per "
                f"band), got {softening!r}"
            )
        self.softening = tuple(float(s) for s in items) if many else float(items[0])

    def _apply(self, x: Any) -> Any:
        values = float_values(x, values=values_of(x))
        xp, values = leaf_namespace(values)
        if isinstance(self.softening, tuple):
            check_bands("AsinhScale", values, len(self.softening))
            s = xp.reshape(xp.asarray(self.softening, dtype=values.dtype), (-1, 1, 1))
        else:
            s = xp.asarray(self.softening, dtype=values.dtype)
        return rewrap(x, xp.asinh(values / s), fill_value=float("nan"))
