"""RandomCrop: a random window whose georeferencing moves exactly, also under jit."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Shaped

import pipekit as pk
from geocatalog import GeoTensor
from pipekit.validate import check_int

from .._carrier import values_of
from .._errors import GeotoolzTypeError, GeotoolzValueError
from ._augment import Key, _check_key, _check_values
from ._photometric import draw

__all__ = ["RandomCrop"]


def _size(value: Any) -> tuple[int, int]:
    hint = "; pass size=256 or size=(height, width)"
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise pk.ConfigError(
                f"RandomCrop: size must be an int or a (height, width) pair, got {value!r}{hint}"
            )
        h, w = value
    else:
        h = w = value
    return (
        check_int("RandomCrop", "size height", h, minimum=1, hint=hint),
        check_int("RandomCrop", "size width", w, minimum=1, hint=hint),
    )


class RandomCrop(pk.Operator):
    """Cut a ``(height, width)`` window at a uniformly random position.

    The window's top-left pixel ``(row, col) = jax.random.randint(key, (2,), 0, (H - height
    + 1, W - width + 1))`` (a Generator draws ``rng.integers(0, (H - height + 1, W - width +
    1))``); the values are ``v[..., row:row + height, col:col + width]``, one window shared
    by all leading axes. For one window per scene, ``jax.vmap`` over a batch of keys.

    A GeoTensor keeps its lattice and moves its integer offset by ``(row, col)``, so the
    transform is exactly ``rasterio.windows.transform`` of the window: origin = old origin
    + ``col * a + row * b`` (x) and ``col * d + row * e`` (y). That is slicing a GeoTensor,
    and it works with a traced key too: under jit the offset is a traced leaf and the
    window is ``GeoTensor.dynamic_slice``, so chips of one lattice share one compiled
    program. A DataArray is cut with ``isel`` (concrete keys only: its coordinates are
    static labels).

    Args:
        size: the window, an int (square) or ``(height, width)``, each >= 1.
    """

    size: tuple[int, int] = eqx.field(static=True)

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = _size(size)

    def _apply(
        self, x: GeoTensor | Shaped[ArrayLike, "*batch y x"], *, key: Key | None = None
    ) -> GeoTensor | Shaped[Array, "*batch h w"]:
        traced = _check_key("RandomCrop", key)
        values = values_of(x)
        _check_values("RandomCrop", values)
        big_h, big_w = (int(n) for n in values.shape[-2:])
        h, w = self.size
        if h > big_h or w > big_w:
            raise GeotoolzValueError(
                f"RandomCrop: size (height, width) = ({h}, {w}) must fit the input's (H, W) = "
                f"({big_h}, {big_w}); pick a smaller size or pad the scene first."
            )
        limits = np.array([big_h - h + 1, big_w - w + 1], dtype=np.int32)
        start = draw(
            key,
            traced,
            lambda k: jax.random.randint(k, (2,), 0, limits),
            lambda g: g.integers(0, limits),
        )
        if traced:
            return _traced_crop(x, values, start[0], start[1], h, w)
        r, c = int(start[0]), int(start[1])
        if isinstance(x, GeoTensor):
            return x[..., r : r + h, c : c + w]
        if hasattr(x, "isel") and hasattr(x, "dims"):  # an xarray.DataArray
            return x.isel({x.dims[-2]: slice(r, r + h), x.dims[-1]: slice(c, c + w)})
        return values[..., r : r + h, c : c + w]


def _traced_crop(x: Any, values: Any, r: Any, c: Any, h: int, w: int) -> Any:
    if isinstance(x, GeoTensor):
        return x.dynamic_slice(r, c, h, w)
    if hasattr(x, "isel") and hasattr(x, "dims"):
        raise GeotoolzTypeError(
            "RandomCrop: under jit (traced key) the window position is only known at run time, "
            "and a DataArray's coordinates are static labels. Crop x.data, or a GeoTensor, "
            "or draw with a concrete key outside jit."
        )
    lead = values.ndim - 2
    zero = jnp.zeros((), dtype=jnp.int32)
    starts = (zero,) * lead + (r.astype(jnp.int32), c.astype(jnp.int32))
    return jax.lax.dynamic_slice(jnp.asarray(values), starts, (*values.shape[:-2], h, w))
