"""Build GeoParquet 1.1 catalogs from raster files and STAC items, written atomically."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from ._bbox import bbox_centre, lon_cover, part_arrays
from ._errors import CatalogError, GeoValueError
from ._geoparquet import (
    CATALOG_METADATA_KEY,
    GEO_METADATA_KEY,
    bbox_to_4326,
    encode_geo_metadata,
    footprint_bbox,
    geo_metadata,
    hilbert_index,
    split_antimeridian,
)
from ._storage import filesystem, gdal_env, gdal_path, is_remote, upload

__all__ = ["append_items", "build_catalog", "catalog_table", "write_catalog"]

Source = str | os.PathLike | Mapping[str, Any]
DatetimeFn = Callable[[str], dt.datetime | None]
_FIXED = ("id", "href", "datetime", "crs", "transform", "height", "width", "count", "dtype")
_STAC_TAKEN = {"datetime", "proj:epsg", "proj:code", "proj:transform", "proj:shape"}
_BBOX_TYPE = pa.struct([(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")])
_TIME_TYPE = pa.timestamp("us", tz="UTC")


def _utc(value: Any, what: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if len(text) >= 19 and text[4] == ":" and text[7] == ":":  # TIFF "YYYY:MM:DD HH:MM:SS"
            text = text[:4] + "-" + text[5:7] + "-" + text[8:]
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CatalogError(
                f"{what}: datetime must be ISO 8601 or TIFF 'YYYY:MM:DD HH:MM:SS'; "
                f"received {value!r}"
            ) from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise CatalogError(f"{what}: datetime must be a datetime or string; received {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _raster_record(path: str, datetime_fn: DatetimeFn | None) -> dict[str, Any]:
    import rasterio  # local: reading STAC items or opening a catalog needs no GDAL

    try:
        with gdal_env(), rasterio.open(gdal_path(path)) as src:
            if src.crs is None:
                raise CatalogError(
                    f"build_catalog: raster {path!r} has no CRS, so it has no footprint. "
                    "Assign one (rio edit-info --crs) or index it through a STAC item."
                )
            crs = src.crs.to_string()
            bounds, transform, tags = tuple(src.bounds), tuple(src.transform)[:6], src.tags()
            height, width, count, dtype = src.height, src.width, src.count, src.dtypes[0]
    except rasterio.errors.RasterioIOError as err:
        raise CatalogError(f"build_catalog: cannot open raster source {path!r}: {err}") from None
    when = datetime_fn(path) if datetime_fn is not None else tags.get("TIFFTAG_DATETIME")
    return {
        "id": os.path.splitext(os.path.basename(path))[0],
        "href": path if is_remote(path) else os.path.abspath(path),
        "datetime": _utc(when, path),
        "crs": crs,
        "transform": [float(v) for v in transform],
        "height": height,
        "width": width,
        "count": count,
        "dtype": dtype,
        "geometry": bbox_to_4326(bounds, crs),
    }


def _stac_geometry(item: Mapping[str, Any]) -> shapely.Geometry:
    """The item's footprint, read as RFC 7946 says.

    Coordinates are taken as they are (a polygon from -170 to 170 is 340 degrees wide). The
    one repair: a single polygon wider than 180 degrees whose item ``bbox`` crosses the
    antimeridian (west > east) is a ring the producer did not split (RFC 7946 section 3.1.9
    says it SHOULD be); its bbox says which way round it goes, so it is split here.
    """
    geom, b = item.get("geometry"), item.get("bbox")
    if b:
        b = (b[0], b[1], b[-3], b[-2]) if len(b) == 6 else b
    if geom is None:
        if not b:
            raise CatalogError(f"STAC item {item.get('id')!r} has neither geometry nor bbox")
        try:
            return bbox_to_4326(b, "EPSG:4326")
        except GeoValueError as err:
            raise CatalogError(f"STAC item {item.get('id')!r}: {err}") from None
    shape = shapely.from_geojson(json.dumps(geom))
    crosses = bool(b) and len(b) == 4 and b[0] > b[2]
    if crosses and shape.geom_type == "Polygon" and shape.bounds[2] - shape.bounds[0] > 180.0:
        ring = np.asarray(shape.exterior.coords)[:-1]
        return split_antimeridian(ring[:, 0], ring[:, 1])
    return shape


def _stac_record(item: Mapping[str, Any], base: str | None) -> dict[str, Any]:
    if item.get("type") != "Feature" or "id" not in item:
        raise CatalogError(
            f"build_catalog: a STAC item must be a GeoJSON Feature with an 'id'; received "
            f"keys {sorted(item)}. Pass Item dicts, Item JSON paths, or raster paths."
        )
    props = dict(item.get("properties") or {})
    assets = item.get("assets") or {}
    asset = next((a for a in assets.values() if "data" in (a.get("roles") or [])), None)
    asset = asset or next(iter(assets.values()), {})
    href = asset.get("href")
    if href and base and "://" not in href and not os.path.isabs(href):
        href = os.path.normpath(os.path.join(base, href))
    code = props.get("proj:code") or (
        f"EPSG:{props['proj:epsg']}" if props.get("proj:epsg") is not None else None
    )
    shape = props.get("proj:shape") or [None, None]
    transform = props.get("proj:transform")
    when = props.get("datetime") or props.get("start_datetime")
    record = {
        "id": str(item["id"]),
        "href": href,
        "datetime": _utc(when, f"STAC item {item['id']!r}"),
        "crs": code,
        "transform": [float(v) for v in transform[:6]] if transform else None,
        "height": shape[0],
        "width": shape[1],
        "count": len(asset.get("eo:bands") or asset.get("raster:bands") or []) or None,
        "dtype": None,
        "geometry": _stac_geometry(item),
    }
    if "eo:cloud_cover" in props:
        record["cloud_cover"] = props.pop("eo:cloud_cover")
    record.update({k: v for k, v in props.items() if k not in _STAC_TAKEN and k not in record})
    return record


def _records(sources: Iterable[Source], datetime_fn: DatetimeFn | None) -> list[dict[str, Any]]:
    if isinstance(sources, str | os.PathLike | Mapping):
        sources = [sources]
    out = []
    for src in sources:
        if isinstance(src, Mapping):
            out.append(_stac_record(src, None))
            continue
        path = os.fspath(src)
        if path.lower().endswith((".json", ".geojson")):
            with open(path, encoding="utf-8") as fh:
                out.append(_stac_record(json.load(fh), os.path.dirname(os.path.abspath(path))))
        else:
            out.append(_raster_record(path, datetime_fn))
    return out


def _column(name: str, values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as JSON text
        return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())


def _records_table(records: list[dict[str, Any]]) -> pa.Table:
    geoms = np.array([r["geometry"] for r in records] or [], dtype=object)
    bounds = np.array([footprint_bbox(g) for g in geoms], dtype=np.float64).reshape(-1, 4)
    extra = sorted({k for r in records for k in r} - {*_FIXED, "geometry"})
    cols = {
        "id": pa.array([r["id"] for r in records], pa.string()),
        "href": pa.array([r.get("href") for r in records], pa.string()),
        "datetime": pa.array([r.get("datetime") for r in records], _TIME_TYPE),
        "crs": pa.array([r.get("crs") for r in records], pa.string()),
        "transform": pa.array([r.get("transform") for r in records], pa.list_(pa.float64())),
        "height": pa.array([r.get("height") for r in records], pa.int64()),
        "width": pa.array([r.get("width") for r in records], pa.int64()),
        "count": pa.array([r.get("count") for r in records], pa.int64()),
        "dtype": pa.array([r.get("dtype") for r in records], pa.string()),
    }
    cols.update({k: _column(k, [r.get(k) for r in records]) for k in extra})
    return catalog_table(shapely.to_wkb(geoms), bounds, cols)


def catalog_table(
    wkb: Any, bounds: np.ndarray, columns: Mapping[str, pa.Array | np.ndarray]
) -> pa.Table:
    """Return a catalog Arrow table: ``geometry`` WKB, ``bbox`` struct, then ``columns``.

    ``bounds`` is an ``(n, 4)`` float64 array of ``(xmin, ymin, xmax, ymax)`` per footprint in
    EPSG:4326, each an RFC 7946 box (``xmin > xmax`` crosses the antimeridian, see
    :func:`geocatalog._geoparquet.footprint_bbox`). This is the fast path the benchmark uses
    to build large catalogs without rasterio; :func:`write_catalog` orders and writes it.
    """
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    bbox = pa.StructArray.from_arrays(
        [pa.array(bounds[:, i]) for i in range(4)], fields=list(_BBOX_TYPE)
    )
    return pa.table({"geometry": pa.array(wkb, pa.binary()), "bbox": bbox, **columns})


#: Leaf columns every query reads: stored PLAIN and uncompressed, so reading them is a copy.
#: (zstd gains under 10% on these random-looking doubles, and dictionary pages of ~10k
#: distinct values only add a decode step: 4x the read time at 1M rows, measured.)
_HOT_COLUMNS = ("bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax", "datetime")


def _parquet_options(table: pa.Table, row_group_size: int) -> dict[str, Any]:
    """``pq.write_table`` options: per-group statistics; zstd + dictionaries but for hot columns."""
    # Parquet names leaf columns by path (``bbox.xmin``, ``tags.list.element``); an empty
    # file of this schema lists them exactly as the writer will.
    sink = pa.BufferOutputStream()
    pq.write_table(table.schema.empty_table(), sink)
    schema = pq.read_metadata(pa.BufferReader(sink.getvalue())).schema
    leaves = [schema.column(i).path for i in range(len(schema))]
    cold = [c for c in leaves if c not in _HOT_COLUMNS]
    return {
        "row_group_size": row_group_size,
        "write_statistics": True,
        "compression": {c: ("none" if c in _HOT_COLUMNS else "zstd") for c in leaves},
        "use_dictionary": cold,
    }


def write_catalog(table: pa.Table, out_path: str | os.PathLike, *, row_group_size: int) -> str:
    """Order ``table`` along a Hilbert curve, attach ``geo`` metadata and write it atomically.

    Rows are sorted by the Hilbert index (order 16) of their bbox centres, then by
    ``datetime`` (so revisits of one tile are contiguous and in time order), then by ``id``.
    Rows whose bbox crosses the antimeridian (``xmin > xmax``) come last, in row groups of
    their own, listed under ``antimeridian_row_groups`` in the ``geocatalog`` key/value
    metadata.

    Note:
        GeoParquet warns that min/max statistics of a ``bbox`` covering do not prune
        crossing rows (a group's ``min(xmin)..max(xmax)`` is not a bound on
        ``[xmin, 180] U [-180, xmax]``). Keeping those rows apart, and saying which groups
        hold them, lets :func:`open_catalog` prune every other group by plain intervals and
        these by their two parts.
    """
    if not isinstance(row_group_size, int) or row_group_size < 1:
        raise GeoValueError(
            f"row_group_size must be a positive int; received {row_group_size!r}. "
            "10_000 rows per group lets readers prune on bbox statistics."
        )
    bbox = table.column("bbox").combine_chunks()
    x = [bbox.field(k).to_numpy(zero_copy_only=False) for k in ("xmin", "ymin", "xmax", "ymax")]
    crossing = x[0] > x[2]
    order = np.lexsort(
        (
            table.column("id").to_numpy(zero_copy_only=False).astype(str),
            table.column("datetime").cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy(),
            hilbert_index(bbox_centre(x[0], x[2]), (x[1] + x[3]) / 2.0),
            crossing,
        )
    )
    table = table.take(pa.array(order, pa.int64()))
    n_plain = int((~crossing).sum())
    types = [] if not len(table) else shapely.get_type_id(shapely.from_wkb(table["geometry"]))
    names = {3: "Polygon", 6: "MultiPolygon", 1: "Point", 2: "LineString"}
    extent = None
    if len(table):  # RFC 7946: the shortest lon arc holding every row, west > east if it crosses
        west, east = lon_cover(*part_arrays(x[0], x[2]))
        extent = [west, float(x[1].min()), east, float(x[3].max())]
    meta = geo_metadata([names.get(int(t), "Unknown") for t in np.unique(types)], extent)
    first = -(-n_plain // row_group_size)  # row groups of the plain rows, then crossing ones
    crossing_groups = list(range(first, first - (-(len(table) - n_plain) // row_group_size)))
    own = {"antimeridian_row_groups": crossing_groups}
    table = table.replace_schema_metadata(
        {
            **(table.schema.metadata or {}),
            GEO_METADATA_KEY: encode_geo_metadata(meta),
            CATALOG_METADATA_KEY: json.dumps(own).encode(),
        }
    )
    parts = [table.slice(0, n_plain), table.slice(n_plain)] if n_plain < len(table) else [table]
    path = os.fspath(out_path)
    if is_remote(path):  # write locally, then one upload: S3 shows the object whole or not at all
        with tempfile.TemporaryDirectory(prefix="geocatalog-catalog-") as tmp_dir:
            local = os.path.join(tmp_dir, "catalog.parquet")
            _write_parquet(parts, local, row_group_size)
            upload(local, path)
        return path
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        _write_parquet(parts, tmp, row_group_size)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _write_parquet(parts: list[pa.Table], path: str, row_group_size: int) -> None:
    """Write ``parts`` to one file, each starting a new row group (same schema and options)."""
    options = _parquet_options(parts[0], row_group_size)
    size = options.pop("row_group_size")
    with pq.ParquetWriter(path, parts[0].schema, **options) as writer:
        for part in parts:
            if len(part) or len(parts) == 1:
                writer.write_table(part, row_group_size=size)


def build_catalog(
    sources: Iterable[Source] | Source,
    out_path: str | os.PathLike,
    *,
    datetime_fn: DatetimeFn | None = None,
    row_group_size: int = 10_000,
) -> str:
    """Index rasters and STAC items into one GeoParquet 1.1 catalog file; return its path.

    Arguments:
        sources: raster paths (footprint from bounds, transform and CRS; datetime from the
            ``TIFFTAG_DATETIME`` tag), STAC Item dicts, or STAC Item JSON paths (``.json``);
            mixed freely.
        out_path: destination ``.parquet`` file; its directory must exist.
        datetime_fn: ``datetime_fn(path)`` gives a raster's datetime instead of its tag
            (naive datetimes are UTC).
        row_group_size: rows per Parquet row group; each group carries min/max statistics
            so readers (DuckDB, ``pyarrow.dataset``, :func:`open_catalog`) skip groups.

    Returns:
        ``out_path`` as a string.

    Columns: ``geometry`` (WKB footprint in EPSG:4326, split into a MultiPolygon where it
    crosses the antimeridian, RFC 7946), ``bbox`` (struct xmin/ymin/xmax/ymax, the GeoParquet
    covering, an RFC 7946 box: ``xmin > xmax`` where the footprint crosses the antimeridian,
    ``-180..180`` for a whole-globe one), ``id``, ``href`` (STAC: the first asset with role
    ``data``, else the first asset), ``datetime`` (timestamp[us, UTC]), ``crs``, ``transform``
    (6 affine coefficients a, b, c, d, e, f), ``height``, ``width``, ``count``, ``dtype``, then
    ``cloud_cover`` (STAC ``eo:cloud_cover``) and the other STAC properties, one column each.

    Example:
        >>> import tempfile, os
        >>> item = {"type": "Feature", "id": "a", "geometry": None, "bbox": [0, 0, 1, 1],
        ...         "properties": {"datetime": "2024-05-01T10:00:00Z"}, "assets": {}}
        >>> path = build_catalog([item], os.path.join(tempfile.mkdtemp(), "c.parquet"))
        >>> pq.read_table(path).column("id").to_pylist()
        ['a']

    Note:
        The file is written under a temporary name and moved into place with
        ``os.replace``, so readers see the old catalog or the new one, never a partial file.
    """
    records = _records(sources, datetime_fn)
    ids = [r["id"] for r in records]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise CatalogError(
            f"build_catalog: ids must be unique; duplicated: {dup}. Rename the files or give "
            "the STAC items distinct ids."
        )
    return write_catalog(_records_table(records), out_path, row_group_size=row_group_size)


def append_items(
    path: str | os.PathLike,
    sources: Iterable[Source] | Source,
    *,
    datetime_fn: DatetimeFn | None = None,
    row_group_size: int = 10_000,
) -> str:
    """Add rasters / STAC items to an existing catalog, rewriting it atomically; return the path.

    New items whose ``id`` is already present replace the old rows. Columns missing on one
    side are filled with nulls. The whole file is rewritten (Parquet has no in-place append),
    in Hilbert order again. ``path`` may be an ``s3://`` URI (read through the endpoint of
    the ``AWS_*`` variables, rewritten by one upload).
    """
    fs, inner = filesystem(path)
    old = pq.read_table(inner, filesystem=fs)
    new = _records_table(_records(sources, datetime_fn))
    keep = ~np.isin(
        old.column("id").to_numpy(zero_copy_only=False),
        new.column("id").to_numpy(zero_copy_only=False),
    )
    table = pa.concat_tables(
        [old.filter(pa.array(keep)).replace_schema_metadata(None), new],
        promote_options="permissive",
    )
    return write_catalog(table, path, row_group_size=row_group_size)
