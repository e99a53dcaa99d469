"""GeoTensor: a raster array with float64-exact georeferencing that jit and vmap cannot round."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pyproj
from affine import Affine
from jaxtyping import ArrayLike, Int, Shaped

from . import _indexing
from ._bands import check_band_names, index_band_names, kept_band_names
from ._encode import GeoTensorEncoders
from ._errors import (
    BatchedGeoTensorError,
    GeoTypeError,
    GridShapeError,
    TracedGeoreferenceError,
)
from ._lattice import Lattice, crs_object, split_transform
from ._leaves import UNSET, canonical_fill, host_offset, is_traced, shift_offset

__all__ = ["GeoTensor"]


class GeoTensor(GeoTensorEncoders, eqx.Module):
    """A raster ``(..., H, W)`` plus georeferencing that stays float64-exact under jit and vmap.

    Arguments:
        values: NumPy or JAX array ``(..., y, x)``: any leading (band) axes, then rows, columns.
        transform: corner-anchored ``affine.Affine`` or rasterio-ordered 6-tuple
            ``(a, b, c, d, e, f)``.
        crs: anything ``pyproj.CRS.from_user_input`` accepts (``"EPSG:32630"``, WKT,
            a pyproj or rasterio CRS).
        fill_value: the nodata value (None, an int or a float; NaN allowed).
        band_names: optional names of the bands (axis -3), unique strings, one per band,
            e.g. ``("B02", "B03", "B04", "B08")``; 2-D values take none.

    Example:
        >>> import numpy as np
        >>> from affine import Affine
        >>> transform = Affine(10, 0, 399960, 0, -10, 4500000)
        >>> gt = GeoTensor(np.zeros((2, 4, 6)), transform, "EPSG:32630")
        >>> gt[..., 1:3, 2:].transform == Affine(10, 0, 399980, 0, -10, 4499990)
        True
        >>> gt.bounds
        (399960.0, 4499960.0, 400020.0, 4500000.0)

    Note:
        The pytree has two dynamic leaves, ``values`` and an int32 pixel ``offset``
        ``(row_off, col_off)`` (shape ``(*batch, 2)``); the static part is a hashable
        :class:`~geocatalog.Lattice` (resolution, rotation, origin reduced modulo one pixel,
        canonical CRS string) and ``fill_value``. Scenes of one sensor grid differ only in the
        offset, so a compiled function serves them all without retracing, and ``.transform``
        is rebuilt on the host in float64 (``lattice origin + offset x resolution``), never
        rounded to float32 by JAX. Lattices compare their origins in pixel units to
        ``1 / ORIGIN_QUANTA`` (~2.8e-7) pixel, so crops of one 0.1 m or 1 arc-second scene
        whose float64 transforms differ by an ULP still share one lattice (see
        :class:`~geocatalog.Lattice`). ``band_names`` is static too (part of the tree
        structure, never a traced leaf): operators that keep the band axis keep the names
        (:meth:`replace`), indexing the band axis subsets them, and they round-trip through
        GeoTIFF band descriptions (:func:`~geocatalog.save_cog`, :func:`~geocatalog.read_raster`).
    """

    values: Shaped[ArrayLike, "*band y x"]
    offset: Int[ArrayLike, "*batch 2"]
    lattice: Lattice = eqx.field(static=True)
    fill_value: float | int | None = eqx.field(static=True)
    band_names: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        values: Shaped[ArrayLike, "*band y x"],
        transform: Affine | Sequence[float],
        crs: Any,
        fill_value: float | int | None = None,
        *,
        band_names: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(values, np.ndarray | jax.Array):
            values = np.asarray(values)
        if values.ndim < 2:
            raise GridShapeError(
                f"GeoTensor values must have shape (..., H, W) with ndim >= 2; received shape "
                f"{values.shape}. Reshape a flat array to (H, W) first."
            )
        lattice, (row, col) = split_transform(transform, crs)
        self.band_names = check_band_names(band_names, values.shape, 0, "GeoTensor")
        self.values = values
        self.offset = host_offset(row, col)
        self.lattice = lattice
        self.fill_value = canonical_fill(fill_value)

    @classmethod
    def from_lattice(
        cls,
        values: Shaped[ArrayLike, "... y x"],
        offset: Int[ArrayLike, "*batch 2"],
        lattice: Lattice,
        fill_value: float | int | None = None,
        *,
        band_names: Sequence[str] | None = None,
    ) -> GeoTensor:
        """Build a GeoTensor from its pytree parts: values, an int offset and a lattice.

        The inverse of reading ``gt.values, gt.offset, gt.lattice``: use it to place new
        values on a known grid (e.g. a stitched canvas). Works inside jit, where ``offset``
        may be traced; a leading ``(*batch)`` on ``offset`` makes a stacked GeoTensor.
        ``band_names`` (keyword) names the bands, as in :class:`GeoTensor`.

        Example:
            >>> import numpy as np
            >>> from affine import Affine
            >>> gt = GeoTensor(np.zeros((4, 4)), Affine(10, 0, 399960, 0, -10, 4500000), 32630)
            >>> moved = GeoTensor.from_lattice(np.ones((2, 2)), gt.offset + 1, gt.lattice)
            >>> moved.transform == gt[..., 1:, 1:].transform
            True
        """
        if not isinstance(values, np.ndarray | jax.Array):
            values = np.asarray(values)
        if not isinstance(lattice, Lattice):
            raise GeoTypeError(
                f"GeoTensor.from_lattice needs a geocatalog.Lattice (e.g. gt.lattice); received "
                f"{type(lattice).__name__}"
            )
        if not isinstance(offset, jax.Array):
            offset = np.asarray(offset)
            if offset.shape[-1:] == (2,) and np.issubdtype(offset.dtype, np.integer):
                flat = offset.reshape(-1, 2)
                offset = flat.astype(np.int32).reshape(offset.shape)
                if flat.size:
                    host_offset(int(np.abs(flat[:, 0]).max()), int(np.abs(flat[:, 1]).max()))
        elif offset.dtype != jnp.int32:
            offset = offset.astype(jnp.int32)
        n_batch = offset.ndim - 1
        if (
            offset.ndim < 1
            or offset.shape[-1] != 2
            or not np.issubdtype(offset.dtype, np.integer)
            or values.ndim < n_batch + 2
            or tuple(values.shape[:n_batch]) != tuple(offset.shape[:-1])
        ):
            raise GridShapeError(
                "GeoTensor.from_lattice needs an integer offset of shape (*batch, 2) and values "
                f"of shape (*batch, ..., H, W); received offset {offset.dtype}"
                f"{tuple(offset.shape)} and values {tuple(values.shape)}."
            )
        return cls._from_parts(values, offset, lattice, fill_value, band_names)

    @classmethod
    def _from_parts(
        cls,
        values: Any,
        offset: Any,
        lattice: Lattice,
        fill_value: float | int | None,
        band_names: Sequence[str] | None = None,
    ) -> GeoTensor:
        """Build without ``__init__`` (as pytree unflattening does): safe under jit.

        ``band_names`` are checked against the (static) shape when given.
        """
        if band_names is not None:
            n_batch = len(offset.shape) - 1
            band_names = check_band_names(band_names, values.shape, n_batch, "GeoTensor")
        self = object.__new__(cls)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "fill_value", canonical_fill(fill_value))
        object.__setattr__(self, "band_names", band_names)
        return self

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        parts = (self.values, self.offset, self.lattice, self.fill_value, self.band_names)
        return (_rebuild, parts)

    # ------------------------------------------------------------------ array facts

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``values``: ``(..., H, W)``."""
        return tuple(self.values.shape)

    @property
    def dtype(self) -> np.dtype:
        """Dtype of ``values``."""
        return np.dtype(self.values.dtype)

    @property
    def ndim(self) -> int:
        """Number of axes of ``values``."""
        return len(self.values.shape)

    @property
    def height(self) -> int:
        """Number of rows ``H``."""
        return int(self.values.shape[-2])

    @property
    def width(self) -> int:
        """Number of columns ``W``."""
        return int(self.values.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading axes stacked by :func:`geocatalog.stack` (``()`` for one scene)."""
        return tuple(self.offset.shape[:-1])

    # ------------------------------------------------------------------ georeferencing

    def _host_offset(self, what: str) -> tuple[int, int]:
        offset = self.offset
        if is_traced(offset):
            raise TracedGeoreferenceError(
                f"GeoTensor.{what} is rebuilt on the host in float64, but this GeoTensor's pixel "
                "offset is a JAX tracer (you are inside jax.jit / eqx.filter_jit / vmap). Return "
                f"the GeoTensor from the transformed function and read .{what} on the result, or "
                "use the static .lattice / .res / .crs inside it."
            )
        if offset.ndim != 1:
            raise BatchedGeoTensorError(
                f"GeoTensor.{what} describes one scene, but this GeoTensor is stacked with batch "
                f"shape {tuple(offset.shape[:-1])}. Call geocatalog.unstack(gt) or index gt[i] "
                "first."
            )
        row, col = (int(v) for v in np.asarray(offset))
        return row, col

    @property
    def transform(self) -> Affine:
        """The corner-anchored affine transform, rebuilt exactly in float64 on the host."""
        row, col = self._host_offset("transform")
        return self.lattice.transform_at(row, col)

    @property
    def crs(self) -> pyproj.CRS:
        """The coordinate reference system as a ``pyproj.CRS`` (cached per CRS string)."""
        return crs_object(self.lattice.crs)

    @property
    def crs_string(self) -> str:
        """The canonical CRS string (``"EPSG:32630"``, or WKT2 when no exact code exists)."""
        return self.lattice.crs

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size ``(xres, yres)``, positive, as rasterio's ``dataset.res`` (jit-safe)."""
        return self.lattice.res

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of the pixel corners, as rasterio's ``array_bounds``.

        For rotated grids it is the envelope of the four corners; ``bottom <= top`` always
        (rasterio's ``array_bounds`` swaps them for south-up grids, ``e > 0``).
        """
        a, b, c, d, e, f = self.transform[:6]
        height, width = self.height, self.width
        if b == 0 and d == 0:
            left, bottom, right, top = c, f + e * height, c + a * width, f
        else:
            corners = [(0, 0), (0, height), (width, height), (width, 0)]
            xs = [col * a + row * b + c for col, row in corners]
            ys = [col * d + row * e + f for col, row in corners]
            left, bottom, right, top = min(xs), min(ys), max(xs), max(ys)
        if left > right:
            left, right = right, left
        if bottom > top:
            bottom, top = top, bottom
        return (left, bottom, right, top)

    def same_grid(self, other: GeoTensor) -> bool:
        """True when ``other`` is pixel-aligned with this one: same lattice, offset, H and W."""
        if not isinstance(other, GeoTensor):
            return False
        if self.lattice != other.lattice or self.shape[-2:] != other.shape[-2:]:
            return False
        for gt in (self, other):
            if is_traced(gt.offset):
                gt._host_offset("same_grid")
        return bool(np.array_equal(np.asarray(self.offset), np.asarray(other.offset)))

    # ------------------------------------------------------------------ new GeoTensors

    def replace(
        self,
        values: Shaped[ArrayLike, "*band y x"] | None = None,
        fill_value: float | int | None = UNSET,
        band_names: Sequence[str] | None = UNSET,
    ) -> GeoTensor:
        """Return a GeoTensor on the same grid with new ``values``, ``fill_value``, band names.

        Leading axes may change (e.g. an index that reduces bands away); the two spatial
        axes, and the batch axes of a stacked GeoTensor, must keep their sizes. Band names
        are kept while the band axis is (same number of axes, same band count) and dropped
        when it changes (a reduction, a band selection), unless ``band_names=`` names the
        new bands (``band_names=None`` drops them). Safe inside jit: no ``__init__``, no
        host work.
        """
        new_values = self.values if values is None else values
        if not isinstance(new_values, np.ndarray | jax.Array):
            new_values = np.asarray(new_values)
        batch = self.batch_shape
        if new_values.ndim < 2 or tuple(new_values.shape[-2:]) != self.shape[-2:]:
            raise GridShapeError(
                f"GeoTensor.replace keeps the grid, so values must end in (H, W) = "
                f"{self.shape[-2:]}; received shape {tuple(new_values.shape)}. To change the grid, "
                "slice the GeoTensor (gt[..., r0:r1, c0:c1]) or build a new one with its transform."
            )
        if batch and tuple(new_values.shape[: len(batch)]) != batch:
            raise GridShapeError(
                f"GeoTensor.replace on a stacked GeoTensor keeps the batch axes {batch}, so values "
                f"must have shape (*{batch}, ..., {self.height}, {self.width}); received "
                f"{tuple(new_values.shape)}. Use eqx.filter_vmap to work per scene."
            )
        fill = self.fill_value if fill_value is UNSET else fill_value
        if band_names is UNSET:
            band_names = kept_band_names(self.band_names, self.shape, new_values.shape)
        return GeoTensor._from_parts(new_values, self.offset, self.lattice, fill, band_names)

    def __getitem__(self, key: Any) -> GeoTensor:
        """Index leading axes freely; slice the spatial axes with step 1 to move the grid.

        ``gt[..., r0:r1, c0:c1]`` moves the transform exactly as
        ``rasterio.windows.transform`` (bounds as NumPy's, via ``slice.indices``); an int
        or array on a spatial axis is an error. Indices act on one axis each (outer
        indexing, like xarray's ``isel``). A slice, index list or mask on the band axis
        (-3) subsets :attr:`band_names`; an int there drops the axis and the names. Works
        under jit: shapes are static, the offset arithmetic runs on the traced leaf.
        """
        indices, (row, col) = _indexing.parse_key(key, self.shape)
        values = _indexing.apply_outer(self.values, indices)
        n_batch = len(self.batch_shape)
        offset = self.offset
        if n_batch:
            offset = _indexing.apply_outer(offset, [*indices[:n_batch], slice(None)])
        names = self.band_names
        if names is not None:
            names = index_band_names(names, indices[self.ndim - 3])
        return GeoTensor._from_parts(
            values, shift_offset(offset, row, col), self.lattice, self.fill_value, names
        )

    def dynamic_slice(
        self, row: Int[ArrayLike, ""] | int, col: Int[ArrayLike, ""] | int, height: int, width: int
    ) -> GeoTensor:
        """Cut a ``(height, width)`` window at a possibly traced ``(row, col)`` (lax semantics).

        The start is clamped so the window lies inside the grid (``jax.lax.dynamic_slice``
        semantics), and the offset moves by the clamped start, so the georeferencing stays
        exact. This is the gather for chips whose positions are a traced integer array.
        """
        return _indexing.dynamic_slice(self, row, col, height, width)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self.values, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        crs = self.crs_string if len(self.crs_string) <= 40 else self.crs_string[:37] + "..."
        if is_traced(self.offset):
            where = f"lattice={self.lattice!r}, offset=<traced>"
        elif self.batch_shape:
            where = f"lattice={self.lattice!r}, batch_shape={self.batch_shape}"
        else:
            where = f"transform={tuple(self.transform[:6])}"
        names = "" if self.band_names is None else f", band_names={self.band_names!r}"
        return (
            f"GeoTensor(shape={self.shape}, dtype={self.dtype}, crs={crs!r}, {where}, "
            f"res={self.res}, fill_value={self.fill_value!r}{names})"
        )


def _rebuild(
    values: Any, offset: Any, lattice: Lattice, fill_value: Any, band_names: Any = None
) -> GeoTensor:
    """Unpickle hook: restore without ``__init__`` and re-canonicalise a NaN fill value.

    ``band_names`` defaults to None so pickles written before band names still load.
    """
    return GeoTensor._from_parts(values, offset, lattice, fill_value, band_names)
