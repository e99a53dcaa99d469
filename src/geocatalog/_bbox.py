"""Longitude intervals as RFC 7946 reads them: the one rule for query boxes and footprints.

RFC 7946 section 5 (and GeoParquet's ``bbox`` covering, which follows it): a box
``(west, south, east, north)`` with ``west <= east`` is a plain longitude interval, however
wide (``(-180, -90, 180, 90)`` is the whole globe); ``west > east`` crosses the antimeridian
and is the union ``[west, 180] U [-180, east]``. A box is never "fixed" by swapping its
corners. Every question about two boxes is then answered per *part*: each box is one or two
plain intervals inside ``[-180, 180]``, and two boxes meet when a part of one meets a part of
the other.

Continuous longitudes (a reprojected ring after ``np.unwrap``, a raster in 0..360 degrees)
are brought to that form by :func:`wrap_interval`; a set of intervals is covered by the
shortest arc of the circle that holds them all (:func:`lon_cover`), which is how a footprint
split at the antimeridian gets its crossing bbox back.
"""

from __future__ import annotations

import math

import numpy as np

from ._errors import GeoValueError

__all__ = [
    "bbox_centre",
    "intersects_lon",
    "lon_cover",
    "lon_parts",
    "part_arrays",
    "wrap_interval",
]


def lon_parts(west: float, east: float, what: str = "bbox") -> list[tuple[float, float]]:
    """Return the plain parts ``[(a, b), ...]`` (``-180 <= a <= b <= 180``) of an RFC interval.

    ``west <= east`` is plain: :func:`wrap_interval` moves it into ``[-180, 180]`` (so a box
    in 0..360 degrees is accepted) and splits it there if it then crosses. ``west > east``
    crosses the antimeridian and needs both values inside ``[-180, 180]``, where the RFC
    defines that reading.

    Example:
        >>> lon_parts(-180, 180), lon_parts(-170, 170), lon_parts(170, -170)
        ([(-180.0, 180.0)], [(-170.0, 170.0)], [(170.0, 180.0), (-180.0, -170.0)])
    """
    west, east = float(west), float(east)
    if west > east:
        if not -180.0 <= east < west <= 180.0:
            raise GeoValueError(
                f"{what}: left > right ({west} > {east}) means the box crosses the antimeridian "
                "(RFC 7946 section 5), which needs -180 <= right < left <= 180. Pass longitudes "
                "in [-180, 180], or left <= right for a plain interval (e.g. (170, ..., 190, "
                "...) also crosses)."
            )
        return [(west, 180.0), (-180.0, east)]
    west, east = wrap_interval(west, east)
    return [(west, 180.0), (-180.0, east)] if west > east else [(west, east)]


def wrap_interval(lo: float, hi: float) -> tuple[float, float]:
    """Return the continuous interval ``[lo, hi]`` (``lo <= hi``) as an RFC ``(west, east)``.

    Width 360 or more is the whole circle ``(-180, 180)``; inside ``[-180, 180]`` it is
    kept as it is. Otherwise ``west`` is moved into ``[-180, 180)`` and ``east`` by the same
    multiple of 360; an ``east`` past 180 then wraps, giving ``west > east`` (the interval
    crosses the antimeridian).

    Example:
        >>> wrap_interval(170, 190), wrap_interval(-190, -175), wrap_interval(0, 360)
        ((170.0, -170.0), (170.0, -175.0), (-180.0, 180.0))
    """
    lo, hi = float(lo), float(hi)
    if hi - lo >= 360.0:
        return -180.0, 180.0
    if lo >= -180.0 and hi <= 180.0:  # already plain in range (a point at 180 stays there)
        return lo, hi
    shift = 360.0 * math.floor((lo + 180.0) / 360.0)
    lo, hi = lo - shift, hi - shift
    return (lo, hi - 360.0) if hi > 180.0 else (lo, hi)


def part_arrays(xmin: np.ndarray, xmax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the plain parts of RFC intervals as two arrays (a crossing one gives two parts)."""
    xmin, xmax = np.asarray(xmin, dtype=np.float64), np.asarray(xmax, dtype=np.float64)
    cross = xmin > xmax
    starts = np.concatenate([xmin, np.full(int(cross.sum()), -180.0)])
    ends = np.concatenate([np.where(cross, 180.0, xmax), xmax[cross]])
    return starts, ends


def lon_cover(starts: np.ndarray, ends: np.ndarray) -> tuple[float, float]:
    """Return the shortest RFC interval ``(west, east)`` covering plain intervals in [-180, 180].

    The intervals are merged; the widest stretch of the circle they leave empty is left
    out. When that stretch is the one through the antimeridian (or ties with it) the result
    is plain, otherwise it crosses (``west > east``). Intervals that reach both -180 and 180
    are joined there, so a footprint split at the antimeridian gets its crossing box back.

    Example:
        >>> lon_cover([170.0, -180.0], [180.0, -175.0]), lon_cover([-10.0, 5.0], [0.0, 20.0])
        ((170.0, -175.0), (-10.0, 20.0))
    """
    a, b = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    if not len(a):
        raise GeoValueError("lon_cover needs at least one interval; received none")
    order = np.argsort(a, kind="stable")
    a, reach = a[order], np.maximum.accumulate(b[order])
    gaps = a[1:] - reach[:-1]  # empty stretch before interval i + 1
    wrap = a[0] + 360.0 - reach[-1]  # empty stretch through the antimeridian
    i = int(np.argmax(gaps)) if len(gaps) else -1
    if i < 0 or gaps[i] <= 0.0 or wrap >= gaps[i]:
        return float(a[0]), float(reach[-1])
    return float(a[i + 1]), float(reach[i])


def intersects_lon(xmin: np.ndarray, xmax: np.ndarray, a: float, b: float) -> np.ndarray:
    """Mask of RFC intervals ``[xmin, xmax]`` that meet the plain part ``[a, b]`` (touching counts).

    A plain interval meets it when ``xmin <= b and xmax >= a``; a crossing one
    (``xmin > xmax``, i.e. ``[xmin, 180] U [-180, xmax]``) when either of its parts does,
    which for ``-180 <= a <= b <= 180`` is ``xmin <= b or xmax >= a``.
    """
    below, above = xmin <= b, xmax >= a
    return np.where(xmin > xmax, below | above, below & above)


def bbox_centre(xmin: np.ndarray, xmax: np.ndarray) -> np.ndarray:
    """Centre longitude of RFC intervals, in [-180, 180]: a crossing box's centre is near 180."""
    xmin, xmax = np.asarray(xmin, dtype=np.float64), np.asarray(xmax, dtype=np.float64)
    centre = (xmin + np.where(xmin > xmax, xmax + 360.0, xmax)) / 2.0
    return np.where(centre > 180.0, centre - 360.0, centre)
