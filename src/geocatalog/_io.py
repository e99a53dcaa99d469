"""Raster I/O with rasterio: windowed reads into GeoTensors, atomic COG writes."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from typing import Any, TypeVar

import numpy as np
import rasterio
import rasterio.crs
from rasterio.windows import Window

from ._atomic import remove_stale_temps, sigterm_cleanup, temp_path
from ._bands import names_from_descriptions
from ._errors import (
    BatchedGeoTensorError,
    FillValueError,
    GeoValueError,
    GridShapeError,
    MissingCRSError,
)
from ._geotensor import GeoTensor
from ._lattice import split_transform
from ._leaves import host_offset
from ._storage import is_remote, open_raster, upload
from ._types import (
    COMPRESSIONS,
    OVERVIEW_RESAMPLINGS,
    Compression,
    OverviewResampling,
    check_resampling,
)

__all__ = ["fill_from_nodata", "read_raster", "save_cog"]

PathT = TypeVar("PathT", str, os.PathLike)
WindowLike = Window | tuple[tuple[int, int], tuple[int, int]]


def _as_window(window: WindowLike | None, height: int, width: int) -> tuple[int, int, int, int]:
    """Return ``(row_off, col_off, height, width)`` of an integer window inside the raster."""
    if window is None:
        return 0, 0, height, width
    if isinstance(window, Window):
        parts = (window.row_off, window.col_off, window.height, window.width)
    else:
        try:
            (r0, r1), (c0, c1) = window
        except (TypeError, ValueError):
            raise GeoValueError(
                "read_raster window must be a rasterio.windows.Window or "
                f"((row_start, row_stop), (col_start, col_stop)); received {window!r}"
            ) from None
        parts = (r0, c0, r1 - r0, c1 - c0)
    if not all(float(p) == int(p) for p in parts):
        raise GeoValueError(
            f"read_raster reads whole pixels: window offsets and sizes must be integers; received "
            f"{window!r}. Round it first, e.g. window.round_offsets().round_lengths()."
        )
    row, col, h, w = (int(p) for p in parts)
    if row < 0 or col < 0 or h < 0 or w < 0 or row + h > height or col + w > width:
        raise GeoValueError(
            f"read_raster window {window!r} (rows {row}:{row + h}, cols {col}:{col + w}) must lie "
            f"inside the raster of (height, width) = ({height}, {width}). Clip it with "
            f"window.intersection(Window(0, 0, {width}, {height}))."
        )
    return row, col, h, w


def fill_from_nodata(nodata: float | None, dtype: Any) -> float | int | None:
    """The GeoTensor ``fill_value`` of a raster's ``nodata``: an int for integer dtypes.

    ``read_raster`` and every reader of raster files (e.g. ``geopatcher.RasterField``) use it,
    so one file gives one fill value whichever way it is read.

    Example:
        >>> fill_from_nodata(0.0, "uint16"), fill_from_nodata(-9999, "float32")
        (0, -9999.0)
        >>> fill_from_nodata(None, "int8") is None
        True
    """
    if nodata is None:
        return None
    if np.issubdtype(np.dtype(dtype), np.integer) and float(nodata).is_integer():
        return int(nodata)
    return float(nodata)


def read_raster(
    path: str | os.PathLike,
    window: WindowLike | None = None,
    *,
    indexes: int | list[int] | None = None,
) -> GeoTensor:
    """Read a raster (or an integer window of it) into a GeoTensor with rasterio.

    Arguments:
        path: a local file, a URL (``s3://``, ``https://``, ``gs://``, see :func:`gdal_path`;
            ``AWS_*`` settings as in :func:`geocatalog._storage.gdal_env`) or a GDAL ``/vsi`` path.
        window: ``rasterio.windows.Window`` or ``((row_start, row_stop), (col_start, col_stop))``,
            integer and inside the raster; None reads everything.
        indexes: 1-based band index (returns ``(H, W)``) or list of them (``(band, H, W)``);
            None reads all bands as ``(band, H, W)``, as ``DatasetReader.read``.

    Returns:
        A GeoTensor with the window's transform, the file's CRS and its nodata as fill value;
        its ``band_names`` are the band descriptions of the bands read when each has a
        (unique) one, as :func:`save_cog` writes them.

    Note:
        A window is applied as an integer offset on the lattice of the whole file, so every
        window of one file shares one lattice (one jit compile) and
        ``read_raster(p, w) == read_raster(p)[..., r0:r1, c0:c1]`` exactly. The transform
        equals rasterio's ``src.window_transform(window)`` whenever rasterio's own float64
        arithmetic is exact (e.g. any grid with integer-metre pixels and origin); on grids
        with inexact products (degrees) the two may differ in the last bit.
    """
    src_path = os.fspath(path)
    with open_raster(src_path, "read_raster") as src:
        row, col, h, w = _as_window(window, src.height, src.width)
        data = src.read(indexes=indexes, window=Window(col, row, w, h))
        if src.crs is None:
            raise MissingCRSError(
                f"read_raster needs a georeferenced raster, but {src_path!r} has no CRS. "
                "Assign one (e.g. gdal_edit.py -a_srs EPSG:32630) or build GeoTensor(values, "
                "transform, crs) yourself."
            )
        lattice, (row0, col0) = split_transform(src.transform, src.crs)
        fill = fill_from_nodata(src.nodata, src.dtypes[0])
        names = names_from_descriptions(src.descriptions, indexes)
    offset = host_offset(row0 + row, col0 + col)
    return GeoTensor._from_parts(data, offset, lattice, fill, names)


def _check_fill(fill: float | int | None, dtype: np.dtype) -> float | int | None:
    if fill is None or not np.issubdtype(dtype, np.integer):
        return fill
    info = np.iinfo(dtype)
    if not (float(fill).is_integer() and info.min <= fill <= info.max):
        raise FillValueError(
            f"save_cog: fill_value {fill!r} cannot be stored as nodata of a {dtype} raster "
            f"(needs an integer in [{info.min}, {info.max}]). Use gt.replace(fill_value=...) "
            "with a representable value, or cast the values to float."
        )
    return int(fill)


def _write(dst: Any, data: np.ndarray, band_names: tuple[str, ...] | None) -> None:
    """Write the bands and, when the GeoTensor names them, their descriptions."""
    dst.write(data)
    for i, name in enumerate(band_names or (), start=1):
        dst.set_band_description(i, name)


def _remove_partials(tmp: str) -> None:
    for leftover in glob.glob(glob.escape(tmp) + "*"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(leftover)


def save_cog(
    gt: GeoTensor,
    path: PathT,
    *,
    compress: Compression = "deflate",
    blocksize: int = 512,
    overviews: bool = True,
    overview_resampling: OverviewResampling = "nearest",
) -> PathT:
    """Write a GeoTensor as a Cloud-Optimized GeoTIFF (GDAL ``COG`` driver), atomically.

    Arguments:
        gt: one scene, values ``(H, W)`` or ``(band, H, W)``, concrete (not inside jit).
        path: destination file (its directory must exist) or ``s3://bucket/key`` URI.
        compress: codec, one of ``COMPRESSIONS``.
        blocksize: internal tile size in pixels (multiple of 16).
        overviews: build overviews (GDAL ``OVERVIEWS=AUTO``) or not (``NONE``).
        overview_resampling: resampling for overviews; ``"nearest"`` keeps QA bit masks valid.

    Returns:
        ``path``.

    Note:
        The file is written to a temporary name in the same directory and moved into place
        with ``os.replace``, so readers never see a partial file; on any failure, and on
        SIGTERM during the write (the process then still ends by SIGTERM), the temporary
        file is removed and an existing file at ``path`` is left untouched. Temporary files
        of ``path`` left by dead processes (SIGKILL, power loss) are removed by the next
        write to ``path``.
        An ``s3://`` destination is written to a local temporary file, then uploaded in one
        pyarrow call: S3 shows an object only once its PUT (or multipart upload) completes,
        so readers see the old object or the new one whole. The endpoint and credentials come
        from the ``AWS_*`` environment variables (``AWS_ENDPOINT_URL`` for S3-compatible
        servers).
        Transform, nodata (NaN included) and values round-trip exactly through
        :func:`read_raster` (``bool`` is stored as uint8, ``float16`` as float32). A CRS with
        an authority code (``"EPSG:32630"``) comes back as the same string; a custom CRS
        comes back equivalent (``pyproj.CRS.equals``) but GeoTIFF keys may rename its WKT.
        Band names are written as GDAL band descriptions (rasterio ``descriptions``), which
        :func:`read_raster` and :func:`load_raster` read back as ``band_names``.
    """
    if gt.batch_shape:
        raise BatchedGeoTensorError(
            f"save_cog writes one scene; this GeoTensor is stacked with batch shape "
            f"{gt.batch_shape}. Write geocatalog.unstack(gt)[i] one by one."
        )
    transform = gt.transform  # raises a teaching error for traced offsets
    values = np.asarray(gt.values)
    if values.ndim not in (2, 3):
        raise GridShapeError(
            f"save_cog writes (H, W) or (band, H, W) values; received shape {values.shape}. "
            "Reshape the leading axes into one band axis first."
        )
    data = values[None] if values.ndim == 2 else values
    if data.dtype == np.bool_:  # GDAL has no 1-bit sample type in GeoTIFF: store masks as 0/1
        data = data.astype(np.uint8)
    elif data.dtype == np.float16:  # GDAL < 3.11 has no Float16
        data = data.astype(np.float32)
    if compress.lower() not in COMPRESSIONS:
        raise GeoValueError(
            f"save_cog: compress must be one of {COMPRESSIONS}; received {compress!r}"
        )
    overview_resampling = check_resampling(
        "save_cog", "overview_resampling", overview_resampling, OVERVIEW_RESAMPLINGS
    )
    if blocksize <= 0 or blocksize % 16:
        raise GeoValueError(
            f"save_cog: blocksize must be a positive multiple of 16; received {blocksize}"
        )
    profile: dict[str, Any] = {
        "driver": "COG",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": data.dtype,
        "crs": rasterio.crs.CRS.from_user_input(gt.crs_string),
        "transform": transform,
        "nodata": _check_fill(gt.fill_value, data.dtype),
        "compress": compress.upper(),
        "blocksize": blocksize,
        "overviews": "AUTO" if overviews else "NONE",
        # GDAL spells rasterio's cubic_spline CUBICSPLINE
        "overview_resampling": overview_resampling.replace("_", "").upper(),
        "bigtiff": "IF_SAFER",
    }
    dst_path = os.fspath(path)
    if is_remote(dst_path):
        with tempfile.TemporaryDirectory(prefix="geocatalog-cog-") as tmp_dir:
            local = os.path.join(tmp_dir, "out.tif")
            with rasterio.open(local, "w", **profile) as dst:
                _write(dst, data, gt.band_names)
            upload(local, dst_path)
        return path
    remove_stale_temps(dst_path)
    tmp = temp_path(dst_path)
    with sigterm_cleanup(f"save_cog({dst_path!r})"):
        try:
            with rasterio.open(tmp, "w", **profile) as dst:
                _write(dst, data, gt.band_names)
            os.replace(tmp, dst_path)
        except BaseException:
            _remove_partials(tmp)
            raise
    return path
