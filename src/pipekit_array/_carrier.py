"""The one carrier contract: values, rewrap, nodata — for a bare array, a GeoTensor, a DataArray.

Every operator of every package reads its input's pixels, learns which are nodata and
puts results back into the input's carrier through these functions, so the rules below
live here once instead of in each operator:

- **values**: a bare array is its own values; a carrier (anything with array ``.values``
  and ``.replace(values=..., fill_value=...)``, such as ``geocatalog.GeoTensor``) gives
  ``.values``; an ``xarray.DataArray`` gives ``.data`` (not ``.values``, which would turn a
  JAX array into NumPy).
- **nodata**: a pixel is nodata when every band equals the carrier's fill value
  (``GeoTensor.fill_value``; a DataArray's ``attrs["_FillValue"]`` or ``attrs["nodata"]``,
  the CF and rioxarray spellings), as in GDAL's dataset mask; an element is also nodata
  when it is NaN. A bare array has no fill value: only NaN is nodata.
- **band names** (optional, static): a GeoTensor's ``band_names``; a DataArray's string
  coordinate on its band dimension (axis -3). :func:`rewrap` keeps them while the band
  axis is kept (same rank, same band count) and drops them when it changes, unless the
  operator names the new bands (``band_names=``).
- **nodata is never data**: an operator producing floats computes on
  :func:`float_values` (nodata already NaN) and returns NaN there with ``fill_value=NaN``;
  reductions leave NaN out; an operator that keeps integers writes its output's fill value
  at nodata (:func:`fill_nodata`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from array_api_compat import array_namespace

__all__ = [
    "Carrier",
    "band_names_of",
    "fill_nodata",
    "fill_pixels",
    "fill_value_of",
    "fits",
    "float_dtype",
    "float_values",
    "is_carrier",
    "nan_of",
    "namespace",
    "nodata_mask",
    "rewrap",
    "values_of",
]

#: DataArray attributes that hold a fill value, in the order they are read.
_DATAARRAY_FILL_ATTRS = ("_FillValue", "nodata")


@runtime_checkable
class Carrier(Protocol):
    """An array with metadata that rebuilds itself around new values (e.g. a GeoTensor)."""

    @property
    def values(self) -> Any: ...

    @property
    def fill_value(self) -> float | int | None: ...

    def replace(self, values: Any = ..., fill_value: Any = ...) -> Any: ...


def _is_dataarray(x: Any) -> bool:
    # Checked by name so that importing pipekit_array does not import xarray.
    return type(x).__name__ == "DataArray" and type(x).__module__.startswith("xarray")


def is_carrier(x: Any) -> bool:
    """Whether ``x`` wraps its pixels (a GeoTensor-like carrier or a DataArray)."""
    if _is_dataarray(x):
        return True
    return not isinstance(x, Mapping) and hasattr(x, "values") and hasattr(x, "replace")


def values_of(x: Any) -> Any:
    """The pixel array of ``x``: ``.values`` of a carrier, ``.data`` of a DataArray, else ``x``."""
    if _is_dataarray(x):
        return x.data
    if is_carrier(x):
        return x.values
    return x


def fill_value_of(x: Any) -> float | int | None:
    """The nodata value ``x`` declares, or None (a bare array declares none)."""
    if _is_dataarray(x):
        for name in _DATAARRAY_FILL_ATTRS:
            value = x.attrs.get(name)
            if value is not None:
                return np.asarray(value).item()
        return None
    if is_carrier(x):
        return getattr(x, "fill_value", None)
    return None


def band_names_of(x: Any) -> tuple[str, ...] | None:
    """The names of ``x``'s bands (axis -3) as a tuple of strings, or None when unnamed.

    A GeoTensor-like carrier gives its ``band_names`` field; a DataArray the values of the
    coordinate on its band dimension (``dims[-3]``) when that coordinate holds strings
    (``da.coords["band"] = ["B04", "B08"]``); a bare array has none. Static under jit:
    names are metadata, never traced.

    Example:
        >>> import numpy as np
        >>> band_names_of(np.zeros((2, 3, 3))) is None
        True
    """
    if _is_dataarray(x):
        if x.ndim < 3 or x.dims[-3] not in x.coords:
            return None
        names = np.asarray(x.coords[x.dims[-3]].values)
        if names.ndim != 1 or not all(isinstance(n, str) for n in names.tolist()):
            return None
        return tuple(str(n) for n in names.tolist())
    if is_carrier(x):
        names = getattr(x, "band_names", None)
        return None if names is None else tuple(names)
    return None


def namespace(values: Any) -> Any:
    """The array namespace of ``values``: NumPy (via array_api_compat) or ``jax.numpy``."""
    return array_namespace(values)


def float_dtype(xp: Any, values: Any) -> Any:
    """The floating dtype results are computed in: the input's if floating, else float32."""
    if xp.isdtype(values.dtype, "real floating"):
        return values.dtype
    return xp.float32


def nan_of(dtype: Any) -> Any:
    """A NaN of ``dtype`` that NumPy and JAX accept under strict promotion."""
    return np.asarray(np.nan, dtype=np.dtype(str(np.dtype(dtype))))


def fits(xp: Any, dtype: Any, value: float | int) -> bool:
    """Whether ``value`` is exactly representable in ``dtype`` (-1 is not in uint16)."""
    if xp.isdtype(dtype, "real floating"):
        return True
    if xp.isdtype(dtype, "bool") or not math.isfinite(value) or value != int(value):
        return False
    info = xp.iinfo(dtype)
    return info.min <= value <= info.max


def _n_batch(x: Any) -> int:
    return len(tuple(getattr(x, "batch_shape", ()))) if is_carrier(x) else 0


def _comparable_fill(x: Any, values: Any) -> bool:
    """Whether ``x``'s fill value can mark elements of ``values`` (not None, NaN or unfit)."""
    fill = fill_value_of(x)
    if fill is None or (isinstance(fill, float) and math.isnan(fill)):
        return False
    return fits(namespace(values), values.dtype, fill)


def fill_pixels(x: Any) -> Any:
    """``(*batch, y, x)`` boolean: True where **every** band of ``x`` equals its fill value.

    GDAL's dataset mask (rasterio ``dataset_mask()``): with one fill value for all bands, a
    pixel is nodata when no band holds data. A single 0 among valid bands is data: the
    Sentinel-2 QA60 band is 0 ("clear") beside reflectances whose 0 is nodata. All False
    when ``x`` declares no fill value, a NaN one (NaN is missing element by element), or
    one its dtype cannot hold (-9999 in uint16).
    """
    values = values_of(x)
    xp = namespace(values)
    n_batch = _n_batch(x)
    if not _comparable_fill(x, values):
        return xp.zeros((*values.shape[:n_batch], *values.shape[-2:]), dtype=xp.bool)
    equal = values == xp.asarray(fill_value_of(x), dtype=values.dtype)
    band_axes = tuple(range(n_batch, values.ndim - 2))
    return xp.all(equal, axis=band_axes) if band_axes else equal


def _fill_mask_like(x: Any, values: Any) -> Any:
    """:func:`fill_pixels` shaped to broadcast against ``values`` (all of x's, or one band)."""
    pixels = fill_pixels(x)
    if values.ndim != pixels.ndim:  # the full values: one mask for every band of a pixel
        n_batch = _n_batch(x)
        lead = (*pixels.shape[:n_batch], *(1,) * (values.ndim - pixels.ndim))
        pixels = namespace(pixels).reshape(pixels, (*lead, *pixels.shape[-2:]))
    return pixels


def nodata_mask(x: Any, values: Any = None) -> Any:
    """Boolean, ``values``' shape: True where an element is NaN or its pixel is nodata.

    A pixel is nodata when every band equals ``x``'s fill value (:func:`fill_pixels`); an
    element is also nodata when it is NaN (a cloud-masked band, outside a footprint).

    Args:
        x: the carrier (or bare array) whose fill value applies.
        values: the array to test: ``values_of(x)`` (the default) or one band of it,
            ``values_of(x)[..., b, :, :]`` (shape ``(*batch, y, x)``), as an operator that
            reads single bands passes them.
    """
    values = values_of(x) if values is None else values
    xp = namespace(values)
    floating = xp.isdtype(values.dtype, "real floating")
    if not _comparable_fill(x, values_of(x)):
        return xp.isnan(values) if floating else xp.zeros(values.shape, dtype=xp.bool)
    pixels = xp.broadcast_to(_fill_mask_like(x, values), values.shape)
    return (xp.isnan(values) | pixels) if floating else pixels


def float_values(x: Any, dtype: Any = None, values: Any = None) -> Any:
    """``x``'s values as floats with every nodata element NaN: what float operators compute on.

    ``dtype`` defaults to the values' own floating dtype, float32 for integers. Without a
    comparable fill value (none, NaN) this is a plain cast: NaN is already NaN, and no
    extra pass over the data is made.
    """
    values = values_of(x) if values is None else values
    xp = namespace(values)
    dtype = float_dtype(xp, values) if dtype is None else dtype
    out = xp.astype(values, dtype)
    if not _comparable_fill(x, values_of(x)):
        return out
    return xp.where(_fill_mask_like(x, values), nan_of(dtype), out)


def fill_nodata(x: Any, out: Any, fill_value: float | int | None, values: Any = None) -> Any:
    """``out`` (same shape as ``x``'s values) with ``fill_value`` wherever ``x`` is nodata.

    For operators whose output keeps the input's integer dtype (or its layout): the nodata
    of the input stays nodata, spelled as the output's fill value. ``fill_value=None``
    (an output without nodata) returns ``out`` unchanged.
    """
    if fill_value is None:
        return out
    xp = namespace(out)
    if not fits(xp, out.dtype, fill_value):
        raise ValueError(
            f"fill_nodata: the fill value {fill_value!r} does not fit the output dtype "
            f"{out.dtype}; compute in floats (float_values) or choose a representable fill"
        )
    mask = nodata_mask(x, values)
    return xp.where(mask, xp.asarray(fill_value, dtype=out.dtype), out)


def rewrap(x: Any, values: Any, **changes: Any) -> Any:
    """Put ``values`` back into ``x``'s carrier; ``fill_value=`` / ``band_names=`` set those.

    A bare array input gives ``values`` itself. A GeoTensor keeps its georeferencing
    (``x.replace(values=..., **changes)``). A DataArray keeps its attrs and the coordinates
    of the dimensions that survive: the same dims when the shape is unchanged, the band
    dimension (axis -3) dropped when the operator consumed it, its dims (and the coordinates
    of the dims whose size is unchanged) when only sizes changed, and new leading dimensions
    named ``dim_0, dim_1, ...`` otherwise; ``fill_value`` is stored as
    ``attrs["_FillValue"]`` (removed for None).

    Band names (:func:`band_names_of`) are kept when the band axis is kept (same rank, same
    band count) and dropped when it changes. An operator that selects, reorders or makes
    bands names them with ``band_names=(...)`` (``None`` drops them): a reordering keeps
    the count, so without it the old names would be stale.
    """
    unknown = set(changes) - {"fill_value", "band_names"}
    if unknown:
        raise TypeError(
            f"rewrap: unexpected arguments {sorted(unknown)}; only fill_value= and band_names="
        )
    if _is_dataarray(x):
        return _rewrap_dataarray(x, values, changes)
    if not is_carrier(x):
        return values
    if not hasattr(x, "fill_value"):
        changes.pop("fill_value", None)  # a carrier that declares no nodata has none to set
    if not hasattr(x, "band_names"):
        changes.pop("band_names", None)  # nor names, for one that carries none
    return x.replace(values=values, **changes)


def _rewrap_dataarray(x: Any, values: Any, changes: dict[str, Any]) -> Any:
    import xarray as xr

    shape = tuple(values.shape)
    if shape == tuple(x.shape):
        out = x.copy(data=values)
    elif (
        x.ndim >= 3
        and len(shape) == x.ndim - 1
        and shape[-2:] == tuple(x.shape[-2:])
        and shape[:-2] == tuple(x.shape[:-3])
    ):
        out = x.isel({x.dims[-3]: 0}, drop=True).copy(data=values)
    elif len(shape) == x.ndim and x.ndim >= 2 and shape[-2:] == tuple(x.shape[-2:]):
        kept = [d for d, n in zip(x.dims, shape, strict=True) if x.sizes[d] == n]
        coords = {d: x.coords[d] for d in kept if d in x.coords}
        out = xr.DataArray(values, dims=x.dims, coords=coords, attrs=dict(x.attrs), name=x.name)
    else:
        spatial = x.dims[-2:] if x.ndim >= 2 and shape[-2:] == tuple(x.shape[-2:]) else ()
        lead = [f"dim_{i}" for i in range(len(shape) - len(spatial))]
        coords = {d: x.coords[d] for d in spatial if d in x.coords}
        out = xr.DataArray(values, dims=(*lead, *spatial), coords=coords, attrs=dict(x.attrs))
        out.name = x.name
    if "band_names" in changes:
        out = _name_bands(out, changes["band_names"])
    if "fill_value" in changes:
        attrs = {k: v for k, v in out.attrs.items() if k not in _DATAARRAY_FILL_ATTRS}
        if changes["fill_value"] is not None:
            attrs["_FillValue"] = changes["fill_value"]
        out.attrs = attrs
    return out


def _name_bands(out: Any, names: Any) -> Any:
    """``out`` with its band dimension's coordinate set to ``names`` (dropped for None)."""
    if out.ndim < 3:
        if names is None:
            return out
        raise ValueError(
            f"rewrap: band_names={names!r} name the band axis (-3), but the result has dims "
            f"{out.dims}; pass band_names=None for an output without bands"
        )
    dim = out.dims[-3]
    if names is None:
        return out.drop_vars(dim) if dim in out.coords else out
    names = tuple(names)
    if len(names) != out.shape[-3] or len(set(names)) != len(names):
        raise ValueError(
            f"rewrap: band_names must be {out.shape[-3]} unique names, one per band of the "
            f"result's {dim!r} dimension; got {names!r}"
        )
    return out.assign_coords({dim: list(names)})
