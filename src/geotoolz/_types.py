"""Option vocabularies shared across geotoolz, as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

__all__ = ["ALIGN_RESAMPLINGS", "COVARIANCE_ESTIMATORS", "AlignResampling", "CovarianceEstimator"]

#: Point resampling of :class:`geotoolz.fusion.AlignAndStack` (pixel-centre convention).
AlignResampling: TypeAlias = Literal["bilinear", "nearest", "average"]

ALIGN_RESAMPLINGS: tuple[str, ...] = get_args(AlignResampling)

#: Covariance estimators of :class:`geotoolz.methane.MatchedFilter`.
CovarianceEstimator: TypeAlias = Literal["empirical", "ledoit_wolf", "oas"]

COVARIANCE_ESTIMATORS: tuple[str, ...] = get_args(CovarianceEstimator)
