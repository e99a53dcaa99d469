"""Carrier-neutral agreement metrics: ``metric(reference, prediction)`` -> a scalar per sample.

Each is an Operator (YAML-able, jit- and vmap-able) that leaves nodata out, e.g. the A/B
metric of ``pk.diff.AB(old, new, metric=pa.metrics.RMSE())``.
"""

from ._metrics import (
    MAE as MAE,
    R2 as R2,
    RMSE as RMSE,
    AbstractMetric as AbstractMetric,
    Bias as Bias,
    Correlation as Correlation,
    MetricShapeError as MetricShapeError,
)

__all__ = ["MAE", "R2", "RMSE", "AbstractMetric", "Bias", "Correlation", "MetricShapeError"]
