"""Windowed, reprojecting raster reads (``load_raster``, ``read_from_url``) and COG bytes."""

from __future__ import annotations

import base64
import dataclasses
import math
import os
import tempfile
from typing import Any

import numpy as np
import rasterio
import rasterio.warp
import rasterio.windows
from affine import Affine
from rasterio.enums import Resampling as _RioResampling

from ._bands import names_from_descriptions
from ._errors import GeoValueError, MissingCRSError, NoOverlapError
from ._geotensor import GeoTensor
from ._io import save_cog
from ._lattice import canonical_crs, split_transform
from ._leaves import host_offset
from ._slice import GeoSlice, renamed_bands_error
from ._storage import gdal_path, open_raster
from ._types import RESAMPLINGS, Resampling, check_resampling

__all__ = [
    "gdal_path",
    "load_raster",
    "read_from_url",
    "to_cog_bytes",
    "to_cog_bytes_b64",
]

#: Kernel radius in source pixels at scale 1 (GDAL widens it by the downsampling factor).
_RADIUS = {"nearest": 0, "bilinear": 1, "cubic": 2, "cubic_spline": 2, "lanczos": 3}
_DENSIFY = 21


def _merge(slice_or_path: Any, overrides: dict[str, Any]) -> GeoSlice:
    """One validated GeoSlice: the slice's fields, overridden by non-None keyword arguments."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if isinstance(slice_or_path, GeoSlice):
        fields = {f.name: getattr(slice_or_path, f.name) for f in dataclasses.fields(GeoSlice)}
        # a keyword location / grid replaces the slice's alternative one
        if "bounds" in given or "bounds_crs" in given:
            fields["window"] = None
            fields["bounds_crs"] = None
        if "window" in given:
            fields["bounds"] = fields["bounds_crs"] = None
        if "resolution" in given:
            fields["shape"] = None
        if "shape" in given:
            fields["resolution"] = None
        return GeoSlice(**{**fields, **given})
    if not isinstance(slice_or_path, str | os.PathLike):
        raise GeoValueError(
            f"load_raster reads a GeoSlice or a path / URL string; received "
            f"{type(slice_or_path).__name__}. Wrap it: GeoSlice(href=...)."
        )
    return GeoSlice(slice_or_path, **given)


def _snap(x: float, res: float, up: bool) -> float:
    """``floor``/``ceil`` of ``x / res`` (rounding noise counts as integer) times ``res``."""
    n = x / res
    near = round(n)
    if abs(n - near) <= 1e-9 * max(1.0, abs(n)):
        return near * res
    return (math.ceil(n) if up else math.floor(n)) * res


def _outward(win: rasterio.windows.Window, pad: int = 0) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` of a float window rounded outward and padded."""
    r0 = _snap(win.row_off, 1.0, up=False) - pad
    c0 = _snap(win.col_off, 1.0, up=False) - pad
    r1 = _snap(win.row_off + win.height, 1.0, up=True) + pad
    c1 = _snap(win.col_off + win.width, 1.0, up=True) + pad
    return int(r0), int(r1), int(c0), int(c1)


def _read_padded(src: Any, indexes: list[int], rows: tuple[int, int], cols: tuple[int, int],
                 fill: Any, dtype: np.dtype) -> np.ndarray:  # fmt: skip
    """Read rows/cols of ``src``; the part outside the raster is ``fill`` (boundless read)."""
    (r0, r1), (c0, c1) = rows, cols
    out = np.full((len(indexes), r1 - r0, c1 - c0), fill, dtype=dtype)
    ir0, ir1 = max(r0, 0), min(r1, src.height)
    ic0, ic1 = max(c0, 0), min(c1, src.width)
    if ir0 < ir1 and ic0 < ic1:
        window = rasterio.windows.Window(ic0, ir0, ic1 - ic0, ir1 - ir0)
        out[:, ir0 - r0 : ir1 - r0, ic0 - c0 : ic1 - c0] = src.read(indexes, window=window)
    return out


def _check_overlap(sl: GeoSlice, src: Any, src_crs: str, rows: tuple[int, int],
                   cols: tuple[int, int], what: str) -> None:  # fmt: skip
    """Refuse a read whose source pixels ``rows`` x ``cols`` miss the raster: only fill."""
    (r0, r1), (c0, c1) = rows, cols
    if r1 > 0 and c1 > 0 and r0 < src.height and c0 < src.width:
        return
    if sl.bounds is not None:
        asked = f"bounds {sl.bounds} (in {sl.bounds_crs or src_crs})"
    else:
        asked = f"window {sl.window}"
    raise NoOverlapError(
        f"load_raster: {asked} does not overlap the raster {sl.href!r} ({what}), whose bounds "
        f"are {tuple(src.bounds)} in {src_crs} (shape {src.height} x {src.width}); the result "
        "would be fill only. Check the numbers and their CRS: pass bounds_crs= when the bounds "
        "are in another CRS (e.g. bounds_crs='EPSG:4326' for degrees)."
    )


def _fill(nodata: float | None, dtype: np.dtype) -> tuple[Any, float | int | None]:
    """(value written outside the source, GeoTensor fill_value) for a source dtype."""
    if nodata is not None:
        fill = int(nodata) if np.issubdtype(dtype, np.integer) else float(nodata)
        return fill, fill
    if np.issubdtype(dtype, np.floating):
        return np.nan, np.nan
    return 0, None


def _target_grid(
    sl: GeoSlice, src: Any, src_crs: str, dst_crs: str
) -> tuple[Affine, tuple[int, int]]:
    """Target transform and (height, width): bounds in the target CRS snapped to resolution."""
    if sl.bounds is not None:
        bounds_crs = sl.bounds_crs or (sl.crs and dst_crs) or src_crs
        bounds = sl.bounds
    else:
        bounds_crs = src_crs
        if sl.window is not None:
            (r0, r1), (c0, c1) = sl.window
            x0, y0 = src.transform @ (c0, r1)
            x1, y1 = src.transform @ (c1, r0)
            bounds = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        else:
            bounds = tuple(src.bounds)
    if bounds_crs != dst_crs:
        bounds = rasterio.warp.transform_bounds(bounds_crs, dst_crs, *bounds, densify_pts=_DENSIFY)
    left, bottom, right, top = bounds
    if sl.shape is not None:
        height, width = sl.shape
        xres, yres = (right - left) / width, (top - bottom) / height
        return Affine(xres, 0.0, left, 0.0, -yres, top), (height, width)
    if sl.resolution is not None:
        xres, yres = sl.resolution
    elif dst_crs == src_crs:
        xres, yres = src.res
    else:  # GDAL's suggested (square) resolution for the whole source, as gdalwarp
        default, _, _ = rasterio.warp.calculate_default_transform(
            src_crs, dst_crs, src.width, src.height, *src.bounds
        )
        xres = yres = abs(default.a)
    left, right = _snap(left, xres, up=False), _snap(right, xres, up=True)
    bottom, top = _snap(bottom, yres, up=False), _snap(top, yres, up=True)
    width = max(round((right - left) / xres), 1)
    height = max(round((top - bottom) / yres), 1)
    return Affine(xres, 0.0, left, 0.0, -yres, top), (height, width)


def load_raster(
    slice_or_path: GeoSlice | str | os.PathLike,
    bounds: tuple[float, float, float, float] | None = None,
    crs: Any = None,
    resolution: float | tuple[float, float] | None = None,
    window: tuple[tuple[int, int], tuple[int, int]] | None = None,
    indexes: int | tuple[int, ...] | None = None,
    resampling: Resampling = "nearest",
    *,
    shape: tuple[int, int] | None = None,
    bounds_crs: Any = None,
    bands: Any = None,
) -> GeoTensor:
    """Read a GeoSlice (or a path with the same arguments) into a ``(band, y, x)`` GeoTensor.

    Arguments:
        slice_or_path: a :class:`GeoSlice`, or a path / URL (see :func:`gdal_path`).
        bounds, bounds_crs, window, crs, resolution, shape, indexes: as the GeoSlice fields
            (``indexes`` are 1-based band numbers, as rasterio's ``read(indexes=...)``);
            keyword values override the slice's (a keyword ``bounds`` replaces the slice's
            ``window``, ``resolution`` its ``shape``, and vice versa).
        resampling: one of :data:`RESAMPLINGS` (rasterio's ``Resampling`` member names);
            used only when the grid changes.
        bands: removed spelling of ``indexes``; passing it raises an error naming ``indexes``.

    Returns:
        Values ``(band, H, W)`` of the source dtype, the target grid's transform and CRS;
        ``band_names`` from the band descriptions of the bands read, when each has one.

    Native grid (no ``crs``, ``resolution`` or ``shape``): the source pixels whose area meets
    ``bounds`` (``rasterio.windows.from_bounds`` rounded outward), or ``window``, exactly as
    ``read_raster(path)[..., r0:r1, c0:c1]``; parts outside the raster are filled.

    Target grid: ``bounds`` (or the window's / raster's bounds) transformed to ``crs`` with
    ``transform_bounds(..., densify_pts=21)`` and snapped outward to multiples of
    ``resolution`` (``gdalwarp -tap``); or spanning the bounds exactly with ``shape``.
    Default resolution: the source's in its own CRS, else GDAL's suggestion
    (``calculate_default_transform``). Only the source window covering the target (plus
    the kernel's reach) is read, then ``rasterio.warp.reproject`` warps it.

    Example:
        >>> import tempfile, os
        >>> from geocatalog import save_cog
        >>> from geocatalog.testing import synthetic_scene
        >>> path = os.path.join(tempfile.mkdtemp(), "s.tif")
        >>> _ = save_cog(synthetic_scene(64, 64), path)
        >>> gt = load_raster(path, bounds=(400000, 4499500, 400200, 4499800), indexes=(3, 4))
        >>> gt.shape, gt.transform.c, gt.transform.f
        ((2, 30, 20), 400000.0, 4499800.0)
        >>> load_raster(path, crs="EPSG:4326", resolution=1e-4, indexes=1).crs_string
        'EPSG:4326'

    Note:
        Fill (nodata): the source's nodata when it has one (passed to GDAL as src and dst
        nodata); else NaN for float sources (``fill_value=nan``); else 0 for integer
        sources, which then carry ``fill_value=None`` (0 is indistinguishable from data:
        set nodata on such files, or read them inside their extent).
    """
    if bands is not None:
        raise renamed_bands_error("load_raster", bands)
    resampling = check_resampling("load_raster", "resampling", resampling, RESAMPLINGS)
    sl = _merge(
        slice_or_path,
        dict(bounds=bounds, crs=crs, resolution=resolution, window=window, indexes=indexes,
             shape=shape, bounds_crs=bounds_crs),
    )  # fmt: skip
    with open_raster(sl.href, "load_raster") as src:
        if src.crs is None:
            raise MissingCRSError(
                f"load_raster needs a georeferenced raster, but {sl.href!r} has no CRS. Assign "
                "one (gdal_edit.py -a_srs EPSG:...) first."
            )
        indexes = list(sl.indexes) if sl.indexes is not None else list(range(1, src.count + 1))
        if max(indexes) > src.count:
            raise GeoValueError(
                f"load_raster: indexes {sl.indexes} must be 1-based band indexes in "
                f"[1, {src.count}] for {sl.href!r} ({src.count} bands)."
            )
        dtype = np.dtype(src.dtypes[indexes[0] - 1])
        fill, fill_value = _fill(src.nodata, dtype)
        src_crs = canonical_crs(src.crs)
        names = names_from_descriptions(src.descriptions, indexes)
        if sl.crs is None and sl.resolution is None and sl.shape is None:
            gt = _read_native(sl, src, src_crs, indexes, fill, fill_value, dtype)
            return gt.replace(band_names=names)
        dst_crs = sl.crs or src_crs
        dst_transform, (height, width) = _target_grid(sl, src, src_crs, dst_crs)
        dst_bounds = rasterio.transform.array_bounds(height, width, dst_transform)
        dst_bounds = (dst_bounds[0], dst_bounds[1], dst_bounds[2], dst_bounds[3])
        if dst_crs != src_crs:
            dst_bounds = rasterio.warp.transform_bounds(
                dst_crs, src_crs, *dst_bounds, densify_pts=_DENSIFY
            )
        needed = rasterio.windows.from_bounds(*dst_bounds, transform=src.transform)
        n0, n1, m0, m1 = _outward(needed)
        _check_overlap(sl, src, src_crs, (n0, n1), (m0, m1), f"target grid in {dst_crs}")
        scale = max(needed.width / width, needed.height / height, 1.0)
        pad = math.ceil(_RADIUS.get(resampling, 1) * scale) + 1
        r0, r1, c0, c1 = _outward(needed, pad)
        r0, c0 = max(r0, 0), max(c0, 0)
        r1, c1 = min(r1, src.height), min(c1, src.width)
        out = np.full((len(indexes), height, width), fill, dtype=dtype)
        if r0 < r1 and c0 < c1:
            data = src.read(indexes, window=rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0))
            lattice, (row, col) = split_transform(src.transform, src_crs)
            rasterio.warp.reproject(
                data,
                out,
                src_transform=lattice.transform_at(row + r0, col + c0),
                src_crs=src_crs,
                src_nodata=src.nodata,
                dst_transform=dst_transform,
                dst_crs=dst_crs,
                dst_nodata=fill,
                resampling=getattr(_RioResampling, resampling),
            )
    return GeoTensor(out, dst_transform, dst_crs, fill_value=fill_value, band_names=names)


def _read_native(
    sl: GeoSlice, src: Any, src_crs: str, indexes: list[int], fill: Any, fill_value: Any,
    dtype: np.dtype,
) -> GeoTensor:  # fmt: skip
    """Read on the source grid: a window, the pixels meeting ``bounds``, or everything."""
    if sl.window is not None:
        (r0, r1), (c0, c1) = sl.window
    elif sl.bounds is not None:
        bounds = sl.bounds
        if sl.bounds_crs is not None and sl.bounds_crs != src_crs:
            bounds = rasterio.warp.transform_bounds(
                sl.bounds_crs, src_crs, *bounds, densify_pts=_DENSIFY
            )
        win = rasterio.windows.from_bounds(*bounds, transform=src.transform)
        r0, r1, c0, c1 = _outward(win)
    else:
        r0, r1, c0, c1 = 0, src.height, 0, src.width
    _check_overlap(sl, src, src_crs, (r0, r1), (c0, c1), "source grid")
    data = _read_padded(src, indexes, (r0, r1), (c0, c1), fill, dtype)
    lattice, (row, col) = split_transform(src.transform, src_crs)
    return GeoTensor._from_parts(data, host_offset(row + r0, col + c0), lattice, fill_value)


def read_from_url(url: str | os.PathLike, bounds: Any = None, **kwargs: Any) -> GeoTensor:
    """Read a raster by path or URL: ``load_raster(url, bounds=bounds, **kwargs)``.

    ``file://`` becomes a local path, ``http(s)://`` ``/vsicurl/``, ``s3://`` ``/vsis3/`` and
    ``gs://`` ``/vsigs/`` (see :func:`gdal_path`); remote reads fetch only the byte ranges
    of the needed COG tiles. Credentials and GDAL options come from the environment
    (``AWS_*``, ``GDAL_HTTP_*``) or a ``rasterio.Env`` around the call.
    """
    gdal_path(os.fspath(url))  # refuse unknown schemes before anything else
    return load_raster(url, bounds=bounds, **kwargs)


def to_cog_bytes(gt: GeoTensor, **save_kwargs: Any) -> bytes:
    """Encode one GeoTensor as Cloud-Optimized GeoTIFF bytes (via :func:`save_cog`).

    ``save_kwargs`` go to :func:`save_cog` (``compress``, ``blocksize``, ``overviews``, ...);
    the bytes decode back to the same values, transform, CRS and nodata.

    Example:
        >>> from geocatalog.testing import synthetic_scene
        >>> to_cog_bytes(synthetic_scene(16, 16))[:4]
        b'II*\\x00'
    """
    with tempfile.TemporaryDirectory(prefix="geocatalog-cog-") as tmp:
        path = save_cog(gt, os.path.join(tmp, "out.tif"), **save_kwargs)
        with open(path, "rb") as fh:
            return fh.read()


def to_cog_bytes_b64(gt: GeoTensor, **save_kwargs: Any) -> str:
    """:func:`to_cog_bytes` as a base64 (ASCII) string, for JSON responses."""
    return base64.b64encode(to_cog_bytes(gt, **save_kwargs)).decode("ascii")
