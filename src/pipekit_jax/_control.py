"""Control flow as Operators: Branch (``lax.cond``), Switch (``lax.switch``) and Checkpoint.

Each holds its children as nested Operators (their config is the YAML, their array leaves
are parameters). On NumPy input the choice is made on the host with a Python ``if`` or
index; when the predicate or index is a JAX array (under ``jax.jit``, ``vmap``, ``grad``,
or on JAX input) it becomes ``lax.cond`` / ``lax.switch``, so one compiled program holds
every branch and the same numbers come out of both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk

__all__ = ["Branch", "Checkpoint", "ControlFlowError", "Switch"]


class ControlFlowError(pk.PipekitError, TypeError):
    """A control-flow operator got an unusable predicate/index or mismatched outputs.

    Raised when a predicate is not a boolean scalar, an index is not an integer scalar, the
    branches of a :class:`Branch` / :class:`Switch` return different structures under
    ``jax.jit``, or a :class:`Scan` step changes the structure of its input.
    """


# ------------------------------------------------------------------------ shared helpers


def uses_jax(*trees: Any) -> bool:
    """Whether any leaf of ``trees`` is a JAX array (concrete or traced) or a JAX key."""
    return any(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(trees))


def call(op: pk.Operator, x: Any, key: Any) -> Any:
    """``op(x)``, or ``op(x, key=key)`` when a key is given."""
    return op(x) if key is None else op(x, key=key)


def split_for(key: Any, ops: Sequence[pk.Operator]) -> list[Any]:
    """One key (or ``None``) per op: ``key`` is split among the random ops, in order.

    The same rule as :class:`pipekit.Sequential`: a ``numpy.random.Generator`` is split
    with ``spawn``, a JAX key with ``jax.random.split``; deterministic ops get ``None``.
    """
    takers = [type(op)._takes_key for op in ops]
    n = sum(takers)
    if key is None or n == 0:
        return [None] * len(ops)
    keys = iter(key.spawn(n) if isinstance(key, np.random.Generator) else jax.random.split(key, n))
    return [next(keys) if takes else None for takes in takers]


Signature = tuple[Any, tuple[tuple[tuple[int, ...], str], ...]]


def signature(tree: Any) -> Signature:
    """The pytree structure plus each leaf's shape and dtype: what ``lax`` control flow
    requires to be equal between branches, and between a scan step's input and output."""
    leaves, treedef = jax.tree.flatten(tree)
    avals = []
    for leaf in leaves:
        dtype = leaf.dtype if hasattr(leaf, "dtype") else jnp.result_type(leaf)
        avals.append((tuple(np.shape(leaf)), str(dtype)))
    return treedef, tuple(avals)


def describe(sig: Signature, limit: int = 400) -> str:
    """A short text of a :func:`signature`, for error messages."""
    treedef, avals = sig
    leaves = ", ".join(f"{dtype}{list(shape)}" for shape, dtype in avals)
    text = f"{treedef} with leaves [{leaves}]"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def checked_branches(
    owner: str, names: Sequence[str], ops: Sequence[pk.Operator], x: Any, keys: Sequence[Any]
) -> list[Callable[[], Any]]:
    """Zero-argument branch functions for ``lax.cond`` / ``lax.switch`` that, while being
    traced, check each output against the first branch's and raise a teaching error."""
    seen: list[tuple[str, Signature]] = []
    primitive = "lax.cond" if owner == "Branch" else "lax.switch"

    def make(name: str, op: pk.Operator, key: Any) -> Callable[[], Any]:
        def branch() -> Any:
            out = call(op, x, key)
            sig = signature(out)
            if seen and sig != seen[0][1]:
                first, first_sig = seen[0]
                raise ControlFlowError(
                    f"{owner}: under jax.jit / vmap / grad the branches run as one {primitive}, "
                    "which needs every branch to return the same pytree structure with equal "
                    f"leaf shapes and dtypes. {first} returned {describe(first_sig)}; {name} "
                    f"({type(op).__name__}) returned {describe(sig)}. Make the branches agree "
                    "(same dtype, shapes and fill_value), e.g. end each with the same cast."
                )
            seen.append((f"{name} ({type(op).__name__})", sig))
            return out

        return branch

    return [make(n, op, k) for n, op, k in zip(names, ops, keys, strict=True)]


def _scalar_of(owner: str, arg: str, op: pk.Operator, value: Any, kind: str) -> Any:
    """Validate that ``value`` (the output of ``op``) is a scalar of ``kind`` ('b' or 'i')."""
    if kind == "b" and isinstance(value, bool):
        return value
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    dtype = getattr(value, "dtype", None)
    shape = tuple(getattr(value, "shape", (None,)))
    ok = dtype is not None and shape == ()
    if ok:
        dt = np.dtype(dtype)
        ok = dt == np.bool_ if kind == "b" else np.issubdtype(dt, np.integer)
    if ok:
        return value
    want = "a boolean scalar (Python bool or a 0-d bool array)"
    if kind == "i":
        want = "an integer scalar (Python int or a 0-d integer array)"
    got = (
        f"an array of dtype {dtype} and shape {shape}"
        if dtype is not None
        else type(value).__name__
    )
    raise ControlFlowError(
        f"{owner}: {arg} ({type(op).__name__}) must return {want} for one input; it returned "
        f"{got}. Reduce the input to one value first, e.g. "
        f"pipekit_array.MeanScalar() | pipekit_jax."
        f"{'GreaterThan(0.2)' if kind == 'b' else 'Digitize((0.1, 0.5))'}; under vmap the "
        "operator sees one sample, so per-sample scalars are fine."
    )


def _check_op(owner: str, arg: str, op: Any) -> pk.Operator:
    if not isinstance(op, pk.Operator):
        raise pk.ConfigError(
            f"{owner}: {arg} must be a pipekit Operator, got {type(op).__name__}; wrap a "
            "function in a registered Operator class (or pk.Lambda, which cannot go to YAML)"
        )
    return op


# ------------------------------------------------------------------------------ operators


class Branch(pk.Operator):
    """Apply ``true_op`` or ``false_op`` depending on a predicate operator: ``if pred(x)``.

    ``pred(x)`` must return a boolean scalar (a Python bool or a 0-d bool array). When it
    is concrete NumPy/Python (the eager path) the branch is chosen on the host with a
    Python ``if`` and only that branch runs. When it is a JAX array (under ``jax.jit`` /
    ``eqx.filter_jit`` / ``jax.grad``, or on JAX input) the choice is
    ``lax.cond(pred(x), true_op, false_op, x)``: both branches are compiled into the
    program, one runs; under ``vmap`` with a per-sample predicate XLA evaluates both and
    selects (``lax.cond`` semantics). ``lax.cond`` needs both branches to return the same
    pytree structure with equal shapes and dtypes; a mismatch raises
    :class:`ControlFlowError` naming both branches (on the eager path only the chosen
    branch runs, so it is not detected there).

    With ``key=``, the key is split among the random children (pred, true_op, false_op,
    in that order) as :class:`pipekit.Sequential` does, on both paths alike.

    Args:
        pred: operator mapping the input to a boolean scalar, e.g.
            ``pipekit_array.MeanScalar() | pipekit_jax.GreaterThan(0.2)``.
        true_op: applied when the predicate is true.
        false_op: applied when it is false.

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> class Mean(pk.Operator):
        ...     def _apply(self, x):
        ...         return x.mean()
        >>> class Negate(pk.Operator):
        ...     def _apply(self, x):
        ...         return -x
        >>> op = pj.Branch(Mean() | pj.GreaterThan(0.0), Negate(), pk.Identity())
        >>> op(np.array([1.0, 2.0])), op(np.array([-1.0, -2.0]))
        (array([-1., -2.]), array([-1., -2.]))
    """

    pred: pk.Operator
    true_op: pk.Operator
    false_op: pk.Operator

    def __init__(self, pred: pk.Operator, true_op: pk.Operator, false_op: pk.Operator) -> None:
        self.pred = _check_op("Branch", "pred", pred)
        self.true_op = _check_op("Branch", "true_op", true_op)
        self.false_op = _check_op("Branch", "false_op", false_op)

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        k_pred, k_true, k_false = split_for(key, (self.pred, self.true_op, self.false_op))
        flag = _scalar_of("Branch", "pred", self.pred, call(self.pred, x, k_pred), "b")
        if not isinstance(flag, jax.Array):
            return call(self.true_op, x, k_true) if bool(flag) else call(self.false_op, x, k_false)
        on_true, on_false = checked_branches(
            "Branch", ("true_op", "false_op"), (self.true_op, self.false_op), x, (k_true, k_false)
        )
        return jax.lax.cond(flag, on_true, on_false)


class Switch(pk.Operator):
    """Apply ``ops[index_op(x)]``: a multi-way :class:`Branch` (``lax.switch``).

    ``index_op(x)`` must return an integer scalar. The index is **clamped** to
    ``[0, len(ops) - 1]`` as ``lax.switch`` does: below 0 runs ``ops[0]``, above the last
    runs ``ops[-1]`` (no wrap-around, no error: a traced index cannot raise). The eager
    path clamps the same way, so both paths agree. On NumPy input the op is picked on the
    host and only it runs; on JAX input (jit, vmap, grad) it is ``lax.switch``, which
    compiles every op and needs all of them to return the same structure, shapes and
    dtypes (else :class:`ControlFlowError` naming the two ops).

    With ``key=``, the key is split among the random children (``index_op``, then
    ``ops`` in order) as :class:`pipekit.Sequential` does.

    Args:
        index_op: operator mapping the input to an integer scalar, e.g.
            ``pipekit_array.MeanScalar() | pipekit_jax.Digitize((0.1, 0.3))``.
        ops: the operators to choose from (at least one).

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> class Double(pk.Operator):
        ...     def _apply(self, x):
        ...         return 2 * x
        >>> op = pj.Switch(pj.Digitize((0.0, 10.0)), [pk.Identity(), Double(), Double() | Double()])
        >>> op(np.float64(-1.0)), op(np.float64(3.0)), op(np.float64(20.0))
        (np.float64(-1.0), np.float64(6.0), np.float64(80.0))
    """

    index_op: pk.Operator
    ops: tuple[pk.Operator, ...]

    def __init__(self, index_op: pk.Operator, ops: Sequence[pk.Operator]) -> None:
        self.index_op = _check_op("Switch", "index_op", index_op)
        if isinstance(ops, pk.Operator) or not isinstance(ops, Sequence) or not ops:
            raise pk.ConfigError(
                f"Switch: ops must be a non-empty list of Operators, got {ops!r}; write "
                "Switch(index_op, [op0, op1, ...])"
            )
        self.ops = tuple(_check_op("Switch", f"ops[{i}]", op) for i, op in enumerate(ops))

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        k_index, *keys = split_for(key, (self.index_op, *self.ops))
        raw = call(self.index_op, x, k_index)
        index = _scalar_of("Switch", "index_op", self.index_op, raw, "i")
        if not isinstance(index, jax.Array):
            i = min(max(int(index), 0), len(self.ops) - 1)
            return call(self.ops[i], x, keys[i])
        names = [f"ops[{i}]" for i in range(len(self.ops))]
        return jax.lax.switch(index, checked_branches("Switch", names, self.ops, x, keys))


class Checkpoint(pk.Operator):
    """Apply ``op`` under ``jax.checkpoint`` (rematerialisation) on the JAX path.

    Reverse-mode autodiff (``jax.grad``, training) normally keeps every intermediate value
    of the forward pass for the backward pass. Inside a Checkpoint only ``op``'s inputs
    are kept; its intermediates are recomputed during the backward pass. Use it around a
    memory-heavy block (a deep network, a per-pixel pipeline on large tiles, each step of
    a long :class:`Scan`) when gradients run out of memory: peak memory drops, at the cost
    of about one more forward pass of ``op``. Without gradients it changes nothing but
    the program's structure. The numbers are those of ``op`` on every path.

    On NumPy input (no JAX array in ``op`` or ``x``) it is a plain wrapper: ``op(x)``.
    Otherwise it calls ``eqx.filter_checkpoint(op, policy=...)(x)``. ``key=`` is passed
    on to ``op``.

    Args:
        op: the operator whose intermediates are recomputed instead of stored.
        policy: which intermediates are kept after all, by the name of a policy in
            ``jax.checkpoint_policies``: ``None`` (the default: keep none, as
            ``"nothing_saveable"``), ``"dots_saveable"`` (keep the results of matrix
            products and convolutions, recompute the cheap elementwise work around them),
            ``"dots_with_no_batch_dims_saveable"``, ``"checkpoint_dots"``,
            ``"checkpoint_dots_with_no_batch_dims"`` or ``"everything_saveable"`` (keep
            all: no recomputation, as without Checkpoint). A name, so that it goes to YAML
            and into ``config_hash``.

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np
        >>> import pipekit as pk
        >>> import pipekit_jax as pj
        >>> class Square(pk.Operator):
        ...     def _apply(self, x):
        ...         return x * x
        >>> op = pj.Checkpoint(Square())
        >>> op(np.array([3.0]))
        array([9.])
        >>> float(jax.grad(lambda v: op(v).sum())(jnp.array([3.0]))[0])
        6.0
    """

    op: pk.Operator
    policy: str | None = eqx.field(static=True)

    def __init__(self, op: pk.Operator, policy: str | None = None) -> None:
        self.op = _check_op("Checkpoint", "op", op)
        if policy is not None and policy not in CHECKPOINT_POLICIES:
            raise pk.ConfigError(
                f"Checkpoint: policy must be None or one of {list(CHECKPOINT_POLICIES)} "
                f"(names in jax.checkpoint_policies), got {policy!r}"
            )
        self.policy = policy

    def _apply(self, x: Any, *, key: Any = None) -> Any:
        if not type(self.op)._takes_key:
            key = None
        if not uses_jax(self.op, x, key):
            return call(self.op, x, key)
        policy = None if self.policy is None else getattr(jax.checkpoint_policies, self.policy)
        return eqx.filter_checkpoint(call, policy=policy)(self.op, x, key)


#: The ``jax.checkpoint_policies`` a :class:`Checkpoint` takes by name: those that are
#: policies themselves (the others build one from ``checkpoint_name`` labels).
CHECKPOINT_POLICIES = (
    "nothing_saveable",
    "dots_saveable",
    "dots_with_no_batch_dims_saveable",
    "checkpoint_dots",
    "checkpoint_dots_with_no_batch_dims",
    "everything_saveable",
)
