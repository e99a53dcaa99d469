"""A histogram as a small greyscale PNG, written atomically; no plotting library needed.

pipekit depends on neither matplotlib nor geocatalog (whose raster PNG writer this mirrors),
so the encoder is the ~20 lines the PNG spec needs (ISO/IEC 15948: signature, IHDR, one
zlib IDAT with filter byte 0 per row, IEND, CRC-32 per chunk) plus a tEXt chunk that
carries the bin edges and counts, so the picture's numbers travel with it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = [
    "BAR_WIDTH",
    "GAP",
    "MARGIN",
    "PLOT_HEIGHT",
    "bar_heights",
    "histogram_png",
]

#: Layout of the chart, in pixels: each bin is a BAR_WIDTH-wide bar followed by GAP white
#: columns; the tallest bar is PLOT_HEIGHT high; MARGIN white pixels surround the plot; a
#: one-pixel baseline sits under the bars.
BAR_WIDTH, GAP, MARGIN, PLOT_HEIGHT = 10, 2, 4, 100
_BAR, _BASELINE, _PAPER = 64, 0, 255


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def bar_heights(counts: np.ndarray) -> np.ndarray:
    """Bar height in pixels per bin: ``round(count / max(counts) * PLOT_HEIGHT)``, >= 1 if > 0."""
    counts = np.asarray(counts, dtype=np.float64)
    top = counts.max() if counts.size else 0.0
    if top <= 0:
        return np.zeros(counts.shape, dtype=np.int64)
    heights = np.round(counts / top * PLOT_HEIGHT).astype(np.int64)
    return np.where(counts > 0, np.maximum(heights, 1), 0)


def histogram_png(counts: np.ndarray, edges: np.ndarray, title: str) -> bytes:
    """PNG bytes of a bar chart of ``counts`` (one bar per bin, left to right)."""
    n = len(counts)
    width = 2 * MARGIN + n * (BAR_WIDTH + GAP)
    height = 2 * MARGIN + PLOT_HEIGHT + 1
    image = np.full((height, width), _PAPER, dtype=np.uint8)
    base = MARGIN + PLOT_HEIGHT  # the baseline row
    image[base, MARGIN : width - MARGIN] = _BASELINE
    for i, h in enumerate(bar_heights(counts)):
        left = MARGIN + i * (BAR_WIDTH + GAP)
        image[base - h : base, left : left + BAR_WIDTH] = _BAR
    raw = np.concatenate([np.zeros((height, 1), np.uint8), image], axis=1).tobytes()
    text = f"{title}; bin edges {[float(e) for e in edges]}; counts {[int(c) for c in counts]}"
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
            _chunk(b"tEXt", b"Description\x00" + text.encode("latin-1", "replace")),
            _chunk(b"IDAT", zlib.compress(raw, 6)),
            _chunk(b"IEND", b""),
        ]
    )
