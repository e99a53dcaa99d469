"""What a GeoTensor encodes itself to: summary statistics, COG bytes, PNG bytes, an RGB array."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from . import _render

__all__ = ["GeoTensorEncoders"]


class GeoTensorEncoders:
    """Host-side encoders of :class:`~geocatalog.GeoTensor` (a mixin: methods, no fields).

    They read ``values``, ``fill_value``, ``crs_string``, ``bounds`` and ``res`` of the
    GeoTensor they are called on and run eagerly (a file or a PNG has no traced form).
    """

    values: Any
    fill_value: Any
    crs_string: str
    bounds: tuple[float, float, float, float]
    res: tuple[float, float]

    def summary_stats(self) -> dict[str, Any]:
        """Per-band min/max/mean/std over valid pixels, valid fraction and the grid, JSON-ready.

        Example:
            >>> from geocatalog.testing import synthetic_scene
            >>> stats = synthetic_scene(32, 32).summary_stats()
            >>> stats["shape"], stats["crs"], len(stats["bands"])
            ([13, 32, 32], 'EPSG:32630', 13)
        """
        return _render.summary(
            np.asarray(self.values),
            self.fill_value,
            crs=self.crs_string,
            bounds=self.bounds,
            res=self.res,
        )

    def to_cog_bytes(self, **save_kwargs: Any) -> bytes:
        """Encode as Cloud-Optimized GeoTIFF bytes (options as :func:`geocatalog.save_cog`)."""
        from ._load import to_cog_bytes  # lazy: _load imports this module

        return to_cog_bytes(self, **save_kwargs)

    def to_cog_bytes_b64(self, **save_kwargs: Any) -> str:
        """:meth:`to_cog_bytes` as a base64 ASCII string, for JSON responses (Case 4)."""
        return base64.b64encode(self.to_cog_bytes(**save_kwargs)).decode("ascii")

    def to_png_bytes(self, vmin: float | None = None, vmax: float | None = None) -> bytes:
        """Encode as an 8-bit PNG: 1 band grey, 3 RGB, 4 RGBA; nodata pixels transparent.

        ``uint8`` values are written as they are; other dtypes are stretched linearly,
        ``round(clip((x - vmin) / (vmax - vmin), 0, 1) * 255)``, with ``vmin``/``vmax``
        defaulting to the finite min/max of the valid pixels. A pixel is nodata when every
        band equals ``fill_value`` or any band is NaN/inf (the carrier's nodata rule).
        """
        image = _render.png_image(np.asarray(self.values), self.fill_value, vmin, vmax)
        return _render.encode_png(image)

    def to_rgb_array(self, p_min: float = 2.0, p_max: float = 98.0) -> np.ndarray:
        """A ``(H, W, 3)`` or ``(H, W, 4)`` uint8 picture for ``plt.imshow`` / ``st.image``.

        1 band is grey (repeated into R, G, B), 3 bands are RGB, 4 uint8 bands are RGBA as
        they are (e.g. ``geotoolz.viz.ApplyColormap``'s output). Bands that are not uint8
        are stretched each to its own percentiles of its valid pixels,
        ``round(clip((x - P[p_min]) / (P[p_max] - P[p_min]), 0, 1) * 255)`` with ``P`` as
        ``np.nanpercentile`` (a constant band maps to 0); uint8 bands are kept. Nodata
        pixels (every band equal to ``fill_value``, or any band NaN/inf) are 0 with alpha
        0, so an image with nodata has 4 channels. NumPy only: no matplotlib needed.

        Why percentiles: a min/max stretch (``to_png_bytes``) lets one glint or cloud pixel
        darken the whole scene; 2-98 % is the usual quick-look stretch (QGIS's
        "cumulative count cut").

        Example:
            >>> from geocatalog.testing import synthetic_scene
            >>> rgb = synthetic_scene(32, 32)[[2, 1, 0]].to_rgb_array()
            >>> rgb.shape, rgb.dtype.name
            ((32, 32, 3), 'uint8')
        """
        return _render.rgb_image(np.asarray(self.values), self.fill_value, p_min, p_max)
