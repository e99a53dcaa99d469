"""One spelling per concept: rasterio's ``cubic_spline`` and ``indexes=`` (1-based bands)."""

import numpy as np
import pytest
import rasterio
from affine import Affine

import geocatalog as gc
from geocatalog._types import OVERVIEW_RESAMPLINGS


def test_cubic_spline_overviews_equal_gdal_cubicspline(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(1, 600, 600)).astype(np.float32)
    transform = Affine(10, 0, 399960, 0, -10, 4500000)
    gt = gc.GeoTensor(values, transform, "EPSG:32630")
    gc.save_cog(gt, tmp_path / "ours.tif", overview_resampling="cubic_spline", blocksize=256)
    # oracle: GDAL's COG driver asked directly for its CUBICSPLINE overviews
    profile = dict(driver="COG", count=1, height=600, width=600, dtype="float32",
                   crs="EPSG:32630", transform=transform, blocksize=256,
                   overview_resampling="CUBICSPLINE", compress="DEFLATE")  # fmt: skip
    with rasterio.open(tmp_path / "gdal.tif", "w", **profile) as dst:
        dst.write(values)
    with rasterio.open(tmp_path / "ours.tif") as a, rasterio.open(tmp_path / "gdal.tif") as b:
        assert a.overviews(1) == b.overviews(1) == [2, 4]
        np.testing.assert_array_equal(
            a.read(1, out_shape=(300, 300)), b.read(1, out_shape=(300, 300))
        )
        # and it is not nearest (which would pick every other pixel)
        assert not np.array_equal(a.read(1, out_shape=(300, 300)), values[0, ::2, ::2])


@pytest.mark.parametrize("spelling", ["cubicspline", "CUBICSPLINE"])
def test_gdal_spelling_is_an_error_naming_cubic_spline(tmp_path, spelling):
    gt = gc.testing.synthetic_scene(16, 16)
    with pytest.raises(gc.GeoValueError, match=r"save_cog: overview_resampling=.* 'cubic_spline'"):
        gc.save_cog(gt, tmp_path / "a.tif", overview_resampling=spelling)
    assert not list(tmp_path.iterdir())


def test_vocabularies_use_rasterio_names():
    members = set(rasterio.enums.Resampling.__members__)
    assert set(gc.RESAMPLINGS) <= members
    assert set(OVERVIEW_RESAMPLINGS) <= members
