"""Connected components of a boolean raster by min-label flooding, the same on NumPy and JAX.

No scipy: the traced path needs a ``jax.lax.while_loop``, and the eager NumPy path runs the
very same iteration in a Python loop, so both give the same labels bit for bit (the
conformance suite requires NumPy = jit).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax import lax

from .._carrier import namespace

__all__ = ["component_sizes", "label_components"]


def _is_jax(values: Any) -> bool:
    return isinstance(values, jax.Array)


def _shift(xp: Any, a: Any, dr: int, dc: int, pad: Any) -> Any:
    """``out[..., r, c] = a[..., r + dr, c + dc]``, ``pad`` outside the grid (dr, dc in -1..1)."""
    h, w = a.shape[-2], a.shape[-1]
    if dr:
        edge = xp.full((*a.shape[:-2], 1, w), pad, dtype=a.dtype)
        a = (
            xp.concat([a[..., 1:, :], edge], axis=-2)
            if dr > 0
            else xp.concat([edge, a[..., :-1, :]], axis=-2)
        )
    if dc:
        edge = xp.full((*a.shape[:-2], h, 1), pad, dtype=a.dtype)
        a = (
            xp.concat([a[..., :, 1:], edge], axis=-1)
            if dc > 0
            else xp.concat([edge, a[..., :, :-1]], axis=-1)
        )
    return a


def _offsets(connectivity: int) -> list[tuple[int, int]]:
    four = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    return four if connectivity == 4 else [*four, (-1, -1), (-1, 1), (1, -1), (1, 1)]


def _step(xp: Any, labels: Any, mask: Any, connectivity: int, background: int) -> Any:
    """One flooding step: each pixel takes the least label around it, then pointer jumping.

    Labels are flat pixel indices within the image (``background`` = H·W off the mask);
    ``labels[labels]`` (pointer jumping) passes a label along a chain of pixels in one
    step, so long thin plumes converge in far fewer steps than their length.
    """
    h, w = labels.shape[-2], labels.shape[-1]
    least = labels
    for dr, dc in _offsets(connectivity):
        least = xp.minimum(least, _shift(xp, labels, dr, dc, background))
    least = xp.where(mask, least, xp.full_like(least, background))
    flat = xp.reshape(least, (*least.shape[:-2], h * w))
    # Gather each pixel's label of its label: the background index H·W reads a padded cell.
    padded = xp.concat(
        [flat, xp.full((*flat.shape[:-1], 1), background, dtype=flat.dtype)], axis=-1
    )
    jumped = xp.take_along_axis(padded, xp.minimum(flat, background), axis=-1)
    return xp.reshape(xp.minimum(flat, jumped), least.shape)


def label_components(mask: Any, connectivity: int = 8) -> Any:
    """Component labels of ``mask`` (``(..., H, W)`` bool), per image of the leading axes.

    Every True pixel gets the flat index ``r·W + c`` of one pixel of its component (the same
    for the whole component), every False pixel ``H·W``. Iterates :func:`_step` to its fixed
    point: ``jax.lax.while_loop`` on JAX arrays (traced or not), a Python loop on NumPy.

    Example:
        >>> import numpy as np
        >>> m = np.array([[1, 1, 0, 1], [0, 0, 0, 1]], bool)
        >>> label_components(m, 4)
        array([[0, 0, 8, 3],
               [8, 8, 8, 3]], dtype=int32)
    """
    xp = namespace(mask)
    h, w = mask.shape[-2], mask.shape[-1]
    background = h * w
    index = xp.reshape(xp.arange(h * w, dtype=xp.int32), (h, w))
    labels = xp.where(
        mask, xp.broadcast_to(index, mask.shape), xp.full(mask.shape, background, dtype=xp.int32)
    )

    if _is_jax(mask):

        def cond(state: tuple[Any, Any]) -> Any:
            return state[1]

        def body(state: tuple[Any, Any]) -> tuple[Any, Any]:
            new = _step(xp, state[0], mask, connectivity, background)
            return new, xp.any(new != state[0])

        labels, _ = lax.while_loop(cond, body, (labels, xp.asarray(True)))
        return labels
    while True:
        new = _step(xp, labels, mask, connectivity, background)
        if np.array_equal(new, labels):
            return labels
        labels = new


def component_sizes(labels: Any) -> Any:
    """Per pixel, the number of pixels of its component (0 off the mask), for labels of
    :func:`label_components` (``(..., H, W)`` int32)."""
    xp = namespace(labels)
    h, w = labels.shape[-2], labels.shape[-1]
    flat = xp.reshape(labels, (-1, h * w))
    if _is_jax(labels):
        import jax.numpy as jnp

        counts = jax.vmap(lambda row: jnp.zeros(h * w + 1, jnp.int32).at[row].add(1))(flat)
    else:
        counts = np.stack([np.bincount(row, minlength=h * w + 1) for row in flat]).astype(np.int32)
    sizes = xp.take_along_axis(counts, flat, axis=-1)
    sizes = xp.where(flat == h * w, xp.zeros_like(sizes), sizes)
    return xp.reshape(sizes, labels.shape)
