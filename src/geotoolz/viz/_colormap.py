"""ApplyColormap: one band to RGBA uint8 through a matplotlib colormap's lookup table."""

from __future__ import annotations

import difflib
import functools
import math
from typing import Any

import equinox as eqx
import numpy as np

import pipekit as pk

from .._carrier import float_values, namespace, rewrap, values_of
from ._single import single_band

__all__ = ["ApplyColormap", "colormap_lut"]

#: The uint8 RGBA rows of one colormap: ``N`` tuples ``(r, g, b, a)``.
Lut = tuple[tuple[int, int, int, int], ...]


@functools.cache
def colormap_lut(name: str) -> Lut:
    """The ``(N, 4)`` uint8 lookup table of matplotlib colormap ``name``, as nested tuples.

    Exactly the bytes matplotlib colours with: ``colormaps[name](np.arange(N),
    bytes=True)`` (``N`` is 256 for matplotlib's continuous maps, 10 for ``tab10``).
    matplotlib is imported here, not at module import: it is the optional ``viz`` extra.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "geotoolz.viz.ApplyColormap turns a matplotlib colormap into a lookup table and "
            "needs matplotlib: pip install 'pipekit-geo[viz]'"
        ) from exc
    if name not in matplotlib.colormaps:
        close = difflib.get_close_matches(name, list(matplotlib.colormaps), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise pk.ConfigError(
            f"ApplyColormap: name must be a matplotlib colormap (matplotlib.colormaps), e.g. "
            f"'viridis', 'magma', 'RdYlGn', 'gray'; got {name!r}{hint}"
        )
    cmap = matplotlib.colormaps[name]
    rows = np.asarray(cmap(np.arange(cmap.N), bytes=True), dtype=np.uint8)
    return tuple(tuple(int(v) for v in row) for row in rows)  # type: ignore[return-value]


def _bound(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise pk.ConfigError(
            f"ApplyColormap: {name} must be None or a finite number, got {value!r}"
        )
    return float(value)


class ApplyColormap(pk.Operator):
    """Colour one band with a matplotlib colormap: ``(..., y, x)`` -> RGBA ``(..., 4, y, x)``.

    As ``matplotlib.colormaps[name](t, bytes=True)`` with ``t = (x - vmin) / (vmax -
    vmin)``: the row ``floor(t N)`` of the colormap's ``N``-entry table (``N = 256``),
    ``t <= 0`` the first row, ``t >= 1`` the last (matplotlib's default under/over
    colours). ``vmin``/``vmax`` default to the min/max of the finite valid values of each
    image (per element of a stack); ``vmin == vmax`` colours everything with the first row,
    as ``matplotlib.colors.Normalize`` does. Nodata (NaN, or the input's fill value) is
    ``(0, 0, 0, 0)``, matplotlib's "bad" colour, and the output's ``fill_value`` is 0
    (every band 0: a colormap row always has alpha 255, so a valid pixel is never that).

    The input is one band: ``(y, x)``, or ``(1, y, x)`` with its band axis (the output
    puts RGBA there). The output is uint8 with bands named ``("R", "G", "B", "A")``, ready
    for ``to_png_bytes`` / ``to_rgb_array``.

    Why a table built at construction: the colormap becomes a static tuple of uint8 rows
    (not config: ``state``/YAML hold ``name``, ``vmin``, ``vmax`` and the table is rebuilt
    from them), so the operator jits with no matplotlib call on the hot path; matplotlib
    (the ``viz`` extra) is needed only to build it.

    Args:
        name: a matplotlib colormap name ("viridis", "magma", "RdYlGn", "gray", ...).
        vmin, vmax: the values mapped to the first and last colour, or None (data range).

    Example:
        >>> import numpy as np
        >>> import geotoolz as gz
        >>> rgba = gz.viz.ApplyColormap("gray")(np.array([[0.0, 0.5, 1.0, np.nan]]))
        >>> rgba[:, 0, :].T.tolist()
        [[0, 0, 0, 255], [128, 128, 128, 255], [255, 255, 255, 255], [0, 0, 0, 0]]
    """

    name: str = eqx.field(static=True)
    vmin: float | None = eqx.field(static=True)
    vmax: float | None = eqx.field(static=True)
    lut: Lut = eqx.field(static=True, repr=False)

    def __init__(
        self, name: str = "viridis", vmin: float | None = None, vmax: float | None = None
    ) -> None:
        if not isinstance(name, str):
            raise pk.ConfigError(f"ApplyColormap: name must be a colormap name, got {name!r}")
        self.vmin, self.vmax = _bound("vmin", vmin), _bound("vmax", vmax)
        if self.vmin is not None and self.vmax is not None and not self.vmin < self.vmax:
            raise pk.ConfigError(
                f"ApplyColormap: need vmin < vmax, got vmin={vmin!r}, vmax={vmax!r}"
            )
        self.name = name
        self.lut = colormap_lut(name)

    def _apply(self, x: Any) -> Any:
        values = values_of(x)
        band_axis = single_band("ApplyColormap", x, values)
        v = float_values(x, values=values)  # nodata is NaN
        if band_axis:
            v = v[..., 0, :, :]
        xp = namespace(v)
        nodata = xp.isnan(v)
        finite = xp.isfinite(v)
        lo = self._bound(xp, v, finite, self.vmin, xp.min, math.inf)
        hi = self._bound(xp, v, finite, self.vmax, xp.max, -math.inf)
        span = hi - lo
        flat = ~(span > 0)  # vmin == vmax, or no finite value
        t = (v - lo) / xp.where(flat, xp.ones_like(span), span)
        n = len(self.lut)
        t = xp.where(flat | nodata, xp.zeros_like(t), t) * float(n)
        index = xp.astype(xp.clip(xp.floor(t), 0.0, float(n - 1)), xp.int32)
        table = xp.asarray(np.asarray(self.lut, dtype=np.uint8))
        rgba = xp.take(table, xp.reshape(index, (-1,)), axis=0)  # (pixels, 4)
        rgba = xp.reshape(rgba, (*index.shape, 4))
        rgba = xp.where(nodata[..., None], xp.zeros_like(rgba), rgba)
        rgba = xp.moveaxis(rgba, -1, -3)  # (..., 4, y, x)
        return rewrap(x, rgba, fill_value=0, band_names=("R", "G", "B", "A"))

    @staticmethod
    def _bound(xp: Any, v: Any, finite: Any, fixed: float | None, reduce: Any, empty: float) -> Any:
        """``fixed`` as an array of ``v``'s dtype, else ``reduce`` over each image's finite values.

        Shape ``(..., 1, 1)``; 0 where no value is finite (then ``vmin == vmax``: the first
        colour, as matplotlib's ``Normalize``).
        """
        if fixed is not None:
            return xp.asarray(fixed, dtype=v.dtype)
        bound = reduce(xp.where(finite, v, xp.full_like(v, empty)), axis=(-2, -1), keepdims=True)
        return xp.where(xp.isfinite(bound), bound, xp.zeros_like(bound))
