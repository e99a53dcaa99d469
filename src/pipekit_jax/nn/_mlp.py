"""MLP: a multilayer perceptron built from config, with seeded initialisation."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import pipekit as pk

from ._common import activation_fn, as_input, as_output, check_int
from ._types import Activation, ArrayIn

__all__ = ["MLP"]


class MLP(pk.Operator):
    """A multilayer perceptron over one feature axis: ``depth`` hidden layers of ``width``.

    ``h_0 = x``, ``h_{l+1} = act(W_l h_l + b_l)`` for the hidden layers, and a last linear
    layer without activation: ``y = W_L h_L + b_L``. ``depth=0`` is one linear layer.

    The features sit on ``feature_axis``; every other axis is mapped over, so one call
    takes a vector ``(in_features,)``, a batch ``(n, in_features)``, or (with
    ``feature_axis=-3``) one image ``(C, H, W)`` as a per-pixel MLP over bands.

    Weights are ``equinox.nn.Linear`` layers initialised from ``jax.random.key(seed)``
    (uniform in ``±1/sqrt(fan_in)``), so the config (these arguments, YAML-able) rebuilds
    identical weights; trained weights are array leaves, saved beside the YAML. On NumPy
    input it runs eagerly with ``jax.numpy`` and returns NumPy; it traces under
    ``jit`` / ``vmap`` / ``grad``. Input dtype must be the weights' (float32).

    Args:
        in_features: size of the feature axis of the input.
        out_features: size of the feature axis of the output.
        width: hidden layer size.
        depth: number of hidden layers (``0``: a single linear map).
        activation: one of :data:`pipekit_jax.nn.Activation`.
        feature_axis: the axis holding the features (``-1``; ``-3`` for ``(C, H, W)``).
        seed: initialisation seed.

    Example:
        >>> import numpy as np
        >>> from pipekit_jax import nn
        >>> mlp = nn.MLP(3, 2, width=8, depth=2, seed=0)
        >>> mlp(np.ones((5, 3), np.float32)).shape
        (5, 2)
        >>> nn.MLP(13, 4, feature_axis=-3)(np.ones((13, 6, 7), np.float32)).shape
        (4, 6, 7)
    """

    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    activation: Activation = eqx.field(static=True)
    feature_axis: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    layers: tuple[eqx.nn.Linear, ...]

    def __init__(
        self,
        in_features: int,
        out_features: int,
        width: int = 64,
        depth: int = 2,
        activation: Activation = "relu",
        feature_axis: int = -1,
        seed: int = 0,
    ) -> None:
        self.in_features = check_int("MLP", "in_features", in_features, minimum=1)
        self.out_features = check_int("MLP", "out_features", out_features, minimum=1)
        self.width = check_int("MLP", "width", width, minimum=1)
        self.depth = check_int("MLP", "depth", depth, minimum=0)
        activation_fn("MLP", activation)
        self.activation = activation
        if isinstance(feature_axis, bool) or not isinstance(feature_axis, int):
            raise pk.ConfigError(f"MLP: feature_axis must be an int, got {feature_axis!r}")
        self.feature_axis = feature_axis
        self.seed = check_int("MLP", "seed", seed, minimum=0)
        sizes = [self.in_features, *[self.width] * self.depth, self.out_features]
        keys = jax.random.split(jax.random.key(self.seed), len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )

    def _apply(self, x: Float[ArrayIn, "*batch"]) -> Float[Array, "*batch"]:
        xj, numpy_in = as_input(
            "MLP", x, ndim=1, dtype=self.layers[0].weight.dtype, shape="(..., features, ...)"
        )
        axis = self.feature_axis
        if not -xj.ndim <= axis < xj.ndim or xj.shape[axis] != self.in_features:
            raise ValueError(
                f"MLP(in_features={self.in_features}, feature_axis={axis}) expects "
                f"{self.in_features} features on axis {axis}; got shape {tuple(xj.shape)}"
            )
        h = jnp.moveaxis(xj, axis, -1)
        lead = h.shape[:-1]
        h = jnp.reshape(h, (-1, self.in_features))
        act = activation_fn("MLP", self.activation)
        for i, layer in enumerate(self.layers):
            h = h @ layer.weight.T + layer.bias[None, :]
            if i < len(self.layers) - 1:
                h = act(h)
        out = jnp.moveaxis(jnp.reshape(h, (*lead, self.out_features)), -1, axis)
        return as_output(out, numpy_in)
