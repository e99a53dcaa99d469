"""Binary erosion, dilation, opening and closing with square or disk structuring elements.

Each equals ``scipy.ndimage.binary_*`` with ``structure`` = :func:`structuring_element` and
the same ``iterations`` and ``border_value``, on NumPy and under ``jax.jit`` / ``vmap``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pipekit as pk
from pipekit.validate import check_bool, check_int

from .._carrier import namespace, rewrap
from ._common import read_mask, restore_nodata

__all__ = [
    "AbstractMorphology",
    "Close",
    "Dilate",
    "Erode",
    "Open",
    "binary_dilate",
    "binary_erode",
    "structuring_element",
]

Structure = Literal["square", "disk"]
STRUCTURES: tuple[str, ...] = ("square", "disk")


def structuring_element(radius: int, structure: Structure = "square") -> np.ndarray:
    """The ``(2r + 1, 2r + 1)`` boolean footprint: every offset (square) or ``dy² + dx² <= r²``.

    ``disk`` of radius 1 is the 4-neighbour cross, scipy's default structure
    (``ndimage.generate_binary_structure(2, 1)``); ``square`` of radius 1 is the 3 x 3 box.

    Example:
        >>> structuring_element(1, "disk").astype(int)
        array([[0, 1, 0],
               [1, 1, 1],
               [0, 1, 0]])
    """
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    if structure == "square":
        return np.ones(dy.shape, bool)
    return dy * dy + dx * dx <= radius * radius


def _half_widths(radius: int, structure: Structure) -> list[int]:
    """Half-width of the footprint's row at each ``dy`` in ``-r..r`` (its horizontal chord)."""
    if structure == "square":
        return [radius] * (2 * radius + 1)
    return [math.isqrt(radius * radius - dy * dy) for dy in range(-radius, radius + 1)]


def _window(a: Any, half: int, union: bool) -> Any:
    """Sliding max (OR) / min (AND) of width ``2 half + 1`` along the last axis, "valid"."""
    n = a.shape[-1] - 2 * half
    if isinstance(a, np.ndarray):
        out = a[..., 0:n].copy()
        reduce = np.maximum if union else np.minimum
        for k in range(1, 2 * half + 1):
            reduce(out, a[..., k : k + n], out=out)
        return out
    init = jnp.zeros((), a.dtype) if union else jnp.ones((), a.dtype)
    op = jax.lax.max if union else jax.lax.min
    dims = (1,) * (a.ndim - 1) + (2 * half + 1,)
    return jax.lax.reduce_window(a, init, op, dims, (1,) * a.ndim, "VALID")


def _step(m: Any, radius: int, structure: Structure, union: bool, border: bool) -> Any:
    """One dilation (``union``) or erosion of uint8 ``m`` (..., H, W); outside = ``border``."""
    xp = namespace(m)
    h, w = m.shape[-2], m.shape[-1]
    pad = [(0, 0)] * (m.ndim - 2) + [(radius, radius), (radius, radius)]
    if isinstance(m, np.ndarray):
        padded = np.pad(m, pad, constant_values=np.uint8(border))
    else:
        padded = jnp.pad(m, pad, constant_values=jnp.uint8(border))
    if structure == "square":  # separable: a run along rows, then one along columns
        rows = _window(padded, radius, union)
        cols = _window(xp.moveaxis(rows, -1, -2), radius, union)
        return xp.moveaxis(cols, -1, -2)
    reduce = xp.maximum if union else xp.minimum
    runs: dict[int, Any] = {}
    out = None
    # Row offset dy = i - r of the footprint: its chord's run, shifted by dy.
    for i, half in enumerate(_half_widths(radius, structure)):
        if half not in runs:
            run = _window(padded, half, union) if half else padded
            runs[half] = run[..., radius - half : radius - half + w]
        shifted = runs[half][..., i : i + h, :]
        out = shifted if out is None else reduce(out, shifted)
    return out


def _check_structure(owner: str, structure: object) -> Structure:
    if structure not in STRUCTURES:
        raise pk.ConfigError(
            f"{owner}: structure must be one of {STRUCTURES} (the footprint: the full "
            f"(2r+1)² box or the disk dy²+dx² <= r²), got {structure!r}"
        )
    return structure  # type: ignore[return-value]


def _morph(
    m: Any,
    valid: Any,
    radius: int,
    structure: Structure,
    iterations: int,
    union: bool,
    border: bool,
) -> Any:
    """``iterations`` elementary steps on uint8 ``m``; nodata (``~valid``) is background at each."""
    xp = namespace(m)
    zero = xp.zeros_like(m)
    for _ in range(iterations):
        m = xp.where(valid, _step(m, radius, structure, union, border), zero)
    return m


def binary_dilate(
    mask: Any,
    radius: int = 1,
    structure: Structure = "square",
    iterations: int = 1,
    border_value: bool = False,
) -> Any:
    """Binary dilation of boolean ``mask`` (..., H, W); see :class:`Dilate`."""
    xp = namespace(mask)
    m = xp.astype(mask, xp.uint8)
    out = _morph(m, xp.ones_like(mask), radius, structure, iterations, True, border_value)
    return out != xp.zeros((), dtype=xp.uint8)


def binary_erode(
    mask: Any,
    radius: int = 1,
    structure: Structure = "square",
    iterations: int = 1,
    border_value: bool = False,
) -> Any:
    """Binary erosion of boolean ``mask`` (..., H, W); see :class:`Erode`."""
    xp = namespace(mask)
    m = xp.astype(mask, xp.uint8)
    out = _morph(m, xp.ones_like(mask), radius, structure, iterations, False, border_value)
    return out != xp.zeros((), dtype=xp.uint8)


def _apply(
    op: str,
    x: Any,
    radius: int,
    structure: Structure,
    iterations: int,
    border: bool,
    plan: tuple[bool, ...],
) -> Any:
    """Run the elementary sequences of ``plan`` (True: dilation, False: erosion) on ``x``."""
    mask, nodata, values = read_mask(op, x)
    xp = namespace(values)
    valid = ~nodata
    m = xp.astype(mask, xp.uint8)
    for union in plan:
        m = _morph(m, valid, radius, structure, iterations, union, border)
    out = xp.astype(m != xp.zeros((), dtype=xp.uint8), values.dtype)
    return rewrap(x, restore_nodata(x, out, nodata))


class AbstractMorphology(pk.Operator):
    """The configuration of :class:`Erode`, :class:`Dilate`, :class:`Open` and :class:`Close`.

    Args:
        radius: footprint radius in pixels (>= 1): ``2 r + 1`` pixels across.
        structure: ``"square"`` (every offset of the box) or ``"disk"`` (``dy² + dx² <=
            r²``; radius 1 is the 4-neighbour cross); :func:`structuring_element`.
        iterations: how many times the elementary erosion/dilation is repeated (scipy's
            ``iterations``; in opening/closing, ``iterations`` erosions then as many
            dilations, or the reverse).
        border_value: the value pixels outside the image take (scipy's ``border_value``,
            default False: outside is background, so erosion eats masks touching the edge
            and closing is not extensive there; True keeps edge-touching masks).

    Each equals ``scipy.ndimage.binary_{erosion,dilation,opening,closing}(m,
    structure=structuring_element(radius, structure), iterations=iterations,
    border_value=border_value)`` on every band (every 2-D slice of the last two axes).
    Nonzero is True. Nodata (NaN, or pixels at the fill value) is background at every
    elementary step (iterated dilation does not cross it) and stays nodata in the output,
    which keeps the input's dtype (0/1 values) and fill value. A fill value of 0 or 1 is
    refused: it would make every pixel of that value nodata.

    On NumPy each step is a max/min over shifted slices; under JAX over
    ``lax.reduce_window`` runs (square: separable row then column runs; disk: one row run
    per chord, shifted by its row offset), exact and jit/vmap-able.
    """

    radius: int = eqx.field(static=True)
    structure: Structure = eqx.field(static=True)
    iterations: int = eqx.field(static=True)
    border_value: bool = eqx.field(static=True)
    #: The elementary sequences, in order: True a dilation, False an erosion.
    plan: ClassVar[tuple[bool, ...]] = ()

    def __init__(
        self,
        radius: int = 1,
        structure: Structure = "square",
        iterations: int = 1,
        border_value: bool = False,
    ) -> None:
        owner = type(self).__name__
        self.radius = check_int(owner, "radius", radius, minimum=1, hint=" (pixels)")
        self.structure = _check_structure(owner, structure)
        self.iterations = check_int(owner, "iterations", iterations, minimum=1)
        check_bool(owner, "border_value", border_value)
        self.border_value = bool(border_value)

    def _apply(self, x: Any) -> Any:
        return _apply(
            type(self).__name__, x, self.radius, self.structure, self.iterations,
            self.border_value, self.plan,
        )  # fmt: skip


class Erode(AbstractMorphology):
    r"""Binary erosion: a pixel stays True only if its whole footprint is True.

    .. math:: (m \ominus S)(p) = \bigwedge_{o \in S} m(p + o)

    ``scipy.ndimage.binary_erosion``; arguments and nodata in :class:`AbstractMorphology`.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> m = np.zeros((5, 5), np.uint8); m[1:4, 1:4] = 1
        >>> gz.mask.Erode(radius=1)(m)[2]
        array([0, 0, 1, 0, 0], dtype=uint8)
    """

    plan: ClassVar[tuple[bool, ...]] = (False,)


class Dilate(AbstractMorphology):
    r"""Binary dilation: a pixel becomes True if any pixel of its footprint is True.

    .. math:: (m \oplus S)(p) = \bigvee_{o \in S} m(p + o)

    ``scipy.ndimage.binary_dilation`` (the footprints here are symmetric, so its
    reflection of the structure changes nothing); arguments and nodata in
    :class:`AbstractMorphology`.

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> m = np.zeros((5, 5), bool); m[2, 2] = True
        >>> gz.mask.Dilate(radius=1, structure="disk")(m).astype(int)[1:4, 1:4]
        array([[0, 1, 0],
               [1, 1, 1],
               [0, 1, 0]])
    """

    plan: ClassVar[tuple[bool, ...]] = (True,)


class Open(AbstractMorphology):
    r"""Binary opening, erosion then dilation: removes specks and spurs smaller than the footprint.

    .. math:: m \circ S = (m \ominus S) \oplus S

    ``scipy.ndimage.binary_opening``; arguments and nodata in :class:`AbstractMorphology`.
    """

    plan: ClassVar[tuple[bool, ...]] = (False, True)


class Close(AbstractMorphology):
    r"""Binary closing, dilation then erosion: fills gaps and notches smaller than the footprint.

    .. math:: m \bullet S = (m \oplus S) \ominus S

    ``scipy.ndimage.binary_closing``; arguments and nodata in :class:`AbstractMorphology`.
    """

    plan: ClassVar[tuple[bool, ...]] = (True, False)
