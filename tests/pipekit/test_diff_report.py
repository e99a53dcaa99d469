"""ABReport's distribution: quantiles, histogram counts, clusters, and the PNG histogram.

"Mean RMSE alone hides bimodal regressions" (seed Case 13): a per-tile set where 30 of 100
tiles regressed must show two groups in the summary, the text and the picture. Oracles:
``np.percentile`` / ``np.histogram`` and a PNG decoder written here from the spec.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from pipekit.diff import ABReport, count_clusters


def bimodal_tiles() -> np.ndarray:
    """70 unchanged tiles (RMSE ~0.01) and 30 regressed ones (RMSE ~2): mean ~0.6."""
    rng = np.random.default_rng(3)
    return np.concatenate([rng.uniform(0.0, 0.02, 70), rng.uniform(1.9, 2.1, 30)])


def test_bimodal_per_tile_set_is_visible_in_the_summary():
    v = bimodal_tiles()
    s = ABReport(tuple(range(100)), v, "RMSE").summary()
    assert 0.5 < s["mean"] < 0.7  # a mean no tile has
    for key, q in (("min", 0), ("p25", 25), ("median", 50), ("p75", 75), ("max", 100)):
        assert s[key] == np.percentile(v, q)
    counts, edges = np.histogram(v, bins=10)
    assert s["histogram_counts"] == counts.tolist()
    np.testing.assert_allclose(s["histogram_edges"], edges)
    # Two groups of bins with empty bins between: 70 tiles low, 30 high.
    assert s["histogram_counts"][0] == 70 and sum(s["histogram_counts"][-2:]) == 30
    assert s["histogram_counts"][1:8] == [0] * 7
    assert s["n_clusters"] == 2 and s["multimodal"] is True
    unimodal = np.random.default_rng(4).normal(1.0, 0.1, 100)
    assert ABReport(tuple(range(100)), unimodal).summary()["n_clusters"] == 1


def test_text_report_shows_quantiles_and_histogram():
    report = ABReport(("a", "b", "c", "d"), np.array([0.0, 0.0, 0.0, 4.0]), "RMSE")
    text = str(report).splitlines()
    assert text[1] == "  min 0  p25 0  median 0  p75 1  p95 3.4  max 4  mean 1"
    assert text[2] == "  histogram (10 bins, 0 to 4): 3 0 0 0 0 0 0 0 0 1  clusters: 2"


def test_count_clusters_by_hand():
    assert count_clusters([]) == 0
    assert count_clusters([0, 0]) == 0
    assert count_clusters([0, 3, 1, 0, 2, 0, 0, 5]) == 3
    assert count_clusters([4]) == 1


def decode_grey_png(data: bytes) -> tuple[np.ndarray, dict[bytes, bytes]]:
    """Decode an 8-bit greyscale, non-interlaced PNG with filter 0 rows (ISO/IEC 15948)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, {}, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        if tag == b"IDAT":
            idat += body
        chunks[tag] = body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 0)
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()  # filter type 0 on every row
    return rows[:, 1:], chunks


def test_save_histogram_draws_one_bar_per_bin_to_scale(tmp_path):
    v = bimodal_tiles()
    path = tmp_path / "rmse_hist.png"
    out = ABReport(tuple(range(100)), v, "RMSE").save_histogram(path, bins=20)
    assert out == path and sorted(p.name for p in tmp_path.iterdir()) == ["rmse_hist.png"]
    image, chunks = decode_grey_png(path.read_bytes())
    counts, _ = np.histogram(v, bins=20)
    # Layout: 4 px margin, bars 10 px wide with 2 px gaps, 100 px for the tallest bar.
    assert image.shape == (4 + 100 + 1 + 4, 4 + 20 * 12 + 4)
    baseline = 4 + 100
    assert (image[baseline, 4:-4] == 0).all()
    heights = [int((image[:baseline, 4 + 12 * i + 5] < 255).sum()) for i in range(20)]
    want = [0 if c == 0 else max(1, round(c / counts.max() * 100)) for c in counts]
    assert heights == want
    assert heights[0] == 100 and heights[5:15] == [0] * 10  # the gap between the modes
    assert f"counts {counts.tolist()}".encode() in chunks[b"tEXt"]
    with pytest.raises(ValueError, match=r"bins must be an int >= 1, got 0"):
        ABReport((0,), np.array([1.0])).save_histogram(tmp_path / "x.png", bins=0)
