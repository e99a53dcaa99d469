"""Per-band scalers fitted on data: StandardScaler, RobustScaler, MinMaxScaler.

Each is the scikit-learn scaler of the same name applied to every band of a scene, with
the band's valid pixels as the samples: ``sklearn.preprocessing.StandardScaler().fit(
X)`` where ``X[:, b]`` holds band ``b``'s non-nodata pixels.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import numpy as np

import pipekit as pk
from pipekit_array import nanpercentile

from .._carrier import float_values, namespace, nan_of, rewrap, values_of
from ._stats import (
    NotFittedError,
    as_band_table,
    band_matrix,
    check_bands,
    check_valid_counts,
    leaf_namespace,
    table_to_config,
)

__all__ = ["AbstractBandScaler", "MinMaxScaler", "RobustScaler", "StandardScaler"]


def _nonzero(xp: Any, scale: Any) -> Any:
    """scikit-learn's ``_handle_zeros_in_scale``: a constant band is divided by 1, not 0."""
    return xp.where(scale == 0, xp.ones_like(scale), scale)


class AbstractBandScaler(pk.Operator):
    """``(x - center[b]) / scale[b]`` per band ``b``, with ``center``/``scale`` fitted.

    ``center_array`` and ``scale_array`` (shape ``(band,)``, float32) are the operator's
    array leaves: ``jax.tree.leaves``, optax and ``eqx.tree_serialise_leaves`` see them,
    they can be trained or frozen (``eqx.partition``) like weights, and under ``jit`` a
    scaler fitted on other data reuses the compiled program. The constructor arguments
    ``center`` / ``scale`` are the same numbers as plain float lists (the YAML form,
    read back from the leaves), so a fitted scaler round-trips through YAML and its
    ``config_hash`` identifies the fitted numbers.
    """

    center_array: Any
    scale_array: Any

    def _init_tables(self, center: Any, scale: Any) -> None:
        name = type(self).__name__
        if (center is None) != (scale is None):
            raise pk.ConfigError(
                f"{name}: center and scale must be given together (a fitted scaler) or both "
                f"left None (fit it with .fit(x)); got center={center!r}, scale={scale!r}"
            )
        if center is None:
            self.center_array, self.scale_array = None, None
            return
        c = as_band_table(name, "center", center)
        s = as_band_table(name, "scale", scale, positive=True)
        if c.shape != s.shape:
            raise pk.ConfigError(
                f"{name}: center and scale must have one entry per band each; got "
                f"{c.size} centers and {s.size} scales"
            )
        self.center_array, self.scale_array = c, s

    @property
    def center(self) -> tuple[float, ...] | None:
        """Per-band centers as config (floats), read from ``center_array``."""
        return table_to_config(self.center_array)

    @property
    def scale(self) -> tuple[float, ...] | None:
        """Per-band scales as config (floats), read from ``scale_array``."""
        return table_to_config(self.scale_array)

    @property
    def fitted(self) -> bool:
        return self.center_array is not None

    @abc.abstractmethod
    def _statistics(self, xp: Any, matrix: Any) -> tuple[Any, Any]:
        """``(center, scale)`` of shape ``(band,)`` from ``matrix`` (band, n), NaN = nodata."""

    def _finish(self, xp: Any, scaled: Any) -> Any:
        """Map ``(x - center) / scale`` to the output (MinMaxScaler's feature range)."""
        return scaled

    def fit(self, x: Any) -> AbstractBandScaler:
        """A copy of this scaler with statistics fitted on ``x``'s valid pixels, per band.

        ``x`` is a GeoTensor (or DataArray, bare array) of shape ``(..., band, y, x)``; a
        stack of scenes pools its scenes. Nodata (the fill value, NaN) is left out. Runs
        eagerly on NumPy or traced (the statistics are then traced leaves).

        Raises:
            GeotoolzValueError: values without a band axis, or (eagerly) a band with no
                valid pixel.
        """
        name = type(self).__name__
        matrix = band_matrix(name, x)
        xp = namespace(matrix)
        if isinstance(matrix, np.ndarray):
            check_valid_counts(name, np.sum(~np.isnan(matrix), axis=1))
        center, scale = self._statistics(xp, matrix)
        center = xp.astype(center, xp.float32)
        scale = xp.astype(_nonzero(xp, scale), xp.float32)
        return eqx.tree_at(
            lambda op: (op.center_array, op.scale_array),
            self,
            (center, scale),
            is_leaf=lambda v: v is None,
        )

    def _apply(self, x: Any) -> Any:
        name = type(self).__name__
        if not self.fitted:
            raise NotFittedError(
                f"{name}: not fitted, so it has no per-band statistics; call "
                f"{name}(...).fit(x) on training data first (or pass center= and scale=)"
            )
        values = float_values(x, values=values_of(x))
        check_bands(name, values, self.center_array.shape[0])
        xp, values = leaf_namespace(values, self.center_array, self.scale_array)
        shape = (values.shape[-3], 1, 1)
        center = xp.reshape(xp.astype(xp.asarray(self.center_array), values.dtype), shape)
        scale = xp.reshape(xp.astype(xp.asarray(self.scale_array), values.dtype), shape)
        out = self._finish(xp, (values - center) / scale)
        out = xp.where(xp.isnan(values), nan_of(values.dtype), out)  # nodata stays nodata
        return rewrap(x, out, fill_value=float("nan"))


def _nanmean_std(xp: Any, matrix: Any) -> tuple[Any, Any]:
    valid = ~xp.isnan(matrix)
    zero = xp.zeros_like(matrix)
    count = xp.astype(xp.sum(valid, axis=1), matrix.dtype)
    mean = xp.sum(xp.where(valid, matrix, zero), axis=1) / count
    dev = xp.where(valid, matrix - mean[:, None], zero)
    return mean, xp.sqrt(xp.sum(dev * dev, axis=1) / count)


class StandardScaler(AbstractBandScaler):
    """Standardise each band: ``(x - mean[b]) / std[b]`` (population std, ``ddof=0``).

    As ``sklearn.preprocessing.StandardScaler`` on the band's valid pixels; a constant
    band (std 0) is divided by 1. Nodata stays nodata (NaN, ``fill_value`` NaN).

    Args:
        center, scale: fitted per-band mean and std (the YAML form); leave both None and
            call :meth:`fit`.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> x = np.array([[[1.0, 3.0, np.nan]]])
        >>> op = gz.normalize.StandardScaler().fit(x)
        >>> op.center, op.scale
        ((2.0,), (1.0,))
        >>> op(x)
        array([[[-1.,  1., nan]]])
    """

    def __init__(self, center: Any = None, scale: Any = None) -> None:
        self._init_tables(center, scale)

    def _statistics(self, xp: Any, matrix: Any) -> tuple[Any, Any]:
        return _nanmean_std(xp, matrix)


class RobustScaler(AbstractBandScaler):
    """Scale each band by its quantiles: ``(x - median[b]) / (P[q_hi] - P[q_lo])[b]``.

    As ``sklearn.preprocessing.RobustScaler(quantile_range=...)`` on the band's valid
    pixels: percentiles by NumPy's default linear rule (:func:`pipekit_array.
    nanpercentile`); an interquantile range of 0 is replaced by 1. Robust to outliers
    (clouds, glint) that would dominate a mean and std.

    Args:
        quantile_range: ``(q_lo, q_hi)`` percentiles, ``0 <= q_lo < q_hi <= 100``.
        center, scale: fitted per-band median and range (the YAML form); see :meth:`fit`.
    """

    quantile_range: tuple[float, float] = eqx.field(static=True)

    def __init__(
        self,
        quantile_range: tuple[float, float] = (25.0, 75.0),
        center: Any = None,
        scale: Any = None,
    ) -> None:
        try:
            lo, hi = (float(q) for q in quantile_range)
        except (TypeError, ValueError):
            raise pk.ConfigError(
                f"RobustScaler: quantile_range must be two percentiles (q_lo, q_hi), got "
                f"{quantile_range!r}"
            ) from None
        if not 0.0 <= lo < hi <= 100.0:
            raise pk.ConfigError(
                f"RobustScaler: quantile_range must satisfy 0 <= q_lo < q_hi <= 100, got {(lo, hi)}"
            )
        self.quantile_range = (lo, hi)
        self._init_tables(center, scale)

    def _statistics(self, xp: Any, matrix: Any) -> tuple[Any, Any]:
        lo, hi = self.quantile_range
        p_lo, median, p_hi = nanpercentile(matrix, (lo, 50.0, hi), axis=1)
        return median, p_hi - p_lo


class MinMaxScaler(AbstractBandScaler):
    """Map each band's range onto ``feature_range``: ``(x - min) / (max - min) (b - a) + a``.

    As ``sklearn.preprocessing.MinMaxScaler(feature_range=(a, b))`` on the band's valid
    pixels; a constant band has range 1. Pixels outside the fitted range land outside
    ``(a, b)`` (no clipping, scikit-learn's default).

    Args:
        feature_range: ``(a, b)`` with ``a < b``.
        center, scale: fitted per-band minimum and range ``max - min`` (the YAML form).
    """

    feature_range: tuple[float, float] = eqx.field(static=True)

    def __init__(
        self,
        feature_range: tuple[float, float] = (0.0, 1.0),
        center: Any = None,
        scale: Any = None,
    ) -> None:
        try:
            a, b = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise pk.ConfigError(
                f"MinMaxScaler: feature_range must be two numbers (a, b), got {feature_range!r}"
            ) from None
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise pk.ConfigError(
                f"MinMaxScaler: feature_range must be finite with a < b, got {(a, b)}"
            )
        self.feature_range = (a, b)
        self._init_tables(center, scale)

    def _statistics(self, xp: Any, matrix: Any) -> tuple[Any, Any]:
        valid = ~xp.isnan(matrix)
        inf = xp.full_like(matrix, float("inf"))
        low = xp.min(xp.where(valid, matrix, inf), axis=1)
        high = xp.max(xp.where(valid, matrix, -inf), axis=1)
        return low, high - low

    def _finish(self, xp: Any, scaled: Any) -> Any:
        a, b = self.feature_range
        return scaled * (b - a) + a
