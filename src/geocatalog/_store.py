"""The column store behind a Catalog: footer statistics, per-row-group bbox/time columns."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ._errors import CatalogError, GeoValueError
from ._geoparquet import CATALOG_METADATA_KEY, GEO_METADATA_KEY
from ._storage import filesystem, is_remote

_NULL_TIME = np.iinfo(np.int64).min


def _open_parquet(path: str) -> pq.ParquetFile:
    """Open ``path`` as a ParquetFile: the one place that knows about filesystems.

    Local files are memory-mapped; ``s3://`` (and other pyarrow) URIs are opened through
    :func:`geocatalog._storage.filesystem`, reading only the footer and the column chunks asked
    for (HTTP range requests).
    """
    try:
        if not is_remote(path):
            return pq.ParquetFile(path, memory_map=True)
        fs, inner = filesystem(path)
        return pq.ParquetFile(fs.open_input_file(inner))
    except FileNotFoundError:
        raise CatalogError(
            f"open_catalog: {path!r} is not a readable Parquet file (no such file or object). "
            "Check the path, or build one with geocatalog.build_catalog."
        ) from None
    except (pa.ArrowInvalid, OSError, GeoValueError) as err:
        raise CatalogError(
            f"open_catalog: {path!r} is not a readable Parquet file ({err}). Build one with "
            "geocatalog.build_catalog."
        ) from None


_BBOX_LEAVES = ("bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax")


def _group_statistics(metadata: pq.FileMetaData) -> tuple[np.ndarray, ...]:
    """Per row group: bbox and time bounds, and whether it may hold a crossing bbox.

    The arrays are min xmin, min ymin, max xmax, max ymax, min and max time (µs), and a
    mask of the groups that may hold a bbox crossing the antimeridian (``xmin > xmax``).
    Taken from the Parquet footer (no data read). A group without statistics for a column
    gets bounds that rule nothing out; a group whose datetimes are all null gets an empty
    time range, since such rows never match a time window. geocatalog writes crossing rows
    into row groups of their own and lists them in its ``geocatalog`` metadata; a file
    without that list gets the safe answer from the statistics (``max(xmin) > min(xmax)``,
    or missing statistics, may hide a crossing row).
    """
    k = metadata.num_row_groups
    schema = metadata.schema
    index = {schema.column(i).path: i for i in range(len(schema))}
    lo, hi = np.finfo(np.float64).min, np.finfo(np.float64).max
    out = [np.full(k, v) for v in (lo, lo, hi, hi)] + [
        np.full(k, np.iinfo(np.int64).min),
        np.full(k, np.iinfo(np.int64).max),
    ]
    wanted = [(0, _BBOX_LEAVES[0], "min"), (1, _BBOX_LEAVES[1], "min"),
              (2, _BBOX_LEAVES[2], "max"), (3, _BBOX_LEAVES[3], "max")]  # fmt: skip
    may_cross = np.ones(k, dtype=bool)
    for g in range(k):
        group = metadata.row_group(g)
        for slot, name, which in wanted:
            stats = group.column(index[name]).statistics
            if stats is not None and stats.has_min_max:
                out[slot][g] = getattr(stats, which)
        lo_stats = group.column(index[_BBOX_LEAVES[0]]).statistics
        hi_stats = group.column(index[_BBOX_LEAVES[2]]).statistics
        if all(s is not None and s.has_min_max for s in (lo_stats, hi_stats)):
            may_cross[g] = lo_stats.max > hi_stats.min
        stats = group.column(index["datetime"]).statistics
        if stats is not None and stats.has_min_max:
            out[4][g], out[5][g] = stats.min_raw, stats.max_raw
        elif stats is not None and stats.null_count == group.num_rows:
            out[4][g], out[5][g] = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    own = json.loads((metadata.metadata or {}).get(CATALOG_METADATA_KEY, b"{}"))
    if "antimeridian_row_groups" in own:
        may_cross = np.isin(np.arange(k), own["antimeridian_row_groups"])
    return (*out, may_cross)


class _Group:
    """The bbox and time columns of one row group, in time order (read on first use)."""

    def __init__(self, start: int, columns: tuple[np.ndarray, ...]) -> None:
        *bbox, time = columns  # xmin, ymin, xmax, ymax, time
        order = np.argsort(time, kind="stable")
        self.rows = start + order  # file row numbers, in time order
        self.time = time[order]
        self.bbox = tuple(c[order] for c in bbox)


class _Store:
    """Columns of one catalog file shared by a Catalog and every sub-catalog it yields.

    Opening reads the footer only: the row count, and per row group the min/max statistics
    of the bbox and datetime columns. A bbox query keeps the groups those statistics do not
    rule out and reads just their bbox and datetime columns (cached per group), so a query
    over a Hilbert-ordered file touches a few groups of 10k rows, not the whole file. Queries
    without a bbox, and subsets of rows, use whole columns, read on first use.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = _open_parquet(path)
        meta = self.file.schema_arrow.metadata or {}
        geo = json.loads(meta.get(GEO_METADATA_KEY, b"{}"))
        names = set(self.file.schema_arrow.names)
        if geo.get("primary_column") != "geometry" or not {"bbox", "datetime", "id"} <= names:
            raise CatalogError(
                f"open_catalog: {path!r} is not a geocatalog catalog (needs `geo` metadata with "
                f"primary column 'geometry' and columns bbox, datetime, id; found {sorted(names)})"
            )
        metadata = self.file.metadata
        self.n = metadata.num_rows
        sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        self.group_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.group_stats = _group_statistics(metadata)
        self._groups: dict[int, _Group] = {}
        self._head: tuple[np.ndarray, ...] | None = None
        self._wkb: dict[int, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._table: pa.Table | None = None
        self._time_order: tuple[np.ndarray, np.ndarray] | None = None
        self._bbox_by_time: tuple[np.ndarray, ...] | None = None

    def _columns_of(self, table: pa.Table) -> tuple[np.ndarray, ...]:
        bbox = table.column("bbox").combine_chunks()
        time = table.column("datetime").cast(pa.int64()).fill_null(_NULL_TIME).to_numpy()
        return (*(bbox.field(k).to_numpy() for k in ("xmin", "ymin", "xmax", "ymax")), time)

    def head(self) -> tuple[np.ndarray, ...]:
        """The whole ``xmin, ymin, xmax, ymax, time`` columns (read on first use)."""
        if self._head is None:
            self._head = self._columns_of(self.file.read(columns=["bbox", "datetime"]))
        return self._head

    xmin = property(lambda self: self.head()[0])
    ymin = property(lambda self: self.head()[1])
    xmax = property(lambda self: self.head()[2])
    ymax = property(lambda self: self.head()[3])
    time = property(lambda self: self.head()[4])

    def group(self, g: int) -> _Group:
        """Row group ``g``'s bbox and time columns in time order (read once, then cached)."""
        if g not in self._groups:
            a, b = self.group_start[g], self.group_start[g + 1]
            if self._head is not None:
                columns = tuple(c[a:b] for c in self._head)
            else:
                table = self.file.read_row_group(int(g), columns=["bbox", "datetime"])
                columns = self._columns_of(table)
            self._groups[g] = _Group(int(a), columns)
        return self._groups[g]

    def candidate_groups(
        self, parts: list[tuple[float, ...]], lo: int | None, hi: int | None
    ) -> np.ndarray:
        """Row groups whose statistics allow a row in one of ``parts`` (and in [lo, hi)).

        ``parts`` are plain boxes in [-180, 180]. A group of plain rows can only match where
        ``[min xmin, max xmax]`` meets the part; a group that may hold crossing rows
        (``[xmin, 180] U [-180, xmax]``) is read as one crossing interval
        ``[min xmin, 180] U [-180, max xmax]``, which covers them all.
        """
        x0, y0, x1, y1, t0, t1, may_cross = self.group_stats
        hit = np.zeros(len(x0), dtype=bool)
        for px0, py0, px1, py1 in parts:
            below, above = x0 <= px1, x1 >= px0
            lon = np.where(may_cross, below | above, below & above)
            hit |= lon & (y0 <= py1) & (y1 >= py0)
        if lo is not None and hi is not None:
            hit &= (t0 < hi) & (t1 >= lo)
        return np.flatnonzero(hit)

    def bbox_by_time(self) -> tuple[np.ndarray, ...]:
        """The bbox columns in time order (built on first use, then cached).

        A time window is then a contiguous slice of each column: no gather and no sort of
        the ~40k rows a 30-day window holds at 1M items, which dominated query time.
        """
        if self._bbox_by_time is None:
            order, _ = self.time_order()
            self._bbox_by_time = tuple(
                c[order] for c in (self.xmin, self.ymin, self.xmax, self.ymax)
            )
        return self._bbox_by_time

    def time_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices sorted by time and the sorted times (built on first use, then cached)."""
        if self._time_order is None:
            order = np.argsort(self.time, kind="stable")
            self._time_order = (order, self.time[order])
        return self._time_order

    def wkb(self, rows: np.ndarray) -> np.ndarray:
        """WKB footprints of ``rows``, reading only the row groups that hold them."""
        groups = np.searchsorted(self.group_start, rows, side="right") - 1
        out = np.empty(len(rows), dtype=object)
        for g in np.unique(groups):
            if g not in self._wkb:
                col = self.file.read_row_group(int(g), columns=["geometry"]).column(0)
                self._wkb[g] = col.to_numpy(zero_copy_only=False)
            sel = groups == g
            out[sel] = self._wkb[g][rows[sel] - self.group_start[g]]
        return out

    def column(self, name: str) -> np.ndarray:
        if name not in self._columns:
            if name not in self.file.schema_arrow.names:
                raise GeoValueError(
                    f"catalog column {name!r} does not exist; columns are "
                    f"{self.file.schema_arrow.names}"
                )
            col = self.file.read(columns=[name]).column(0)
            self._columns[name] = col.to_numpy(zero_copy_only=False)
        return self._columns[name]

    def table(self) -> pa.Table:
        if self._table is None:
            self._table = self.file.read()
        return self._table
