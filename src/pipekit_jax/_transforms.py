"""``jit`` and ``vmap`` of any Operator, with a cached call path that adds almost nothing."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import equinox as eqx
import jax
import numpy as np

import pipekit as pk

__all__ = ["JitFunction", "Vmap", "jit", "vmap"]

logger = logging.getLogger(__name__)

_ARRAY_TYPES = (jax.Array, np.ndarray, np.generic)

InAxes = int | None | tuple[int | None, ...]


class JitFunction:
    """A compiled Operator: what :func:`jit` returns.

    Calling it flattens the arguments once (``jax.tree_util.tree_flatten``, in C++),
    looks their structure up in a small cache, and calls a ``jax.jit`` function of two
    flat lists: the op's array leaves (partitioned once, here) and the arguments' array
    leaves. That is ``jax.jit``'s own C++ dispatch plus ~1 µs, where ``eqx.filter_jit``
    re-partitions the op and the arguments in Python on every call.

    Semantics are those of ``eqx.filter_jit(op)``: array leaves (JAX or NumPy) are traced,
    everything else is static and part of the cache key, so a new static value (or a new
    pytree structure, shape or dtype) compiles once more.
    """

    __slots__ = ("__weakref__", "_cache", "_op", "_params", "_static_op", "traces")

    def __init__(self, op: Any) -> None:
        if not callable(op):
            raise TypeError(f"pipekit_jax.jit needs an Operator (or callable), got {op!r}")
        params, static = eqx.partition(op, eqx.is_array)
        self._op = op
        self._params: list[Any] = jax.tree_util.tree_leaves(params)
        self._static_op = (jax.tree_util.tree_structure(params), static)
        self._cache: dict[Hashable, tuple[Callable[..., Any], list[Any]]] = {}
        #: How many times the op has been traced (a test of "compiled once").
        self.traces = 0

    @property
    def op(self) -> Any:
        """The wrapped operator."""
        return self._op

    def with_op(self, op: Any) -> JitFunction:
        """The same compiled programs around ``op``, whose non-array part must equal this op's.

        Only ``op``'s arrays change (new weights, say), so nothing is traced again. The
        programs are shared, not the arrays: neither object keeps the other's op alive. A
        trace counts in ``traces`` of the object whose call compiled it.
        """
        params, static = eqx.partition(op, eqx.is_array)
        if (jax.tree_util.tree_structure(params), static) != self._static_op:
            raise ValueError(
                f"pipekit_jax.jit(...).with_op: {type(op).__name__} differs from the compiled "
                "op in more than its arrays; call pipekit_jax.jit on it instead"
            )
        other = JitFunction.__new__(JitFunction)
        other._op, other._static_op, other._cache = op, self._static_op, self._cache
        other._params = jax.tree_util.tree_leaves(params)
        other.traces = 0
        return other

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        if all(isinstance(leaf, _ARRAY_TYPES) for leaf in leaves):
            key: Hashable = treedef
            dynamic = leaves
        else:
            mask = tuple(isinstance(leaf, _ARRAY_TYPES) for leaf in leaves)
            statics = tuple(leaf for leaf, is_array in zip(leaves, mask, strict=True)
                            if not is_array)  # fmt: skip
            key = (treedef, mask, _hashable(statics))
            dynamic = [leaf for leaf, is_array in zip(leaves, mask, strict=True) if is_array]
        entry = self._cache.get(key)
        if entry is None:
            entry = self._cache[key] = self._compile(treedef, leaves)
        fn, out_static = entry
        out = fn(self._params, dynamic)
        if out_static:  # the output has non-array leaves, kept from the trace
            return eqx.combine(out, out_static[0])
        return out

    def lower(self, *args: Any, **kwargs: Any) -> Any:
        """``jax.stages.Lowered`` of the call on these arguments (to read HLO, cost, size)."""
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        fn, _ = self._compile(treedef, leaves)
        dynamic = [leaf for leaf in leaves if isinstance(leaf, _ARRAY_TYPES)]
        return fn.lower(self._params, dynamic)

    def _compile(self, treedef: Any, leaves: list[Any]) -> tuple[Callable[..., Any], list[Any]]:
        mask = [isinstance(leaf, _ARRAY_TYPES) for leaf in leaves]
        statics = [None if is_array else leaf for leaf, is_array in zip(leaves, mask, strict=True)]
        params_def, static_op = self._static_op
        out_static: list[Any] = []
        # The program outlives this object in the shared cache (with_op, fit's step cache):
        # holding ``self`` would keep its op's arrays alive, so the counter is reached weakly.
        counter = weakref.ref(self)

        def run(params: list[Any], dynamic: list[Any]) -> Any:
            owner = counter()
            if owner is not None:
                owner.traces += 1
            op = eqx.combine(jax.tree_util.tree_unflatten(params_def, params), static_op)
            it = iter(dynamic)
            full = [next(it) if is_array else s for s, is_array in zip(statics, mask, strict=True)]
            args, kwargs = jax.tree_util.tree_unflatten(treedef, full)
            out = op(*args, **kwargs)
            arrays, rest = eqx.partition(out, eqx.is_array)
            out_static.clear()
            if jax.tree_util.tree_leaves(rest):
                out_static.append(rest)
                return arrays
            return out

        logger.debug("pipekit_jax.jit: new call signature for %s", type(self._op).__name__)
        return jax.jit(run), out_static

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (JitFunction, (self._op,))

    def __repr__(self) -> str:
        return f"pipekit_jax.jit({type(self._op).__name__})"


def _hashable(statics: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        hash(statics)
    except TypeError as err:
        raise TypeError(
            "pipekit_jax.jit: every non-array argument is static and must be hashable; "
            f"got {tuple(type(s).__name__ for s in statics)}. Pass arrays for values that "
            "change, or make the value hashable (a tuple instead of a list)."
        ) from err
    return statics


def jit(op: Any) -> JitFunction:
    """Compile ``op`` (an Operator, or any callable pytree) for fast repeated calls.

    Like ``eqx.filter_jit(op)``: array leaves of the arguments are traced, other values
    are static; the op's own array leaves (its parameters) are passed to the compiled
    program as arguments, not baked in as constants. Unlike it, the call path is cached
    per argument structure, so a call costs about what ``jax.jit`` costs (see
    ``benchmarks/overhead.py``). The op is fixed at ``jit`` time: after training, call
    ``jit`` on the trained op (``eqx.filter_jit`` stays the tool for a function that takes
    the op as an argument, e.g. a training step).

    Example:
        >>> import jax.numpy as jnp
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> f = pj.jit(pk.Identity())
        >>> f(jnp.ones(2)), f(jnp.zeros(2)), f.traces
        (Array([1., 1.], dtype=float32), Array([0., 0.], dtype=float32), 1)
    """
    return JitFunction(op)


class Vmap(pk.Operator):
    """``op`` mapped over a batch axis of its inputs: what :func:`vmap` returns.

    On JAX inputs this is ``eqx.filter_vmap`` with the op's own leaves unmapped (one set
    of parameters for the whole batch); on NumPy inputs a loop over the batch axis whose
    results are stacked, so the NumPy path gives the same numbers. Being an Operator, it
    composes in a Sequential, dumps to YAML and compiles with :func:`jit`.

    Args:
        op: the operator applied to one element of the batch.
        in_axes: batch axis of every positional input (an int or None), or one per input.
        out_axes: batch axis of the outputs (the NumPy path stacks along it).
    """

    op: pk.Operator
    in_axes: InAxes = eqx.field(static=True)
    out_axes: int = eqx.field(static=True)

    def __init__(self, op: pk.Operator, in_axes: InAxes = 0, out_axes: int = 0) -> None:
        if not isinstance(op, pk.Operator):
            raise pk.ConfigError(f"Vmap: op must be a pipekit Operator, got {op!r}")
        if isinstance(in_axes, list):
            in_axes = tuple(in_axes)
        axes = in_axes if isinstance(in_axes, tuple) else (in_axes,)
        if not all(a is None or isinstance(a, int) for a in axes) or all(a is None for a in axes):
            raise pk.ConfigError(
                f"Vmap: in_axes must be an int, None or a tuple of them with at least one "
                f"int, got {in_axes!r}"
            )
        if not isinstance(out_axes, int):
            raise pk.ConfigError(f"Vmap: out_axes must be an int, got {out_axes!r}")
        self.op, self.in_axes, self.out_axes = op, in_axes, out_axes

    def _axes(self, n_args: int) -> tuple[int | None, ...]:
        if not isinstance(self.in_axes, tuple):
            return (self.in_axes,) * n_args
        if len(self.in_axes) != n_args:
            raise ValueError(
                f"Vmap: in_axes={self.in_axes} names {len(self.in_axes)} inputs, but the op "
                f"was called with {n_args}"
            )
        return self.in_axes

    def _apply(self, *args: Any) -> Any:
        axes = self._axes(len(args))
        leaves = jax.tree_util.tree_leaves(args)
        if any(isinstance(leaf, jax.Array) for leaf in leaves):
            mapped = eqx.filter_vmap(lambda *a: self.op(*a), in_axes=axes, out_axes=self.out_axes)
            return mapped(*args)
        return self._apply_numpy(args, axes)

    def _apply_numpy(self, args: tuple[Any, ...], axes: tuple[int | None, ...]) -> Any:
        sizes = {
            np.shape(leaf)[axis]
            for arg, axis in zip(args, axes, strict=True)
            if axis is not None
            for leaf in jax.tree_util.tree_leaves(arg)
            if isinstance(leaf, _ARRAY_TYPES)
        }
        if len(sizes) != 1:
            raise ValueError(
                f"Vmap: mapped inputs need one batch size along in_axes={self.in_axes}, "
                f"got sizes {sorted(sizes)}"
            )
        (size,) = sizes

        def take(arg: Any, axis: int | None, i: int) -> Any:
            if axis is None:
                return arg
            return jax.tree_util.tree_map(
                lambda leaf: np.take(leaf, i, axis=axis) if isinstance(leaf, _ARRAY_TYPES)
                else leaf, arg,
            )  # fmt: skip

        outs = [
            self.op(*(take(a, ax, i) for a, ax in zip(args, axes, strict=True)))
            for i in range(size)
        ]
        return jax.tree_util.tree_map(
            lambda *xs: np.stack(xs, axis=self.out_axes) if isinstance(xs[0], _ARRAY_TYPES)
            else xs[0], *outs,
        )  # fmt: skip


def vmap(op: pk.Operator, in_axes: InAxes = 0, out_axes: int = 0) -> Vmap:
    """``op`` mapped over a batch axis: ``eqx.filter_vmap`` as an Operator (see :class:`Vmap`).

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> pj.vmap(pk.Identity())(np.arange(6.0).reshape(3, 2)).shape
        (3, 2)
    """
    return Vmap(op, in_axes=in_axes, out_axes=out_axes)
