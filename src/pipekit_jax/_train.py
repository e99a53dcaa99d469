"""Training a pipeline's parameters with optax: one compiled step, freezing, NaN stops."""

from __future__ import annotations

import logging
import reprlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import pipekit as pk
from pipekit.progress import ProgressBar, progress_bar
from pipekit.validate import check_bool

from ._transforms import JitFunction

__all__ = ["History", "NaNLossError", "fit", "trainable_mask"]

logger = logging.getLogger("pipekit_jax.fit")

Freeze = str | Sequence[str] | Callable[[str, Any], bool] | None


class NaNLossError(pk.PipekitError, FloatingPointError):
    """The training loss became NaN or infinite; the message names the step."""


@dataclass
class History:
    """What :func:`fit` measured: the loss of every step, in order, and wall times.

    ``seconds`` is the whole loop; ``first_step_seconds`` the first step alone (it
    compiles the step), so ``(seconds - first_step_seconds) / (steps - 1)`` is the
    steady-state time of a step.
    """

    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    first_step_seconds: float = 0.0

    @property
    def steps(self) -> int:
        """Number of steps run."""
        return len(self.loss)


def _path_name(path: tuple[Any, ...]) -> str:
    return jax.tree_util.keystr(path).lstrip(".")


def trainable_mask(op: Any, freeze: Freeze = None) -> Any:
    """The pytree of bools :func:`fit` trains: inexact array leaves that are not frozen.

    ``freeze`` is a path prefix (``"ops[0]"``: every leaf under the first op of a
    Sequential), a sequence of them, or a predicate ``(path, leaf) -> bool``. Paths are
    ``jax.tree_util.keystr`` of the leaf without the leading dot, e.g.
    ``"ops[1].model.layers[0].weight"``; print ``pipekit_jax.trainable_mask(op)`` paths
    with ``jax.tree_util.tree_flatten_with_path`` to find them.
    """
    if freeze is None:
        frozen: Callable[[str, Any], bool] = lambda path, leaf: False  # noqa: E731
    elif callable(freeze):
        frozen = freeze
    else:
        prefixes = (freeze,) if isinstance(freeze, str) else tuple(freeze)
        if not all(isinstance(p, str) for p in prefixes):
            raise TypeError(
                f"fit: freeze must be a path prefix, a sequence of them or a predicate "
                f"(path, leaf) -> bool, got {freeze!r}"
            )

        def frozen(path: str, leaf: Any) -> bool:
            return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)

    def decide(path: tuple[Any, ...], leaf: Any) -> bool:
        return eqx.is_inexact_array(leaf) and not frozen(_path_name(path), leaf)

    return jax.tree_util.tree_map_with_path(decide, op)


class _Step(eqx.Module):
    """``(trainable, opt_state, batch, key) -> (trainable, opt_state, loss)``, to be jitted.

    A Module, so that :class:`JitFunction` passes the frozen arrays in ``static`` to the
    program as arguments instead of baking them in as constants.
    """

    static: Any
    loss_fn: Callable[..., Any]
    optimizer: Any
    keyed: bool = eqx.field(static=True)

    def __call__(self, trainable: Any, opt_state: Any, batch: Any, key: Any) -> Any:
        def loss_of(params: Any) -> Any:
            op = eqx.combine(params, self.static)
            if self.keyed:
                return self.loss_fn(op, batch, key=key)
            return self.loss_fn(op, batch)

        loss, grads = jax.value_and_grad(loss_of)(trainable)
        # optax mixes Python floats with its int32 step count; under a user's "strict"
        # promotion that fails, so the update alone is traced with standard promotion.
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = self.optimizer.update(grads, opt_state, trainable)
            return eqx.apply_updates(trainable, updates), opt_state, loss


def _batches_of(data: Any, batches: Any, full_batch: Any) -> tuple[Iterator[Any] | None, Any]:
    """``(iterator of batches, None)`` or ``(None, the one batch)``: what ``fit`` trains on.

    A positional list (or tuple of same-structure containers) could be one batch (a list
    pytree ``[x, y]``) or several (``[(x1, y1), (x2, y2)]``); taken as one it failed deep in
    the loss ("too many values to unpack") or silently unpacked rows, so it is refused
    with the two explicit keywords.
    """
    given = [n for n, v in (("data", data), ("batches", batches), ("full_batch", full_batch))
             if v is not None]  # fmt: skip
    if len(given) != 1:
        raise TypeError(
            f"fit: pass the training data once, as batches= (an iterable of batches, one "
            f"per step), full_batch= (one batch used at every step) or positionally; got "
            f"{' and '.join(given) if given else 'none of them'}"
        )
    if full_batch is not None:
        return None, full_batch
    if batches is not None:
        if isinstance(batches, Mapping | jax.Array | np.ndarray):
            raise TypeError(
                f"fit: batches= takes an iterable of batches (a list, generator or data "
                f"loader), got a {type(batches).__name__}, which is one batch; pass it as "
                "full_batch= instead"
            )
        try:
            return iter(batches), None
        except TypeError:
            raise TypeError(
                f"fit: batches= takes an iterable of batches (a list, generator or data "
                f"loader), got {reprlib.repr(batches)} ({type(batches).__name__}); pass one "
                "batch as full_batch="
            ) from None
    if isinstance(data, Iterator):
        return data, None
    if _ambiguous(data):
        kind = type(data).__name__
        raise TypeError(
            f"fit: a positional {kind} of {len(data)} items is ambiguous: several batches "
            f"or one batch made of {len(data)} parts? Write fit(op, loss_fn, batches=[...]) "
            "to take one batch per step (itertools.cycle(...) to repeat them), or "
            f"fit(op, loss_fn, full_batch=...) to use this {kind} as the batch of every "
            "step (a tuple of arrays such as (x, y) stays one batch positionally)."
        )
    return None, data


def _ambiguous(data: Any) -> bool:
    """A list, or a tuple whose items are containers of one structure (batches, maybe)."""
    if isinstance(data, list):
        return True
    if not isinstance(data, tuple) or type(data) is not tuple or len(data) < 2:
        return False  # a NamedTuple is one record, hence one batch
    if not all(isinstance(item, list | tuple | Mapping) for item in data):
        return False
    first = jax.tree.structure(data[0])
    return all(jax.tree.structure(item) == first for item in data[1:])


def fit(
    op: Any,
    loss_fn: Callable[..., Any],
    data: Any = None,
    optimizer: optax.GradientTransformation | None = None,
    *,
    steps: int,
    batches: Iterable[Any] | None = None,
    full_batch: Any = None,
    key: Any = None,
    freeze: Freeze = None,
    log_every: int = 100,
    check_every: int = 10,
    progress: bool = False,
) -> tuple[Any, History]:
    """Train the inexact array leaves of ``op`` (any pipeline) with optax.

    Args:
        op: an Operator (Sequential, Graph, ModelOp, ...) or any equinox pytree.
        loss_fn: ``loss_fn(op, batch) -> scalar``, or ``loss_fn(op, batch, key=key)`` when
            ``key`` is given (a fresh subkey each step, e.g. for augmentation).
        data: the training data positionally: an iterator (``next`` each step, as
            ``batches=``), or one batch used at every step (as ``full_batch=``): a tuple of
            arrays such as ``(x, y)``, a dict, an array, a carrier. A list (or a tuple of
            same-structure containers) is refused as ambiguous: use one of the keywords.
            Batches are pytrees of arrays (carriers included).
        optimizer: an ``optax.GradientTransformation``; default ``optax.adam(1e-3)``.
        steps: the number of steps.
        batches: an iterable of batches (a list, a generator, a data loader): one batch
            per step, in order; training stops early when it runs out. Use
            ``itertools.cycle(list_of_batches)`` to repeat them for ``steps`` steps.
        full_batch: one batch (any pytree, a list included) used at every step.
        key: a JAX PRNG key, split once per step.
        freeze: leaves not to train: see :func:`trainable_mask`.
        log_every: log the loss at INFO on ``"pipekit_jax.fit"`` every this many steps.
        check_every: look at the losses every this many steps; a NaN or infinite loss
            raises :class:`NaNLossError` naming its step. Each look waits for the device,
            so 1 checks every step at the cost of that sync.
        progress: draw a progress bar over the steps (tqdm, the ``progress`` extra) with
            the current loss after it. It moves every ``log_every`` steps, when the loss
            is fetched for the log anyway, so it adds no device sync of its own.

    Returns:
        ``(trained_op, history)``: the op with its trained leaves, and a :class:`History`.

    The step (loss, gradients of the trainable leaves, optimizer update) is one program,
    compiled once and called through :func:`pipekit_jax.jit`'s cached path, so a step
    costs what the same hand-written equinox + optax step costs (see
    ``benchmarks/train.py``). A later ``fit`` with the same ``loss_fn`` and ``optimizer``
    objects on an op of the same structure (other weights: the next ensemble member, a
    restart) reuses that program instead of tracing and compiling again. Nothing here is
    required: ``eqx.filter_value_and_grad`` and optax work on a pipeline directly.

    Example:
        >>> import equinox as eqx, jax, jax.numpy as jnp, optax
        >>> import pipekit_array as pa, pipekit_jax as pj
        >>> op = pa.ModelOp(eqx.nn.Linear("scalar", "scalar", key=jax.random.key(0)))
        >>> x = jnp.linspace(-1.0, 1.0, 16)
        >>> def loss(op, batch):
        ...     return jnp.mean((jax.vmap(op.model)(batch[0]) - batch[1]) ** 2)
        >>> trained, history = pj.fit(op, loss, (x, 3 * x + 1), optax.adam(0.1), steps=300)
        >>> round(trained.model.weight.item(), 2), round(trained.model.bias.item(), 2)
        (3.0, 1.0)
        >>> history.steps, history.loss[-1] < 1e-6
        (300, True)
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"fit: steps must be a positive int, got {steps!r}")
    for name, value in (("log_every", log_every), ("check_every", check_every)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"fit: {name} must be a positive int, got {value!r}")
    check_bool("fit", "progress", progress)
    stream, one_batch = _batches_of(data, batches, full_batch)
    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    mask = trainable_mask(op, freeze)
    trainable, static = eqx.partition(op, mask)
    if not jax.tree_util.tree_leaves(trainable):
        raise ValueError(
            f"fit: {type(op).__name__} has no trainable leaves (inexact arrays) once "
            f"freeze={freeze!r} is applied; nothing to train"
        )
    opt_state = optimizer.init(trainable)
    step = _compiled_step(_Step(static, loss_fn, optimizer, key is not None))
    history = History()
    pending: list[Any] = []  # device scalars not yet looked at
    no_key = jnp.zeros((), jnp.uint32)
    start = time.perf_counter()
    shown = 0  # steps the bar shows
    with progress_bar(steps, "fit", progress, unit="step") as bar:
        for i in range(steps):
            if stream is not None:
                try:
                    batch = next(stream)
                except StopIteration:
                    logger.info("fit: data ran out after %d steps", i)
                    break
            else:
                batch = one_batch
            if key is not None:
                key, subkey = jax.random.split(key)
            else:
                subkey = no_key
            trainable, opt_state, loss = step(trainable, opt_state, batch, subkey)
            pending.append(loss)
            if i == 0:
                jax.block_until_ready(loss)
                history.first_step_seconds = time.perf_counter() - start
            if (i + 1) % check_every == 0 or (i + 1) % log_every == 0 or i + 1 == steps:
                _take(pending, history)
            if (i + 1) % log_every == 0:
                logger.info("fit: step %d/%d loss %.6g", i + 1, steps, history.loss[-1])
                shown = _advance(bar, history, shown)
        _take(pending, history)
        _advance(bar, history, shown)
    history.seconds = time.perf_counter() - start
    return eqx.combine(trainable, static), history


def _advance(bar: ProgressBar, history: History, shown: int) -> int:
    """Move ``bar`` from ``shown`` steps to the steps in ``history``, with the last loss."""
    if history.steps > shown:
        bar.update(history.steps - shown)
        bar.set_postfix(loss=f"{history.loss[-1]:.4g}")
    return history.steps


# Compiled steps by the step's non-array part (the op's structure and static fields, the
# loss function, the optimizer): a later fit with the same loss_fn and optimizer objects
# on an op of the same structure (another ensemble member, a restart) traces nothing.
# Each entry keeps only its programs: with_op gives it the new arrays.
_STEPS: dict[Any, JitFunction] = {}
_STEPS_MAX = 8


def _compiled_step(step: _Step) -> JitFunction:
    params, static = eqx.partition(step, eqx.is_array)
    key = (jax.tree_util.tree_structure(params), static)
    try:
        cached = _STEPS.get(key)
    except TypeError:  # an unhashable static field somewhere in the op: no reuse
        return JitFunction(step)
    if cached is not None:
        _STEPS[key] = _STEPS.pop(key, cached)  # most recently used last
        return cached.with_op(step)
    compiled = JitFunction(step)
    template = compiled.with_op(step)
    template._params, template._op = [], None  # the programs only, not these arrays
    _STEPS[key] = template
    while len(_STEPS) > _STEPS_MAX:
        _STEPS.pop(next(iter(_STEPS)))
    return compiled


def _take(pending: list[Any], history: History) -> None:
    """Move ``pending`` losses into ``history``; raise at the first non-finite one."""
    if not pending:
        return
    values = np.asarray(jax.device_get(pending), dtype=np.float64).reshape(-1)
    pending.clear()
    first = len(history.loss)
    history.loss.extend(values.tolist())
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        at = first + int(bad[0])
        last = next((v for v in reversed(history.loss[:at]) if np.isfinite(v)), None)
        raise NaNLossError(
            f"fit: the loss is {values[bad[0]]} at step {at + 1} (1-based); last finite "
            f"loss {last}. Lower the learning rate, check the data of that step for "
            "NaN/inf, or clip gradients (optax.clip_by_global_norm)."
        )
