"""Option vocabularies of :mod:`pipekit_jax.nn` and the array types of its signatures."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
from jaxtyping import Array

__all__ = ["Activation", "ArrayIn"]

#: Activation between layers: ``jax.nn.relu``, ``jnp.tanh``, ``jax.nn.gelu``,
#: ``jax.nn.silu``, ``jax.nn.sigmoid`` or none (``"identity"``).
Activation: TypeAlias = Literal["relu", "tanh", "gelu", "silu", "sigmoid", "identity"]

#: What a network accepts: a JAX array (or tracer), or a NumPy array on the eager path.
ArrayIn: TypeAlias = Array | np.ndarray
