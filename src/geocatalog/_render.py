"""Host-side views of a raster: JSON-ready summary statistics and 8-bit PNG encoding.

The PNG writer is ~30 lines of ``zlib`` + ``struct`` (PNG spec, ISO/IEC 15948): rasterio's
PNG driver warns ``NotGeoreferencedWarning`` on every write and read of a plain image,
and a quick look should not need GDAL.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any

import numpy as np

from ._errors import BandCountError, GridShapeError

__all__ = ["encode_png", "invalid_mask", "png_image", "summary"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour type by channel count: grey, grey+alpha, RGB, RGBA.
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def invalid_mask(values: np.ndarray, fill_value: float | None) -> np.ndarray:
    """Boolean mask, same shape as ``values``: True where a pixel is NaN/inf or the fill value."""
    invalid = np.zeros(values.shape, dtype=bool)
    if np.issubdtype(values.dtype, np.inexact):
        invalid |= ~np.isfinite(values)
    if fill_value is not None and not (isinstance(fill_value, float) and math.isnan(fill_value)):
        invalid |= values == fill_value
    return invalid


def _as_bands(values: np.ndarray) -> np.ndarray:
    """View ``(..., H, W)`` as ``(band, H, W)``: a 2-D array is one band; leading axes merge."""
    if values.ndim == 2:
        return values[None]
    return values.reshape((-1, *values.shape[-2:]))


def _json_number(value: float | int | None) -> float | int | str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan" / "inf": JSON has no literal for them
    return value


def summary(
    values: np.ndarray,
    fill_value: float | int | None,
    *,
    crs: str,
    bounds: tuple[float, float, float, float],
    res: tuple[float, float],
) -> dict[str, Any]:
    """Per-band min/max/mean/std over valid pixels, valid fraction and the grid, as JSON types.

    A pixel is valid when it is finite and not ``fill_value``. Statistics of a band with
    no valid pixel are ``None``.
    """
    bands = _as_bands(values)
    invalid = invalid_mask(bands, fill_value)
    per_band = []
    for i in range(bands.shape[0]):
        valid = bands[i][~invalid[i]]
        stats: dict[str, Any] = {"band": i, "valid_fraction": valid.size / max(1, bands[i].size)}
        if valid.size:
            stats["min"] = float(valid.min())
            stats["max"] = float(valid.max())
            as64 = valid.astype(np.float64)
            stats["mean"] = float(as64.mean())
            stats["std"] = float(as64.std())  # population std (ddof=0), as np.std
        else:
            stats.update(min=None, max=None, mean=None, std=None)
        per_band.append(stats)
    return {
        "shape": [int(n) for n in values.shape],
        "dtype": str(values.dtype),
        "crs": crs,
        "bounds": [float(v) for v in bounds],
        "res": [float(v) for v in res],
        "fill_value": _json_number(fill_value),
        "valid_fraction": float((~invalid).sum() / max(1, invalid.size)),
        "bands": per_band,
    }


def png_image(
    values: np.ndarray,
    fill_value: float | int | None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Return the ``(H, W, channels)`` uint8 image that :func:`encode_png` writes.

    ``uint8`` input is kept as is; anything else is stretched linearly,
    ``round(clip((x - vmin) / (vmax - vmin), 0, 1) * 255)``, with ``vmin``/``vmax``
    defaulting to the finite, non-fill min/max over all bands (``vmax == vmin`` maps to 0).
    Invalid pixels (NaN/inf or ``fill_value`` in any band) get alpha 0; an alpha channel
    is added when some pixel is invalid and the input has none.
    """
    if values.ndim not in (2, 3):
        raise GridShapeError(
            f"to_png_bytes needs values of shape (H, W) or (band, H, W); received {values.shape}. "
            "Select one image first, e.g. gt[0] for a stacked GeoTensor."
        )
    bands = _as_bands(values)
    count, height, width = bands.shape
    if count not in (1, 3, 4):
        raise BandCountError(
            f"to_png_bytes writes 1 band (grayscale), 3 bands (RGB) or 4 bands (RGBA); received "
            f"{count} bands. Select bands first, e.g. gt[[2, 1, 0]] for a true-colour view of "
            "geocatalog.testing.synthetic_scene (B04, B03, B02)."
        )
    if height == 0 or width == 0:
        raise GridShapeError(f"to_png_bytes needs a non-empty image; received shape {values.shape}")
    invalid = invalid_mask(bands, fill_value).any(axis=0)
    if bands.dtype == np.uint8:
        image = np.array(bands)
    else:
        data = bands.astype(np.float64)
        valid = data[:, ~invalid]
        valid = valid[np.isfinite(valid)]
        lo = float(vmin) if vmin is not None else (float(valid.min()) if valid.size else 0.0)
        hi = float(vmax) if vmax is not None else (float(valid.max()) if valid.size else 1.0)
        span = hi - lo
        with np.errstate(invalid="ignore"):
            scaled = (data - lo) / span if span != 0 else np.zeros_like(data)
            scaled = np.clip(np.nan_to_num(scaled, nan=0.0), 0.0, 1.0)
        image = np.round(scaled * 255.0).astype(np.uint8)
    image[:, invalid] = 0
    if count == 4:
        image[3, invalid] = 0
    elif invalid.any():
        image = np.concatenate([image, np.where(invalid, 0, 255).astype(np.uint8)[None]])
    return np.moveaxis(image, 0, -1)


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def encode_png(image: np.ndarray) -> bytes:
    """Encode an ``(H, W, channels)`` uint8 image (1-4 channels) as PNG bytes (filter 0)."""
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    rows = np.ascontiguousarray(image, dtype=np.uint8).reshape(height, width * channels)
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rows], axis=1).tobytes()
    return b"".join(
        [
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 6)),
            _chunk(b"IEND", b""),
        ]
    )
