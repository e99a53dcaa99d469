"""Basic operators: Identity, and the callable-holding Lambda, Tap and Sink."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ._errors import ConfigError
from ._operator import Operator

__all__ = ["Identity", "Lambda", "Sink", "Tap"]


def _check_callable(owner: str, fn: object) -> None:
    if not callable(fn):
        raise ConfigError(f"{owner}(fn) expects a callable, got {type(fn).__name__}")


def _is_traced(tree: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _host_call(fn: Callable[[Any], Any], x: Any) -> None:
    """Call ``fn`` with concrete values: directly when eager, via a debug callback when traced."""
    if not _is_traced(x):
        fn(x)
        return

    def callback(value: Any) -> None:
        # The callback receives device arrays; hand the user host NumPy arrays inside the
        # same pytree structure (a GeoTensor stays a GeoTensor).
        fn(jax.tree.map(np.asarray, value))

    jax.debug.callback(callback, x)


class Identity(Operator):
    """Return the input unchanged.

    Example:
        >>> import pipekit as pk
        >>> pk.Identity()(3)
        3
    """

    def _apply(self, x: Any) -> Any:
        return x


class Lambda(Operator):
    """Apply an arbitrary callable: ``Lambda(fn)(x) == fn(x)`` (several inputs: ``fn(*xs)``).

    Handy in notebooks; it cannot be written to YAML (``forbid_in_yaml``) because a Python
    callable is not config. Give a reusable step its own Operator class instead.

    Example:
        >>> import pipekit as pk
        >>> pk.Lambda(lambda x: 2 * x)(4)
        8
    """

    fn: Callable[..., Any] = eqx.field(static=True)
    forbid_in_yaml = True

    def __init__(self, fn: Callable[..., Any]) -> None:
        _check_callable("Lambda", fn)
        self.fn = fn

    def _apply(self, *xs: Any) -> Any:
        return self.fn(*xs)


class Tap(Operator):
    """Call ``fn(x)`` to observe a value and pass ``x`` on unchanged.

    ``fn`` always receives *concrete* values: eagerly it is called directly; when the
    pipeline is traced (``eqx.filter_jit``, ``filter_vmap``, ``jax.grad``) it runs through
    ``jax.debug.callback``, once per call of the compiled program (once per element under
    ``vmap``), with the traced arrays turned into host NumPy arrays in the same pytree
    (a GeoTensor stays a GeoTensor). Its return value is ignored. Under jit the tapped value
    is therefore materialised in full and copied to the host, which keeps XLA from
    eliminating work on bands that later steps do not read.

    ``forbid_in_yaml``: it holds a Python callable.

    Example:
        >>> import numpy as np
        >>> import pipekit as pk
        >>> seen = []
        >>> pk.Tap(lambda x: seen.append(float(x.sum())))(np.ones(3))
        array([1., 1., 1.])
        >>> seen
        [3.0]
    """

    fn: Callable[[Any], Any] = eqx.field(static=True)
    forbid_in_yaml = True

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        _check_callable("Tap", fn)
        self.fn = fn

    def _apply(self, x: Any) -> Any:
        _host_call(self.fn, x)
        return x


class Sink(Operator):
    """Hand the value to ``fn`` (write it, send it, store it) and end the flow: returns ``None``.

    Like :class:`Tap`, ``fn`` receives concrete values also when the pipeline is traced
    (through ``jax.debug.callback``, with host NumPy arrays in the same pytree), so a
    compiled pipeline can end in a writer. Use :class:`Tap` to keep the value flowing.

    ``forbid_in_yaml``: it holds a Python callable.

    Example:
        >>> import pipekit as pk
        >>> store = []
        >>> print((pk.Identity() | pk.Sink(store.append))(5))
        None
        >>> store
        [5]
    """

    fn: Callable[[Any], Any] = eqx.field(static=True)
    forbid_in_yaml = True

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        _check_callable("Sink", fn)
        self.fn = fn

    def _apply(self, x: Any) -> None:
        _host_call(self.fn, x)
