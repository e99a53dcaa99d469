"""Fields: RasterField reads only the windows asked for; XarrayField keeps dims, coords, attrs."""

import numpy as np
import pytest
import rasterio.io
import xarray as xr
from affine import Affine

import geocatalog as gc
import geopatcher as gp

TRANSFORM = Affine(10.0, 0.0, 399_960.0, 0.0, -10.0, 4_500_000.0)


@pytest.fixture(scope="module")
def big_cog(tmp_path_factory):
    """An 8192 x 8192 single-band COG (64 MiB of uint8 when read whole)."""
    rows = np.arange(8192, dtype=np.uint16)[:, None]
    values = ((rows + np.arange(8192, dtype=np.uint16)) % 251).astype(np.uint8)[None]
    gt = gc.GeoTensor(values, TRANSFORM, "EPSG:32630", fill_value=255)
    path = str(tmp_path_factory.mktemp("big") / "big.tif")
    return gc.save_cog(gt, path, overviews=False), values


def test_raster_field_over_a_big_cog_reads_only_the_chips(big_cog, monkeypatch):
    path, values = big_cog
    reads = []
    original = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        reads.append(kwargs.get("window"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    field = gp.RasterField(path)
    assert reads == []  # opening reads the metadata only
    assert field.domain.shape == (8192, 8192) and field.band_shape == (1,)
    offsets = ((0, 0), (4000, 7000), (8192 - 256, 8192 - 256))
    patcher = gp.SpatialPatcher(
        gp.SpatialRectangular(256), gp.SpatialExplicit(offsets), aggregation=gp.SpatialByIndex()
    )
    results = patcher.apply(field, lambda chip: chip)
    assert [(w.row_off, w.col_off, w.height, w.width) for w in reads] == [
        (r, c, 256, 256) for r, c in offsets
    ]
    for (r, c), res in zip(offsets, results, strict=True):
        np.testing.assert_array_equal(res.value.values, values[:, r : r + 256, c : c + 256])
    # A chip over the border reads just the part inside the file.
    reads.clear()
    chip = field.read(8000, 8100, 256, 256)
    assert [(w.row_off, w.col_off, w.height, w.width) for w in reads] == [(8000, 8100, 192, 92)]
    assert (chip.values[:, 192:, :] == 255).all() and (chip.values[:, :, 92:] == 255).all()


def _dataarray(dtype=np.float32) -> xr.DataArray:
    rng = np.random.default_rng(5)
    y = 4_500_000.0 - 10.0 * (np.arange(90) + 0.5)
    x = 399_960.0 + 10.0 * (np.arange(70) + 0.5)
    return xr.DataArray(
        rng.random((3, 90, 70)).astype(dtype),
        dims=("band", "y", "x"),
        coords={"band": ["B02", "B03", "B04"], "y": y, "x": x, "time": np.datetime64("2024-05-01")},
        attrs={"crs": "EPSG:32630", "units": "reflectance", "long_name": "S2 L2A"},
        name="s2",
    )


@pytest.mark.parametrize("chunked", [False, True])
def test_xarray_field_round_trip_keeps_dims_coords_and_attrs(chunked):
    da = _dataarray()
    if chunked:
        da = da.chunk({"y": 30, "x": 35})
    field = gp.XarrayField(da)
    assert field.domain.transform == TRANSFORM and field.domain.crs == "EPSG:32630"
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(32), gp.SpatialRegularStride(24),
                                gp.SpatialHann())  # fmt: skip
    out = patcher.apply(field, lambda chip: chip)
    xr.testing.assert_allclose(out, da.compute(), rtol=0, atol=1e-6)
    assert out.dims == da.dims and out.attrs == da.attrs and out.name == "s2"
    assert list(out.coords) == list(da.coords) and (out["band"] == da["band"]).all()
    # a chip is the DataArray window, with its own coordinates
    chip = field.read(10, 20, 32, 32)
    xr.testing.assert_identical(chip, da.isel(y=slice(10, 42), x=slice(20, 52)).compute())


def test_xarray_field_other_dim_order_and_reduced_bands():
    da = _dataarray().transpose("y", "x", "band")
    field = gp.XarrayField(da)
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(40, "pad"), gp.SpatialRegularStride(32))
    out = patcher.apply(field, lambda chip: chip)
    assert out.dims == ("y", "x", "band")
    xr.testing.assert_allclose(out, da, rtol=0, atol=1e-6)
    mean = patcher.apply(field, lambda chip: chip.mean("band"))
    np.testing.assert_allclose(mean.values, da.mean("band").values, atol=1e-6)
    assert mean.dims == ("y", "x") and (mean["x"] == da["x"]).all()
    padded = field.read(80, 60, 16, 16)  # runs 6 rows and 6 columns past the border
    assert padded.dims == ("band", "y", "x")  # chips are laid out spatial-last
    assert np.isnan(padded.values[:, -6:]).all() and np.isnan(padded.values[..., -6:]).all()
    np.testing.assert_array_equal(
        padded.values[:, :10, :10], da.values[80:, 60:].transpose(2, 0, 1)
    )
    np.testing.assert_allclose(np.diff(padded["y"].values), -10.0)  # extrapolated centres
    assert padded["y"].values[0] == da["y"].values[80]


def test_raster_field_chips_keep_band_names_inside_and_across_the_border():
    gt = gc.testing.synthetic_scene(16, 16)
    field = gp.RasterField(gt)
    inside, padded = field.read(2, 3, 4, 4), field.read(-2, 14, 4, 4)
    assert inside.band_names == gc.testing.S2_BANDS
    assert padded.band_names == gc.testing.S2_BANDS and padded.shape == (13, 4, 4)
