"""Removing connected components below a size: small objects (True) and small holes (False).

Components come from :func:`geotoolz.methane.label_components` (min-label flooding with
pointer jumping): a ``jax.lax.while_loop`` under jit, the same iteration in a Python loop
on NumPy, so both paths give the same result, and ``vmap`` batches it. It converges in at
most (component diameter) steps, far fewer on long thin shapes thanks to pointer jumping.
We chose this traced form over a host-only operator refused under jit: one pipeline then
runs end to end in one compiled program (mask cleaning sits between jitted steps).
"""

from __future__ import annotations

from typing import Any, Literal

import equinox as eqx

import pipekit as pk
from pipekit.validate import check_int

from .._carrier import namespace, rewrap
from ..methane import component_sizes, label_components
from ._common import read_mask, restore_nodata

__all__ = ["RemoveSmallHoles", "RemoveSmallObjects", "remove_small"]

Connectivity = Literal[4, 8]


def remove_small(mask: Any, min_size: int, connectivity: int) -> Any:
    """``mask`` (bool, ``(..., H, W)``) without its components of fewer than ``min_size`` pixels."""
    sizes = component_sizes(label_components(mask, connectivity))
    return mask & (sizes >= min_size)


def _check_connectivity(owner: str, connectivity: object) -> int:
    if isinstance(connectivity, bool) or connectivity not in (4, 8):
        raise pk.ConfigError(
            f"{owner}: connectivity must be 4 (edge neighbours) or 8 (edge and corner "
            f"neighbours), got {connectivity!r}"
        )
    return int(connectivity)  # type: ignore[arg-type]


class RemoveSmallObjects(pk.Operator):
    """Set to False every connected True component of fewer than ``min_size`` pixels.

    Per band (every 2-D slice): components are formed with ``connectivity`` 4 or 8
    (``scipy.ndimage.label`` with the cross or the 3 x 3 box), and a component is kept when
    its pixel count is at least ``min_size``, as ``skimage.morphology.remove_small_objects``
    (``connectivity=1`` is our 4, ``2`` our 8). Nonzero is True; nodata is background (it
    joins no component, so it can split one) and stays nodata in the output, which keeps
    the input's dtype and fill value. Runs under jit and vmap (see the module note).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> m = np.array([[1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]], np.uint8)
        >>> gz.mask.RemoveSmallObjects(min_size=2)(m)
        array([[1, 1, 0, 0],
               [1, 0, 0, 0],
               [0, 0, 0, 0]], dtype=uint8)
    """

    min_size: int = eqx.field(static=True)
    connectivity: Connectivity = eqx.field(static=True)

    def __init__(self, min_size: int = 64, connectivity: Connectivity = 8) -> None:
        self.min_size = check_int(
            "RemoveSmallObjects", "min_size", min_size, minimum=1,
            hint=" (pixels: components smaller than this are removed)",
        )  # fmt: skip
        self.connectivity = _check_connectivity("RemoveSmallObjects", connectivity)  # type: ignore[assignment]

    def _apply(self, x: Any) -> Any:
        mask, nodata, values = read_mask("RemoveSmallObjects", x)
        xp = namespace(values)
        kept = remove_small(mask, self.min_size, self.connectivity)
        return rewrap(x, restore_nodata(x, xp.astype(kept, values.dtype), nodata))


class RemoveSmallHoles(pk.Operator):
    """Set to True every connected False component (hole) of fewer than ``area_threshold`` pixels.

    The complement of :class:`RemoveSmallObjects` on the complement, as
    ``skimage.morphology.remove_small_holes``: every background component counts, also one
    touching the image edge (unlike ``scipy.ndimage.binary_fill_holes``, a tile cannot tell
    whether it continues outside). ``connectivity`` (default 4, the dual of objects' 8)
    forms the background components. Nodata is background: it joins the hole it touches
    (so a hole open to nodata is as large as its nodata neighbourhood, and is filled only
    if the whole is small) and stays nodata in the output (dtype and fill value kept).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> m = np.ones((4, 5), np.uint8); m[1, 1] = 0; m[1:3, 3] = 0
        >>> gz.mask.RemoveSmallHoles(area_threshold=2)(m)[1]
        array([1, 1, 1, 0, 1], dtype=uint8)
    """

    area_threshold: int = eqx.field(static=True)
    connectivity: Connectivity = eqx.field(static=True)

    def __init__(self, area_threshold: int = 64, connectivity: Connectivity = 4) -> None:
        self.area_threshold = check_int(
            "RemoveSmallHoles", "area_threshold", area_threshold, minimum=1,
            hint=" (pixels: holes smaller than this are filled)",
        )  # fmt: skip
        self.connectivity = _check_connectivity("RemoveSmallHoles", connectivity)  # type: ignore[assignment]

    def _apply(self, x: Any) -> Any:
        mask, nodata, values = read_mask("RemoveSmallHoles", x)
        xp = namespace(values)
        filled = ~remove_small(~mask, self.area_threshold, self.connectivity)
        return rewrap(x, restore_nodata(x, xp.astype(filled, values.dtype), nodata))
