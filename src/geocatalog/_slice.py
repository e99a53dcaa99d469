"""GeoSlice: one unit of raster work (where to read, onto which grid), frozen and JSON-ready."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import numbers
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import GeoSliceError, SliceHashMismatchError
from ._lattice import canonical_crs

if TYPE_CHECKING:
    from ._geotensor import GeoTensor

__all__ = ["GeoSlice", "renamed_bands_error", "slice_from_row"]

Bounds = tuple[float, float, float, float]
PixelWindow = tuple[tuple[int, int], tuple[int, int]]


def _fail(field: str, expected: str, got: Any, fix: str) -> GeoSliceError:
    return GeoSliceError(f"GeoSlice.{field} must be {expected}; received {got!r}. {fix}")


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _floats(field: str, value: Any, n: int, fix: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) + 0.0 for v in value)  # + 0.0 turns -0.0 into 0.0 (one hash)
    except (TypeError, ValueError):
        raise _fail(field, f"a sequence of {n} numbers", value, fix) from None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        raise _fail(field, f"{n} finite numbers", value, fix)
    return out


def _bounds(value: Any) -> Bounds:
    fix = "Pass (left, bottom, right, top) with left < right and bottom < top."
    left, bottom, right, top = _floats("bounds", value, 4, fix)
    if not (left < right and bottom < top):
        raise _fail("bounds", "a non-empty box with left < right and bottom < top", value, fix)
    return (left, bottom, right, top)


def _window(value: Any) -> PixelWindow:
    fix = "Pass ((row_start, row_stop), (col_start, col_stop)) with 0 <= start < stop."
    try:
        (r0, r1), (c0, c1) = value
    except (TypeError, ValueError):
        raise _fail(
            "window", "((row_start, row_stop), (col_start, col_stop))", value, fix
        ) from None
    if not all(_is_int(v) for v in (r0, r1, c0, c1)):
        raise _fail("window", "four integers", value, fix)
    r0, r1, c0, c1 = (int(v) for v in (r0, r1, c0, c1))
    if not (0 <= r0 < r1 and 0 <= c0 < c1):
        raise _fail("window", "a non-empty window with 0 <= start < stop", value, fix)
    return ((r0, r1), (c0, c1))


def _datetime(value: Any) -> str:
    fix = "Pass a datetime or an ISO 8601 string such as '2024-05-01T10:30:00Z'."
    if isinstance(value, str):
        try:
            parsed = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail("datetime", "an ISO 8601 date-time", value, fix) from None
    elif isinstance(value, _dt.datetime):
        parsed = value
    elif isinstance(value, _dt.date):
        parsed = _dt.datetime(value.year, value.month, value.day)
    else:
        raise _fail("datetime", "a str, datetime or date", value, fix)
    if parsed.tzinfo is None:  # naive: UTC by convention (STAC datetimes are UTC)
        parsed = parsed.replace(tzinfo=_dt.UTC)
    parsed = parsed.astimezone(_dt.UTC)
    spec = "microseconds" if parsed.microsecond else "seconds"
    return parsed.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _pair(field: str, value: Any, kind: str) -> tuple[Any, Any]:
    fix = f"Pass a positive {kind} or a pair of them."
    items = (value, value) if kind == "number" and not isinstance(value, list | tuple) else value
    if kind == "integer":
        try:
            h, w = items
        except (TypeError, ValueError):
            raise _fail(field, "(height, width)", value, fix) from None
        if not (_is_int(h) and _is_int(w) and int(h) > 0 and int(w) > 0):
            raise _fail(field, "two positive integers (height, width)", value, fix)
        return (int(h), int(w))
    x, y = _floats(field, items, 2, fix)
    if not (x > 0 and y > 0):
        raise _fail(field, "positive pixel sizes (xres, yres)", value, fix)
    return (x, y)


def _indexes(value: Any) -> tuple[int, ...]:
    fix = "Pass 1-based band indexes, e.g. (4, 3, 2), as rasterio's read(indexes=...)."
    items = (value,) if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        raise _fail("indexes", "an int or a tuple of ints", value, fix) from None
    if not items or not all(_is_int(b) and int(b) >= 1 for b in items):
        raise _fail("indexes", "a non-empty tuple of 1-based band indexes (>= 1)", value, fix)
    return tuple(int(b) for b in items)


def renamed_bands_error(who: str, bands: Any) -> GeoSliceError:
    """The error for the removed ``bands=`` keyword of geocatalog's readers (now ``indexes=``).

    geocatalog names 1-based band numbers ``indexes`` as rasterio does
    (``DatasetReader.read(indexes=...)``); ``bands`` is the 0-based name of
    ``geotoolz.fusion.SelectBands``. One word per convention, so the old spelling fails
    loudly instead of silently reading the neighbouring band.
    """
    return GeoSliceError(
        f"{who}: bands= was renamed indexes= (1-based band numbers, as rasterio's "
        f"DatasetReader.read(indexes=...)); received bands={bands!r}. Pass indexes={bands!r}. "
        "(0-based band selection on arrays is geotoolz.fusion.SelectBands(bands=...).)"
    )


@dataclasses.dataclass(frozen=True, init=False)
class GeoSlice:
    """Where to read a raster and onto which grid: the unit of work that crosses processes.

    Attributes:
        href: the raster: a local path, ``file://``, ``http(s)://``, ``s3://`` or ``/vsi...``.
        bounds: ``(left, bottom, right, top)`` to read, in ``bounds_crs``; or None.
        bounds_crs: CRS of ``bounds``; None means the target ``crs`` when one is set, else
            the source raster's CRS.
        window: pixel window ``((row_start, row_stop), (col_start, col_stop))`` of the source;
            exclusive with ``bounds``. Neither: the whole raster.
        crs: target CRS (canonical string); None keeps the source CRS.
        resolution: target pixel size ``(xres, yres)`` in target-CRS units (a number means
            both); exclusive with ``shape``.
        shape: target ``(height, width)`` in pixels; the grid then spans the bounds exactly.
        datetime: acquisition time, normalised to ISO 8601 UTC ``"YYYY-MM-DDTHH:MM:SSZ"``.
        indexes: 1-based band indexes to read (an int means one band), as rasterio's
            ``DatasetReader.read(indexes=...)``; None reads all. (The old name ``bands=`` is an
            error naming this one.)
        item_id: catalog id of the item (free text, part of the content hash).

    Example:
        >>> sl = GeoSlice("scene.tif", bounds=(400000, 4499000, 400640, 4499640), crs=32630,
        ...               resolution=20, datetime="2024-05-01T12:30:00+02:00", indexes=4)
        >>> sl.crs, sl.resolution, sl.datetime, sl.indexes
        ('EPSG:32630', (20.0, 20.0), '2024-05-01T10:30:00Z', (4,))
        >>> import json
        >>> GeoSlice.from_dict(json.loads(json.dumps(sl.to_dict()))) == sl
        True
        >>> len(sl.hash)
        64

    Note:
        Every field is normalised on construction (floats, canonical CRS strings such as
        ``"EPSG:32630"``, tuples, UTC datetimes, ``-0.0 -> 0.0``), so equal content means an
        equal object, an equal ``hash()`` and an equal content :attr:`hash`. The content hash
        names outputs in orchestrated runs, which makes retries idempotent.
    """

    href: str
    bounds: Bounds | None = None
    bounds_crs: str | None = None
    window: PixelWindow | None = None
    crs: str | None = None
    resolution: tuple[float, float] | None = None
    shape: tuple[int, int] | None = None
    datetime: str | None = None
    indexes: tuple[int, ...] | None = None
    item_id: str | None = None

    def __init__(
        self,
        href: str | os.PathLike,
        bounds: Bounds | None = None,
        bounds_crs: Any = None,
        window: PixelWindow | None = None,
        crs: Any = None,
        resolution: float | tuple[float, float] | None = None,
        shape: tuple[int, int] | None = None,
        datetime: Any = None,
        indexes: int | tuple[int, ...] | None = None,
        item_id: str | None = None,
        *,
        bands: Any = None,
    ) -> None:
        # Written out (not generated) only to refuse the removed keyword ``bands=``.
        if bands is not None:
            raise renamed_bands_error("GeoSlice", bands)
        given = locals()
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, given[field.name])
        self.__post_init__()

    def __post_init__(self) -> None:
        put = object.__setattr__
        href = self.href
        if isinstance(href, os.PathLike):
            href = os.fspath(href)
        if not isinstance(href, str) or not href.strip():
            raise _fail("href", "a non-empty path or URL string", self.href, "Name the raster.")
        put(self, "href", href)
        if self.bounds is not None and self.window is not None:
            raise GeoSliceError(
                f"GeoSlice takes bounds or window, not both; received bounds={self.bounds!r} and "
                f"window={self.window!r}. Keep one (bounds in a CRS, window in source pixels)."
            )
        if self.resolution is not None and self.shape is not None:
            raise GeoSliceError(
                f"GeoSlice takes resolution or shape, not both; received resolution="
                f"{self.resolution!r} and shape={self.shape!r}. Resolution snaps the grid outward "
                "to whole pixels; shape spans the bounds exactly. Keep one."
            )
        if self.bounds_crs is not None and self.bounds is None:
            raise GeoSliceError(
                f"GeoSlice.bounds_crs={self.bounds_crs!r} was given without bounds. Pass bounds "
                "too, or drop bounds_crs."
            )
        if self.bounds is not None:
            put(self, "bounds", _bounds(self.bounds))
        if self.window is not None:
            put(self, "window", _window(self.window))
        for field in ("crs", "bounds_crs"):
            if getattr(self, field) is not None:
                put(self, field, canonical_crs(getattr(self, field)))
        if self.resolution is not None:
            put(self, "resolution", _pair("resolution", self.resolution, "number"))
        if self.shape is not None:
            put(self, "shape", _pair("shape", self.shape, "integer"))
        if self.datetime is not None:
            put(self, "datetime", _datetime(self.datetime))
        if self.indexes is not None:
            put(self, "indexes", _indexes(self.indexes))
        if self.item_id is not None and not isinstance(self.item_id, str):
            raise _fail("item_id", "a string or None", self.item_id, "Pass str(item_id).")

    # ------------------------------------------------------------------ serialisation

    def _content(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "window" and value is not None:
                value = [list(value[0]), list(value[1])]
            elif isinstance(value, tuple):
                value = list(value)
            out[field.name] = value
        return out

    @property
    def hash(self) -> str:
        """Content hash: full sha256 hex (64 chars) of the canonical JSON of the fields.

        Canonical JSON is ``json.dumps(fields, sort_keys=True, separators=(",", ":"))`` of
        the normalised fields (the ``to_dict()`` without ``"hash"``); it is the same in every
        process and Python session. CRSs without an EPSG code are hashed as pyproj's WKT2,
        which may change across PROJ releases.
        """
        text = json.dumps(self._content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict of every field (tuples as lists, None kept) plus ``"hash"``."""
        return {**self._content(), "hash": self.hash}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GeoSlice:
        """Rebuild a GeoSlice from :meth:`to_dict` output (after JSON or not).

        Missing optional keys default to None. A ``"hash"`` key, when present, must equal
        the rebuilt slice's hash: a mismatch (edited fields, another format version) raises
        :class:`SliceHashMismatchError` rather than silently naming outputs wrongly.
        """
        if not isinstance(d, Mapping):
            raise GeoSliceError(
                f"GeoSlice.from_dict needs a mapping (from GeoSlice.to_dict()); received "
                f"{type(d).__name__}."
            )
        if "bands" in d:
            raise renamed_bands_error("GeoSlice.from_dict", d["bands"])
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names - {"hash"})
        if unknown:
            raise GeoSliceError(
                f"GeoSlice.from_dict: unknown keys {unknown}; allowed keys are "
                f"{sorted(names | {'hash'})}. Drop them or build the dict with GeoSlice.to_dict()."
            )
        if "href" not in d:
            raise GeoSliceError("GeoSlice.from_dict: the dict has no 'href' (the raster to read).")
        kwargs = {k: v for k, v in d.items() if k != "hash"}
        sl = cls(**kwargs)
        expected = d.get("hash")
        if expected is not None and expected != sl.hash:
            raise SliceHashMismatchError(
                f"GeoSlice.from_dict: the dict's hash {expected!r} does not match its content "
                f"(hash {sl.hash!r}); the fields were edited or come from another version. "
                "Drop the 'hash' key to accept the content as it is."
            )
        return sl

    def load(self, **kwargs: Any) -> GeoTensor:
        """Read this slice: ``load_raster(self, **kwargs)`` (keyword arguments override fields)."""
        from ._load import load_raster

        return load_raster(self, **kwargs)


def _removed_bands(self: GeoSlice) -> Any:
    raise AttributeError(
        f"GeoSlice.bands was renamed GeoSlice.indexes (1-based band numbers, as rasterio's "
        f"DatasetReader.read(indexes=...)); this slice has indexes={self.indexes!r}."
    )


# Old code reading ``slice.bands`` must fail with the new name, not get an AttributeError
# that suggests ``bounds``.
GeoSlice.bands = property(_removed_bands)  # type: ignore[attr-defined]


def slice_from_row(row: Mapping[str, Any]) -> GeoSlice:
    """The unit of work for one catalog row (a dict of its columns) as a :class:`GeoSlice`.

    ``bounds`` are ``(left, bottom, right, top)`` of the raster's pixel corners in its own
    ``crs``; rows without a transform (STAC items without ``proj:*``) fall back to the
    footprint's bbox in EPSG:4326 (a box crossing the antimeridian, ``xmin > xmax``, as
    one interval past 180: ``(xmin, ymin, xmax + 360, ymax)``).
    """
    transform, height, width = row.get("transform"), row.get("height"), row.get("width")
    if transform and height and width and row.get("crs"):
        a, b, c, d, e, f = transform
        cols, rows = np.array([0, width, width, 0]), np.array([0, 0, height, height])
        xs, ys = a * cols + b * rows + c, d * cols + e * rows + f
        bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        crs = row["crs"]
    else:
        box = row["bbox"]
        west, east = box["xmin"], box["xmax"]
        if west > east:  # RFC 7946: crosses the antimeridian; one continuous lon interval
            east += 360.0
        bounds, crs = (west, box["ymin"], east, box["ymax"]), "EPSG:4326"
    return GeoSlice(
        href=row["href"],
        bounds=bounds,
        bounds_crs=crs,
        datetime=row.get("datetime"),
        item_id=row["id"],
    )
