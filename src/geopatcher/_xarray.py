"""XarrayField: a field over an ``xarray.DataArray`` (NumPy- or Dask-backed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine

from ._errors import PatchShapeError
from ._field import Domain, _clip, _pad, pad_value

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["XarrayField"]


def _is_lon_lat(da: Any, x: str, y: str) -> bool:
    """CF's test: ``units`` degrees_east/degrees_north, or the usual axis names."""

    def units(name: str) -> str:
        return str(da[name].attrs.get("units", "")) if name in da.coords else ""

    return (
        (units(x).startswith("degree") and "east" in units(x)) or x in ("lon", "longitude")
    ) and ((units(y).startswith("degree") and "north" in units(y)) or y in ("lat", "latitude"))


def _regular_step(coord: np.ndarray, name: str) -> tuple[float, float]:
    """First value and step of an evenly spaced 1-D coordinate (pixel centres)."""
    if coord.ndim != 1 or len(coord) < 2:
        raise PatchShapeError(
            f"XarrayField needs a 1-D coordinate {name!r} with at least 2 values to derive the "
            f"grid; received shape {coord.shape}"
        )
    steps = np.diff(coord.astype(np.float64))
    if not np.allclose(steps, steps[0], rtol=1e-9, atol=0):
        raise PatchShapeError(f"XarrayField: coordinate {name!r} is not evenly spaced")
    return float(coord[0]), float(steps[0])


class XarrayField:
    """A field over a DataArray whose spatial dims are ``y`` and ``x`` (names configurable).

    Arguments:
        da: the DataArray; any other dims come first in chips (``(*other, y, x)``). Dask-backed
            arrays are computed one window at a time.
        x, y: names of the column and row dims.
        crs: the CRS; default ``da.attrs["crs"]`` or the ``crs_wkt`` of a ``spatial_ref``
            coordinate (rioxarray's convention), else None.

    The transform is derived from evenly spaced pixel-centre coordinates of ``x`` and ``y``
    (corner origin = first centre minus half a step). Chips are DataArrays (``isel`` of the
    window, coords and attrs kept; padded windows get extrapolated coordinates); the stitched
    result has ``da``'s dims, coords and attrs.

    Example:
        >>> import numpy as np, xarray as xr
        >>> da = xr.DataArray(np.zeros((2, 4, 6)), dims=("band", "y", "x"),
        ...                   coords={"y": [3.5, 2.5, 1.5, 0.5], "x": np.arange(6) + 0.5})
        >>> XarrayField(da).domain.transform
        Affine(1.0, 0.0, 0.0,
               0.0, -1.0, 4.0)
    """

    def __init__(self, da: xr.DataArray, x: str = "x", y: str = "y", crs: Any = None) -> None:
        import xarray as xr

        if not isinstance(da, xr.DataArray):
            raise TypeError(f"XarrayField(da) expects an xarray.DataArray; received {type(da)}")
        missing = [d for d in (y, x) if d not in da.dims]
        if missing:
            raise PatchShapeError(
                f"XarrayField: dims {missing} not in the DataArray's dims {da.dims}; pass "
                "x=/y= with the names of its column/row dims"
            )
        self.da, self.x, self.y = da, x, y
        self._order = da.transpose(..., y, x)  # spatial dims last, as chips are laid out
        transform = None
        if x in da.coords and y in da.coords:
            x0, dx = _regular_step(np.asarray(da[x].values), x)
            y0, dy = _regular_step(np.asarray(da[y].values), y)
            transform = Affine(dx, 0.0, x0 - dx / 2, 0.0, dy, y0 - dy / 2)
        if crs is None:
            crs = da.attrs.get("crs")
            if crs is None and "spatial_ref" in da.coords:
                crs = da.coords["spatial_ref"].attrs.get("crs_wkt")
        self._domain = Domain(
            (da.sizes[y], da.sizes[x]), transform, None if crs is None else str(crs)
        )
        fill = da.attrs.get("_FillValue", da.attrs.get("nodata"))
        self._fill = None if fill is None else fill.item() if hasattr(fill, "item") else fill

    def __repr__(self) -> str:
        return f"XarrayField(dims={self.da.dims}, shape={self.da.shape})"

    @property
    def domain(self) -> Domain:
        return self._domain

    @property
    def fill_value(self) -> float | int | None:
        return self._fill

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.da.dtype)

    def read(self, row: int, col: int, rows: int, cols: int) -> xr.DataArray:
        """The chip as a DataArray ``(*other, rows, cols)``; outside: :func:`pad_value`."""
        r0, r1, c0, c1 = inner = _clip(row, col, rows, cols, self._domain.shape)
        part = self._order.isel({self.y: slice(r0, r1), self.x: slice(c0, c1)})
        if (r0, r1, c0, c1) == (row, row + rows, col, col + cols):
            return part.load() if hasattr(part.data, "dask") else part
        values = np.asarray(part.values)
        padded = _pad(values, (row, col, rows, cols), inner, pad_value(self._fill, values.dtype))
        coords = {
            k: v for k, v in part.coords.items() if self.x not in v.dims and self.y not in v.dims
        }
        t = self._domain.transform
        if t is not None:  # extend the centre coordinates over the padded rows/columns
            coords[self.y] = t.f + (np.arange(row, row + rows) + 0.5) * t.e
            coords[self.x] = t.c + (np.arange(col, col + cols) + 0.5) * t.a
        return type(part)(padded, dims=part.dims, coords=coords, attrs=part.attrs, name=part.name)

    def to_geotensor(self) -> Any:
        """The whole field as a NumPy :class:`geocatalog.GeoTensor` ``(*other, y, x)``.

        For the compiled path: ``jax.tree.map(jnp.asarray, field.to_geotensor())`` through
        ``eqx.filter_jit(pk.Sequential([GridSampler(p), ApplyToChips(model), Stitch(a)]))``
        gathers, vmaps and stitches every chip in one XLA program (the host path reads and
        runs chips one by one), and :meth:`wrap` puts the result back into a DataArray with
        ``da``'s dims, coords and attrs. Jitting the model per DataArray chip instead would
        compile once per chip: a DataArray's coordinates are static under jit.
        """
        from geocatalog import GeoTensor

        if self._domain.transform is None:
            raise PatchShapeError(
                f"XarrayField.to_geotensor: the DataArray needs evenly spaced {self.y!r} and "
                f"{self.x!r} coordinates to define a grid; assign them (pixel centres) first"
            )
        crs = self._domain.crs
        if crs is None and _is_lon_lat(self.da, self.x, self.y):
            crs = "EPSG:4326"  # CF longitude/latitude axes: a plate carrée grid
        if crs is None:
            raise PatchShapeError(
                f"XarrayField.to_geotensor: the DataArray has no CRS (attrs['crs'], a "
                f"spatial_ref coordinate) and {self.x!r}/{self.y!r} are not CF longitude/"
                f"latitude; pass XarrayField(da, crs='EPSG:...')"
            )
        values = np.asarray(self._order.values)
        return GeoTensor(values, self._domain.transform, crs, self._fill)

    def values(self, chip: xr.DataArray) -> np.ndarray:
        return np.asarray(chip.values)

    def wrap(self, values: Any, fill_value: float | int | None) -> xr.DataArray:
        """``values (*other, H, W)`` as a DataArray like ``da`` (dims, coords, attrs kept)."""
        import xarray as xr

        values = np.asarray(values)
        template = self._order
        attrs = dict(template.attrs)
        if fill_value is not None and "_FillValue" in attrs:
            attrs["_FillValue"] = fill_value
        if values.shape == template.shape:
            out = xr.DataArray(values, dims=template.dims, coords=template.coords, attrs=attrs,
                               name=template.name)  # fmt: skip
            return out.transpose(*self.da.dims)
        if tuple(values.shape[-2:]) != self._domain.shape:
            raise PatchShapeError(
                f"XarrayField.wrap needs values ending in the field's shape {self._domain.shape}; "
                f"received {values.shape}"
            )
        # Other dims changed (e.g. bands reduced away): keep the spatial dims and coords.
        lead = [f"dim_{i}" for i in range(values.ndim - 2)]
        coords = {k: v for k, v in template.coords.items()
                  if set(v.dims) <= {self.y, self.x}}  # fmt: skip
        return xr.DataArray(values, dims=(*lead, self.y, self.x), coords=coords, attrs=attrs,
                            name=template.name)  # fmt: skip
