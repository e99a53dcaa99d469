"""Metrics of a prediction against a reference, on DataArrays over named dims.

``metric(reference, prediction)``, the order of ``pipekit_array.metrics`` and of
``pipekit.diff.AB(old, new, metric=xr_toolz.metrics.RMSE())``. Each reduces over ``dim``
(None: all), skips NaN pairwise (``skipna``), and can weight by ``weights="cos_lat"`` or a
coordinate name; the numbers equal xskillscore's on the same inputs.
"""

from ._metrics import (
    MAE as MAE,
    NRMSE as NRMSE,
    R2 as R2,
    RMSE as RMSE,
    AbstractXrMetric as AbstractXrMetric,
    Bias as Bias,
    Correlation as Correlation,
    MetricInputError as MetricInputError,
    SkillScore as SkillScore,
)

__all__ = [
    "MAE",
    "NRMSE",
    "R2",
    "RMSE",
    "AbstractXrMetric",
    "Bias",
    "Correlation",
    "MetricInputError",
    "SkillScore",
]
