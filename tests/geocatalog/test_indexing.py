"""Spatial slicing moves the georeferencing exactly as rasterio's window transform."""

import math
import random

import numpy as np
import pytest
from affine import Affine

from geocatalog import GeoIndexError, GeoTensor, OffsetOverflowError, stack

UTM_SOUTH = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 9990000.0)
DEG = 0.000269494585235856


def _gt(shape=(4, 20, 30), transform=UTM_SOUTH):
    values = np.arange(math.prod(shape), dtype=np.int32).reshape(shape)
    return GeoTensor(values, transform, "EPSG:32630")


@pytest.mark.parametrize(
    "transform",
    [
        UTM_SOUTH,
        Affine(10.0, 0.0, 399965.3, 0.0, -10.0, 9990000.7),  # fractional origin
        Affine(20.0, 0.0, -123456.0, 0.0, 20.0, -987654.0),  # south-up, negative origin
        Affine(0.5, 0.0, 612345.25, 0.0, -0.5, 5432109.75),
    ],
)
def test_slices_match_rasterio_window_transform_exactly(transform, rio_window_transform):
    gt = _gt(transform=transform)
    rng = random.Random(0)
    for _ in range(50):
        r0, c0 = rng.randint(0, 19), rng.randint(0, 29)
        r1, c1 = rng.randint(r0, 20), rng.randint(c0, 30)
        sub = gt[..., r0:r1, c0:c1]
        assert sub.transform == rio_window_transform(transform, r0, c0)
        np.testing.assert_array_equal(sub.values, gt.values[..., r0:r1, c0:c1])
        assert sub.lattice == gt.lattice


def test_slices_on_degree_grid_agree_with_rasterio_to_the_last_bit(rio_window_transform):
    # rasterio rounds twice (origin, then window); we round once from the lattice, so on
    # grids with inexact products the two may differ in the last bit, never more.
    transform = Affine(DEG, 0.0, -3.123456789, 0.0, -DEG, 40.987654321)
    gt = _gt(transform=transform)
    for r0, c0 in [(0, 0), (1, 2), (7, 29), (19, 13)]:
        ours, rio = gt[..., r0:, c0:].transform, rio_window_transform(transform, r0, c0)
        assert ours[:2] == rio[:2] and ours[3:5] == rio[3:5]
        assert abs(ours.c - rio.c) <= math.ulp(rio.c) and abs(ours.f - rio.f) <= math.ulp(rio.f)


def test_slicing_is_path_independent():
    gt = _gt(transform=Affine(DEG, 0.0, -3.123456789, 0.0, -DEG, 40.987654321))
    assert gt[..., 3:, 4:][..., 5:, 6:].transform == gt[..., 8:, 10:].transform


def test_rotated_slices_match_rasterio(rio_window_transform):
    transform = Affine.translation(500000, 4e6) @ Affine.rotation(30) @ Affine.scale(10, -10)
    gt = _gt(transform=transform)
    for r0, c0 in [(1, 2), (5, 0), (19, 29)]:
        ours, rio = gt[..., r0:, c0:].transform, rio_window_transform(transform, r0, c0)
        assert ours.almost_equals(rio, precision=1e-8)


@pytest.mark.parametrize(
    ("rows", "cols"),
    [
        (slice(-5, None), slice(None, -3)),
        (slice(-100, 100), slice(25, 1000)),
        (slice(15, 5), slice(None)),  # empty, as NumPy
        (slice(None), slice(-1, None)),
    ],
)
def test_negative_and_out_of_range_bounds_behave_as_numpy(rows, cols, rio_window_transform):
    gt = _gt()
    sub = gt[:, rows, cols]
    expected = gt.values[:, rows, cols]
    assert sub.shape == expected.shape
    np.testing.assert_array_equal(sub.values, expected)
    r0, c0 = rows.indices(20)[0], cols.indices(30)[0]
    assert sub.transform == rio_window_transform(UTM_SOUTH, r0, c0)


@pytest.mark.parametrize(
    ("key", "shape", "values"),
    [
        (2, (20, 30), lambda v: v[2]),
        ([2, 3], (2, 20, 30), lambda v: v[[2, 3]]),
        (slice(1, 3), (2, 20, 30), lambda v: v[1:3]),
        (np.array([True, False, True, False]), (2, 20, 30), lambda v: v[[0, 2]]),
    ],
)
def test_leading_axis_indexing_keeps_georeferencing(key, shape, values):
    gt = _gt()
    sub = gt[key]
    assert sub.shape == shape and sub.transform == gt.transform
    np.testing.assert_array_equal(sub.values, values(gt.values))


def test_leading_and_spatial_together():
    gt = _gt()
    sub = gt[[3, 0], 2:9, 4:]
    np.testing.assert_array_equal(sub.values, gt.values[[3, 0]][:, 2:9, 4:])
    assert sub.transform == Affine(10.0, 0.0, 400000.0, 0.0, -10.0, 9989980.0)
    rows = gt[1, 2:4]  # without an Ellipsis, indices fill axes from the front
    assert rows.shape == (2, 30) and rows.transform.f == 9989980.0


def test_outer_indexing_on_two_leading_axes():
    values = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    gt = GeoTensor(values, UTM_SOUTH, "EPSG:32630")
    sub = gt[[0, 1], [0, 2]]
    np.testing.assert_array_equal(sub.values, values[[0, 1]][:, [0, 2]])


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ((..., 3, slice(None)), r"spatial axis y \(rows\) accepts only a slice.*received 3"),
        ((..., [1, 2]), r"spatial axis x \(columns\) accepts only a slice"),
        ((..., slice(None, None, 2)), r"needs step 1 \(or None\), received step 2"),
        ((..., slice(None, None, -1), slice(None)), "received step -1"),
        ((None,), "would insert an axis"),
        ((0, 0, slice(None), slice(None)), r"too many indices \(4\)"),
        ((..., ...), "at most one Ellipsis"),
        (("a",), "unsupported index 'a'"),
    ],
)
def test_bad_indices_are_explained(key, match):
    with pytest.raises(GeoIndexError, match=match):
        _gt()[key]


def test_geo_index_error_is_an_index_error():
    with pytest.raises(IndexError):
        _gt()[..., 0]


def test_batched_indexing_moves_each_offset():
    gts = [_gt(transform=UTM_SOUTH @ Affine.translation(7 * i, 3 * i)) for i in range(3)]
    batch = stack(gts)
    assert batch.shape == (3, 4, 20, 30) and batch.offset.shape == (3, 2)
    cut = batch[..., 2:, 5:]
    assert cut.offset.shape == (3, 2)
    for i, gt in enumerate(gts):
        assert cut[i].transform == gt[..., 2:, 5:].transform
    assert batch[1].transform == gts[1].transform
    assert batch[[2, 0]][0].transform == gts[2].transform
    assert batch[1:, 0].shape == (2, 20, 30) and batch[1:, 0][1].transform == gts[2].transform


def test_offset_overflow_is_caught_on_the_host():
    gt = GeoTensor(np.zeros((1, 4)), Affine(1e-3, 0, (2**31 - 2) * 1e-3, 0, -1, 0), "EPSG:4326")
    assert int(gt.offset[1]) == 2**31 - 2
    gt[..., 1:]  # still fits
    with pytest.raises(OffsetOverflowError, match=r"\|offset\| < 2\*\*31"):
        gt[..., 2:]
