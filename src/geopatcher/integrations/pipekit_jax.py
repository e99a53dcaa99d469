"""geopatcher × pipekit_jax: chips gathered, vmapped and stitched in one compiled program.

The operators are those of :mod:`geopatcher.integrations.pipekit`: one object, two
execution paths (the framework's rule). Given a GeoTensor of JAX arrays they take the JAX
path, so ``eqx.filter_jit`` of Case 3's ``infer`` compiles the whole of it into one XLA
program:

1. ``GridSampler``: one gather of every chip, by an integer offset array ``(n, 2)``
   computed from the scene *shape* (so one trace serves every scene of that shape,
   wherever it lies: the location is the GeoTensor's traced integer offset);
2. ``ApplyToChips(op, batch_size)``: ``op`` vmapped over ``batch_size`` chips at a time,
   batches in ``lax.map`` (memory holds one batch of intermediates);
3. ``Stitch``: one ``fori_loop`` scatter-adds the weighted chips into a canvas and
   normalises.

The program's size does not grow with the number of chips (no Python loop over chips is
traced), and it is differentiable end to end: ``jax.grad`` of a loss on the stitched
output reaches the model's weights inside ``op``.

Sharding across devices: chips are a batch axis. Put the scene (or the chips after
``GridSampler``) on a ``jax.sharding.NamedSharding(mesh, P("chips"))`` sharding of the
chip axis and jit: each device runs the vmapped op on its chips and XLA reduces the
scatter-add across devices. A scene larger than one device's memory is split into tiles
first (one program per tile shape).
"""

from .pipekit import (
    ApplyToChips as ApplyToChips,
    ChipResults as ChipResults,
    Chips as Chips,
    GridSampler as GridSampler,
    Stitch as Stitch,
)

__all__ = ["ApplyToChips", "ChipResults", "Chips", "GridSampler", "Stitch"]
