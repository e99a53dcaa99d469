"""Fields: what a patcher cuts chips from. ``Domain`` is the grid, ``Field`` the protocol."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from affine import Affine

from ._errors import PatchShapeError

if TYPE_CHECKING:  # geocatalog (and with it JAX) is imported only when a RasterField is used
    from geocatalog import GeoTensor

__all__ = ["Domain", "Field", "RasterField", "as_field", "pad_value", "window_transform"]


def window_transform(transform: Affine, row: int, col: int) -> Affine:
    """The transform of a window whose top-left pixel is ``(row, col)``.

    The same float64 arithmetic as ``rasterio.windows.transform``: the new origin is
    ``transform * (col, row)`` (written out, in affine's order of operations), the other
    coefficients are unchanged.
    """
    t = transform
    x = col * t.a + row * t.b + t.c
    y = col * t.d + row * t.e + t.f
    return Affine(t.a, t.b, x, t.d, t.e, y)


@dataclasses.dataclass(frozen=True)
class Domain:
    """The grid of a field: ``shape = (rows, cols)``, corner-anchored ``transform``, ``crs``.

    ``transform`` and ``crs`` are None for fields without georeferencing.
    """

    shape: tuple[int, int]
    transform: Affine | None = None
    crs: str | None = None

    def window_transform(self, row: int, col: int) -> Affine | None:
        """Transform of the chip with top-left pixel ``(row, col)``; None without georeferencing."""
        return None if self.transform is None else window_transform(self.transform, row, col)


@runtime_checkable
class Field(Protocol):
    """What :class:`~geopatcher.SpatialPatcher` needs from a source of pixels.

    ``read(row, col, rows, cols)`` returns the chip as the field's carrier (values
    ``(*band, rows, cols)``), the parts outside the field filled with :func:`pad_value`;
    ``values(chip)`` its pixel array; ``wrap(values, fill_value)`` a carrier for values
    ``(*band, H, W)`` on the whole domain.
    """

    @property
    def domain(self) -> Domain: ...

    @property
    def fill_value(self) -> float | int | None: ...

    @property
    def dtype(self) -> np.dtype: ...

    def read(self, row: int, col: int, rows: int, cols: int) -> Any: ...

    def values(self, chip: Any) -> np.ndarray: ...

    def wrap(self, values: Any, fill_value: float | int | None) -> Any: ...


def pad_value(fill_value: float | int | None, dtype: Any) -> Any:
    """What padding reads outside a field: its fill value, else NaN (floats) or 0."""
    if fill_value is not None:
        return fill_value
    return np.nan if np.issubdtype(np.dtype(dtype), np.floating) else 0


def _clip(row: int, col: int, rows: int, cols: int, shape: tuple[int, int]) -> tuple[int, ...]:
    """The part of a window inside ``shape``: ``(r0, r1, c0, c1)``; an error if empty."""
    r0, c0 = max(row, 0), max(col, 0)
    r1, c1 = min(row + rows, shape[0]), min(col + cols, shape[1])
    if r0 >= r1 or c0 >= c1:
        raise PatchShapeError(
            f"the window at ({row}, {col}) of size ({rows}, {cols}) does not overlap the field "
            f"of shape {shape}"
        )
    return r0, r1, c0, c1


def _pad(values: np.ndarray, window: tuple[int, ...], inner: tuple[int, ...], fill: Any) -> Any:
    row, col, rows, cols = window
    r0, r1, c0, c1 = inner
    if (r0, r1, c0, c1) == (row, row + rows, col, col + cols):
        return values
    out = np.full((*values.shape[:-2], rows, cols), fill, dtype=values.dtype)
    out[..., r0 - row : r1 - row, c0 - col : c1 - col] = values
    return out


class RasterField:
    """A field over a GeoTensor or a raster file; reads only the windows asked for.

    Arguments:
        source: a :class:`geocatalog.GeoTensor` (one scene), or a path / URL of a raster that
            :func:`geocatalog.read_raster` opens. A file is opened once here for its metadata,
            then each :meth:`read` reads just that window from it.

    Chips are GeoTensors on the source's lattice: a chip at ``(row, col)`` has the transform
    of that window (``rasterio.windows.transform``), exact in float64.

    Example:
        >>> import geocatalog as gc
        >>> field = RasterField(gc.testing.synthetic_scene(32, 48))
        >>> field.domain.shape, field.read(8, 16, 4, 4).shape
        ((32, 48), (13, 4, 4))
    """

    def __init__(self, source: GeoTensor | str | os.PathLike) -> None:
        from geocatalog import GeoTensor, fill_from_nodata, open_raster

        if isinstance(source, GeoTensor):
            if source.batch_shape:
                raise PatchShapeError(
                    f"RasterField(source) takes one scene; this GeoTensor is stacked with batch "
                    f"shape {source.batch_shape}. Make one field per scene."
                )
            self._gt: GeoTensor | None = source
            self._path: str | None = None
            self._domain = Domain(source.shape[-2:], source.transform, source.crs_string)
            self._fill, self._dtype = source.fill_value, np.dtype(source.dtype)
            self._bands: tuple[int, ...] = tuple(source.shape[:-2])
            return
        if not isinstance(source, str | os.PathLike):
            raise TypeError(
                "RasterField(source) expects a geocatalog.GeoTensor or a raster path/URL; "
                f"received {type(source).__name__}"
            )
        self._gt, self._path = None, os.fspath(source)
        with open_raster(self._path, "RasterField") as src:
            crs = src.crs.to_string() if src.crs else None
            self._domain = Domain((src.height, src.width), src.transform, crs)
            self._fill = fill_from_nodata(src.nodata, src.dtypes[0])
            self._dtype, self._bands = np.dtype(src.dtypes[0]), (src.count,)

    def __repr__(self) -> str:
        source = self._path if self._path is not None else "GeoTensor"
        return f"RasterField({source!r}, shape={(*self._bands, *self._domain.shape)})"

    @property
    def domain(self) -> Domain:
        return self._domain

    @property
    def fill_value(self) -> float | int | None:
        return self._fill

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def band_shape(self) -> tuple[int, ...]:
        return self._bands

    @property
    def source(self) -> GeoTensor | str:
        """The GeoTensor or the path this field reads from."""
        return self._gt if self._gt is not None else self._path  # type: ignore[return-value]

    def read(self, row: int, col: int, rows: int, cols: int) -> GeoTensor:
        """The chip ``[row:row+rows, col:col+cols]`` as a GeoTensor; outside: :func:`pad_value`."""
        from geocatalog import GeoTensor, read_raster

        r0, r1, c0, c1 = inner = _clip(row, col, rows, cols, self._domain.shape)
        if self._gt is not None:
            part = self._gt[..., r0:r1, c0:c1]
        else:
            part = read_raster(self._path, ((r0, r1), (c0, c1)))
        values = np.asarray(part.values)
        padded = _pad(values, (row, col, rows, cols), inner, pad_value(self._fill, values.dtype))
        if padded is values:
            return part
        offset = np.asarray(part.offset) - np.array([r0 - row, c0 - col])
        return GeoTensor.from_lattice(
            padded, offset, part.lattice, part.fill_value, band_names=part.band_names
        )

    def values(self, chip: GeoTensor) -> np.ndarray:
        return np.asarray(chip.values)

    def wrap(self, values: Any, fill_value: float | int | None) -> GeoTensor:
        """``values (*band, H, W)`` as a GeoTensor on this field's grid."""
        from geocatalog import GeoTensor

        if tuple(values.shape[-2:]) != self._domain.shape:
            raise PatchShapeError(
                f"RasterField.wrap needs values ending in the field's shape {self._domain.shape}; "
                f"received {tuple(values.shape)}"
            )
        if self._gt is not None:
            return GeoTensor.from_lattice(values, self._gt.offset, self._gt.lattice, fill_value)
        return GeoTensor(values, self._domain.transform, self._domain.crs, fill_value)


def as_field(source: Any) -> Field:
    """``source`` as a Field: a Field as is, a GeoTensor or raster path as a RasterField, an
    ``xarray.DataArray`` as an XarrayField (spatial dims ``y``/``x``)."""
    if isinstance(source, Field) and not isinstance(source, type):
        return source
    if isinstance(source, str | os.PathLike):
        return RasterField(source)
    module = type(source).__module__
    if module.startswith("geocatalog"):
        return RasterField(source)
    if module.startswith("xarray"):
        from ._xarray import XarrayField

        return XarrayField(source)
    raise TypeError(
        "a patcher reads from a Field (geopatcher.RasterField, geopatcher.XarrayField), a "
        f"geocatalog.GeoTensor, a raster path or an xarray.DataArray; received "
        f"{type(source).__name__}"
    )
