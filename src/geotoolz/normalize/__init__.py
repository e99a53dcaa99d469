"""Per-band normalisation: fitted scalers, histogram matching and the asinh stretch.

``StandardScaler``, ``RobustScaler`` and ``MinMaxScaler`` are scikit-learn's scalers per
band, fitted with ``op.fit(x)`` on valid pixels; their statistics are array leaves
(saved with weights, trainable or frozen) and also their YAML config.
"""

from ._histogram import AsinhScale as AsinhScale, HistogramMatch as HistogramMatch
from ._scalers import (
    AbstractBandScaler as AbstractBandScaler,
    MinMaxScaler as MinMaxScaler,
    RobustScaler as RobustScaler,
    StandardScaler as StandardScaler,
)
from ._stats import NotFittedError as NotFittedError

__all__ = [
    "AbstractBandScaler",
    "AsinhScale",
    "HistogramMatch",
    "MinMaxScaler",
    "NotFittedError",
    "RobustScaler",
    "StandardScaler",
]
