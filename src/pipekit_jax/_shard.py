"""Data-parallel execution of an Operator over a leading batch axis, with ``jax.sharding``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._transforms import _ARRAY_TYPES, JitFunction

__all__ = ["ShardFunction", "shard"]


class ShardFunction:
    """``op`` compiled once and run with its batch split over ``devices``: see :func:`shard`."""

    __slots__ = ("_batch", "_devices", "_jitted", "_replicated", "axis_name", "mesh")

    def __init__(self, op: Any, devices: Sequence[Any] | None, axis_name: str) -> None:
        devices = list(jax.devices() if devices is None else devices)
        if not devices:
            raise ValueError("pipekit_jax.shard: devices is empty; pass at least one device")
        self._devices = devices
        self.axis_name = axis_name
        self.mesh = Mesh(np.array(devices), (axis_name,))
        self._batch = NamedSharding(self.mesh, PartitionSpec(axis_name))
        self._replicated = NamedSharding(self.mesh, PartitionSpec())
        self._jitted = JitFunction(jax.device_put(op, self._replicated))

    @property
    def op(self) -> Any:
        """The wrapped operator (its parameters replicated on every device)."""
        return self._jitted.op

    @property
    def traces(self) -> int:
        """How many times the op has been traced."""
        return self._jitted.traces

    def __call__(self, *args: Any) -> Any:
        leaves = [leaf for leaf in jax.tree_util.tree_leaves(args)
                  if isinstance(leaf, _ARRAY_TYPES)]  # fmt: skip
        sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
        if len(sizes) != 1 or None in sizes:
            raise ValueError(
                "pipekit_jax.shard: every array input needs the same leading batch axis; "
                f"got leading sizes {sorted(map(str, sizes))}. Stack the inputs first "
                "(e.g. geocatalog.stack) or use pipekit_jax.jit for unbatched calls."
            )
        (size,) = sizes
        n = len(self._devices)
        padded = -(-size // n) * n

        def place(leaf: Any) -> Any:
            if not isinstance(leaf, _ARRAY_TYPES):
                return leaf
            if padded != size:  # repeat the last element; those rows are cut off again
                tail = jnp.repeat(jnp.asarray(leaf)[-1:], padded - size, axis=0)
                leaf = jnp.concatenate([jnp.asarray(leaf), tail])
            return jax.device_put(leaf, self._batch)

        out = self._jitted(*jax.tree_util.tree_map(place, args))
        if padded == size:
            return out
        return jax.tree_util.tree_map(
            lambda leaf: leaf[:size] if isinstance(leaf, jax.Array) and leaf.ndim else leaf, out
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (ShardFunction, (self.op, None, self.axis_name))


def shard(op: Any, devices: Sequence[Any] | None = None, *, axis_name: str = "batch") -> Any:
    """Run ``op`` data-parallel: the leading batch axis of every input split over ``devices``.

    The inputs' array leaves are placed with ``NamedSharding(Mesh(devices, (axis_name,)),
    PartitionSpec(axis_name))`` and the op's parameters replicated; the op is compiled
    once by :func:`jit`, and XLA's SPMD partitioner runs one slice of the batch per device
    (computation follows the data's sharding), so the result equals the single-device one
    and comes back sharded the same way. A batch that does not divide evenly is padded by
    repeating its last element and cut back afterwards. The op must treat batch elements
    independently (a stacked carrier through a vmapped op, a ModelOp over a stack): a
    reduction over the batch would see the padding.

    ``devices=None`` takes ``jax.devices()``. On CPU, test with several host devices:
    ``XLA_FLAGS=--xla_force_host_platform_device_count=4``. After unpickling, a
    ``shard`` function runs on the unpickling process's ``jax.devices()``.

    Example:
        >>> import jax.numpy as jnp
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> pj.shard(pj.vmap(pk.Identity()))(jnp.ones((3, 2))).shape
        (3, 2)
    """
    return ShardFunction(op, devices, axis_name)
