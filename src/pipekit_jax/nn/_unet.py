"""UNet: an encoder/decoder with skip connections, built from config with a seed."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

import pipekit as pk

from ._common import as_input, as_output, check_int, check_widths
from ._types import ArrayIn

__all__ = ["UNet"]


class _Block(eqx.Module):
    """Two 3x3 "same" convolutions, each followed by a ReLU."""

    first: eqx.nn.Conv2d
    second: eqx.nn.Conv2d

    def __init__(self, in_channels: int, out_channels: int, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.first = eqx.nn.Conv2d(in_channels, out_channels, 3, padding="SAME", key=k1)
        self.second = eqx.nn.Conv2d(out_channels, out_channels, 3, padding="SAME", key=k2)

    def __call__(self, x: Float[Array, "c h w"]) -> Float[Array, "d h w"]:
        return jax.nn.relu(self.second(jax.nn.relu(self.first(x))))


def _max_pool(x: Float[Array, "c h w"]) -> Float[Array, "c h/2 w/2"]:
    c, h, w = x.shape
    return jnp.max(jnp.reshape(x, (c, h // 2, 2, w // 2, 2)), axis=(2, 4))


class UNet(pk.Operator):
    """U-Net: ``(C, H, W) -> (out_channels, H, W)`` through ``len(widths)`` resolution levels.

    Encoder level ``i`` is a block of two 3x3 "same" convolutions + ReLU with
    ``widths[i]`` channels, preceded (for ``i > 0``) by a 2x2 max pool. Decoder level ``i``
    (from the bottom up) upsamples level ``i + 1`` with a 2x2 stride-2 transposed
    convolution to ``widths[i]`` channels, concatenates the encoder's level-``i`` features
    (the skip connection) and applies another block; a 1x1 convolution gives the output.
    Ronneberger et al., 2015, "U-Net" (arXiv:1505.04597), with "same" padding so that the
    output keeps the input's ``H, W``.

    ``H`` and ``W`` must be divisible by ``2 ** (len(widths) - 1)`` (a clear error says
    otherwise). One sample per call (equinox convention); :class:`pipekit_array.ModelOp`
    applies it to a GeoTensor and maps it over stacks. Weights initialise from
    ``jax.random.key(seed)``, so the config rebuilds identical weights; NumPy input runs
    eagerly with ``jax.numpy`` and returns NumPy. Input dtype must be the weights' (float32).

    Args:
        in_channels: bands of the input ``C``.
        out_channels: channels of the output.
        widths: channels per level, finest first, e.g. ``(16, 32)``.
        seed: initialisation seed.

    Example:
        >>> import numpy as np
        >>> from pipekit_jax import nn
        >>> unet = nn.UNet(in_channels=3, out_channels=2, widths=(4, 8, 16), seed=0)
        >>> unet(np.zeros((3, 8, 12), np.float32)).shape
        (2, 8, 12)
    """

    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    widths: tuple[int, ...] = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    down: tuple[_Block, ...]
    up: tuple[eqx.nn.ConvTranspose2d, ...]
    merge: tuple[_Block, ...]
    head: eqx.nn.Conv2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        widths: tuple[int, ...] = (16, 32),
        seed: int = 0,
    ) -> None:
        self.in_channels = check_int("UNet", "in_channels", in_channels, minimum=1)
        self.out_channels = check_int("UNet", "out_channels", out_channels, minimum=1)
        self.widths = w = check_widths("UNet", "widths", widths)
        self.seed = check_int("UNet", "seed", seed, minimum=0)
        n = len(w)
        keys = iter(jax.random.split(jax.random.key(self.seed), 3 * n))
        chans = [self.in_channels, *w]
        self.down = tuple(_Block(chans[i], w[i], next(keys)) for i in range(n))
        self.up = tuple(
            eqx.nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2, key=next(keys))
            for i in range(n - 1)
        )
        self.merge = tuple(_Block(2 * w[i], w[i], next(keys)) for i in range(n - 1))
        self.head = eqx.nn.Conv2d(w[0], self.out_channels, 1, key=next(keys))

    @property
    def multiple(self) -> int:
        """``H`` and ``W`` must be multiples of this: ``2 ** (len(widths) - 1)``."""
        return 2 ** (len(self.widths) - 1)

    def _apply(self, x: Float[ArrayIn, "c h w"]) -> Float[Array, "k h w"]:
        h, numpy_in = as_input("UNet", x, ndim=3, dtype=self.head.weight.dtype, shape="(C, H, W)")
        m = self.multiple
        if h.ndim != 3 or h.shape[0] != self.in_channels:
            raise ValueError(
                f"UNet(in_channels={self.in_channels}) expects one sample (C, H, W) with "
                f"C = {self.in_channels}, got shape {tuple(h.shape)} (map over a stack with "
                "jax.vmap or pipekit_array.ModelOp)"
            )
        if h.shape[1] % m or h.shape[2] % m:
            raise ValueError(
                f"UNet(widths={self.widths}) halves H and W {len(self.widths) - 1} time(s), "
                f"so both must be divisible by {m}; got (C, H, W) = {tuple(h.shape)}. Crop or "
                f"pad the input to a multiple of {m} (e.g. chips of {16 * m} x {16 * m})."
            )
        skips = []
        for i, block in enumerate(self.down):
            h = block(_max_pool(h) if i else h)
            skips.append(h)
        for i in reversed(range(len(self.up))):
            h = self.merge[i](jnp.concatenate([self.up[i](h), skips[i]], axis=0))
        return as_output(self.head(h), numpy_in)
