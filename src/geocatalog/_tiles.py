"""Catalog reads by area: newest-first mosaics on a fixed grid, and random training chips."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
from affine import Affine

from ._errors import BandCountError, GeoValueError, NoOverlapError
from ._geotensor import GeoTensor
from ._lattice import canonical_crs
from ._load import load_raster
from ._render import invalid_mask
from ._slice import GeoSlice, renamed_bands_error
from ._storage import open_raster
from ._types import RESAMPLINGS, Resampling, check_resampling

if TYPE_CHECKING:
    from ._catalog import Catalog

__all__ = ["iter_random_slices", "read_tile"]

_META = ["id", "href", "datetime", "crs", "transform", "height", "width", "count"]


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _size(name: str, value: Any, fn: str) -> tuple[int, int]:
    try:
        h, w = value
    except (TypeError, ValueError):
        h = w = None
    if not (_is_int(h) and _is_int(w) and int(h) > 0 and int(w) > 0):
        raise GeoValueError(
            f"{fn}: {name} must be (height, width), two positive integers; received {value!r}. "
            f"Pass e.g. {name}=(256, 256)."
        )
    return int(h), int(w)


def _rows(catalog: Catalog) -> list[dict[str, Any]]:
    """Catalog rows as dicts holding only the columns needed here (no geometry decoding)."""
    table = catalog.to_arrow()
    return table.select([c for c in _META if c in table.column_names]).to_pylist()


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by datetime, newest first; rows without a datetime last; ties by ascending id."""
    rows = sorted(rows, key=lambda r: r["id"])
    dated = [r for r in rows if r.get("datetime") is not None]
    dated.sort(key=lambda r: r["datetime"], reverse=True)  # stable: ties keep id order
    return dated + [r for r in rows if r.get("datetime") is None]


def _slice(row: dict[str, Any], **fields: Any) -> GeoSlice:
    return GeoSlice(row["href"], datetime=row.get("datetime"), item_id=row["id"], **fields)


def _coverage(row: dict[str, Any], transform: Affine, crs: str, shape: tuple[int, int]) -> Any:
    """Target pixels whose centre falls inside the item's raster (for rasters without nodata)."""
    with open_raster(row["href"], "read_tile") as src:
        src_transform, src_crs, height, width = src.transform, src.crs, src.height, src.width
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    xs = transform.c + cols * transform.a + rows * transform.b
    ys = transform.f + cols * transform.d + rows * transform.e
    if canonical_crs(src_crs) != crs:
        xs, ys = pyproj.Transformer.from_crs(crs, src_crs, always_xy=True).transform(xs, ys)
    inv = ~src_transform
    c = inv.a * xs + inv.b * ys + inv.c
    r = inv.d * xs + inv.e * ys + inv.f
    return (c >= 0) & (c < width) & (r >= 0) & (r < height)


def _floating(*dtypes: np.dtype) -> np.dtype:
    return np.result_type(*dtypes, np.float32)


def _empty_template(catalog: Catalog, n_bands: int | None) -> tuple[int, np.dtype, Any]:
    """(band count, dtype, fill) of an all-fill tile: from the catalog's first item, if any."""
    rows = _rows(catalog)
    if not rows or not rows[0].get("href"):
        return n_bands or 1, np.dtype(np.float32), np.nan
    with open_raster(rows[0]["href"], "read_tile") as src:
        dtype, nodata, count = np.dtype(src.dtypes[0]), src.nodata, src.count
    if nodata is None:
        return n_bands or count, _floating(dtype), np.nan
    fill = int(nodata) if np.issubdtype(dtype, np.integer) else float(nodata)
    return n_bands or count, dtype, fill


def read_tile(
    catalog: Catalog,
    bbox: Sequence[float],
    target_size: tuple[int, int] = (256, 256),
    crs: Any = "EPSG:3857",
    *,
    indexes: int | Sequence[int] | None = None,
    resampling: Resampling = "nearest",
    bands: Any = None,
) -> GeoTensor:
    """Mosaic the items intersecting ``bbox`` onto exactly the grid ``bbox`` x ``target_size``.

    The grid spans ``bbox = (left, bottom, right, top)`` (pixel corners, in ``crs``) with
    ``target_size = (height, width)`` pixels: ``transform = Affine(
    (right - left) / width, 0, left, 0, -(top - bottom) / height, top)``. Items are taken
    newest first (by datetime; ties by ascending id; undated items last), each warped with
    :func:`load_raster` onto the grid; a pixel is taken from an item only where every newer
    item left it empty (all bands fill / NaN), and reading stops once no pixel is empty.

    Arguments:
        catalog: the catalog to read; queried with ``catalog.query(bbox=bbox, crs=crs)``.
        bbox: ``(left, bottom, right, top)`` in ``crs``, e.g. a web-mercator z/x/y tile.
        target_size: ``(height, width)`` of the output in pixels.
        crs: CRS of ``bbox`` and of the output grid.
        indexes: 1-based band indexes to read from every item (rasterio's ``indexes``);
            None reads all bands, and then every item must have the same band count.
        resampling: one of :data:`~geocatalog.RESAMPLINGS` (``"nearest"`` keeps QA bits).
        bands: removed spelling of ``indexes``; passing it raises an error naming ``indexes``.

    Returns:
        A ``(band, height, width)`` GeoTensor. dtype and fill value: the items' dtype and
        nodata when all items read agree on both; otherwise (mixed dtypes or nodata, or an
        integer raster without nodata, whose 0 is ambiguous) a float dtype (float32 for
        <= 16-bit data) with NaN fill. No item intersecting ``bbox``: an all-fill tile with
        the band count, dtype and nodata of the catalog's first item (float32 NaN for an
        empty catalog), so ``to_png_bytes()`` renders it fully transparent.
        ``band_names``: the items' band descriptions when every item read has the same
        ones (see :func:`~geocatalog.read_raster`), else None.

    Example:
        >>> import os, tempfile, geocatalog as gc
        >>> tmp = tempfile.mkdtemp()
        >>> _ = gc.save_cog(gc.testing.synthetic_scene(32, 32), os.path.join(tmp, "a.tif"))
        >>> cat = gc.open_catalog(gc.build_catalog([os.path.join(tmp, "a.tif")],
        ...                                        os.path.join(tmp, "c.parquet")))
        >>> gt = read_tile(cat, (400000, 4499700, 400200, 4499900), (8, 8), "EPSG:32630")
        >>> gt.shape, gt.dtype.name, gt.fill_value, gt.transform.a
        ((13, 8, 8), 'uint16', 0, 25.0)

    Note:
        Compositing is per pixel, not per band: cloud masking belongs to the operators
        applied to the tile (Case 7 of the use-case report).
    """
    fn = "read_tile"
    height, width = _size("target_size", target_size, fn)
    try:
        left, bottom, right, top = (float(v) for v in bbox)
    except (TypeError, ValueError):
        left = bottom = right = top = math.nan
    if not all(map(math.isfinite, (left, bottom, right, top))) or left >= right or bottom >= top:
        raise GeoValueError(
            f"{fn}: bbox must be (left, bottom, right, top), four finite numbers with "
            f"left < right and bottom < top; received {bbox!r}."
        )
    if bands is not None:
        raise renamed_bands_error(fn, bands)
    resampling = check_resampling(fn, "resampling", resampling, RESAMPLINGS)
    if indexes is not None:
        indexes = (indexes,) if _is_int(indexes) else tuple(indexes)
    crs = canonical_crs(crs)
    bounds = (left, bottom, right, top)
    transform = Affine((right - left) / width, 0.0, left, 0.0, -(top - bottom) / height, top)
    rows = _newest_first(_rows(catalog.query(bbox=bounds, crs=crs)))
    if indexes is None:
        counts = {r["id"]: r.get("count") for r in rows if r.get("count") is not None}
        if len(set(counts.values())) > 1:
            raise BandCountError(
                f"{fn}: items must share a band count to be mosaicked; received {counts}. "
                "Pass indexes=(...) to read the same bands from every item."
            )

    out: np.ndarray | None = None
    fill: Any = None
    names: set[tuple[str, ...] | None] = set()
    empty = np.ones((height, width), dtype=bool)
    for row in rows:
        try:
            gt = load_raster(
                _slice(row), bounds=bounds, bounds_crs=crs, crs=crs, shape=(height, width),
                indexes=indexes, resampling=resampling,
            )  # fmt: skip
        except NoOverlapError:  # a footprint touching the tile only at its edge adds nothing
            continue
        values = np.asarray(gt.values)
        names.add(gt.band_names)
        if gt.fill_value is None:  # integer raster without nodata: 0 may be data
            valid = _coverage(row, transform, crs, (height, width))
            values = values.astype(_floating(values.dtype))
            values[:, ~valid] = np.nan
            item_fill: Any = math.nan
        else:
            item_fill = gt.fill_value
        if out is None:
            out, fill = values.copy(), item_fill
        else:
            if out.shape[0] != values.shape[0]:
                raise BandCountError(
                    f"{fn}: item {row['id']!r} has {values.shape[0]} bands, newer items have "
                    f"{out.shape[0]}. Pass indexes=(...) to read the same bands from every item."
                )
            same_fill = (fill == item_fill) or (math.isnan(fill) and math.isnan(item_fill))
            if values.dtype != out.dtype or not same_fill:  # promote: float with NaN fill
                dtype = _floating(out.dtype, values.dtype)
                out = np.where(empty, np.nan, out.astype(dtype))
                fill = math.nan
                values = np.where(invalid_mask(values, item_fill), np.nan, values.astype(dtype))
            take = empty & ~invalid_mask(values, fill).all(axis=0)
            out[:, take] = values[:, take]
        empty &= invalid_mask(out, fill).all(axis=0)
        if not empty.any():
            break
    if out is None:
        count, dtype, fill = _empty_template(catalog, None if indexes is None else len(indexes))
        out = np.full((count, height, width), fill, dtype=dtype)
    band_names = names.pop() if len(names) == 1 else None  # items that disagree: no names
    return GeoTensor(out, transform, crs, fill_value=fill, band_names=band_names)


def iter_random_slices(
    catalog: Catalog,
    chip_size: tuple[int, int] = (256, 256),
    n: int = 10_000,
    seed: int = 0,
) -> Iterator[GeoSlice]:
    """Yield ``n`` random chips, each a native-grid pixel window fully inside its raster.

    Every chip position of every item is equally likely: an item is drawn with probability
    proportional to its number of chip positions ``(H - h + 1) * (W - w + 1)``, then the
    window's top-left pixel uniformly among them. Items smaller than the chip are skipped.
    The draws come from ``numpy.random.default_rng(seed)``, so one seed gives the same
    slices; each slice loads (:meth:`GeoSlice.load`) to exactly ``chip_size``.

    Arguments:
        catalog: the items to sample (e.g. a ``catalog.query(...)`` result).
        chip_size: ``(height, width)`` of the chips in source pixels.
        n: number of slices to yield.
        seed: seed of the random generator.

    Example:
        >>> import os, tempfile, geocatalog as gc
        >>> tmp = tempfile.mkdtemp()
        >>> _ = gc.save_cog(gc.testing.synthetic_scene(32, 48), os.path.join(tmp, "a.tif"))
        >>> cat = gc.open_catalog(gc.build_catalog([os.path.join(tmp, "a.tif")],
        ...                                        os.path.join(tmp, "c.parquet")))
        >>> chips = list(iter_random_slices(cat, (16, 16), n=3, seed=1))
        >>> [sl.load().shape for sl in chips]
        [(13, 16, 16), (13, 16, 16), (13, 16, 16)]
        >>> chips == list(iter_random_slices(cat, (16, 16), n=3, seed=1))
        True

    Note:
        "Inside" means inside the raster's pixel grid; nodata pixels inside a raster are
        not avoided (mask them downstream). Rows without height/width in the catalog
        (STAC items without ``proj:shape``) are opened once to read their size.
    """
    fn = "iter_random_slices"
    ch, cw = _size("chip_size", chip_size, fn)
    if not _is_int(n) or n < 0:
        raise GeoValueError(f"{fn}: n must be a non-negative integer; received {n!r}.")
    rows = _rows(catalog)
    sizes = []
    for row in rows:
        if row.get("height") and row.get("width"):
            sizes.append((int(row["height"]), int(row["width"])))
        else:
            with open_raster(row["href"], "read_tile") as src:
                sizes.append((src.height, src.width))
    shape = np.array(sizes, dtype=np.int64).reshape(-1, 2)
    span_r, span_c = shape[:, 0] - ch + 1, shape[:, 1] - cw + 1
    fits = np.flatnonzero((span_r > 0) & (span_c > 0))
    if len(fits) == 0:
        largest = tuple(int(v) for v in shape[np.argmax(shape.prod(1))]) if len(rows) else None
        raise GeoValueError(
            f"{fn}: no item of the catalog ({len(rows)} items) fits a chip of {(ch, cw)} "
            f"pixels; the largest item is {largest} (height, width). Use a smaller chip_size."
        )
    positions = (span_r[fits] * span_c[fits]).astype(np.float64)
    p = positions / positions.sum()
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        k = min(n - done, 4096)
        pick = fits[rng.choice(len(fits), size=k, p=p)]
        r0 = rng.integers(0, span_r[pick])
        c0 = rng.integers(0, span_c[pick])
        for i, r, c in zip(pick.tolist(), r0.tolist(), c0.tolist(), strict=True):
            yield _slice(rows[i], window=((r, r + ch), (c, c + cw)))
        done += k
