"""Lattice identity on fine grids (0.1 m, 0.3 m, 1 arc-second) survives float rounding.

Oracle: ``rasterio.windows.transform`` and exact rational affine arithmetic (``Fraction``).
"""

import random
from fractions import Fraction

import equinox as eqx
import numpy as np
import pytest
from affine import Affine
from rasterio.windows import Window

import geocatalog as gc
from geocatalog import GeoTensor, LatticeMismatchError

ARCSEC = 1 / 3600
GRIDS = {
    "0.1m": (Affine(0.1, 0, 353210.3, 0, -0.1, 4812345.7), "EPSG:32630"),
    "0.3m": (Affine(0.3, 0, 300000.1, 0, -0.3, 4100000.2), "EPSG:32631"),
    "1arcsec": (Affine(ARCSEC, 0, -3.5, 0, -ARCSEC, 40.75), "EPSG:4326"),
    "10m_5300km": (Affine(10, 0, 399960, 0, -10, 5300040), "EPSG:32630"),
}
SIZE = 2048


def _ulps(x: float, y: float) -> float:
    return abs(x - y) / float(np.spacing(max(abs(x), abs(y))))


def _windows(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        r0, c0 = rng.randrange(SIZE - 1), rng.randrange(SIZE - 1)
        yield r0, rng.randrange(r0 + 1, SIZE + 1), c0, rng.randrange(c0 + 1, SIZE + 1)


@pytest.mark.parametrize("name", GRIDS)
def test_every_crop_matches_rasterio_and_shares_one_lattice(name, rio_window_transform):
    transform, crs = GRIDS[name]
    scene = GeoTensor(np.zeros((SIZE, SIZE), np.uint8), transform, crs)
    exact_c, exact_f = Fraction(transform.c), Fraction(transform.f)
    worst = 0.0
    for r0, r1, c0, c1 in _windows(300, seed=hash(name) % 1000):
        crop = scene[..., r0:r1, c0:c1]
        expected = rio_window_transform(transform, r0, c0)
        got = crop.transform
        assert got[:2] == expected[:2] and got[3:5] == expected[3:5]
        worst = max(worst, _ulps(got.c, expected.c), _ulps(got.f, expected.f))
        # our crop is the correctly rounded exact corner up to one rounding step
        assert _ulps(got.c, float(exact_c + Fraction(transform.a) * c0)) <= 1
        assert _ulps(got.f, float(exact_f + Fraction(transform.e) * r0)) <= 1
        # the same window read from a file (rasterio's transform) lands on the scene lattice
        read = GeoTensor(np.zeros((r1 - r0, c1 - c0), np.uint8), expected, crs)
        assert read.lattice == scene.lattice and hash(read.lattice) == hash(scene.lattice)
        assert read.transform == expected  # its own transform stays bit-exact
        assert read.same_grid(crop)
        assert tuple(read.offset) == tuple(scene.offset + np.array([r0, c0]))
    assert worst <= 1.0
    if name == "10m_5300km":
        assert worst == 0.0  # integer-metre grid: float64-exact, bit for bit


def test_16_tiles_of_a_01m_scene_stack_and_equal_numpy_slicing(rio_window_transform):
    transform, crs = GRIDS["0.1m"]
    values = np.arange(3 * 64 * 64, dtype=np.float32).reshape(3, 64, 64)
    tiles, windows = [], []
    for i in range(4):
        for j in range(4):
            win = Window(16 * j, 16 * i, 16, 16)
            tile_transform = rio_window_transform(transform, 16 * i, 16 * j)
            tiles.append(GeoTensor(values[:, 16 * i : 16 * i + 16, 16 * j : 16 * j + 16],
                                   tile_transform, crs))  # fmt: skip
            windows.append((win, tile_transform))
    batch = gc.stack(tiles)
    expected = np.stack([values[:, w.row_off : w.row_off + 16, w.col_off : w.col_off + 16]
                         for w, _ in windows])  # fmt: skip
    np.testing.assert_array_equal(np.asarray(batch.values), expected)
    for gt, (_, tile_transform) in zip(gc.unstack(batch), windows, strict=True):
        got = gt.transform
        assert got[:2] == tile_transform[:2] and got[3:5] == tile_transform[3:5]
        assert _ulps(got.c, tile_transform.c) <= 1 and _ulps(got.f, tile_transform.f) <= 1


def test_crops_of_one_fine_scene_compile_once(rio_window_transform):
    transform, crs = GRIDS["0.1m"]
    traces = []

    @eqx.filter_jit
    def double(gt):
        traces.append(1)
        return gt.replace(gt.values * 2)

    for r0, _, c0, _ in _windows(20, seed=7):
        win_transform = rio_window_transform(transform, r0, c0)
        out = double(GeoTensor(np.ones((16, 16), np.float32), win_transform, crs))
        assert _ulps(out.transform.c, win_transform.c) <= 1
        assert _ulps(out.transform.f, win_transform.f) <= 1
    assert len(traces) == 1


@pytest.mark.parametrize("name", ["0.1m", "0.3m", "1arcsec", "10m_5300km"])
@pytest.mark.parametrize("shift_px", [0.5, 1e-6, -1e-6])
def test_distinct_grids_still_differ(name, shift_px):
    transform, crs = GRIDS[name]
    moved = transform @ Affine.translation(shift_px, shift_px)  # origin moved in pixel units
    a = GeoTensor(np.zeros((4, 4)), transform, crs)
    b = GeoTensor(np.zeros((4, 4)), moved, crs)
    assert a.lattice != b.lattice and not a.same_grid(b)
    with pytest.raises(LatticeMismatchError, match=r"gts\[1\]\.lattice"):
        gc.stack([a, b])


def test_tolerance_is_stated_in_pixels():
    # 2.8e-7 pixel bins: a tenth of that is noise, ten times that is a different grid
    q = 1 / gc.ORIGIN_QUANTA
    base = GeoTensor(np.zeros((2, 2)), GRIDS["0.1m"][0], "EPSG:32630")
    for frac, same in ((0.1 * q, True), (10 * q, False)):
        moved = GRIDS["0.1m"][0] @ Affine.translation(frac, 0)
        assert (GeoTensor(np.zeros((2, 2)), moved, "EPSG:32630").lattice == base.lattice) is same
