"""Host-side views of a raster: JSON-ready summary statistics, 8-bit pictures, PNG encoding.

One set of band checks, stretch and alpha rule serves ``to_png_bytes`` (min/max stretch)
and ``to_rgb_array`` (per-band percentile stretch).

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

from ._errors import BandCountError, GeoValueError, GridShapeError

__all__ = ["encode_png", "invalid_mask", "pixel_invalid", "png_image", "rgb_image", "summary"]

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


def pixel_invalid(bands: np.ndarray, fill_value: float | int | None) -> np.ndarray:
    """``(H, W)`` mask of a ``(band, H, W)`` image: True where a pixel is nodata.

    The carrier rule (``pipekit_array.nodata_mask``, GDAL's dataset mask): a pixel is
    nodata when **every** band equals ``fill_value``, or when any band is NaN/inf. A single
    band at the fill value beside valid ones is data: black ``(0, 0, 0, 255)`` of a grey
    colormap with fill 0 stays opaque.
    """
    invalid = np.zeros(bands.shape[1:], dtype=bool)
    if np.issubdtype(bands.dtype, np.inexact):
        invalid |= ~np.isfinite(bands).all(axis=0)
    if fill_value is not None and not (isinstance(fill_value, float) and math.isnan(fill_value)):
        invalid |= (bands == fill_value).all(axis=0)
    return invalid


def _image_bands(values: np.ndarray, who: str) -> np.ndarray:
    """``values`` as ``(band, H, W)`` with 1, 3 or 4 bands, or a teaching error naming ``who``."""
    if values.ndim not in (2, 3):
        raise GridShapeError(
            f"{who} needs values of shape (H, W) or (band, H, W); received {values.shape}. "
            "Select one image first, e.g. gt[0] for a stacked GeoTensor."
        )
    bands = _as_bands(values)
    count, height, width = bands.shape
    if count not in (1, 3, 4):
        raise BandCountError(
            f"{who} writes 1 band (grayscale), 3 bands (RGB) or 4 bands (RGBA); received "
            f"{count} bands. Select bands first, e.g. gt[[2, 1, 0]] for a true-colour view of "
            "geocatalog.testing.synthetic_scene (B04, B03, B02)."
        )
    if height == 0 or width == 0:
        raise GridShapeError(f"{who} needs a non-empty image; received shape {values.shape}")
    return bands


def _stretch(data: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``round(clip((data - lo) / (hi - lo), 0, 1) * 255)`` as uint8; NaN and ``hi == lo`` -> 0.

    ``lo`` and ``hi`` broadcast against ``data`` (one pair for the image, or one per band).
    """
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span != 0, (data - lo) / np.where(span != 0, span, 1.0), 0.0)
    scaled = np.clip(np.nan_to_num(scaled, nan=0.0), 0.0, 1.0)
    return np.round(scaled * 255.0).astype(np.uint8)


def _with_alpha(image: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """``(H, W, channels)``: nodata pixels zeroed, with alpha 0 there.

    A 4-band image keeps its alpha band (0 at nodata); otherwise an alpha band is added
    when some pixel is nodata.
    """
    image[:, invalid] = 0
    if image.shape[0] != 4 and invalid.any():
        image = np.concatenate([image, np.where(invalid, 0, 255).astype(np.uint8)[None]])
    return np.moveaxis(image, 0, -1)


def png_image(
    values: np.ndarray,
    fill_value: float | int | None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Return the ``(H, W, channels)`` uint8 image that :func:`encode_png` writes.

    ``uint8`` input is kept as is; anything else is stretched linearly,
    ``round(clip((x - vmin) / (vmax - vmin), 0, 1) * 255)``, with ``vmin``/``vmax``
    defaulting to the finite min/max over the valid pixels of all bands (``vmax == vmin``
    maps to 0). Nodata pixels (:func:`pixel_invalid`) get alpha 0; an alpha channel is
    added when some pixel is nodata and the input has none.
    """
    bands = _image_bands(values, "to_png_bytes")
    invalid = pixel_invalid(bands, fill_value)
    if bands.dtype == np.uint8:
        image = np.array(bands)
    else:
        data = bands.astype(np.float64)
        valid = data[:, ~invalid]
        valid = valid[np.isfinite(valid)]
        lo = float(vmin) if vmin is not None else (float(valid.min()) if valid.size else 0.0)
        hi = float(vmax) if vmax is not None else (float(valid.max()) if valid.size else 1.0)
        image = _stretch(data, np.float64(lo), np.float64(hi))
    return _with_alpha(image, invalid)


def rgb_image(
    values: np.ndarray, fill_value: float | int | None, p_min: float, p_max: float
) -> np.ndarray:
    """Return the ``(H, W, 3)`` or ``(H, W, 4)`` uint8 picture of ``GeoTensor.to_rgb_array``.

    One band is grey (repeated into R, G, B), three bands are RGB, four uint8 bands are
    RGBA as they are. Bands that are not uint8 are stretched each to its own percentiles
    of its valid pixels (``np.nanpercentile``, linear): ``round(clip((x - P[p_min]) /
    (P[p_max] - P[p_min]), 0, 1) * 255)``. Nodata pixels (:func:`pixel_invalid`) are 0
    with alpha 0 (an alpha channel is added when some pixel is nodata).
    """
    if not 0.0 <= p_min < p_max <= 100.0:
        raise GeoValueError(
            f"to_rgb_array: need 0 <= p_min < p_max <= 100 (percentiles of the stretch), got "
            f"p_min={p_min!r}, p_max={p_max!r}"
        )
    bands = _image_bands(values, "to_rgb_array")
    if bands.shape[0] == 4 and bands.dtype != np.uint8:
        raise BandCountError(
            f"to_rgb_array reads 4 bands as RGBA and needs them uint8 (e.g. the output of "
            f"geotoolz.viz.ApplyColormap); received 4 bands of {bands.dtype}. Select 3 bands "
            "for an RGB view, e.g. gt[[2, 1, 0]]."
        )
    invalid = pixel_invalid(bands, fill_value)
    if bands.dtype == np.uint8:
        image = np.array(bands)
    else:
        data = bands.astype(np.float64)
        lo, hi = np.full((2, bands.shape[0], 1, 1), np.nan)
        if not invalid.all():  # percentiles of each band over the valid pixels
            valid = data[:, ~invalid]
            lo[:, 0, 0], hi[:, 0, 0] = np.percentile(valid, (p_min, p_max), axis=1)
        image = _stretch(data, lo, hi)
    if image.shape[0] == 1:
        image = np.repeat(image, 3, axis=0)
    return _with_alpha(image, invalid)


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
