"""GeoTensor construction, georeferencing properties, replace, host views and pickling."""

import json
import math
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pyproj
import pytest
import rasterio.crs
from affine import Affine

from geocatalog import (
    BatchedGeoTensorError,
    FillValueError,
    GeoTensor,
    GridShapeError,
    stack,
)

UTM = Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0)


def _gt(shape=(3, 6, 8), transform=UTM, crs="EPSG:32630", fill_value=None, dtype=np.float32):
    values = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    return GeoTensor(values, transform, crs, fill_value=fill_value)


def test_fields_and_array_facts():
    gt = _gt()
    assert gt.shape == (3, 6, 8) and gt.ndim == 3 and gt.dtype == np.float32
    assert (gt.height, gt.width) == (6, 8)
    assert gt.offset.dtype == np.int32 and gt.offset.shape == (2,)
    assert isinstance(gt.offset, np.ndarray) and isinstance(gt.values, np.ndarray)
    assert gt.transform == UTM
    assert gt.crs_string == "EPSG:32630"
    assert gt.crs == pyproj.CRS.from_epsg(32630)
    assert gt.crs is _gt().crs  # cached per CRS string


def test_accepts_jax_values_and_any_crs_spelling():
    gt = GeoTensor(jnp.ones((4, 5)), tuple(UTM)[:6], rasterio.crs.CRS.from_epsg(32630))
    assert isinstance(gt.values, jax.Array)
    assert gt.transform == UTM and gt.crs_string == "EPSG:32630"
    assert gt.offset.dtype == np.int32 and isinstance(gt.offset, np.ndarray)


def test_values_need_two_spatial_axes():
    with pytest.raises(GridShapeError, match=r"ndim >= 2; received shape \(5,\)"):
        GeoTensor(np.zeros(5), UTM, "EPSG:32630")


@pytest.mark.parametrize("bad", ["0", True, 1 + 2j, jnp.float32(0.0)])
def test_fill_value_must_be_a_static_real_number(bad):
    with pytest.raises(FillValueError, match="fill_value must be None or a real number"):
        GeoTensor(np.zeros((2, 2)), UTM, "EPSG:32630", fill_value=bad)


def test_fill_value_is_kept_as_python_number():
    assert type(_gt(fill_value=np.uint16(0)).fill_value) is int
    assert type(_gt(fill_value=np.float32(-9999)).fill_value) is float
    assert math.isnan(_gt(fill_value=np.nan).fill_value)


def test_res_matches_rasterio_convention():
    assert _gt(transform=Affine(20, 0, 0, 0, -10, 0)).res == (20.0, 10.0)
    rotated = Affine.rotation(30) @ Affine.scale(10, -10)
    assert _gt(transform=rotated).res == pytest.approx((10.0, 10.0), rel=1e-15)


@pytest.mark.parametrize(
    "transform",
    [UTM, Affine(DEG := 0.000269494585235856, 0, -3.1, 0, -DEG, 40.2), Affine(10, 0, 5, 0, 10, 7)],
)
def test_bounds_north_up_match_rasterio(transform, rio_array_bounds):
    gt = _gt(shape=(2, 7, 9), transform=transform)
    left, bottom, right, top = rio_array_bounds(7, 9, transform)
    # rasterio leaves south-up bounds inverted; ours are always (left, bottom, right, top)
    assert gt.bounds == (left, min(bottom, top), right, max(bottom, top))


def test_bounds_rotated_match_rasterio(rio_array_bounds):
    transform = Affine.translation(500000, 4e6) @ Affine.rotation(17) @ Affine.scale(10, -10)
    gt = _gt(shape=(5, 11), transform=transform)
    assert gt.bounds == rio_array_bounds(5, 11, transform)


def test_replace_keeps_the_grid_and_may_change_leading_axes():
    gt = _gt(fill_value=0)
    ndvi = gt.replace(values=gt.values[1] - gt.values[0])
    assert ndvi.shape == (6, 8) and ndvi.transform == gt.transform and ndvi.fill_value == 0
    refilled = gt.replace(fill_value=np.nan)
    assert math.isnan(refilled.fill_value) and refilled.values is gt.values
    assert gt.replace(fill_value=None).fill_value is None


def test_replace_rejects_a_new_grid_size():
    with pytest.raises(
        GridShapeError, match=r"end in \(H, W\) = \(6, 8\); received shape \(3, 6, 7\)"
    ):
        _gt().replace(values=np.zeros((3, 6, 7)))


def test_replace_on_stacked_keeps_batch_axes():
    batch = stack([_gt(), _gt()])
    assert batch.replace(values=batch.values[:, 0]).shape == (2, 6, 8)
    with pytest.raises(GridShapeError, match=r"keeps the batch axes \(2,\)"):
        batch.replace(values=batch.values[0])


def test_numpy_protocol_on_concrete_values():
    gt = _gt(dtype=np.float64)
    gt = gt.replace(values=np.where(gt.values % 5 == 0, np.nan, gt.values))
    assert np.isnan(gt).sum() == np.isnan(gt.values).sum() > 0
    assert np.asarray(gt).dtype == np.float64
    assert np.asarray(gt, dtype=np.float32).dtype == np.float32
    jax_backed = jax.tree.map(jnp.asarray, gt)
    np.testing.assert_array_equal(np.asarray(jax_backed), gt.values)


def test_tree_map_to_jax_keeps_georeferencing():
    gt = _gt(transform=Affine(10, 0, 399960, 0, -10, 9990000))
    jax_gt = jax.tree.map(jnp.asarray, gt)
    assert isinstance(jax_gt.values, jax.Array) and isinstance(jax_gt.offset, jax.Array)
    assert jax_gt.offset.dtype == jnp.int32
    assert jax_gt.transform == gt.transform and jax_gt.same_grid(gt)


@pytest.mark.parametrize("fill_value", [None, 0, -9999.5, float("nan")])
def test_pickle_roundtrip(fill_value):
    gt = _gt(transform=Affine(10, 0, 399965.5, 0, -10, 9990000), fill_value=fill_value)
    back = pickle.loads(pickle.dumps(gt))
    assert back.transform == gt.transform and back.crs_string == gt.crs_string
    assert back.lattice == gt.lattice and back.same_grid(gt)
    np.testing.assert_array_equal(back.values, gt.values)
    assert (back.fill_value == gt.fill_value) or math.isnan(back.fill_value)
    jax_back = pickle.loads(pickle.dumps(jax.tree.map(jnp.asarray, gt)))
    assert jax_back.transform == gt.transform


def test_same_grid():
    gt = _gt()
    assert gt.same_grid(_gt(shape=(1, 6, 8), dtype=np.uint8))
    assert not gt.same_grid(gt[..., 1:, :])
    assert not gt.same_grid(_gt(crs="EPSG:32631"))
    assert not gt.same_grid(_gt(shape=(3, 6, 9)))
    assert not gt.same_grid(np.zeros((3, 6, 8)))


def test_repr_is_concise_and_never_shows_pixels():
    gt = _gt(shape=(2, 300, 300), fill_value=0)
    text = repr(gt)
    assert text == (
        "GeoTensor(shape=(2, 300, 300), dtype=float32, crs='EPSG:32630', "
        "transform=(10.0, 0.0, 399960.0, 0.0, -10.0, 4500000.0), res=(10.0, 10.0), fill_value=0)"
    )
    assert "batch_shape=(2,)" in repr(stack([gt, gt]))


def test_per_scene_georeferencing_refuses_a_batch():
    batch = stack([_gt(), _gt()])
    with pytest.raises(BatchedGeoTensorError, match=r"stacked with batch shape \(2,\).*unstack"):
        _ = batch.transform
    with pytest.raises(BatchedGeoTensorError, match="unstack"):
        _ = batch.bounds


def test_summary_stats_is_json_ready_and_ignores_invalid_pixels():
    values = np.array([[[1.0, 2.0], [np.nan, -9999.0]], [[4.0, 4.0], [4.0, 8.0]]], dtype=np.float32)
    gt = GeoTensor(values, UTM, "EPSG:32630", fill_value=-9999.0)
    stats = json.loads(json.dumps(gt.summary_stats()))
    assert stats["shape"] == [2, 2, 2] and stats["dtype"] == "float32"
    assert stats["crs"] == "EPSG:32630" and stats["res"] == [10.0, 10.0]
    assert stats["bounds"] == [399960.0, 4499980.0, 399980.0, 4500000.0]
    band0, band1 = stats["bands"]
    assert (band0["min"], band0["max"], band0["mean"], band0["valid_fraction"]) == (1, 2, 1.5, 0.5)
    assert (band1["min"], band1["max"], band1["mean"], band1["valid_fraction"]) == (4, 8, 5, 1.0)
    assert band0["std"] == pytest.approx(np.std([1.0, 2.0])) and band0["std"] == 0.5
    assert band1["std"] == pytest.approx(np.std([4.0, 4.0, 4.0, 8.0]))
    assert stats["valid_fraction"] == 6 / 8
    nan_fill = GeoTensor(np.full((2, 2), np.nan), UTM, "EPSG:32630", fill_value=np.nan)
    stats = json.loads(json.dumps(nan_fill.summary_stats(), allow_nan=False))
    assert stats["fill_value"] == "nan" and stats["bands"][0]["mean"] is None


def test_from_lattice_places_values_on_a_known_grid():
    gt = _gt(fill_value=0)
    canvas = GeoTensor.from_lattice(np.zeros((6, 8)), gt.offset, gt.lattice, gt.fill_value)
    assert canvas.same_grid(gt) and canvas.fill_value == 0
    moved = GeoTensor.from_lattice(np.zeros((2, 2)), [3, 4], gt.lattice)
    assert moved.offset.dtype == np.int32
    batch = GeoTensor.from_lattice(
        np.zeros((2, 3, 4)), np.stack([gt.offset, gt.offset]), gt.lattice
    )
    assert batch.batch_shape == (2,)

    @jax.jit
    def place(values, offset):
        return GeoTensor.from_lattice(values, offset + 1, gt.lattice)

    out = place(jnp.ones((2, 2)), jnp.asarray(gt.offset))
    assert out.transform == gt[..., 1:, 1:].transform


def test_from_lattice_errors_are_explained():
    gt = _gt()
    with pytest.raises(GridShapeError, match=r"offset of shape \(\*batch, 2\).*received offset"):
        GeoTensor.from_lattice(np.zeros((2, 2)), [1, 2, 3], gt.lattice)
    with pytest.raises(GridShapeError, match="values of shape"):
        GeoTensor.from_lattice(np.zeros((3, 2, 2)), np.zeros((2, 2), np.int32), gt.lattice)
    with pytest.raises(TypeError, match=r"needs a geocatalog\.Lattice"):
        GeoTensor.from_lattice(np.zeros((2, 2)), [0, 0], gt.transform)
