"""The static half of a GeoTensor's georeferencing: a pixel lattice plus a canonical CRS string.

A rasterio-style (corner-anchored) affine transform ``(a, b, c, d, e, f)`` maps a pixel
corner ``(col, row)`` to ``x = a*col + b*row + c``, ``y = d*col + e*row + f``. We split it
into an integer pixel offset ``(row_off, col_off)`` and a :class:`Lattice` whose origin
``(c0, f0)`` is the input origin reduced modulo one pixel, so that every scene cut from
one sensor grid shares one lattice (a jit cache key) and differs only in the offset.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import pyproj
from affine import Affine

from ._errors import CRSError, TransformError

__all__ = [
    "ORIGIN_QUANTA",
    "Lattice",
    "as_affine",
    "canonical_crs",
    "crs_object",
    "split_transform",
]

#: Offsets are stored in int32: a lattice offset must satisfy ``|offset| < 2**31``.
OFFSET_LIMIT = 2**31
#: Lattice origins are compared in pixel units, rounded to multiples of ``1 / ORIGIN_QUANTA``
#: pixel (about 2.8e-7 pixel). ``3_603_600 = 2**4 * 3**2 * 5**2 * 7 * 11 * 13`` is divisible
#: by 1..16, 25, 100, 3600, ...: origins at halves, thirds, tenths or hundredths of a pixel
#: (and 1/3600, arc-seconds of a degree) sit exactly on a bin centre, as far from a rounding
#: boundary as they can be.
ORIGIN_QUANTA = 3_603_600


def _origin_quanta(a: float, b: float, c: float, d: float, e: float, f: float) -> tuple[int, int]:
    """The exact pixel position ``M^-1 (c, f)`` of the point ``(c, f)``, in ``1/ORIGIN_QUANTA`` px.

    Computed in rational arithmetic from the float64 coefficients (no rounding but the final
    ``round``), so the result depends only on the inputs, never on evaluation order.
    """
    fa, fb, fc, fd, fe, ff = (Fraction(v) for v in (a, b, c, d, e, f))
    if fb == 0 and fd == 0:
        col, row = fc / fa, ff / fe
    else:
        det = fa * fe - fb * fd
        col, row = (fe * fc - fb * ff) / det, (fa * ff - fd * fc) / det
    return round(col * ORIGIN_QUANTA), round(row * ORIGIN_QUANTA)


@dataclasses.dataclass(frozen=True, eq=False)
class Lattice:
    """A pixel lattice: affine coefficients with the origin reduced modulo one pixel, and a CRS.

    Attributes:
        a, b, d, e: the linear part of the corner-anchored affine transform (float64).
        c, f: the reduced origin, the corner of pixel ``(0, 0)`` of the lattice (float64).
        crs: the canonical CRS string (``"EPSG:32630"`` or WKT2), see :func:`canonical_crs`.

    Example:
        >>> from affine import Affine
        >>> lat, (row, col) = split_transform(Affine(10, 0, 399960, 0, -10, 4500000), "EPSG:32630")
        >>> (lat.c, lat.f, row, col)
        (0.0, 0.0, -450000, 39996)
        >>> lat.transform_at(row, col) == Affine(10, 0, 399960, 0, -10, 4500000)
        True

    Note:
        Equality and hash (what ``jax.jit`` uses to decide whether to retrace, and what
        ``same_grid`` / ``stack`` check) compare ``a, b, d, e`` and the CRS exactly, and the
        origin **in pixel units**: the pixel position ``M^-1 (c, f)`` rounded to a multiple of
        ``1 / ORIGIN_QUANTA`` ~ 2.8e-7 pixel. Why: a window's transform computed in float64
        (``rasterio.windows.transform``, ``gt[r0:r1, c0:c1]`` of a 0.1 m or 1/3600 degree
        grid) is off by up to an ULP of the coordinate, ~4e-9 m below 16,000 km, i.e. ~4e-8
        pixel at 0.1 m and ~1e-10 pixel at 1 arc-second, so an exact comparison would split
        one scene into many lattices. The tolerance is far below any real difference between
        grids: origins more than 2.8e-7 pixel apart (1e-6 pixel, half a pixel) always differ.
        Origins within rounding noise of each other compare equal unless they straddle a
        rounding boundary, which lies half a bin (1.4e-7 pixel) away from every origin at a
        fraction ``p/q`` of a pixel with ``q`` dividing ``ORIGIN_QUANTA``.
        Two equal lattices may hold origins that differ in the last bits; each GeoTensor
        keeps its own, so its ``.transform`` is the float64 transform it was built from (exact
        for 10 m grids), while a result of a jit-compiled function or of ``stack`` carries the
        lattice it was traced / stacked with: its transform agrees to within rounding noise.
    """

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float
    crs: str

    def __post_init__(self) -> None:
        quanta = _origin_quanta(self.a, self.b, self.c, self.d, self.e, self.f)
        key = (self.a, self.b, self.d, self.e, self.crs, *quanta)
        object.__setattr__(self, "_key", key)  # computed once: jit hashes it on every call

    @property
    def origin_quanta(self) -> tuple[int, int]:
        """The origin's pixel position ``(col, row)`` in units of ``1 / ORIGIN_QUANTA`` pixel."""
        return self._key[5], self._key[6]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lattice):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def transform_at(self, row_off: int, col_off: int) -> Affine:
        """Return the transform of the grid whose pixel ``(0, 0)`` is lattice pixel ``(row, col)``.

        Computed on the host in float64 as ``Affine(a, b, c, d, e, f) @ (col_off, row_off)``
        (the same formula and evaluation order as :mod:`affine`), so it is exact whenever
        the products are exact (e.g. integer metre grids) and deterministic otherwise.
        """
        col, row = int(col_off), int(row_off)
        x = col * self.a + row * self.b + self.c
        y = col * self.d + row * self.e + self.f
        return Affine(self.a, self.b, x, self.d, self.e, y)

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size ``(xres, yres)``, both positive, as rasterio's ``dataset.res``."""
        if self.b == 0 and self.d == 0:
            return (abs(self.a), abs(self.e))
        return (math.hypot(self.a, self.d), math.hypot(self.b, self.e))

    def __repr__(self) -> str:
        crs = self.crs if len(self.crs) <= 40 else self.crs[:37] + "..."
        coeffs = ", ".join(repr(v) for v in (self.a, self.b, self.c, self.d, self.e, self.f))
        return f"Lattice({coeffs}, crs={crs!r})"


# --------------------------------------------------------------------------- CRS


@functools.lru_cache(maxsize=512)
def _canonical_from_key(key: str | int) -> str:
    try:
        crs = pyproj.CRS.from_user_input(key)
    except pyproj.exceptions.CRSError as err:
        raise CRSError(
            f"crs must be something pyproj.CRS.from_user_input accepts (e.g. 'EPSG:32630', "
            f"a WKT string, a pyproj or rasterio CRS); received {key!r}: {err}"
        ) from None
    for auth_name in ("EPSG", None):
        auth = crs.to_authority(auth_name=auth_name, min_confidence=100)
        if auth is not None:
            return f"{auth[0]}:{auth[1]}"
    return crs.to_wkt()


def canonical_crs(crs: Any) -> str:
    """Return the canonical string of a CRS: ``"AUTH:CODE"`` on an exact match, else WKT2.

    Example:
        >>> canonical_crs("epsg:32630"), canonical_crs(pyproj.CRS.from_epsg(4326))
        ('EPSG:32630', 'EPSG:4326')

    Note:
        Static data of a jit-compiled function is compared on every call, so the lattice
        keeps this string rather than a ``pyproj.CRS`` (whose ``__eq__`` is slow).
    """
    if isinstance(crs, bool) or crs is None:
        raise CRSError(f"crs must name a coordinate reference system; received {crs!r}")
    if isinstance(crs, str | int):
        return _canonical_from_key(crs)
    if isinstance(crs, pyproj.CRS):
        return _canonical_from_key(crs.srs or crs.to_wkt())
    to_wkt = getattr(crs, "to_wkt", None)  # rasterio.crs.CRS and friends
    if callable(to_wkt):
        return _canonical_from_key(to_wkt())
    try:
        return _canonical_from_key(pyproj.CRS.from_user_input(crs).to_wkt())
    except (pyproj.exceptions.CRSError, TypeError) as err:
        raise CRSError(
            f"crs must be something pyproj.CRS.from_user_input accepts; received {crs!r}: {err}"
        ) from None


@functools.lru_cache(maxsize=512)
def crs_object(crs_string: str) -> pyproj.CRS:
    """Return the ``pyproj.CRS`` of a canonical CRS string (cached per string)."""
    return pyproj.CRS.from_user_input(crs_string)


# --------------------------------------------------------------------------- transforms


def as_affine(transform: Affine | Sequence[float]) -> Affine:
    """Return ``transform`` as an :class:`affine.Affine` of float64 coefficients, validated.

    Accepts an ``Affine`` or a rasterio-ordered 6-tuple ``(a, b, c, d, e, f)`` (not GDAL's
    ``(c, a, b, f, d, e)``; use ``Affine.from_gdal`` for those).
    """
    try:
        coeffs = tuple(float(v) for v in transform)
    except (TypeError, ValueError):
        raise TransformError(
            f"transform must be an affine.Affine or a 6-tuple (a, b, c, d, e, f) of numbers; "
            f"received {transform!r}"
        ) from None
    if len(coeffs) == 9 and coeffs[6:] == (0.0, 0.0, 1.0):
        coeffs = coeffs[:6]
    if len(coeffs) != 6:
        raise TransformError(
            f"transform must have 6 coefficients (a, b, c, d, e, f) in rasterio order; "
            f"received {len(coeffs)}: {transform!r}"
        )
    a, b, c, d, e, f = coeffs
    if not all(math.isfinite(v) for v in coeffs) or a * e - b * d == 0:
        raise TransformError(
            f"transform must be finite and invertible (a*e - b*d != 0); received {coeffs!r}. "
            "A GeoTensor needs a real pixel grid; pass e.g. Affine(10, 0, x0, 0, -10, y0)."
        )
    return Affine(a, b, c, d, e, f)


def _solve_origin(target: float, shift: float) -> float | None:
    """Return the reduced origin ``z = target - shift`` if ``shift + z == target`` in float64.

    The subtraction is exact whenever the two are within a factor of two (Sterbenz), which
    covers every axis-aligned grid; then ``shift' + z`` at any other offset is the correctly
    rounded ``target + (shift' - shift)``, the number rasterio computes for a window.
    When it does not round-trip, ``|target|`` is smaller than ``|shift|`` and ``|z|``, so
    the sums ``shift + z`` reachable by nudging z are spaced coarser than ``ulp(target)``:
    a bisection over all nearby floats (tried on 10^5 random transforms) never finds one.
    """
    z = target - shift
    return z + 0.0 if shift + z == target else None


def split_transform(
    transform: Affine | Sequence[float], crs: Any
) -> tuple[Lattice, tuple[int, int]]:
    """Split a transform into a :class:`Lattice` and an integer offset ``(row_off, col_off)``.

    ``[col, row] = floor(M^-1 (c, f))`` with ``M = [[a, b], [d, e]]``, taken on the exact
    pixel position rounded to ``1 / ORIGIN_QUANTA`` pixel (so rounding noise of a window's
    transform never moves the split by a pixel, and the offset and the lattice's origin
    key come from one number); the reduced origin is ``(c, f) - col*(a, d) - row*(b, e)``.
    Invariant, always checked: ``lattice.transform_at(row, col) == transform`` on every
    coefficient.

    Note:
        When float rounding prevents that round trip (only for rotated or sheared grids
        whose origin lies within about one pixel of the CRS origin, see ``_solve_origin``),
        the origin is kept unreduced with offset ``(0, 0)``. Such grids then do not share
        one lattice across scenes, which costs a retrace per scene, never accuracy.
    """
    affine = as_affine(transform)
    a, b, c, d, e, f = affine[:6]
    crs_string = canonical_crs(crs)
    quanta_col, quanta_row = _origin_quanta(a, b, c, d, e, f)
    col, row = quanta_col // ORIGIN_QUANTA, quanta_row // ORIGIN_QUANTA
    c0 = f0 = None
    if abs(col) < OFFSET_LIMIT and abs(row) < OFFSET_LIMIT:
        c0 = _solve_origin(c, col * a + row * b)
        f0 = _solve_origin(f, col * d + row * e)
    if c0 is None or f0 is None:
        row, col, c0, f0 = 0, 0, c, f
    lattice = Lattice(a, b, c0, d, e, f0, crs_string)
    if lattice.transform_at(row, col) != affine:  # pragma: no cover - guarded invariant
        raise TransformError(
            f"internal error: transform {affine!r} did not round-trip through {lattice!r} "
            f"at offset {(row, col)}; please report it with this message"
        )
    return lattice, (row, col)
