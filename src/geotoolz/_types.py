"""Option vocabularies shared across geotoolz, as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

__all__ = ["ALIGN_RESAMPLINGS", "AlignResampling"]

#: Point resampling of :class:`geotoolz.fusion.AlignAndStack` (pixel-centre convention).
AlignResampling: TypeAlias = Literal["bilinear", "nearest", "average"]

ALIGN_RESAMPLINGS: tuple[str, ...] = get_args(AlignResampling)
