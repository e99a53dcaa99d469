"""ConvNet: a small fully convolutional per-pixel classifier, built from config with a seed."""

from __future__ import annotations

import equinox as eqx
import jax
from jaxtyping import Array, Float

import pipekit as pk

from ._common import as_input, as_output, check_int, check_widths
from ._types import ArrayIn

__all__ = ["ConvNet"]


class ConvNet(pk.Operator):
    """A conv encoder with a per-pixel classification head: ``(C, H, W) -> (classes, H, W)``.

    ``len(widths)`` convolutions of ``kernel_size`` with "same" zero padding (stride 1),
    each followed by a ReLU, then a 1x1 convolution to ``num_classes`` logits:

    ``h_0 = x``, ``h_{l+1} = relu(conv_l(h_l))``, ``logits = conv_head(h_L)``.

    Fully convolutional, so any ``H, W`` works and the output is the class-logit map of
    every pixel (softmax over axis 0 gives class probabilities). One sample per call
    (equinox convention); :class:`pipekit_array.ModelOp` applies it to a GeoTensor and maps
    it over stacks. Weights are ``equinox.nn.Conv2d`` layers initialised from
    ``jax.random.key(seed)``, so the config rebuilds identical weights; NumPy input runs
    eagerly with ``jax.numpy`` and returns NumPy. Input dtype must be the weights' (float32).

    Args:
        in_channels: bands of the input ``C``.
        num_classes: channels of the output (one logit per class).
        widths: channels of the hidden convolutions, e.g. ``(16, 32)``.
        kernel_size: size of the hidden convolutions' square kernels.
        seed: initialisation seed.

    Example:
        >>> import numpy as np
        >>> import pipekit as pk, pipekit_array as pa
        >>> from pipekit_jax import nn
        >>> net = nn.ConvNet(in_channels=4, num_classes=3, widths=(8,), seed=0)
        >>> net(np.zeros((4, 10, 12), np.float32)).shape
        (3, 10, 12)
        >>> print(pk.dumps_yaml(pa.ModelOp(net)), end="")  # doctest: +NORMALIZE_WHITESPACE
        _target_: pipekit_array.ModelOp
        model:
          _target_: pipekit_jax.nn.ConvNet
          in_channels: 4
          num_classes: 3
          widths:
          - 8
          kernel_size: 3
          seed: 0
        batch_size: null
        method: __call__
    """

    in_channels: int = eqx.field(static=True)
    num_classes: int = eqx.field(static=True)
    widths: tuple[int, ...] = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    convs: tuple[eqx.nn.Conv2d, ...]
    head: eqx.nn.Conv2d

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        widths: tuple[int, ...] = (16, 32),
        kernel_size: int = 3,
        seed: int = 0,
    ) -> None:
        self.in_channels = check_int("ConvNet", "in_channels", in_channels, minimum=1)
        self.num_classes = check_int("ConvNet", "num_classes", num_classes, minimum=1)
        self.widths = check_widths("ConvNet", "widths", widths)
        self.kernel_size = check_int("ConvNet", "kernel_size", kernel_size, minimum=1)
        self.seed = check_int("ConvNet", "seed", seed, minimum=0)
        keys = jax.random.split(jax.random.key(self.seed), len(self.widths) + 1)
        chans = [self.in_channels, *self.widths]
        self.convs = tuple(
            eqx.nn.Conv2d(a, b, self.kernel_size, padding="SAME", key=k)
            for a, b, k in zip(chans[:-1], chans[1:], keys[:-1], strict=True)
        )
        self.head = eqx.nn.Conv2d(self.widths[-1], self.num_classes, 1, key=keys[-1])

    def _apply(self, x: Float[ArrayIn, "c h w"]) -> Float[Array, "k h w"]:
        dtype = self.head.weight.dtype
        h, numpy_in = as_input("ConvNet", x, ndim=3, dtype=dtype, shape="(C, H, W)")
        if h.ndim != 3 or h.shape[0] != self.in_channels:
            raise ValueError(
                f"ConvNet(in_channels={self.in_channels}) expects one sample (C, H, W) with "
                f"C = {self.in_channels}, got shape {tuple(h.shape)} (map over a stack with "
                "jax.vmap or pipekit_array.ModelOp)"
            )
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return as_output(self.head(h), numpy_in)
