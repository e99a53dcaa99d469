"""AlignAndStack: rasterio.warp.reproject as the oracle, exact and retrace-free under jit."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_dem, synthetic_fusion_scenes, synthetic_s1_scene

RES = {"bilinear": Resampling.bilinear, "nearest": Resampling.nearest}


def reproject(src, dst, resampling="bilinear"):
    """``rasterio.warp.reproject`` of ``src`` onto ``dst``'s grid, in float64, NaN outside."""
    out = np.full((src.shape[0], dst.height, dst.width), np.nan)
    with warnings.catch_warnings():  # affine's deprecation of `*`, used inside rasterio
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        rasterio.warp.reproject(
            np.asarray(src.values, np.float64),
            out,
            src_transform=src.transform,
            src_crs=src.crs_string,
            dst_transform=dst.transform,
            dst_crs=dst.crs_string,
            resampling=RES[resampling],
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
    return out


def assert_close_per_band(got, want, rtol):
    """``|got - want| <= rtol * max|want|`` per band, NaN where NaN: float32 rounding of
    values near zero in a band of large magnitude (a DEM crossing sea level) is not an error.
    """
    got, want = np.asarray(got), np.asarray(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    scale = np.maximum(np.nanmax(np.abs(want), axis=(-2, -1), keepdims=True), 1e-30)
    assert np.nanmax(np.abs(got - want) / scale) <= rtol


@pytest.fixture(scope="module")
def scenes():
    optical, s1, dem, _ = synthetic_fusion_scenes(96, 112, seed=4)
    return gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(optical), s1, dem


def test_grids_differ(scenes):
    optical, s1, dem = scenes
    assert (optical.res, s1.res, dem.res) == ((10.0, 10.0), (20.0, 20.0), (30.0, 30.0))
    # Origins are not on each other's lattices: every sample interpolates.
    assert (s1.transform.c - optical.transform.c) % 10 != 0
    assert (dem.transform.f - optical.transform.f) % 10 != 0


@pytest.mark.parametrize("resampling", ["bilinear", "nearest"])
def test_equals_rasterio_reproject(scenes, resampling):
    optical, s1, dem = scenes
    out = gz.fusion.AlignAndStack(target_grid="optical", resampling=resampling)(optical, s1, dem)
    assert out.shape == (13 + 2 + 1, 96, 112) and out.dtype == np.float32
    assert out.transform == optical.transform and np.isnan(out.fill_value)
    np.testing.assert_array_equal(out.values[:13], optical.values)  # target bands first
    for got, src in ((out.values[13:15], s1), (out.values[15:], dem)):
        want = reproject(src, optical, resampling)
        inner = (slice(None), slice(2, -2), slice(2, -2))
        # measured: 5e-7 (bilinear, everywhere, the sources cover the target with a margin)
        np.testing.assert_allclose(got[inner], want[inner], rtol=1e-4)
        np.testing.assert_allclose(got, want, rtol=1e-4)


def test_partial_overlap_is_nan_outside_the_source_footprint():
    target = gc.GeoTensor(np.zeros((1, 40, 40), np.float32), Affine(10, 0, 0, 0, -10, 400), 32630)
    # A 30 m source covering x in [95, 395), y in [-5, 295): part of the target.
    values = np.random.default_rng(0).random((1, 10, 10)).astype(np.float32)
    src = gc.GeoTensor(values, Affine(30, 0, 95, 0, -30, 295), 32630)
    out = gz.fusion.AlignAndStack(names=("t", "s"), target_grid="t")(target, src).values[1]
    x = 10 * np.arange(40) + 5.0  # target pixel centres
    y = 400 - 10 * np.arange(40) - 5.0
    # Half-open in source pixel coordinates, -0.5 <= u < n - 0.5: rows run downwards.
    inside = ((y > -5) & (y <= 295))[:, None] & ((x >= 95) & (x < 395))[None, :]
    np.testing.assert_array_equal(~np.isnan(out), inside)
    want = reproject(src, target)[0]
    core = inside & ~np.isnan(want)
    np.testing.assert_allclose(out[core], want[core], rtol=1e-4)  # GDAL's edges differ


def test_eager_equals_jit_and_one_trace_per_grid_layout():
    traces = []
    opt, sar, dem = pk.Input("optical"), pk.Input("sar"), pk.Input("dem")
    opt_clean = gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11])(opt)
    sar_db = gz.sar.LinearToDB()(gz.sar.LeeSpeckle(enl=4.4)(sar))
    fused = gz.fusion.AlignAndStack(target_grid="optical")(opt_clean, sar_db, dem)
    graph = pk.Graph(inputs={"optical": opt, "sar": sar, "dem": dem}, outputs={"fused": fused})

    @eqx.filter_jit
    def run(g, **inputs):
        traces.append(1)
        return g(**inputs)

    # Two scenes of the same grid layout, 1.2 km apart (a multiple of 10, 20 and 30 m).
    for shift in (0.0, 1200.0):
        t = Affine(10, 0, 399960 + shift, 0, -10, 4500000 - shift)
        optical, s1, dem_gt, _ = synthetic_fusion_scenes(64, 72, seed=5, transform=t)
        inputs = {"optical": optical, "sar": s1, "dem": dem_gt}
        eager = graph(**inputs)["fused"]
        jitted = run(graph, **jax.tree.map(jnp.asarray, inputs))["fused"]
        assert jitted.transform == eager.transform == optical.transform
        assert_close_per_band(jitted.values, eager.values, 1e-5)
    assert len(traces) == 1


def test_traced_offsets_are_exact_far_from_the_lattice_origin():
    # Offsets of ~10**7 pixels: float32 would misplace samples by a pixel.
    t = Affine(10, 0, 9_000_000.0, 0, -10, 90_000_000.0)
    optical = gc.GeoTensor(np.zeros((1, 24, 24), np.float32), t, 32630)
    s1 = synthetic_s1_scene(24, 24, seed=1, optical_transform=t)
    dem = synthetic_dem(24, 24, seed=1, optical_transform=t, res=70.0 / 3.0)
    op = gz.fusion.AlignAndStack()
    eager = op(optical, s1, dem)
    jitted = eqx.filter_jit(op)(*jax.tree.map(jnp.asarray, (optical, s1, dem)))
    assert_close_per_band(jitted.values, eager.values, 1e-5)
    np.testing.assert_allclose(eager.values[1:3], reproject(s1, optical), rtol=1e-4)


def test_grad_flows_to_the_values(scenes):
    optical, s1, dem = scenes
    op = gz.fusion.AlignAndStack()
    weights = jnp.asarray(np.random.default_rng(1).random((16, 96, 112)), jnp.float32)

    def loss(sar_values):
        out = op(optical, s1.replace(values=sar_values), dem)
        return jnp.sum(out.values[13:15] * weights[13:15])

    v1 = jnp.asarray(s1.values)
    grad = jax.grad(loss)(v1)
    assert grad.shape == v1.shape and bool(jnp.isfinite(grad).all())
    # The map is linear in the values: loss(v2) - loss(v1) == <grad, v2 - v1>.
    v2 = v1 * 1.5 + 0.01
    np.testing.assert_allclose(loss(v2) - loss(v1), jnp.sum(grad * (v2 - v1)), rtol=1e-4)
    # Every target sample's bilinear weights sum to 1, so the gradient sums the weights.
    np.testing.assert_allclose(grad.sum(), weights[13:15].sum(), rtol=1e-4)


def test_vmap_over_scenes_stacked_per_input():
    sets = [synthetic_fusion_scenes(32, 32, seed=s)[:3] for s in (1, 2)]
    stacked = [gc.stack([scene[i] for scene in sets]) for i in range(3)]
    op = gz.fusion.AlignAndStack()
    batched = eqx.filter_vmap(op)(*stacked)
    for k, (optical, s1, dem) in enumerate(sets):
        np.testing.assert_allclose(batched.values[k], op(optical, s1, dem).values, rtol=1e-5)


def test_target_by_index_keyword_inputs_and_band_order(scenes):
    optical, s1, dem = scenes
    out = gz.fusion.AlignAndStack(target_grid=1)(optical, s1, dem)  # onto the SAR grid
    assert out.shape == (2 + 13 + 1, s1.height, s1.width) and out.transform == s1.transform
    np.testing.assert_array_equal(out.values[:2], s1.values)
    by_name = gz.fusion.AlignAndStack(target_grid="sar")(dem=dem, sar=s1, optical=optical)
    np.testing.assert_array_equal(by_name.values, out.values)
    one_band = dem.replace(values=dem.values[0])  # a 2-D input is one band
    assert gz.fusion.AlignAndStack()(optical, s1, one_band).shape == (16, 96, 112)


def test_fill_values_become_nan():
    values = np.full((1, 4, 4), 7, np.uint16)
    values[0, 0, 0] = 0
    target = gc.GeoTensor(values, Affine(10, 0, 0, 0, -10, 40), 32630, fill_value=0)
    src = gc.GeoTensor(values, Affine(10, 0, 0, 0, -10, 40), 32630, fill_value=0)
    out = gz.fusion.AlignAndStack(names=("a", "b"), target_grid="a")(target, src)
    assert out.dtype == np.float32
    assert np.isnan(out.values[:, 0, 0]).all() and (out.values[:, 1:, 1:] == 7).all()


def test_errors_name_the_operator_argument_and_values(scenes):
    optical, s1, dem = scenes
    with pytest.raises(pk.ConfigError, match=r"AlignAndStack: target_grid must be one of names"):
        gz.fusion.AlignAndStack(target_grid="radar")
    with pytest.raises(pk.ConfigError, match=r"target_grid=3 is out of range for 3 inputs"):
        gz.fusion.AlignAndStack(target_grid=3)
    with pytest.raises(pk.ConfigError, match=r"names must be distinct"):
        gz.fusion.AlignAndStack(names=("a", "a"), target_grid="a")
    with pytest.raises(pk.ConfigError, match=r"resampling must be one of \('bilinear', 'nearest'"):
        gz.fusion.AlignAndStack(resampling="cubic")
    with pytest.raises(TypeError, match=r"takes 3 GeoTensors; missing \['dem'\]"):
        gz.fusion.AlignAndStack()(optical, s1)
    with pytest.raises(gc.GeoTypeError, match=r"input 'sar' must be a geocatalog.GeoTensor"):
        gz.fusion.AlignAndStack()(optical, np.asarray(s1.values), dem)
    rotated = gc.GeoTensor(dem.values, Affine(30, 1, 399960, 1, -30, 4500000), 32630)
    with pytest.raises(gc.GeoValueError, match=r"input 'dem' is on a rotated or sheared grid"):
        gz.fusion.AlignAndStack()(optical, s1, rotated)
    with pytest.raises(gc.BatchedGeoTensorError, match=r"'sar' is a stacked GeoTensor"):
        gz.fusion.AlignAndStack()(optical, gc.stack([s1, s1]), dem)


def test_inputs_that_do_not_overlap_are_refused(scenes):
    optical, s1, dem = scenes
    # The DEM moved 100 km east: its footprint (same CRS) misses the optical target.
    far = gc.GeoTensor(dem.values, Affine.translation(100_000, 0) @ dem.transform, dem.crs,
                       fill_value=dem.fill_value)  # fmt: skip
    assert far.bounds[0] > optical.bounds[2]  # the oracle: plain interval arithmetic
    with pytest.raises(gz.InputsDoNotOverlapError, match=r"input 'dem' does not overlap the "
                       r"target 'optical'"):  # fmt: skip
        gz.fusion.AlignAndStack()(optical, s1, far)
    # ... across CRSs too: a lon/lat box on the other side of the Earth.
    away = gc.GeoTensor(np.ones((1, 8, 8), np.float32), Affine(0.01, 0, 150.0, 0, -0.01, -30.0),
                        "EPSG:4326")  # fmt: skip
    with pytest.raises(ValueError, match=r"input 'dem' does not overlap"):
        gz.fusion.AlignAndStack()(optical, s1, away)
    # Every geotoolz error is a GeotoolzError and a geocatalog GeoError.
    assert issubclass(gz.InputsDoNotOverlapError, gz.GeotoolzError)
    assert issubclass(gz.GeotoolzError, gc.GeoError)


def test_geotoolz_errors_share_one_root():
    x = np.zeros((2, 3, 3), np.float32)
    with pytest.raises(gz.BandIndexError, match=r"NDVI: nir_idx=5 is out of range for 2 bands"):
        gz.indices.NDVI(red_idx=0, nir_idx=5)(x)
    with pytest.raises(gz.GeotoolzValueError, match=r"expects values of shape"):
        gz.indices.NDVI(red_idx=0, nir_idx=1)(np.zeros((3, 3), np.float32))
    for err in (gz.BandIndexError, gz.GeotoolzValueError, gz.GeotoolzTypeError,
                gz.StackedInputError, gz.fusion.CRSMismatchError):  # fmt: skip
        assert issubclass(err, gz.GeotoolzError)
