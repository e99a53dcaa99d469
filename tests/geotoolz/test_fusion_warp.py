"""AlignAndStack across CRSs: a DEM in EPSG:4326 onto a UTM grid, against GDAL's warper.

Oracles: ``rasterio.warp.reproject`` with an exact transformer (``tolerance=0``) for the
values, pyproj for the footprint, and the dot-product test for the gradient (the stack is
linear in the source values, so ``<L v, w> == <v, L^T w>`` with ``L^T w`` from ``jax.grad``).
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pyproj
import pytest
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import geocatalog as gc
import geotoolz as gz
import geotoolz.fusion._warp as warp
import pipekit_jax as pj

UTM = "EPSG:32630"
# ~45 x 55 m pixels near (-3.0, 40.6): coarser than the 30 m target, so GDAL's bilinear
# kernel is the plain 2 x 2 one (it widens when it downsamples).
GEO = Affine(0.0005, 0, -3.02, 0, -0.0005, 40.62)


def geographic_dem(height: int = 96, width: int = 96) -> gc.GeoTensor:
    """Smooth relief (two sines and a ramp) in EPSG:4326, one band, float64."""
    lat = 40.62 - 0.0005 * (np.arange(height) + 0.5)
    lon = -3.02 + 0.0005 * (np.arange(width) + 0.5)
    lon, lat = np.meshgrid(lon, lat)
    relief = 600 + 4000 * (lat - 40.6) + 80 * np.sin(lon * 300) * np.cos(lat * 250)
    return gc.GeoTensor(relief[None], GEO, "EPSG:4326")


def as_float32(gt: gc.GeoTensor) -> gc.GeoTensor:
    return gt.replace(values=np.asarray(gt.values, np.float32))


def utm_grid(row_off: int = 0, col_off: int = 0, size: int = 64, res: int = 30) -> gc.GeoTensor:
    """A UTM 30N grid (30 m) inside the DEM's footprint (moved by whole pixels)."""
    transform = Affine(res, 0, 499000 + res * col_off, 0, -res, 4495500 - res * row_off)
    return gc.GeoTensor(np.zeros((1, size, size), np.float32), transform, UTM)


def gdal(src: gc.GeoTensor, dst: gc.GeoTensor, resampling: Resampling) -> np.ndarray:
    out = np.full((src.shape[0], dst.height, dst.width), np.nan)
    with warnings.catch_warnings():  # affine's deprecation of `*`, used inside rasterio
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        rasterio.warp.reproject(
            np.asarray(src.values, np.float64), out,
            src_transform=src.transform, src_crs=src.crs_string,
            dst_transform=dst.transform, dst_crs=dst.crs_string,
            resampling=resampling, src_nodata=np.nan, dst_nodata=np.nan, tolerance=0.0,
        )  # fmt: skip
    return out


def align(resampling: str = "bilinear") -> gz.fusion.AlignAndStack:
    return gz.fusion.AlignAndStack(target_grid="utm", names=("utm", "dem"), resampling=resampling)


def test_the_grids_really_differ():
    dem, target = geographic_dem(), utm_grid()
    assert dem.crs_string != target.crs_string
    # Inside the footprint: every target centre projects within the DEM.
    lon, lat = centres_in_lon_lat()
    assert lon.min() > -3.02 and lon.max() < -3.02 + 0.0005 * 96
    assert lat.min() > 40.62 - 0.0005 * 96 and lat.max() < 40.62


def centres_in_lon_lat(size: int = 64, res: int = 30) -> tuple[np.ndarray, np.ndarray]:
    x = 499000 + res * (np.arange(size) + 0.5)
    y = 4495500 - res * (np.arange(size) + 0.5)
    to_geo = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    return to_geo.transform(*np.meshgrid(x, y))


def plane_in_lon_lat() -> gc.GeoTensor:
    """``1e5 (lon + 3) + 2e5 (lat - 40.6)`` on the DEM's grid: 50 and 100 per pixel step."""
    lat = 40.62 - 0.0005 * (np.arange(96) + 0.5)
    lon = -3.02 + 0.0005 * (np.arange(96) + 0.5)
    lon, lat = np.meshgrid(lon, lat)
    return geographic_dem().replace(values=(1e5 * (lon + 3) + 2e5 * (lat - 40.6))[None])


def test_a_plane_in_lon_lat_is_sampled_exactly_at_the_projected_centres():
    # Bilinear interpolation reproduces a plane, so the result is the plane's value at each
    # target centre projected to lon/lat: index arithmetic and weights, checked exactly.
    plane = plane_in_lon_lat()
    got = align()(utm_grid(), plane).values[1]
    lon_c, lat_c = centres_in_lon_lat()
    np.testing.assert_allclose(got, 1e5 * (lon_c + 3) + 2e5 * (lat_c - 40.6), rtol=0, atol=1e-6)
    # GDAL's warper interpolates the projection along each row between exact end points
    # (its approximate transformer, even with tolerance=0): up to ~0.001 pixel off here,
    # where a pixel step changes the plane by up to 100.
    assert np.abs(gdal(plane, utm_grid(), Resampling.bilinear)[0] - got).max() < 0.002 * 100


@pytest.mark.parametrize("resampling", ["bilinear", "nearest"])
def test_dem_in_4326_onto_utm_matches_gdal(resampling):
    dem, target = geographic_dem(), utm_grid()
    out = align(resampling)(target, dem)
    assert out.crs_string == UTM and out.transform == target.transform and out.shape == (2, 64, 64)
    want = gdal(dem, target, getattr(Resampling, resampling))
    assert not np.isnan(want).any()
    if resampling == "bilinear":
        # GDAL's positions differ from PROJ's exact ones by up to ~0.001 pixel (see above):
        # allow 0.002 pixel times the steepest slope per source pixel.
        slope = max(np.abs(np.diff(dem.values[0], axis=a)).max() for a in (0, 1))
        np.testing.assert_allclose(out.values[1], want[0], rtol=0, atol=0.002 * slope)
    else:  # the same source pixel everywhere (no centre falls on a tie here)
        np.testing.assert_array_equal(out.values[1], want[0])


def test_large_targets_interpolate_positions_within_1e4_pixel(monkeypatch):
    # 256 x 256 target pixels: positions come from exact projections every 16 pixels,
    # checked against exact ones at every cell centre (1e-4 pixel at most: 0.01 here).
    plane, target = plane_in_lon_lat(), utm_grid(size=256, res=10)
    got = align()(target, plane).values[1]
    lon_c, lat_c = centres_in_lon_lat(size=256, res=10)
    want = 1e5 * (lon_c + 3) + 2e5 * (lat_c - 40.6)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * 100)
    monkeypatch.setattr(warp, "_TOLERANCE", 0.0)  # nothing is close enough: all exact
    np.testing.assert_allclose(align()(target, plane).values[1], want, rtol=0, atol=1e-6)


def test_centres_outside_the_dem_are_nan_where_pyproj_says_so():
    dem, target = geographic_dem(), utm_grid(row_off=-40, col_off=-30, size=80)
    got = align()(target, dem).values[1]
    x = 499000 - 900 + 30 * (np.arange(80) + 0.5)
    y = 4495500 + 1200 - 30 * (np.arange(80) + 0.5)
    lon, lat = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(
        *np.meshgrid(x, y)
    )
    col, row = np.floor((lon + 3.02) / 0.0005), np.floor((40.62 - lat) / 0.0005)
    inside = (row >= 0) & (row < 96) & (col >= 0) & (col < 96)
    assert 0 < inside.mean() < 1
    np.testing.assert_array_equal(~np.isnan(got), inside)


def test_jit_equals_eager_and_traces_once_for_every_location():
    dem = as_float32(geographic_dem())
    compiled = pj.jit(align())
    for row_off, col_off in [(0, 0), (7, -5), (-12, 20), (25, 3)]:
        target = utm_grid(row_off, col_off, size=48)
        eager = align()(target, dem).values
        got = compiled(jax.tree.map(jnp.asarray, target), jax.tree.map(jnp.asarray, dem))
        assert isinstance(got.values, jax.Array)
        np.testing.assert_allclose(np.asarray(got.values), eager, rtol=1e-6, equal_nan=True)
        assert got.transform == target.transform
    assert compiled.traces == 1


def test_vmap_over_locations_equals_one_at_a_time():
    dem = jax.tree.map(jnp.asarray, as_float32(geographic_dem()))
    targets = [utm_grid(r, c, size=32) for r, c in [(0, 0), (9, 14), (30, -8)]]
    stacked = jax.tree.map(jnp.asarray, gc.stack(targets))
    got = jax.vmap(lambda t: align()(t, dem).values)(stacked)
    for i, target in enumerate(targets):
        want = align()(target, as_float32(geographic_dem())).values
        np.testing.assert_allclose(np.asarray(got[i]), want, rtol=1e-6, equal_nan=True)


def test_gradient_is_the_adjoint_of_the_sampling():
    dem, target = as_float32(geographic_dem()), utm_grid(size=40)
    target = jax.tree.map(jnp.asarray, target)
    rng = np.random.default_rng(0)
    v = rng.standard_normal(dem.shape).astype(np.float32)
    w = rng.standard_normal((1, 40, 40)).astype(np.float32)

    def sampled(values):
        return align()(target, dem.replace(values=values)).values[1:]

    adjoint = jax.grad(lambda values: jnp.sum(sampled(values) * w))(jnp.asarray(v))
    forward = float(jnp.sum(sampled(jnp.asarray(v)) * w))
    assert float(jnp.sum(jnp.asarray(v) * adjoint)) == pytest.approx(forward, rel=1e-4)
    assert float(jnp.abs(adjoint).max()) > 0


def test_crss_without_a_coordinate_operation_raise():
    local = pyproj.CRS.from_wkt(
        'ENGCRS["local",EDATUM[""],CS[Cartesian,2],AXIS["x",east,LENGTHUNIT["metre",1]],'
        'AXIS["y",north,LENGTHUNIT["metre",1]]]'
    )
    site = gc.GeoTensor(np.zeros((1, 4, 4)), Affine(1, 0, 0, 0, -1, 4), local.to_wkt())
    with pytest.raises(gz.fusion.CRSMismatchError, match=r"AlignAndStack: no coordinate "
                       r"operation from .*ENGCRS.* to 'EPSG:4326'"):  # fmt: skip
        gz.fusion.AlignAndStack(target_grid="site", names=("site", "dem"))(site, geographic_dem())
