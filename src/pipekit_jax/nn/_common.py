"""Shared checks of the networks: integer config, seeds, activations, array inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk
from pipekit import validate
from pipekit_array import is_carrier

__all__ = ["ACTIVATIONS", "activation_fn", "as_input", "as_output", "check_int", "check_widths"]


def _identity(x: jax.Array) -> jax.Array:
    return x


ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "sigmoid": jax.nn.sigmoid,
    "identity": _identity,
}


def check_int(owner: str, name: str, value: Any, *, minimum: int) -> int:
    """``value`` as an int ``>= minimum``, or a ConfigError naming ``owner: name``."""
    hint = " (a seed is a non-negative int: jax.random.key(seed))" if name == "seed" else ""
    return validate.check_int(owner, name, value, minimum=minimum, hint=hint)


def check_widths(owner: str, name: str, value: Any) -> tuple[int, ...]:
    """A non-empty tuple of positive ints (YAML gives a list)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise pk.ConfigError(
            f"{owner}: {name} must be a non-empty list of channel counts, e.g. (16, 32); "
            f"got {value!r}"
        )
    return tuple(check_int(owner, f"{name}[{i}]", w, minimum=1) for i, w in enumerate(value))


def activation_fn(owner: str, name: str) -> Callable[[jax.Array], jax.Array]:
    """The function of an :data:`Activation` name."""
    fn = ACTIVATIONS.get(name) if isinstance(name, str) else None
    if fn is None:
        raise pk.ConfigError(
            f"{owner}: activation must be one of {sorted(ACTIVATIONS)}, got {name!r}"
        )
    return fn


def as_input(owner: str, x: Any, *, ndim: int, dtype: Any, shape: str) -> tuple[jax.Array, bool]:
    """``(x as a JAX array, whether it came as NumPy)``, after the checks every network runs.

    ``ndim`` is the least number of axes; the dtype must equal the weights' (strict
    promotion: a uint16 DN or a float64 array against float32 weights is a mistake).
    """
    numpy_in = isinstance(x, np.ndarray)
    if not (numpy_in or isinstance(x, jax.Array)):
        hint = ""
        if is_carrier(x):
            hint = (
                f"; {owner} maps one sample's array: apply it to a carrier (a GeoTensor) "
                f"through pipekit_array.ModelOp({owner}(...)), which also maps it over stacks"
            )
        raise TypeError(f"{owner} expects a {shape} array, got {type(x).__name__}{hint}")
    if x.ndim < ndim:
        raise ValueError(f"{owner} expects a {shape} array, got shape {tuple(x.shape)}")
    xj = jnp.asarray(x)
    if xj.dtype != dtype:
        raise TypeError(
            f"{owner} expects a floating {shape} array of dtype {jnp.dtype(dtype).name} (the "
            f"weights' dtype), got {xj.dtype.name}; convert it first (e.g. "
            "geotoolz.radiometry.ToFloat32, or x.astype(...)) or cast the weights"
        )
    return xj, numpy_in


def as_output(out: jax.Array, numpy_in: bool) -> Any:
    """Back to NumPy for NumPy input, unless ``out`` is traced (e.g. under ``jax.grad``)."""
    if numpy_in and not isinstance(out, jax.core.Tracer):
        return np.asarray(out)
    return out
