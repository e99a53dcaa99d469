"""Compose: a chain of augmentations, each applied with probability ``p`` and its own key."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np

import pipekit as pk

from .._carrier import fill_value_of, float_values, namespace, rewrap, values_of
from .._errors import GeotoolzValueError
from ._augment import Key, _check_key, _probability
from ._photometric import draw

__all__ = ["Compose"]


def _signature(tree: Any) -> Any:
    """Pytree structure plus each leaf's shape and dtype: what ``lax.cond`` branches share."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, [(tuple(a.shape), np.dtype(a.dtype)) for a in leaves]


def _nan_or_none(fill: Any) -> bool:
    return fill is None or (isinstance(fill, float) and math.isnan(fill))


def _skip(x: Any, applied: Any) -> Any:
    """``x`` unchanged, in the carrier the op would have returned (``applied``, abstract).

    A float-producing op (noise, jitter, dropout) returns floats with nodata NaN (fill value
    NaN); when it is skipped the input is converted the same way, so the result's type
    does not depend on the coin (``lax.cond`` needs both branches alike).
    """
    values = values_of(x)
    xp = namespace(values)
    out_fill = fill_value_of(applied)
    if not xp.isdtype(values_of(applied).dtype, "real floating") or not _nan_or_none(out_fill):
        return x
    if xp.isdtype(values.dtype, "real floating") and _nan_or_none(fill_value_of(x)):
        return x
    return rewrap(x, float_values(x), fill_value=float("nan"))
    return x


class Compose(pk.Operator):
    """Apply ``ops`` in order, each with probability ``p``, each with its own key.

    The key is split once per op, ``k_i = split(key, len(ops))[i]``, and each ``k_i`` into a
    coin and the op's key, ``coin_i, key_i = split(k_i, 2)`` (a Generator is split with
    ``spawn``). Op ``i`` runs, as ``op(x, key=key_i)``, when ``uniform(coin_i, ()) < p``;
    ops without a key (deterministic steps) run as ``op(x)`` under the same coin. With
    ``p=1`` every op runs and no coin is drawn.

    A skipped op leaves the values as they are, converted to floats with nodata NaN when the
    op would have produced floats with NaN nodata, so that the result's dtype does not depend
    on the coin. Under jit (traced key) the choice is ``jax.lax.cond``, which needs both
    outcomes to have one shape: an op that changes the shape (a crop, a non-square quarter
    turn) can be made conditional only with a concrete key; under jit give it ``p=1`` or
    put it outside the Compose.

    Args:
        ops: the operators, in order.
        p: probability of applying each op, in [0, 1].
    """

    ops: tuple[pk.Operator, ...]
    p: float = eqx.field(static=True)

    def __init__(self, ops: Sequence[pk.Operator], p: float = 0.5) -> None:
        if isinstance(ops, pk.Operator) or not isinstance(ops, Sequence | Iterator):
            raise pk.ConfigError(
                f"Compose: ops must be a list of Operators, got {type(ops).__name__}; write "
                "Compose([RandomFlip(), GaussianNoise(0.01)], p=0.5)"
            )
        ops = tuple(ops)
        for i, op in enumerate(ops):
            if not isinstance(op, pk.Operator):
                raise pk.ConfigError(
                    f"Compose: ops[{i}] must be an Operator, got {type(op).__name__}; wrap "
                    "plain functions in pk.Lambda(fn)"
                )
        self.ops = ops
        self.p = _probability("Compose", p)

    def _apply(self, x: Any, *, key: Key | None = None) -> Any:
        traced = _check_key("Compose", key)
        for i, (op, k) in enumerate(zip(self.ops, pk.split_key(key, len(self.ops)), strict=True)):
            coin, op_key = pk.split_key(k, 2)

            def run(v: Any, op: pk.Operator = op, op_key: Any = op_key) -> Any:
                return op(v, key=op_key) if type(op)._takes_key else op(v)

            if self.p >= 1.0:
                x = run(x)
                continue
            u = draw(coin, traced, lambda c: jax.random.uniform(c, ()), lambda g: g.random())
            if not traced:
                x = run(x) if float(u) < self.p else _skip(x, jax.eval_shape(run, x))
                continue
            applied = jax.eval_shape(run, x)
            skipped = jax.eval_shape(lambda v, a=applied: _skip(v, a), x)
            if _signature(applied) != _signature(skipped):
                raise GeotoolzValueError(
                    f"Compose: ops[{i}] ({type(op).__name__}) changes the output's shape or "
                    f"type ({_describe(skipped)} -> {_describe(applied)}), and under jit "
                    "(traced key) applying it with probability p is jax.lax.cond, whose two "
                    "outcomes must match. Fix: use p=1, move the op out of the Compose, or "
                    "draw with a concrete key outside jit."
                )
            x = jax.lax.cond(u < self.p, run, lambda v, a=applied: _skip(v, a), x)
        return x

    def __len__(self) -> int:
        return len(self.ops)


def _describe(tree: Any) -> str:
    leaves = jax.tree.leaves(tree)
    big = max(leaves, key=lambda a: math.prod(a.shape)) if leaves else None
    return "nothing" if big is None else f"{np.dtype(big.dtype)}{tuple(big.shape)}"
