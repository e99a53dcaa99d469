"""GeoParquet 1.1 helpers: footprints in EPSG:4326, antimeridian splitting, Hilbert order, ``geo``.

Everything here is pure geometry or metadata: no file I/O. The catalog builder
(:mod:`geocatalog._catalog_build`) and the reader (:mod:`geocatalog._catalog`) share it, so a
query box and a footprint are transformed to longitude/latitude by the same code.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.affinity

from ._bbox import lon_cover, lon_parts
from ._errors import CRSError, GeoValueError

__all__ = [
    "GEO_METADATA_KEY",
    "bbox_to_4326",
    "footprint_bbox",
    "geo_metadata",
    "hilbert_index",
    "split_antimeridian",
]

GEO_METADATA_KEY = b"geo"
#: Parquet key/value metadata of geocatalog itself, beside GeoParquet's ``geo``: JSON with
#: ``antimeridian_row_groups``, the row groups holding the rows whose bbox crosses 180 degrees.
CATALOG_METADATA_KEY = b"geocatalog"
#: Vertices inserted per edge when a box is transformed (curved edges stay within ~1 m at 10 km).
DENSIFY_POINTS = 21
_WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


@functools.lru_cache(maxsize=256)
def _to_4326(crs: str) -> pyproj.Transformer:
    try:
        src = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as err:
        raise CRSError(
            f"crs must be something pyproj.CRS.from_user_input accepts (e.g. 'EPSG:32630'); "
            f"received {crs!r}: {err}"
        ) from None
    return pyproj.Transformer.from_crs(src, "EPSG:4326", always_xy=True)


def _is_4326(crs: str) -> bool:
    return crs.upper().replace("OGC:CRS84", "EPSG:4326") == "EPSG:4326"


def split_antimeridian(lon: np.ndarray, lat: np.ndarray) -> shapely.Geometry:
    """Return the ring ``(lon, lat)`` as a Polygon, or a MultiPolygon split at +-180 degrees.

    Longitudes are first unwrapped (a jump of more than 180 degrees between neighbouring
    vertices means the edge crosses the antimeridian, as RFC 7946 section 3.1.9 assumes; the
    ring must be densified so that no true edge spans 180 degrees), then the continuous
    polygon is cut into the pieces west and east of the antimeridian, each shifted back into
    ``[-180, 180]``. A ring that goes once round a pole (its unwrapped longitudes end 360
    degrees from where they started) encloses that pole: it is closed along the pole, so
    the footprint spans every longitude.

    Example:
        >>> g = split_antimeridian(np.array([170.0, -170, -170, 170]), np.array([0.0, 0, 10, 10]))
        >>> g.geom_type, [tuple(round(v) for v in p.bounds) for p in g.geoms]
        ('MultiPolygon', [(-180, 0, -170, 10), (170, 0, 180, 10)])
    """
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    closed = np.unwrap(np.r_[lon, lon[:1]], period=360.0)
    if abs(closed[-1] - closed[0]) > 180.0:  # the ring winds round a pole
        pole = 90.0 if lat.mean() > 0 else -90.0
        lon = np.r_[closed, closed[-1], closed[0]]
        lat = np.r_[lat, lat[:1], pole, pole]
    else:
        lon = closed[:-1]
    poly = shapely.Polygon(np.column_stack([lon, lat]))
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    xmin, _, xmax, _ = poly.bounds
    if xmin >= -180.0 and xmax <= 180.0:
        return poly
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        part = shapely.intersection(shapely.affinity.translate(poly, xoff=shift), _WORLD)
        if not part.is_empty:
            pieces.extend(getattr(part, "geoms", [part]))
    pieces = [p for p in pieces if isinstance(p, shapely.Polygon) and p.area > 0]
    if xmax - xmin > 360.0:  # shifted copies overlap: merge them
        merged = shapely.union_all(pieces)
        pieces = list(getattr(merged, "geoms", [merged]))
    return pieces[0] if len(pieces) == 1 else shapely.MultiPolygon(pieces)


def bbox_to_4326(bounds: Sequence[float], crs: str) -> shapely.Geometry:
    """Return the box ``(left, bottom, right, top)`` in ``crs`` as a lon/lat (Multi)Polygon.

    In EPSG:4326 (or OGC:CRS84) the box is read as RFC 7946 section 5 says
    (:func:`geocatalog._bbox.lon_parts`): ``left <= right`` is a plain interval however wide
    (``(-180, -90, 180, 90)`` is the globe), ``left > right`` crosses the antimeridian and
    becomes two boxes. In other CRSs each edge is densified with :data:`DENSIFY_POINTS`
    vertices before the transform, so the curved image of a projected box is followed
    closely, and split where it crosses the antimeridian.

    Example:
        >>> bbox_to_4326((170, -5, -170, 5), "EPSG:4326").geom_type
        'MultiPolygon'
        >>> bbox_to_4326((-180, -90, 180, 90), "EPSG:4326").area
        64800.0
        >>> [round(v, 3) for v in bbox_to_4326((500000, 0, 510000, 10000), "EPSG:32631").bounds]
        [3.0, 0.0, 3.09, 0.09]
    """
    if len(bounds) != 4:
        raise GeoValueError(
            f"bbox must be (left, bottom, right, top); received {bounds!r} ({len(bounds)} values)"
        )
    left, bottom, right, top = (float(v) for v in bounds)
    if not np.all(np.isfinite([left, bottom, right, top])) or bottom > top:
        raise GeoValueError(
            f"bbox must be finite with bottom <= top; received {bounds!r}. "
            "Pass (left, bottom, right, top)."
        )
    if _is_4326(crs):
        boxes = [shapely.box(a, bottom, b, top) for a, b in lon_parts(left, right)]
        return boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes)
    if left > right:
        raise GeoValueError(
            f"bbox {tuple(bounds)} in {crs} has left > right. Only a lon/lat box (EPSG:4326 or "
            "OGC:CRS84) may have left > right, which means it crosses the antimeridian (RFC "
            "7946); in other CRSs pass left <= right, or give the box in EPSG:4326."
        )
    t = np.linspace(0.0, 1.0, DENSIFY_POINTS + 2)[:-1]
    xs = np.concatenate([left + (right - left) * t, np.full_like(t, right),
                         right - (right - left) * t, np.full_like(t, left)])  # fmt: skip
    ys = np.concatenate([np.full_like(t, bottom), bottom + (top - bottom) * t,
                         np.full_like(t, top), top - (top - bottom) * t])  # fmt: skip
    lon, lat = _to_4326(crs).transform(xs, ys)
    lon, lat = np.asarray(lon), np.asarray(lat)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise GeoValueError(
            f"bbox {tuple(bounds)} in {crs} does not transform to EPSG:4326 (non-finite "
            "coordinates): it lies outside the CRS's area of use. Pass a box inside it."
        )
    return split_antimeridian(lon, lat)


def footprint_bbox(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    """Return the RFC 7946 bbox ``(west, south, east, north)`` of a lon/lat footprint.

    The footprint is in ``[-180, 180]``, split at the antimeridian where it crosses it; the
    box is the shortest arc covering its parts (:func:`geocatalog._bbox.lon_cover`), so a
    split footprint gets ``west > east`` and a whole-globe one ``(-180, ..., 180, ...)``.
    This is the row's GeoParquet ``bbox`` covering.

    Example:
        >>> footprint_bbox(bbox_to_4326((170, -5, -175, 5), "EPSG:4326"))
        (170.0, -5.0, -175.0, 5.0)
    """
    parts = np.array([p.bounds for p in getattr(geom, "geoms", [geom])], dtype=np.float64)
    west, east = lon_cover(parts[:, 0], parts[:, 2])
    return west, float(parts[:, 1].min()), east, float(parts[:, 3].max())


def hilbert_index(x: np.ndarray, y: np.ndarray, *, order: int = 16) -> np.ndarray:
    """Return the Hilbert-curve distance of lon/lat points on a ``2**order`` grid (uint64).

    Example:
        >>> lon, lat = np.array([-179.0, -179, 179, 179]), np.array([-89.0, 89, 89, -89])
        >>> hilbert_index(lon, lat, order=1)
        array([0, 1, 2, 3], dtype=uint64)
    """
    n = 1 << order
    xi = np.clip(((np.asarray(x) + 180.0) / 360.0 * n).astype(np.int64), 0, n - 1)
    yi = np.clip(((np.asarray(y) + 90.0) / 180.0 * n).astype(np.int64), 0, n - 1)
    d = np.zeros(xi.shape, dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d.astype(np.uint64)


def geo_metadata(geometry_types: Sequence[str], bbox: Sequence[float] | None) -> dict[str, Any]:
    """Return the GeoParquet 1.1 ``geo`` metadata of a catalog's ``geometry`` column.

    ``crs`` is omitted, which GeoParquet defines as OGC:CRS84 (longitude/latitude on WGS 84,
    i.e. EPSG:4326 in x/y order); the ``bbox`` struct column is declared as the covering.

    Example:
        >>> m = geo_metadata(["Polygon"], [0.0, 0.0, 1.0, 1.0])
        >>> m["version"], m["columns"]["geometry"]["covering"]["bbox"]["xmin"]
        ('1.1.0', ['bbox', 'xmin'])
    """
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted(set(geometry_types)),
        "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
    }
    if bbox is not None:
        column["bbox"] = [float(v) for v in bbox]
    return {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}


def encode_geo_metadata(meta: dict[str, Any]) -> bytes:
    """Return ``meta`` as the UTF-8 JSON bytes Parquet key/value metadata stores."""
    return json.dumps(meta, separators=(",", ":")).encode()
