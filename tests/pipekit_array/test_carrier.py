"""The one carrier contract: a bare array, a GeoTensor and a DataArray, against oracles.

The nodata rule (a pixel is nodata when every band equals the fill value; NaN elements are
missing) is checked against GDAL's dataset mask as rasterio reads it from a GeoTIFF.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rasterio
import xarray as xr

import geocatalog as gc
import pipekit_array as pa
from geocatalog.testing import synthetic_scene


def scene_with_edge() -> gc.GeoTensor:
    gt = synthetic_scene(24, 20, seed=4)
    values = np.array(gt.values)
    values[:, :, 0] = 0  # a nodata edge: every band 0
    values[12, 5:9, 3] = 0  # QA60 clear (0) beside valid reflectances: data
    values[2, 7, 7] = 0  # one band 0 beside valid bands: data
    return gt.replace(values=values)


def test_nodata_mask_equals_gdal_dataset_mask(tmp_path):
    gt = scene_with_edge()
    path = tmp_path / "scene.tif"
    profile = {
        "driver": "GTiff",
        "height": gt.height,
        "width": gt.width,
        "count": 13,
        "dtype": "uint16",
        "crs": gt.crs,
        "transform": gt.transform,
        "nodata": 0,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.asarray(gt.values))
    with rasterio.open(path) as src:
        gdal_nodata = src.dataset_mask() == 0
    assert gdal_nodata[:, 0].all() and gdal_nodata.sum() == gt.height  # the edge only
    for x in (gt, jax.tree.map(jnp.asarray, gt)):
        np.testing.assert_array_equal(np.asarray(pa.fill_pixels(x)), gdal_nodata)
        mask = np.asarray(pa.nodata_mask(x))
        np.testing.assert_array_equal(mask, np.broadcast_to(gdal_nodata, mask.shape))
        one_band = np.asarray(pa.nodata_mask(x, pa.values_of(x)[2]))
        np.testing.assert_array_equal(one_band, gdal_nodata)


def test_float_values_nan_at_nodata_and_nan_elements():
    gt = scene_with_edge()
    f = np.asarray(gt.values).astype(np.float32)
    f[4, 3, 3] = np.nan
    gt = gt.replace(values=f)
    want = np.where(np.asarray(gt.values == 0).all(axis=0), np.nan, f)
    np.testing.assert_array_equal(pa.float_values(gt), want)
    assert np.isnan(pa.float_values(gt)[4, 3, 3])
    # A fill that uint16 cannot hold marks nothing; a bare array has only NaN.
    odd = synthetic_scene(4, 4).replace(fill_value=-9999)
    assert not pa.nodata_mask(odd).any()
    assert pa.nodata_mask(np.array([1.0, np.nan])).tolist() == [False, True]


def test_stacked_carrier_masks_each_sample():
    a, b = scene_with_edge(), synthetic_scene(24, 20, seed=5)
    stacked = gc.stack([a, b])
    pixels = np.asarray(pa.fill_pixels(stacked))
    assert pixels.shape == (2, 24, 20)
    np.testing.assert_array_equal(pixels[0], np.asarray(pa.fill_pixels(a)))
    assert not pixels[1].any()


def test_dataarray_satisfies_the_contract():
    values = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    values[:, 0, 0] = -1.0
    da = xr.DataArray(values, dims=("band", "y", "x"),
                      coords={"band": ["red", "nir"], "y": [2.5, 1.5, 0.5], "x": [0, 1, 2, 3]},
                      attrs={"_FillValue": -1.0, "units": "1"})  # fmt: skip
    assert pa.is_carrier(da) and pa.fill_value_of(da) == -1.0
    assert pa.values_of(da) is da.data
    np.testing.assert_array_equal(pa.fill_pixels(da), values[0] == -1)
    same = pa.rewrap(da, values * 2)
    assert same.dims == da.dims and same.attrs == da.attrs and list(same.band) == ["red", "nir"]
    reduced = pa.rewrap(da, values[0] + values[1], fill_value=float("nan"))
    assert reduced.dims == ("y", "x") and np.isnan(reduced.attrs["_FillValue"])
    np.testing.assert_array_equal(reduced.y, da.y)
    # rioxarray's spelling of the fill value
    other = da.copy()
    other.attrs = {"nodata": -1.0}
    assert pa.fill_value_of(other) == -1.0


def test_rewrap_of_a_bare_array_and_a_geotensor():
    gt = synthetic_scene(8, 8)
    out = pa.rewrap(gt, np.zeros((8, 8), np.float32), fill_value=float("nan"))
    assert out.transform == gt.transform and np.isnan(out.fill_value)
    assert pa.rewrap(np.ones(3), np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="only fill_value"):
        pa.rewrap(gt, gt.values, crs="EPSG:4326")


def test_fill_nodata_keeps_integers_and_refuses_an_unrepresentable_fill():
    gt = scene_with_edge()
    out = pa.fill_nodata(gt, np.asarray(gt.values) + 1, 7)
    assert (out[:, :, 0] == 7).all() and out[12, 5, 3] == 1
    with pytest.raises(ValueError, match="does not fit the output dtype"):
        pa.fill_nodata(gt, np.asarray(gt.values), -1)
