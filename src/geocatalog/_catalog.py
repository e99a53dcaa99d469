"""Open and query GeoParquet catalogs: a bbox prefilter on in-memory columns, exact footprints."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import shapely

from ._bbox import intersects_lon
from ._catalog_build import _utc
from ._errors import CatalogError, GeoValueError
from ._geoparquet import bbox_to_4326
from ._slice import GeoSlice, slice_from_row
from ._store import _NULL_TIME, _Store

if TYPE_CHECKING:
    from ._geotensor import GeoTensor

__all__ = ["Catalog", "CatalogItem", "open_catalog"]

TimeLike = dt.datetime | dt.date | str | np.datetime64
Where = Mapping[str, Any] | Callable[[pa.Table], Any]


def _micros(value: TimeLike | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[us]").astype(np.int64))
    try:
        when = _utc(value, f"query {name}")
    except CatalogError as err:
        raise GeoValueError(str(err)) from None
    assert when is not None
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


class CatalogItem(dict):
    """One catalog row (a plain ``dict`` of its columns) that can read its own raster.

    What iterating a :class:`Catalog` yields, so a sample of a catalog is directly a list of
    inputs for anything that loads what it is given: ``item.load()`` reads the item's
    raster as a :class:`GeoTensor` (``item.to_slice().load()``), e.g. for
    ``pipekit.diff.AB(...).run(catalog.sample(100))``, which loads every sample that has a
    ``load()`` method. Equality, ``json`` and ``pickle`` are those of the dict.
    """

    __slots__ = ()

    def to_slice(self) -> GeoSlice:
        """This row as the unit of work :class:`GeoSlice` (see :func:`slice_from_row`)."""
        return slice_from_row(self)

    def load(self, **kwargs: Any) -> GeoTensor:
        """Read the item: ``self.to_slice().load(**kwargs)`` (keywords as ``load_raster``)."""
        return self.to_slice().load(**kwargs)


class Catalog:
    """A set of rows of one GeoParquet catalog file; queries return sub-catalogs (no copies).

    Open one with :func:`open_catalog`. Rows keep the file's order (Hilbert order of bbox
    centres, then time). Columns other than bbox and datetime are read on first use.
    """

    def __init__(self, store: _Store, rows: np.ndarray | None = None) -> None:
        self._store = store
        self._rows = rows  # None: every row of the file

    @property
    def path(self) -> str:
        return self._store.path

    @property
    def rows(self) -> np.ndarray:
        """Row numbers of this catalog in the file (int64, ascending)."""
        return np.arange(self._store.n) if self._rows is None else self._rows

    def __len__(self) -> int:
        return self._store.n if self._rows is None else len(self._rows)

    def __repr__(self) -> str:
        return f"Catalog({self.path!r}, {len(self)} of {self._store.n} items)"

    @property
    def ids(self) -> list[str]:
        """Item ids in row order."""
        return self._store.column("id")[self.rows].tolist()

    def query(
        self,
        bbox: Sequence[float] | None = None,
        crs: str = "EPSG:4326",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        where: Where | None = None,
    ) -> Catalog:
        """Return the items whose footprint intersects ``bbox`` and whose time is in the window.

        Arguments:
            bbox: ``(left, bottom, right, top)`` in ``crs``; ``None`` for no spatial filter.
                In EPSG:4326 it is read as RFC 7946 section 5 says: ``left <= right`` is a
                plain longitude interval however wide (``(-180, -90, 180, 90)`` is the
                globe), ``left > right`` crosses the antimeridian (``[left, 180] U [-180,
                right]``); a swapped box is not swapped back. Projected boxes are densified,
                transformed to EPSG:4326 and split where they cross the antimeridian.
            crs: CRS of ``bbox``.
            start, end: the half-open window ``start <= datetime < end`` (inclusive start,
                exclusive end); datetimes, dates or ISO strings, naive ones are UTC. Items
                without a datetime are excluded when either bound is given. ``start > end``
                is an error (a reversed window is a mistake, not an empty query).
            where: a dict ``{column: value}`` of equalities (all must hold), or a callable
                ``where(table) -> boolean mask`` on the Arrow table of the matching rows.

        Returns:
            A sub-catalog, possibly empty. Touching footprints count as intersecting.

        Example:
            >>> import tempfile, os
            >>> from geocatalog._catalog_build import build_catalog
            >>> items = [{"type": "Feature", "id": str(i), "geometry": None,
            ...           "bbox": [i, 0, i + 1, 1], "assets": {},
            ...           "properties": {"datetime": f"2024-0{i + 1}-01"}} for i in range(4)]
            >>> path = os.path.join(tempfile.mkdtemp(), "c.parquet")
            >>> cat = open_catalog(build_catalog(items, path))
            >>> cat.query((0.5, 0.5, 2.5, 0.6), start="2024-02-01", end="2024-03-01").ids
            ['1']
        """
        store, rows = self._store, self._rows
        t0, t1 = _micros(start, "start"), _micros(end, "end")
        if t0 is not None and t1 is not None and t0 > t1:
            raise GeoValueError(
                f"Catalog.query: start must not be after end (the window is start <= datetime "
                f"< end); received start={start!r}, end={end!r}. Swap them: "
                f"query(start={end!r}, end={start!r})."
            )
        timed = t0 is not None or t1 is not None
        lo = max(_NULL_TIME + 1, t0) if t0 is not None else _NULL_TIME + 1
        hi = t1 if t1 is not None else np.iinfo(np.int64).max
        if rows is None and bbox is not None:
            rows = self._spatial_in_groups(bbox_to_4326(bbox, crs), (lo, hi) if timed else None)
            bbox = None  # done
        elif timed and rows is None:
            order, sorted_time = store.time_order()
            a, b = np.searchsorted(sorted_time, [lo, hi], side="left")
            rows = np.sort(order[a:b])
        elif timed:
            t = store.time[rows]
            rows = rows[(t >= lo) & (t < hi)]
        if bbox is not None:
            rows = self._spatial(bbox_to_4326(bbox, crs), rows)
        elif rows is None:
            rows = np.arange(store.n)
        if where is not None and len(rows):
            rows = rows[self._where(where, rows)]
        return Catalog(store, rows)

    def _spatial_in_groups(
        self, geom: shapely.Geometry, window: tuple[int, int] | None
    ) -> np.ndarray:
        """Rows of the whole file matching ``geom`` (and the time ``window``), ascending.

        Only row groups whose footer statistics allow a match are read; inside each, the
        rows are in time order, so a window is a contiguous slice.
        """
        store = self._store
        parts = [part.bounds for part in getattr(geom, "geoms", [geom])]
        rows, columns = [], []
        for g in store.candidate_groups(parts, *(window or (None, None))):
            group = store.group(int(g))
            a, b = (
                np.searchsorted(group.time, window, side="left")
                if window is not None
                else (0, len(group.rows))
            )
            rows.append(group.rows[a:b])
            columns.append(tuple(c[a:b] for c in group.bbox))
        if not rows:
            return np.zeros(0, dtype=np.int64)
        merged = tuple(np.concatenate(c) for c in zip(*columns, strict=True))
        return np.sort(self._spatial(geom, np.concatenate(rows), merged))

    def _spatial(
        self,
        geom: shapely.Geometry,
        rows: np.ndarray | None,
        columns: tuple[np.ndarray, ...] | None = None,
    ) -> np.ndarray:
        store = self._store
        if columns is not None:
            xmin, ymin, xmax, ymax = columns  # already aligned with ``rows``
        elif rows is None:
            xmin, ymin, xmax, ymax = store.xmin, store.ymin, store.xmax, store.ymax
        else:
            xmin, ymin, xmax, ymax = (
                c[rows] for c in (store.xmin, store.ymin, store.xmax, store.ymax)
            )
        mask = np.zeros(len(xmin), dtype=bool)
        inside = np.zeros(len(xmin), dtype=bool)
        crossing = xmin > xmax  # RFC 7946: [xmin, 180] U [-180, xmax]
        for part in getattr(geom, "geoms", [geom]):
            px0, py0, px1, py1 = part.bounds  # a plain box in [-180, 180]
            hit = intersects_lon(xmin, xmax, px0, px1) & (ymin <= py1) & (ymax >= py0)
            mask |= hit
            if abs(part.area - (px1 - px0) * (py1 - py0)) <= 1e-12 * max(part.area, 1.0):
                # the part is its own envelope: a bbox inside it means a footprint inside it
                lon_in = np.where(
                    crossing, (px0 <= -180.0) & (px1 >= 180.0), (xmin >= px0) & (xmax <= px1)
                )
                inside |= hit & lon_in & (ymin >= py0) & (ymax <= py1)
        cand = np.flatnonzero(mask)
        sure = inside[cand]
        rows_c = cand if rows is None else rows[cand]
        check = rows_c[~sure]
        if len(check):
            shapely.prepare(geom)
            keep = shapely.intersects(geom, shapely.from_wkb(store.wkb(check)))
            return np.sort(np.concatenate([rows_c[sure], check[keep]]))
        return rows_c

    def _where(self, where: Where, rows: np.ndarray) -> np.ndarray:
        if isinstance(where, Mapping):
            mask = np.ones(len(rows), dtype=bool)
            for name, value in where.items():
                mask &= self._store.column(name)[rows] == value
            return mask
        if callable(where):
            table = self._store.table().take(pa.array(rows))
            mask = where(table)
            mask = mask.to_numpy(zero_copy_only=False) if hasattr(mask, "to_numpy") else mask
            return np.asarray(mask, dtype=bool)
        raise GeoValueError(
            f"where must be a dict of column equalities or a callable on the Arrow table; "
            f"received {type(where).__name__}. Example: where={{'crs': 'EPSG:32630'}}."
        )

    def sample(self, n: int, seed: int = 0) -> Catalog:
        """Return ``n`` items drawn without replacement, the same ones for the same seed.

        The draw is ``numpy.random.default_rng(seed).choice(len(self), n, replace=False)``;
        the sample keeps file order.
        """
        if not 0 <= n <= len(self):
            raise GeoValueError(
                f"sample: n must be in [0, {len(self)}] (the catalog size); received {n}. "
                "Use min(n, len(catalog))."
            )
        pick = np.random.default_rng(seed).choice(len(self), size=n, replace=False)
        return Catalog(self._store, self.rows[np.sort(pick)])

    def to_arrow(self) -> pa.Table:
        """Return the rows as an Arrow table (WKB ``geometry``, GeoParquet ``geo`` metadata)."""
        return self._store.table().take(pa.array(self.rows, pa.int64()))

    def to_geopandas(self) -> Any:
        """Return the rows as a ``geopandas.GeoDataFrame`` in EPSG:4326 (needs geopandas)."""
        try:
            import geopandas
        except ImportError:
            raise ImportError(
                "Catalog.to_geopandas needs geopandas, which is not installed. Install it "
                "(`uv add geopandas` / `pip install geopandas`) or use Catalog.to_arrow()."
            ) from None
        table = self.to_arrow()
        frame = table.drop_columns(["geometry"]).to_pandas()
        geometry = geopandas.GeoSeries.from_wkb(table.column("geometry").to_pylist())
        return geopandas.GeoDataFrame(frame, geometry=geometry.values, crs="EPSG:4326")

    def __iter__(self) -> Iterator[CatalogItem]:
        """Rows as dicts (:class:`CatalogItem`, which can ``load()`` itself); ``geometry``
        decoded to a shapely geometry."""
        for row in self.to_arrow().to_pylist():
            row["geometry"] = shapely.from_wkb(row["geometry"])
            yield CatalogItem(row)

    def iter_slices(self) -> Iterator[GeoSlice]:
        """Yield one unit of work per row: ``{"id", "href", "bounds", "crs", "datetime"}``."""
        for row in self.to_arrow().drop_columns(["geometry"]).to_pylist():
            yield slice_from_row(row)

    def iter_slices_for_date(self, date: dt.date | str) -> Iterator[GeoSlice]:
        """Yield the slices of items acquired on the UTC calendar day ``date``."""
        day = _utc(date, "iter_slices_for_date")
        assert day is not None
        day = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.query(start=day, end=day + dt.timedelta(days=1)).iter_slices()

    def read_tile(
        self,
        bbox: Sequence[float],
        target_size: tuple[int, int] = (256, 256),
        crs: str = "EPSG:3857",
        **kwargs: Any,
    ) -> GeoTensor:
        """Newest-first mosaic of the items on the grid ``bbox`` x ``target_size`` (Case 7).

        See :func:`geocatalog._tiles.read_tile` for the rules (gap filling, dtype, empty
        tiles that render transparent).
        """
        from ._tiles import read_tile  # _tiles imports this module

        return read_tile(self, bbox, target_size, crs, **kwargs)

    def iter_random_slices(
        self, chip_size: tuple[int, int] = (256, 256), n: int = 10_000, seed: int = 0
    ) -> Iterator[GeoSlice]:
        """Random native-grid chips fully inside the rasters, reproducible by seed (Case 3)."""
        from ._tiles import iter_random_slices

        return iter_random_slices(self, chip_size, n, seed)


def open_catalog(path: str | os.PathLike) -> Catalog:
    """Open a GeoParquet catalog written by :func:`build_catalog`.

    Only the footer is read now (row count and per-row-group statistics; about a
    millisecond, also for 1M items). A bbox query reads the bbox and datetime columns of
    the row groups its statistics cannot rule out, and footprints of the rows it must test
    exactly; other columns are read on first access.

    Example:
        >>> import tempfile, os
        >>> from geocatalog._catalog_build import build_catalog
        >>> item = {"type": "Feature", "id": "a", "geometry": None, "bbox": [0, 0, 1, 1],
        ...         "properties": {"datetime": "2024-05-01T10:00:00Z"}, "assets": {}}
        >>> cat = open_catalog(build_catalog([item], os.path.join(tempfile.mkdtemp(), "c.parquet")))
        >>> len(cat), cat.ids
        (1, ['a'])
    """
    return Catalog(_Store(os.fspath(path)))
