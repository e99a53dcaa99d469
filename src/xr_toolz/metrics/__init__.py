"""Metrics of a prediction against a reference, on DataArrays over named dims.

``metric(reference, prediction)``, the order of ``pipekit_array.metrics`` and of
``pipekit.diff.AB(old, new, metric=xr_toolz.metrics.RMSE())``. Each reduces over ``dim``
(None: all), skips NaN pairwise (``skipna``), and can weight by ``weights="cos_lat"`` or a
coordinate name; the numbers equal xskillscore's on the same inputs.

Ensemble metrics are called ``metric(observation, ensemble)`` with the members on
``member_dim`` (CRPS, SpreadSkill, RankHistogram); the binary-event scores POD, FAR, CSI
and IoU take a ``threshold`` (event ``value >= threshold``).
"""

from ._contingency import (
    CSI as CSI,
    FAR as FAR,
    POD as POD,
    AbstractContingencyMetric as AbstractContingencyMetric,
    IoU as IoU,
)
from ._ensemble import (
    CRPS as CRPS,
    AbstractEnsembleMetric as AbstractEnsembleMetric,
    RankHistogram as RankHistogram,
    SpreadSkill as SpreadSkill,
)
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
    "CRPS",
    "CSI",
    "FAR",
    "MAE",
    "NRMSE",
    "POD",
    "R2",
    "RMSE",
    "AbstractContingencyMetric",
    "AbstractEnsembleMetric",
    "AbstractXrMetric",
    "Bias",
    "Correlation",
    "IoU",
    "MetricInputError",
    "RankHistogram",
    "SkillScore",
    "SpreadSkill",
]
