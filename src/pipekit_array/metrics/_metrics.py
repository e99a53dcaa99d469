"""Agreement metrics of two carriers (reference vs prediction), one scalar per sample."""

from __future__ import annotations

import abc
from typing import Any

from jaxtyping import Float

import pipekit as pk

from .._carrier import float_values, is_carrier, namespace, nan_of, values_of
from .._reduce import nanmean_over

__all__ = ["MAE", "RMSE", "AbstractMetric", "Bias", "Correlation", "MetricShapeError", "R2"]


class MetricShapeError(pk.PipekitError, ValueError):
    """The reference and the prediction of a metric do not have the same shape."""


class AbstractMetric(pk.Operator):
    """``(reference, prediction) -> one scalar per sample``, leaving nodata out.

    Both inputs go through the carrier contract: a bare array, a GeoTensor or a DataArray;
    nodata (NaN, or a pixel whose every band is the carrier's fill value) in *either*
    input leaves that element out of every sum, and a sample with no valid pair gives
    NaN. A stacked carrier (``batch_shape == (n,)``) gives ``(n,)`` values, one per
    sample; anything else a 0-d array. Sums are taken in float32 (float64 stays float64),
    one axis at a time, so NumPy and XLA agree to float32 rounding.

    The order is ``(reference, prediction)``, as ``pipekit.diff.AB`` calls
    ``metric(old(x), new(x))``: the old pipeline is the reference, the new one the
    prediction, and :class:`Bias` is ``new - old``.
    """

    def _apply(self, reference: Any, prediction: Any) -> Any:
        ref, pred = values_of(reference), values_of(prediction)
        name = type(self).__name__
        if tuple(ref.shape) != tuple(pred.shape):
            raise MetricShapeError(
                f"{name}(reference, prediction) compares element by element, so the shapes "
                f"must match; got reference {tuple(ref.shape)} and prediction "
                f"{tuple(pred.shape)}. Align or crop one to the other first."
            )
        xp = namespace(ref)
        dtype = xp.float64 if xp.float64 in (ref.dtype, pred.dtype) else xp.float32
        r, p = float_values(reference, dtype), float_values(prediction, dtype)
        both = ~(xp.isnan(r) | xp.isnan(p))
        nan = nan_of(dtype)
        r, p = xp.where(both, r, nan), xp.where(both, p, nan)
        n_batch = len(tuple(getattr(reference, "batch_shape", ()))) if is_carrier(reference) else 0
        return xp.asarray(self._score(xp, r, p, n_batch))

    @abc.abstractmethod
    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Float[Any, "*batch"]:
        """The metric of ``r`` and ``p`` (NaN where a pair is missing) over non-batch axes."""


def _mean(xp: Any, v: Any, n_batch: int) -> Any:
    return nanmean_over(v, n_batch)


def _centred(xp: Any, v: Any, n_batch: int) -> Any:
    """``v`` minus its own mean over the non-batch axes (NaN kept)."""
    m = _mean(xp, v, n_batch)
    return v - xp.reshape(m, (*m.shape, *(1,) * (v.ndim - n_batch)))


def _ratio(xp: Any, num: Any, den: Any) -> Any:
    """``num / den``, NaN where ``den`` is 0 (a constant input has no correlation)."""
    zero = den == 0
    return xp.where(zero, nan_of(den.dtype), num / xp.where(zero, xp.ones_like(den), den))


class RMSE(AbstractMetric):
    r"""Root-mean-square error: :math:`\sqrt{\frac1n \sum_i (p_i - r_i)^2}` over valid pairs.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.metrics.RMSE()(np.array([0.0, 0.0, np.nan]), np.array([3.0, 4.0, 1.0]))
        array(3.53553391)
    """

    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Any:
        return xp.sqrt(_mean(xp, (p - r) ** 2, n_batch))


class MAE(AbstractMetric):
    r"""Mean absolute error: :math:`\frac1n \sum_i |p_i - r_i|` over valid pairs.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.metrics.MAE()(np.array([0.0, 0.0]), np.array([3.0, -4.0]))
        array(3.5)
    """

    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Any:
        return _mean(xp, xp.abs(p - r), n_batch)


class Bias(AbstractMetric):
    r"""Mean error, prediction minus reference: :math:`\frac1n \sum_i (p_i - r_i)`.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> pa.metrics.Bias()(np.array([0.0, 0.0]), np.array([3.0, -4.0]))
        array(-0.5)
    """

    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Any:
        return _mean(xp, p - r, n_batch)


class Correlation(AbstractMetric):
    r"""Pearson correlation :math:`\frac{\sum (p-\bar p)(r-\bar r)}{\sqrt{\sum (p-\bar p)^2
    \sum (r-\bar r)^2}}` over valid pairs; NaN when either input is constant.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> float(pa.metrics.Correlation()(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])))
        0.9933992677987828
    """

    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Any:
        dr, dp = _centred(xp, r, n_batch), _centred(xp, p, n_batch)
        cov = _mean(xp, dr * dp, n_batch)
        return _ratio(xp, cov, xp.sqrt(_mean(xp, dr * dr, n_batch) * _mean(xp, dp * dp, n_batch)))


class R2(AbstractMetric):
    r"""Coefficient of determination of the prediction against the reference.

    :math:`R^2 = 1 - \frac{\sum (r - p)^2}{\sum (r - \bar r)^2}` over valid pairs, as
    ``sklearn.metrics.r2_score(y_true=reference, y_pred=prediction)``; NaN when the
    reference is constant. Not symmetric: 1 is a perfect prediction, 0 the reference's
    mean, negative worse than that.

    Example:
        >>> import numpy as np
        >>> import pipekit_array as pa
        >>> float(pa.metrics.R2()(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])))
        0.5
    """

    def _score(self, xp: Any, r: Any, p: Any, n_batch: int) -> Any:
        dr = _centred(xp, r, n_batch)
        return 1.0 - _ratio(xp, _mean(xp, (r - p) ** 2, n_batch), _mean(xp, dr * dr, n_batch))
