"""TrueColor and FalseColor: pick three bands, by name or index, for an RGB picture."""

from __future__ import annotations

from typing import Any, TypeAlias

import equinox as eqx

import pipekit as pk

from .._carrier import band_names_of, rewrap, values_of
from .._errors import BandIndexError, GeotoolzValueError

__all__ = ["TRUE_COLOR_NAMES", "BandRef", "FalseColor", "TrueColor"]

#: A band, by 0-based index on axis -3 (negative counts from the end) or by name.
BandRef: TypeAlias = int | str

#: Red, green, blue band names that :class:`TrueColor` looks for, in this order: Sentinel-2
#: (``geocatalog.testing.synthetic_scene``), Landsat 8/9 Collection 2 (``SR_B*`` surface
#: reflectance, ``B*`` level 1), and plain colour names.
TRUE_COLOR_NAMES: tuple[tuple[str, str, str], ...] = (
    ("B04", "B03", "B02"),
    ("SR_B4", "SR_B3", "SR_B2"),
    ("B4", "B3", "B2"),
    ("red", "green", "blue"),
)


def _check_bands(owner: str, bands: Any) -> tuple[BandRef, BandRef, BandRef]:
    """``bands`` as a 3-tuple of ints (not bool) and non-empty strings, or a ConfigError."""
    try:
        refs = tuple(bands)
    except TypeError:
        refs = ()
    ok = len(refs) == 3 and all(
        (isinstance(b, int) and not isinstance(b, bool)) or (isinstance(b, str) and b) for b in refs
    )
    if not ok:
        raise pk.ConfigError(
            f"{owner}: bands must be three bands (red, green, blue), each a 0-based index or "
            f"a band name, e.g. (2, 1, 0) or ('B08', 'B04', 'B03'); got {bands!r}"
        )
    return refs  # type: ignore[return-value]


def _band_index(owner: str, ref: BandRef, n: int, names: tuple[str, ...] | None) -> int:
    """The non-negative index of ``ref`` among ``n`` bands named ``names``."""
    if isinstance(ref, str):
        if names is None:
            raise GeotoolzValueError(
                f"{owner}: band {ref!r} is a name, but the input's bands have no names (a bare "
                f"array, or a GeoTensor without band_names). Pass 0-based indices, e.g. "
                f"bands=(2, 1, 0), or name the bands: gt.replace(band_names=(...))."
            )
        if ref not in names:
            raise GeotoolzValueError(
                f"{owner}: no band is named {ref!r}; the input's bands are {names}"
            )
        return names.index(ref)
    if not -n <= ref < n:
        raise BandIndexError(f"{owner}: band {ref} is out of range for {n} bands ({-n}..{n - 1})")
    return ref % n


def select_three(owner: str, x: Any, bands: tuple[BandRef, ...]) -> Any:
    """``x`` with the three bands ``bands`` on axis -3, named after the chosen bands."""
    values = values_of(x)
    if values.ndim < 3:
        raise GeotoolzValueError(
            f"{owner} picks three bands of values (..., band, y, x); got shape "
            f"{tuple(values.shape)}, which has no band axis"
        )
    names = band_names_of(x)
    idx = [_band_index(owner, ref, values.shape[-3], names) for ref in bands]
    out_names = None if names is None else tuple(names[i] for i in idx)
    if out_names is not None and len(set(out_names)) != 3:
        out_names = None  # a band picked twice: names must be unique
    return rewrap(x, values[..., idx, :, :], band_names=out_names)


class TrueColor(pk.Operator):
    """Pick the red, green and blue bands, in that order: a natural-colour composite.

    With ``bands=None`` the bands are found by name (:func:`pipekit_array.band_names_of`):
    the first of :data:`TRUE_COLOR_NAMES` whose three names the input has, e.g. Sentinel-2
    ``B04, B03, B02``. Inputs without such names need ``bands=(r, g, b)``: 0-based indices
    on axis -3 (or names). The output keeps the georeferencing, dtype and fill value, and
    carries the chosen bands' names; follow it with :class:`StretchToUint8` for a picture.

    Args:
        bands: ``None`` (find red, green, blue by name) or three band indices or names.

    Example:
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> gz.viz.TrueColor()(synthetic_scene(8, 8)).band_names
        ('B04', 'B03', 'B02')
    """

    bands: tuple[BandRef, BandRef, BandRef] | None = eqx.field(static=True)

    def __init__(self, bands: tuple[BandRef, BandRef, BandRef] | None = None) -> None:
        self.bands = None if bands is None else _check_bands("TrueColor", bands)

    def _apply(self, x: Any) -> Any:
        bands = self.bands
        if bands is None:
            names = band_names_of(x) or ()
            found = [rgb for rgb in TRUE_COLOR_NAMES if set(rgb) <= set(names)]
            if not found:
                have = f"bands named {tuple(names)}" if names else "no band names"
                raise GeotoolzValueError(
                    f"TrueColor: bands=None finds red, green and blue by name (one of "
                    f"{TRUE_COLOR_NAMES}), but the input has {have}. Pass bands=(r, g, b) as "
                    f"0-based indices, e.g. TrueColor(bands=(2, 1, 0)) for B04, B03, B02 of "
                    f"geocatalog.testing.synthetic_scene."
                )
            bands = found[0]
        return select_three("TrueColor", x, bands)


class FalseColor(pk.Operator):
    """Show any three bands as red, green and blue, e.g. NIR-red-green ``("B08", "B04", "B03")``.

    The classic colour-infrared composite (vegetation red) is Sentinel-2 ``B08, B04,
    B03``; SWIR composites ``B12, B8A, B04`` show burn scars and moisture. Bands are
    0-based indices on axis -3 or names (:func:`pipekit_array.band_names_of`). The output
    keeps the georeferencing, dtype and fill value, and carries the chosen bands' names.

    Args:
        bands: three band indices or names, shown as red, green, blue.

    Example:
        >>> import geotoolz as gz
        >>> from geocatalog.testing import synthetic_scene
        >>> gz.viz.FalseColor(("B08", "B04", "B03"))(synthetic_scene(8, 8)).band_names
        ('B08', 'B04', 'B03')
    """

    bands: tuple[BandRef, BandRef, BandRef] = eqx.field(static=True)

    def __init__(self, bands: tuple[BandRef, BandRef, BandRef]) -> None:
        self.bands = _check_bands("FalseColor", bands)

    def _apply(self, x: Any) -> Any:
        return select_three("FalseColor", x, self.bands)
