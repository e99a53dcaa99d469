"""What a GeoTensor encodes itself to: summary statistics, COG bytes, PNG bytes."""

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
        """Encode as an 8-bit PNG: 1 band grey, 3 RGB, 4 RGBA; NaN/fill pixels transparent.

        ``uint8`` values are written as they are; other dtypes are stretched linearly,
        ``round(clip((x - vmin) / (vmax - vmin), 0, 1) * 255)``, with ``vmin``/``vmax``
        defaulting to the finite, non-fill min/max of the image.
        """
        image = _render.png_image(np.asarray(self.values), self.fill_value, vmin, vmax)
        return _render.encode_png(image)
