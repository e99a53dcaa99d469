"""geopatcher × pipekit: ``GridSampler``, ``ApplyToChips``, ``Stitch`` as Operators (Case 3).

``pk.Sequential([GridSampler(patcher), ApplyToChips(op), Stitch(gp.SpatialOverlapAdd())])``
is one pipeline with two execution paths:

- **host** (a NumPy GeoTensor, a raster path, a ``RasterField`` / ``XarrayField``, a
  DataArray): chips are read one by one from the field (only their windows), ``op`` runs
  on each chip and the results are overlap-added in NumPy;
- **JAX** (a GeoTensor of JAX arrays, e.g. under ``eqx.filter_jit``): all chips are
  gathered by offset in one op, ``op`` is vmapped over batches of ``batch_size`` chips
  inside ``lax.map`` (memory bounded by the batch), and the weighted chips are
  scatter-added in one loop. The whole pipeline is one XLA program whose size does not
  depend on the number of chips; it is traced once per scene *shape*, wherever the scene
  is, and it is differentiable end to end.

Both paths apply ``op`` to one chip at a time (per-chip semantics), so they give the same
numbers.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk
from geocatalog import GeoTensor
from geopatcher._aggregation import SpatialByIndex, SpatialOverlapAdd
from geopatcher._config import from_config
from geopatcher._errors import PatchConfigError, PatchShapeError
from geopatcher._field import pad_value
from geopatcher._patcher import SpatialPatcher
from pipekit.validate import check_int
from pipekit_array import values_of

from ._chips import ChipResults, Chips
from ._kernels import gather, scatter_overlap_add

__all__ = ["ApplyToChips", "ChipResults", "Chips", "GridSampler", "Stitch"]

Aggregation = SpatialOverlapAdd | SpatialByIndex


def _on_device(x: Any) -> bool:
    return isinstance(x, GeoTensor) and isinstance(x.values, jax.Array)


class GridSampler(pk.Operator):
    """Cut a field into the chips of ``patcher``: ``field -> Chips``.

    Arguments:
        patcher: a :class:`geopatcher.SpatialPatcher` (or its ``to_config()`` dict).

    The input is a GeoTensor (one scene), or on the host path any field source: a
    ``RasterField``/``XarrayField``, a raster path, a DataArray. A GeoTensor of JAX arrays
    takes the JAX path: every chip is gathered in one op, chips over the border read the
    fill value.

    Example:
        >>> import geocatalog as gc, geopatcher as gp
        >>> patcher = gp.SpatialPatcher(gp.SpatialRectangular(16), gp.SpatialRegularStride(12))
        >>> chips = GridSampler(patcher)(gc.testing.synthetic_scene(40, 40))
        >>> len(chips), chips.offsets[:2].tolist()
        (9, [[0, 0], [0, 12]])
    """

    patcher: SpatialPatcher = eqx.field(static=True)

    def __init__(self, patcher: SpatialPatcher | dict) -> None:
        patcher = from_config(patcher, "GridSampler(patcher)")
        if not isinstance(patcher, SpatialPatcher):
            raise PatchConfigError(
                f"GridSampler(patcher) expects a geopatcher.SpatialPatcher; received "
                f"{type(patcher).__name__}"
            )
        self.patcher = patcher

    def _apply(self, x: Any) -> Chips:
        if _on_device(x):
            if x.batch_shape:
                raise PatchShapeError(
                    f"GridSampler cuts one scene; this GeoTensor is stacked with batch shape "
                    f"{x.batch_shape}. Use eqx.filter_vmap over scenes."
                )
            shape = tuple(x.shape[-2:])
            offsets = self.patcher.offsets(shape)
            if len(offsets) == 0:
                raise PatchShapeError(f"GridSampler: the sampler gives no chips on {shape}")
            fill = pad_value(x.fill_value, x.dtype)
            values, offsets, layout = gather(x.values, offsets, self.patcher.geometry.size, fill)
            return Chips(offsets, self.patcher, shape, values=values, origin=x.offset,
                         lattice=x.lattice, fill_value=x.fill_value, layout=layout)  # fmt: skip
        field = SpatialPatcher._field(x)
        offsets = self.patcher.offsets(field)
        h, w = self.patcher.geometry.size
        items = tuple(field.read(r, c, h, w) for r, c in offsets.tolist())
        return Chips(offsets, self.patcher, field.domain.shape, items=items, field=field)


class ApplyToChips(pk.Operator):
    """Apply ``op`` to every chip: ``Chips -> Chips`` of its outputs.

    Arguments:
        op: an operator (or pipeline) of one chip; it sees a GeoTensor chip with exact
            georeferencing (a DataArray chip for an XarrayField).
        batch_size: on the JAX path, chips per vmapped batch; batches run one after another
            in ``lax.map``, so memory holds one batch of intermediates, not all chips. None
            vmaps all chips at once. On the host path chips run one by one either way.

    Note:
        Sharding: the chips' leading axis is a batch axis. Under ``jit``, place the scene on
        one device and let GSPMD shard the gather, or run ``ApplyToChips`` on a chip array
        sharded along that axis (``jax.sharding.NamedSharding(mesh, P("chips"))``): the
        vmapped op is elementwise over chips, so each device runs its share of batches and
        the scatter-add reduces across devices.
    """

    op: pk.Operator
    batch_size: int | None = eqx.field(static=True)

    def __init__(self, op: pk.Operator, batch_size: int | None = None) -> None:
        if not callable(op):
            raise pk.ConfigError(f"ApplyToChips(op) expects an operator; got {op!r}")
        self.op = op
        self.batch_size = check_int(
            "ApplyToChips", "batch_size", batch_size, minimum=1, allow_none=True
        )

    def _apply(self, chips: Chips) -> Chips:
        if not isinstance(chips, Chips):
            raise TypeError(
                f"ApplyToChips takes the Chips of a GridSampler; got {type(chips).__name__}. "
                "Put GridSampler(patcher) before it."
            )
        if not chips.on_device and _traced(self.op):
            chips = _to_device(chips)  # e.g. jax.grad of the op on a NumPy scene
        if not chips.on_device:
            items = tuple(self.op(chip) for chip in chips)
            return Chips(chips.offsets, chips.patcher, chips.field_shape, items=items,
                         field=chips.field)  # fmt: skip
        out = self._vmapped(chips.stacked())
        # An op may set a new fill value (indices use NaN): it is static, so it survives vmap.
        fill = out.fill_value if isinstance(out, GeoTensor) else chips.fill_value
        return Chips(chips.offsets, chips.patcher, chips.field_shape, values=values_of(out),
                     origin=chips.origin, lattice=chips.lattice, fill_value=fill,
                     layout=chips.layout)  # fmt: skip

    def _vmapped(self, stacked: GeoTensor) -> Any:
        n = stacked.values.shape[0]
        per_chip = eqx.filter_vmap(lambda chip: self.op(chip))
        if self.batch_size is None or self.batch_size >= n:
            return per_chip(stacked)
        b = self.batch_size
        n_batches = -(-n // b)
        # Pad with copies of the last chip to whole batches; their outputs are dropped.
        index = jnp.minimum(jnp.arange(n_batches * b), n - 1)
        batches = jax.tree.map(
            lambda leaf: leaf[index].reshape(n_batches, b, *leaf.shape[1:]), stacked
        )
        out = jax.lax.map(per_chip, batches)
        return jax.tree.map(lambda leaf: leaf.reshape(n_batches * b, *leaf.shape[2:])[:n], out)


def _traced(tree: Any) -> bool:
    """Whether any leaf of ``tree`` is a JAX tracer (the op is under jit, grad or vmap)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _to_device(chips: Chips) -> Chips:
    """Host chips (GeoTensors read from a field) as JAX-path Chips: one stacked array.

    The op's leaves are traced, so its outputs are tracers that the host stitch cannot
    take: the chips join the traced program instead, in sampler order (no phase layout).
    """
    items = chips.items or ()
    if not items or not all(isinstance(c, GeoTensor) for c in items):
        kinds = sorted({type(c).__name__ for c in items})
        raise PatchShapeError(
            f"ApplyToChips: the op is traced (jax.grad / jit / vmap of the pipeline) but the "
            f"chips are {kinds}, which only the host path takes; pass the scene as a "
            "GeoTensor (gc.read_raster(...) or a DataArray converted to a GeoTensor) so the "
            "chips can be stacked into the traced program"
        )
    first = items[0]
    origin = jnp.asarray(first.offset) - jnp.asarray(chips.offsets[0], dtype=jnp.int32)
    values = jnp.stack([jnp.asarray(c.values) for c in items])
    return Chips(chips.offsets, chips.patcher, chips.field_shape, values=values,
                 origin=origin, lattice=first.lattice, fill_value=first.fill_value)  # fmt: skip


class Stitch(pk.Operator):
    """Combine chip outputs: ``Chips -> GeoTensor`` (overlap-add) or ``ChipResults`` (by index).

    Arguments:
        aggregation: :class:`geopatcher.SpatialOverlapAdd` (weighted mean with the
            patcher's boundary-aware window; returns the field's carrier) or
            :class:`geopatcher.SpatialByIndex` (one result per chip, with its location).
    """

    aggregation: Aggregation = eqx.field(static=True)

    def __init__(self, aggregation: Aggregation | dict | None = None) -> None:
        aggregation = SpatialOverlapAdd() if aggregation is None else aggregation
        aggregation = from_config(aggregation, "Stitch(aggregation)")
        if not isinstance(aggregation, SpatialOverlapAdd | SpatialByIndex):
            raise PatchConfigError(
                "Stitch(aggregation) expects geopatcher.SpatialOverlapAdd() or "
                f"geopatcher.SpatialByIndex(); received {type(aggregation).__name__}"
            )
        self.aggregation = aggregation

    def _apply(self, chips: Chips) -> Any:
        if not isinstance(chips, Chips):
            raise TypeError(
                f"Stitch takes Chips (from GridSampler, then ApplyToChips); got "
                f"{type(chips).__name__}"
            )
        by_index = isinstance(self.aggregation, SpatialByIndex)
        if not chips.on_device:
            return self._host(chips, by_index)
        if by_index:
            values, offsets = chips.values, np.asarray(chips.offsets)
            if chips.layout is not None:  # stored phase by phase: back to sampler order
                order = chips.layout.to_sampler_order()
                values = jax.tree.map(lambda leaf: leaf[order], values)
                offsets = offsets[order]
            return ChipResults(values, offsets, chips.origin, chips.lattice)
        fill = chips.fill_value
        values = scatter_overlap_add(chips.values, chips.offsets, chips.patcher,
                                     chips.field_shape, fill, chips.layout)  # fmt: skip
        return GeoTensor.from_lattice(values, chips.origin, chips.lattice, _float_fill(fill))

    @staticmethod
    def _host(chips: Chips, by_index: bool) -> Any:
        patcher = chips.patcher
        if by_index:
            values = [values_of(v) for v in chips.items]
            try:
                stacked: Any = jax.tree.map(lambda *leaves: np.stack(leaves), *values)
            except (TypeError, ValueError):
                stacked = tuple(values)
            return ChipResults(stacked, chips.offsets, domain=chips.field.domain)
        overlap = SpatialPatcher(patcher.geometry, patcher.sampler, patcher.window)
        out = overlap.stitch(list(chips.items), chips.field, np.asarray(chips.offsets))
        if isinstance(out, GeoTensor):
            return out.replace(fill_value=_float_fill(out.fill_value))
        return out


def _float_fill(fill: Any) -> Any:
    """Stitched values are floating: an integer fill value is kept as a float."""
    return float(fill) if isinstance(fill, int) and not isinstance(fill, bool) else fill
