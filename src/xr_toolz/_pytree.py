"""``xarray.DataArray`` and ``xarray.Dataset`` as JAX pytrees: data are leaves, labels are static.

Why: an xr_toolz operator is called on a DataArray, and a pipeline is jit-compiled with
``eqx.filter_jit(pipeline)(da)``. For JAX to trace that call it must see through the
DataArray to its array. Registering the two classes as pytree nodes does that, the same
split ``geocatalog.GeoTensor`` makes:

- **leaves**: the ``.data`` of the DataArray (each data variable's, for a Dataset), so a
  NumPy-backed DataArray becomes a JAX-backed one under ``jax.tree.map(jnp.asarray, da)``
  and a tracer-backed one inside ``jax.jit``. xarray wraps JAX arrays and tracers as duck
  arrays, so the operators' xarray code (``isel``, ``transpose``, arithmetic) traces too.
- **static**: dims, name, attrs and every coordinate (time stamps, lat/lon, ...). Labels
  decide *which* computation runs (group ids of a climatology, grid spacing of a
  gradient), so they are compile-time constants; a call with new coordinate values
  compiles again, as a new lattice does for a GeoTensor. They compare by value (a digest
  of each coordinate's bytes), so equal labels on a new object do not retrace.

``vmap`` over a DataArray is not supported: the batch axis would have no dimension name.
Vmap the kernel, or stack along a named dim and let the operator reduce over it.

Registration happens once, when :mod:`xr_toolz` is imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from typing import Any

import jax
import numpy as np
import xarray as xr

__all__ = ["register"]


def _digest(values: Any) -> str:
    array = np.asarray(values)
    if array.dtype == object:
        return repr(array.tolist())
    h = hashlib.blake2b(digest_size=16)
    h.update(str(array.dtype).encode())
    h.update(repr(array.shape).encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _freeze(value: Any) -> Hashable:
    """A hashable, value-comparing stand-in for an attribute value (NaN equals NaN)."""
    if isinstance(value, np.ndarray | np.generic):
        return ("ndarray", _digest(value))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    return (type(value).__name__, repr(value))


def _coords_key(coords: xr.Coordinates) -> Hashable:
    return tuple(
        (str(name), var.dims, _digest(var.values), _freeze(dict(var.attrs)))
        for name, var in sorted(coords.variables.items(), key=lambda kv: str(kv[0]))
    )


class _Labels:
    """The static half of a flattened DataArray/Dataset, equal when the labels are equal."""

    __slots__ = ("coords", "key", "parts")

    def __init__(self, parts: tuple[Any, ...], coords: xr.Coordinates, key: Hashable) -> None:
        self.parts, self.coords, self.key = parts, coords, key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Labels) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"_Labels({self.parts[0]})"


class _Placeholder:
    """Stands in for a leaf that is not an array while JAX or equinox rebuilds a tree.

    ``eqx.partition`` and friends put ``None`` (or other markers) where the leaves were and
    unflatten; xarray only accepts arrays, so the marker travels inside this duck array of
    the right shape until the tree is flattened again.
    """

    __slots__ = ("dtype", "obj", "shape")

    def __init__(self, obj: Any, shape: tuple[int, ...], dtype: Any) -> None:
        self.obj, self.shape, self.dtype = obj, shape, dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        raise TypeError(
            f"xr_toolz: this DataArray holds {self.obj!r}, a placeholder JAX put in a pytree "
            f"leaf's place (e.g. eqx.partition), not an array; combine the tree back first"
        )


def _is_array(x: Any) -> bool:
    return all(hasattr(x, a) for a in ("shape", "dtype", "ndim")) and (
        hasattr(x, "__array_namespace__") or hasattr(x, "__array_function__")
    )


def _leaf(data: Any) -> Any:
    return data.obj if isinstance(data, _Placeholder) else data


def _as_data(leaf: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    return leaf if _is_array(leaf) else _Placeholder(leaf, shape, dtype)


def _flatten_dataarray(da: xr.DataArray) -> tuple[tuple[Any], _Labels]:
    variable = da.variable
    parts = ("DataArray", variable.dims, da.name, dict(variable.attrs), da.shape, da.dtype)
    key = (
        parts[:3],
        _freeze(parts[3]),
        parts[4],
        str(parts[5]),
        _coords_key(da.coords),
    )
    return (_leaf(variable.data),), _Labels(parts, da.coords, key)


def _unflatten_dataarray(labels: _Labels, children: Any) -> xr.DataArray:
    (leaf,) = children
    _, dims, name, attrs, shape, dtype = labels.parts
    data = _as_data(leaf, shape, dtype)
    return xr.DataArray(data, dims=dims, coords=labels.coords, name=name, attrs=dict(attrs))


def _flatten_dataset(ds: xr.Dataset) -> tuple[tuple[Any, ...], _Labels]:
    names = list(ds.data_vars)
    variables = [ds.variables[n] for n in names]
    spec = tuple(
        (n, v.dims, dict(v.attrs), v.shape, v.dtype) for n, v in zip(names, variables, strict=True)
    )
    parts = ("Dataset", spec, dict(ds.attrs))
    key = (
        tuple((str(n), d, _freeze(a), s, str(t)) for n, d, a, s, t in spec),
        _freeze(parts[2]),
        _coords_key(ds.coords),
    )
    return tuple(_leaf(v.data) for v in variables), _Labels(parts, ds.coords, key)


def _unflatten_dataset(labels: _Labels, children: Any) -> xr.Dataset:
    _, spec, attrs = labels.parts
    data_vars = {
        name: xr.Variable(dims, _as_data(leaf, shape, dtype), attrs=dict(var_attrs))
        for (name, dims, var_attrs, shape, dtype), leaf in zip(spec, children, strict=True)
    }
    return xr.Dataset(data_vars, coords=labels.coords, attrs=dict(attrs))


_registered = False


def register() -> None:
    """Register DataArray and Dataset as pytree nodes (idempotent)."""
    global _registered
    if _registered:
        return
    jax.tree_util.register_pytree_node(xr.DataArray, _flatten_dataarray, _unflatten_dataarray)
    jax.tree_util.register_pytree_node(xr.Dataset, _flatten_dataset, _unflatten_dataset)
    _registered = True
