"""Option vocabularies shared across geocatalog, as ``Literal`` aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

__all__ = ["COMPRESSIONS", "OVERVIEW_RESAMPLINGS", "Compression", "OverviewResampling"]

#: Compression codecs of GDAL's COG driver that ``save_cog`` accepts (case-insensitive).
Compression: TypeAlias = Literal[
    "deflate", "lzw", "zstd", "lzma", "packbits", "jpeg", "webp", "none"
]

#: Resampling used to build COG overviews. ``"nearest"`` keeps bit masks (QA bands) intact.
OverviewResampling: TypeAlias = Literal[
    "nearest", "average", "bilinear", "cubic", "cubicspline", "lanczos", "mode", "rms"
]

COMPRESSIONS: tuple[str, ...] = get_args(Compression)
OVERVIEW_RESAMPLINGS: tuple[str, ...] = get_args(OverviewResampling)
