"""Operators over stacked parameters: Scan (N repetitions in sequence) and Stack (N in parallel).

Both keep one *template* operator whose array leaves carry a leading axis of size N; its
static part (the config) is shared. On the JAX path that axis is consumed by ``lax.scan``
(Scan) or ``jax.vmap`` (Stack), so the program holds the operator once whatever N is; on
NumPy input a Python loop runs over the slices.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk

from ._control import ControlFlowError, call, describe, signature, uses_jax

__all__ = ["Scan", "Stack"]


def _stack_leaves(leaves: Sequence[Any]) -> Any:
    """``np.stack`` when every leaf is NumPy (the eager path stays NumPy), else ``jnp.stack``."""
    if all(isinstance(a, np.ndarray | np.generic) for a in leaves):
        return np.stack(leaves)
    return jnp.stack(leaves)


def _slice(params: Any, i: int) -> Any:
    # ``a[i, ...]`` keeps 0-d slices as arrays (``a[i]`` would give a NumPy scalar).
    return jax.tree.map(lambda a: a[i, ...], params)


def _check_op(owner: str, arg: str, op: Any) -> pk.Operator:
    if not isinstance(op, pk.Operator):
        raise pk.ConfigError(f"{owner}: {arg} must be a pipekit Operator, got {type(op).__name__}")
    return op


def _keep_key(op: pk.Operator, key: Any) -> Any:
    return key if type(op)._takes_key else None


# ----------------------------------------------------------------------------------- Scan


class Scan(pk.Operator):
    """``length`` repetitions of one operator in sequence, each with its own parameters.

    ``Scan(op, n)(x) = op_{n-1}(... op_1(op_0(x)))`` where ``op_i`` is ``op`` with the
    ``i``-th slice of the stacked parameters. At construction every inexact (floating or
    complex) array leaf of ``op`` gets a leading axis of size ``length``, filled with
    ``length`` identical copies of ``op``'s own leaf; other leaves (integer arrays, keys)
    and the config are shared by all steps. The copies are separate array leaves, so
    ``jax.grad`` / optax train each repetition on its own (they start equal: give ``op``
    a random initialisation *and* perturb the copies, e.g. with ``eqx.tree_at``, if the
    steps must differ from the start; the YAML always rebuilds the identical copies and
    trained weights are loaded beside it, like any array leaf).

    On the JAX path (JAX input or parameters, under jit / vmap / grad) the steps are one
    ``lax.scan`` over the stacked parameters: the program holds ``op`` once, so compile
    time and program size do not grow with ``length``. On NumPy input a Python loop
    applies the slices one after the other and returns NumPy. Each step's output must
    have the input's structure (pytree, shapes, dtypes; for a GeoTensor also its lattice
    and fill value): it is the carry of the scan. Otherwise :class:`ControlFlowError`.

    With ``key=`` and a random ``op``, the key is split into ``length`` keys, one per step.
    Use :meth:`steps` to get the repetitions as separate operators. Wrap ``op`` in
    :class:`Checkpoint` to keep only each step's input for gradients of a long scan.

    Args:
        op: the operator to repeat; its output must have its input's structure.
        length: number of repetitions, at least 1.

    Example:
        >>> import equinox as eqx, numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> class Gain(pk.Operator):
        ...     gain: np.ndarray
        ...     def __init__(self):
        ...         self.gain = np.asarray(2.0)
        ...     def _apply(self, x):
        ...         return x * self.gain
        >>> scan = pj.Scan(Gain(), length=3)
        >>> scan.op.gain.shape, scan(np.array([1.0]))
        ((3,), array([8.]))
        >>> scan = eqx.tree_at(lambda s: s.op.gain, scan, np.array([1.0, 2.0, 5.0]))
        >>> scan(np.array([1.0])), [float(s.gain) for s in scan.steps()]
        (array([10.]), [1.0, 2.0, 5.0])
    """

    op: pk.Operator
    length: int = eqx.field(static=True)

    def __init__(self, op: pk.Operator, length: int) -> None:
        op = _check_op("Scan", "op", op)
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
            raise pk.ConfigError(f"Scan: length must be an int >= 1, got {length!r}")
        params, static = eqx.partition(op, eqx.is_inexact_array)
        stacked = jax.tree.map(lambda a: _stack_leaves([a] * int(length)), params)
        self.op = eqx.combine(stacked, static)
        self.length = int(length)

    def steps(self) -> tuple[pk.Operator, ...]:
        """The ``length`` repetitions as separate operators (``op`` with one slice each)."""
        params, static = eqx.partition(self.op, eqx.is_inexact_array)
        return tuple(eqx.combine(_slice(params, i), static) for i in range(self.length))

    def _check_step(self, i: int | str, before: Any, after: Any) -> None:
        want, got = signature(before), signature(after)
        if want != got:
            raise ControlFlowError(
                f"Scan: each step's output is the next step's input, so op "
                f"({type(self.op).__name__}) must return its input's structure; step {i} got "
                f"{describe(want)} and returned {describe(got)}. Keep the shapes, dtypes and "
                "carrier metadata (lattice, fill_value) unchanged inside the repeated op, and "
                "put conversions before or after the Scan."
            )

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        params, static = eqx.partition(self.op, eqx.is_inexact_array)
        key = _keep_key(self.op, key)
        host_keys = isinstance(key, np.random.Generator)
        if host_keys or not uses_jax(x, params, key):
            keys = key.spawn(self.length) if host_keys else [None] * self.length
            for i in range(self.length):
                out = call(eqx.combine(_slice(params, i), static), x, keys[i])
                self._check_step(i, x, out)
                x = out
            return x
        keys = None if key is None else jax.random.split(key, self.length)

        def step(carry: Any, inputs: tuple[Any, Any]) -> tuple[Any, None]:
            p, k = inputs
            out = call(eqx.combine(p, static), carry, k)
            self._check_step("i (traced)", carry, out)
            return out, None

        out, _ = jax.lax.scan(step, x, (params, keys), length=self.length)
        return out


# ---------------------------------------------------------------------------------- Stack


def _first_difference(a: Any, b: Any, path: str) -> tuple[str, str, str] | None:
    """Where two members' non-array parts differ first: ``(path, a's, b's)``, or None."""
    if eqx.is_array(a) or eqx.is_array(b):
        da = f"array {getattr(a, 'dtype', type(a).__name__)}{list(np.shape(a))}"
        db = f"array {getattr(b, 'dtype', type(b).__name__)}{list(np.shape(b))}"
        same = eqx.is_array(a) and eqx.is_array(b) and da == db
        return None if same else (path, da, db)
    if type(a) is not type(b):
        return path, type(a).__name__, type(b).__name__
    if isinstance(a, eqx.Module):
        for f in dataclasses.fields(a):
            diff = _first_difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if diff:
                return diff
        return None
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return path, f"{len(a)} items", f"{len(b)} items"
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            diff = _first_difference(u, v, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return path, f"keys {list(a)}", f"keys {list(b)}"
        for k in a:
            diff = _first_difference(a[k], b[k], f"{path}[{k!r}]")
            if diff:
                return diff
        return None
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None
    try:
        same = bool(a == b)
    except Exception:  # objects without a usable ==: require identity
        same = a is b
    return None if same else (path, repr(a), repr(b))


class Stack(pk.Operator):
    """Evaluate several same-structure operators in one vmapped program; outputs stacked.

    ``Stack(ops)(x)`` is ``stack([op(x) for op in ops])`` along a new leading axis (for a
    GeoTensor output: ``values`` and ``offset`` gain the axis, as ``geocatalog.stack``).
    The members' array leaves are stored stacked along a leading axis of size
    ``len(ops)`` in one template operator; on the JAX path (JAX input or parameters,
    under jit / vmap / grad) it runs ``jax.vmap`` over that axis with ``x`` broadcast, so
    the program holds the operator once: N trained candidates of a sweep (learning rates,
    seeds, hand-set gains) evaluated in one program. On NumPy input it loops over the
    members and stacks with ``np.stack``.

    The members must differ *only* in their array leaves: the same classes, the same
    config (static fields) and the same leaf shapes and dtypes. That is checked at
    construction and a :class:`pipekit.ConfigError` names the first differing field
    (e.g. ``at ops[2].ops[1].p_min: 5.0 (ops[0] has 2.0)``). A sweep over a static config
    value cannot be vmapped: make the swept value an array leaf (set it with
    ``eqx.tree_at``), or run the variants separately.

    Config (YAML): ``ops``, the list of members, each with its own config (hence equal
    entries); the stacked arrays are array leaves, saved beside the YAML with
    ``eqx.tree_serialise_leaves`` like any weights (loading the YAML rebuilds each
    member's initial leaves and stacks them). :meth:`members` unstacks; ``ops`` is the
    same tuple.

    With ``key=``, every random member gets the same key (a JAX key is broadcast; a
    ``numpy.random.Generator`` is spawned once and copied per member), so members are
    compared on the same random draws.

    Args:
        ops: the members, at least one.

    Example:
        >>> import equinox as eqx, numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> class Gain(pk.Operator):
        ...     gain: np.ndarray
        ...     def __init__(self):
        ...         self.gain = np.asarray(1.0)
        ...     def _apply(self, x):
        ...         return x * self.gain
        >>> members = [eqx.tree_at(lambda g: g.gain, Gain(), np.asarray(g)) for g in (1.0, 3.0)]
        >>> sweep = pj.Stack(members)
        >>> sweep(np.array([1.0, 2.0]))
        array([[1., 2.],
               [3., 6.]])
        >>> [float(m.gain) for m in sweep.members()]
        [1.0, 3.0]
    """

    template: pk.Operator
    size: int = eqx.field(static=True)

    def __init__(self, ops: Sequence[pk.Operator]) -> None:
        if isinstance(ops, pk.Operator) or not isinstance(ops, Sequence) or not ops:
            raise pk.ConfigError(
                f"Stack: ops must be a non-empty list of Operators, got {ops!r}; write "
                "Stack([op0, op1, ...])"
            )
        ops = [_check_op("Stack", f"ops[{i}]", op) for i, op in enumerate(ops)]
        parts = [eqx.partition(op, eqx.is_array) for op in ops]
        static0 = parts[0][1]
        for i in range(1, len(ops)):
            diff = _first_difference(ops[i], ops[0], f"ops[{i}]")
            if diff is None and jax.tree.structure(parts[i][1]) != jax.tree.structure(static0):
                diff = (f"ops[{i}]", "another pytree structure", "its structure")
            if diff:
                where, here, there = diff
                raise pk.ConfigError(
                    f"Stack: ops[{i}] differs from ops[0] outside its array leaves, at {where}: "
                    f"{here} (ops[0] has {there}). Stack vmaps over the members' array leaves, "
                    "so every member needs the same classes, config and leaf shapes/dtypes; "
                    "make a swept value an array leaf (eqx.tree_at), or run the variants "
                    "separately."
                )
        stacked = jax.tree.map(lambda *leaves: _stack_leaves(leaves), *(p for p, _ in parts))
        self.template = eqx.combine(stacked, static0)
        self.size = len(ops)

    @property
    def ops(self) -> tuple[pk.Operator, ...]:
        """The members (the config); same as :meth:`members`."""
        return self.members()

    def members(self) -> tuple[pk.Operator, ...]:
        """Unstack: the ``size`` member operators, each with its own slice of the leaves."""
        params, static = eqx.partition(self.template, eqx.is_array)
        return tuple(eqx.combine(_slice(params, i), static) for i in range(self.size))

    def __len__(self) -> int:
        return self.size

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        key = _keep_key(self.template, key)
        if isinstance(key, np.random.Generator):
            child = key.spawn(1)[0]
            keys = [copy.deepcopy(child) for _ in range(self.size)]
        else:
            keys = [key] * self.size
        params, static = eqx.partition(self.template, eqx.is_array)
        if isinstance(key, np.random.Generator) or not uses_jax(x, params, key):
            outs = [call(m, x, k) for m, k in zip(self.members(), keys, strict=True)]
            first = signature(outs[0])
            for i, out in enumerate(outs[1:], start=1):
                if signature(out) != first:
                    raise ControlFlowError(
                        f"Stack: member outputs are stacked, so they must share one structure; "
                        f"ops[0] returned {describe(first)} but ops[{i}] returned "
                        f"{describe(signature(out))}"
                    )
            return jax.tree.map(lambda *leaves: _stack_leaves(leaves), *outs)

        def one(p: Any) -> Any:
            return call(eqx.combine(p, static), x, key)

        return jax.vmap(one, axis_size=self.size)(params)
