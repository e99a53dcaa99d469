"""Band names of a GeoTensor: validation, and how they follow the band axis through edits.

Band names are static metadata (a tuple of unique strings, one per entry of the band axis,
axis -3), so they never become traced leaves: under ``jax.jit`` / ``vmap`` they are part of
the tree structure, like the lattice. The rules here are shared by the GeoTensor methods,
the readers (band descriptions of a GeoTIFF) and the carrier contract of ``pipekit_array``:

- construction checks that the names are unique strings, one per band;
- an edit that keeps the band axis (same number of axes, same band count) keeps them;
- an edit that changes the band axis drops them, unless the caller names the new bands;
- indexing the band axis with a slice, an index list or a boolean mask subsets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._errors import BandNamesError
from ._leaves import is_traced

__all__ = [
    "check_band_names",
    "index_band_names",
    "kept_band_names",
    "names_from_descriptions",
]


def check_band_names(
    band_names: Any, shape: Sequence[int], n_batch: int, where: str
) -> tuple[str, ...] | None:
    """``band_names`` as a tuple of unique strings matching the band axis of ``shape``, or None.

    Arguments:
        band_names: None, or a sequence of strings (a list, a tuple, a NumPy string array).
        shape: the values' shape ``(*batch, ..., band, y, x)``.
        n_batch: the number of leading batch axes (a stacked GeoTensor's ``batch_shape``).
        where: who asks, for the error message (e.g. ``"GeoTensor"``).

    Example:
        >>> check_band_names(["B04", "B08"], (2, 5, 5), 0, "GeoTensor")
        ('B04', 'B08')
        >>> check_band_names(None, (5, 5), 0, "GeoTensor") is None
        True
    """
    if band_names is None:
        return None
    if isinstance(band_names, str | bytes) or not isinstance(band_names, Sequence | np.ndarray):
        raise BandNamesError(
            f"{where}: band_names must be a sequence of strings, one per band, got "
            f"{band_names!r}. Wrap a single name in a tuple: band_names=({band_names!r},)."
        )
    names = tuple(band_names)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise BandNamesError(
            f"{where}: band_names must be strings, got {bad[0]!r} (type "
            f"{type(bad[0]).__name__}) in {names!r}. Pass names such as ('B04', 'B08')."
        )
    names = tuple(str(n) for n in names)  # np.str_ -> str: hashable, plain YAML/JSON
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BandNamesError(
            f"{where}: band_names must be unique, got {duplicates} more than once in {names!r}. "
            "Give every band its own name (e.g. suffix the sensor: 'S2_B04', 'L8_B04')."
        )
    shape = tuple(shape)
    if len(shape) - n_batch < 3:
        raise BandNamesError(
            f"{where}: band_names name the band axis (axis -3), but values of shape {shape} "
            f"(batch axes: {n_batch}) have none. Pass band_names=None, or add a band axis "
            "(values[None]) to name a single band."
        )
    if len(names) != shape[-3]:
        raise BandNamesError(
            f"{where}: band_names has {len(names)} names {names!r} but the band axis (axis -3) "
            f"of values of shape {shape} has {shape[-3]} bands. Give one name per band."
        )
    return names


def kept_band_names(
    names: tuple[str, ...] | None, old_shape: Sequence[int], new_shape: Sequence[int]
) -> tuple[str, ...] | None:
    """``names`` when new values keep the band axis (same rank and band count), else None.

    Example:
        >>> kept_band_names(("a", "b"), (2, 4, 4), (2, 4, 4))
        ('a', 'b')
        >>> kept_band_names(("a", "b"), (2, 4, 4), (4, 4)) is None  # an index dropped the bands
        True
    """
    if names is None:
        return None
    old, new = tuple(old_shape), tuple(new_shape)
    if len(old) != len(new) or len(new) < 3 or old[-3] != new[-3]:
        return None
    return names


def index_band_names(names: tuple[str, ...] | None, idx: Any) -> tuple[str, ...] | None:
    """The names left after indexing the band axis with ``idx`` (None when the axis goes).

    An int drops the band axis (no names); a slice, an integer list/array or a boolean mask
    subsets the names as NumPy subsets the bands; a traced index (inside jit) gives None,
    since which bands it picks is unknown until run time.

    Example:
        >>> index_band_names(("B02", "B03", "B04"), slice(1, None))
        ('B03', 'B04')
        >>> index_band_names(("B02", "B03", "B04"), [2, 0])
        ('B04', 'B02')
    """
    if names is None or isinstance(idx, int | np.integer):
        return None
    if isinstance(idx, slice):
        return names[idx]
    if is_traced(idx):
        return None
    picked = np.asarray(names, dtype=object)[np.asarray(idx)]
    if picked.ndim != 1:
        return None
    return tuple(str(n) for n in picked)


def names_from_descriptions(
    descriptions: Sequence[str | None], indexes: int | Sequence[int] | None
) -> tuple[str, ...] | None:
    """Band names from a raster's band descriptions (rasterio ``src.descriptions``), or None.

    ``indexes`` are the 1-based bands read (None: all; an int reads one band as ``(H, W)``,
    which has no band axis, so no names). Names are returned only when every band read has
    a description and they are unique, the invariant of :attr:`GeoTensor.band_names`; a
    file with missing or repeated descriptions reads without names rather than failing.

    Example:
        >>> names_from_descriptions(("B02", "B03", "B04"), [3, 1])
        ('B04', 'B02')
        >>> names_from_descriptions(("B02", None), None) is None
        True
    """
    if isinstance(indexes, int | np.integer):
        return None
    picked = list(descriptions) if indexes is None else [descriptions[i - 1] for i in indexes]
    if not picked or any(not d for d in picked) or len(set(picked)) != len(picked):
        return None
    return tuple(str(d) for d in picked)
