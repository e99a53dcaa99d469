"""Option vocabularies shared across geocatalog, as ``Literal`` aliases, and their checks.

One spelling per concept, rasterio's where it has one: resampling kernels are the member
names of ``rasterio.enums.Resampling`` (``"cubic_spline"``, not GDAL's ``"cubicspline"``).
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

from ._errors import GeoValueError

__all__ = [
    "COMPRESSIONS",
    "OVERVIEW_RESAMPLINGS",
    "RESAMPLINGS",
    "Compression",
    "OverviewResampling",
    "Resampling",
    "check_resampling",
]

#: Compression codecs of GDAL's COG driver that ``save_cog`` accepts (case-insensitive).
Compression: TypeAlias = Literal[
    "deflate", "lzw", "zstd", "lzma", "packbits", "jpeg", "webp", "none"
]

#: Resampling used to build COG overviews. ``"nearest"`` keeps bit masks (QA bands) intact.
OverviewResampling: TypeAlias = Literal[
    "nearest", "average", "bilinear", "cubic", "cubic_spline", "lanczos", "mode", "rms"
]

#: Resampling kernels of ``rasterio.warp.reproject`` that ``load_raster`` accepts.
Resampling: TypeAlias = Literal[
    "nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "average", "mode",
    "max", "min", "med", "q1", "q3", "sum", "rms",
]  # fmt: skip

COMPRESSIONS: tuple[str, ...] = get_args(Compression)
OVERVIEW_RESAMPLINGS: tuple[str, ...] = get_args(OverviewResampling)
RESAMPLINGS: tuple[str, ...] = get_args(Resampling)


def check_resampling(who: str, argument: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` lower-cased if it is one of ``allowed``, else raise a teaching error.

    GDAL's spelling ``"cubicspline"`` is refused with the name to use instead
    (``"cubic_spline"``, rasterio's ``Resampling.cubic_spline``), so one word means one
    kernel everywhere.
    """
    name = value.lower() if isinstance(value, str) else value
    if name == "cubicspline":
        raise GeoValueError(
            f"{who}: {argument}={value!r} is spelled 'cubic_spline' in geocatalog (rasterio's "
            f"Resampling.cubic_spline). Pass {argument}='cubic_spline'."
        )
    if name not in allowed:
        raise GeoValueError(f"{who}: {argument} must be one of {allowed}; received {value!r}.")
    return name
