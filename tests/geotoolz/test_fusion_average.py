"""AlignAndStack(resampling="average"): area-weighted means onto coarser grids.

Oracles: a brute-force float64 loop over every (destination, source) pixel pair adding
``overlap area * value`` over valid pixels, ``rasterio.warp.reproject`` with
``Resampling.average``, block means for an integer ratio, and the adjoint dot-product test
for the gradient.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import geocatalog as gc
import geotoolz as gz
import pipekit_jax as pj

SRC = Affine(10, 0, 1000, 0, -10, 5000)  # 10 m, 60 x 70 pixels


def source(nan_fraction: float = 0.0, seed: int = 0) -> gc.GeoTensor:
    rng = np.random.default_rng(seed)
    values = rng.random((2, 60, 70))
    values[rng.random(values.shape) < nan_fraction] = np.nan
    return gc.GeoTensor(values, SRC, 32630)


def target(x0: float, y0: float, res: float, height: int, width: int) -> gc.GeoTensor:
    return gc.GeoTensor(np.zeros((1, height, width)), Affine(res, 0, x0, 0, -res, y0), 32630)


def average(dst: gc.GeoTensor, src: gc.GeoTensor):
    op = gz.fusion.AlignAndStack(target_grid="dst", names=("dst", "src"), resampling="average")
    return op(dst, src).values[1:]


def brute_force(dst: gc.GeoTensor, src: gc.GeoTensor) -> np.ndarray:
    """Sum over every source pixel of (overlap area) * value, over valid pixels only."""
    (res, _, x0, _, _, y0), values = tuple(dst.transform)[:6], np.asarray(src.values)
    out = np.full((values.shape[0], dst.height, dst.width), np.nan)
    src_x = 1000 + 10 * np.arange(71)  # source pixel edges
    src_y = 5000 - 10 * np.arange(61)
    for i in range(dst.height):
        top, bottom = y0 - res * i, y0 - res * (i + 1)
        oy = np.clip(np.minimum(top, src_y[:-1]) - np.maximum(bottom, src_y[1:]), 0, None)
        for j in range(dst.width):
            left, right = x0 + res * j, x0 + res * (j + 1)
            ox = np.clip(np.minimum(right, src_x[1:]) - np.maximum(left, src_x[:-1]), 0, None)
            area = oy[:, None] * ox[None, :] * ~np.isnan(values)
            if area.sum(axis=(1, 2)).min() > 0:
                out[:, i, j] = np.nansum(area * values, axis=(1, 2)) / area.sum(axis=(1, 2))
            else:
                for b in range(values.shape[0]):
                    if area[b].sum() > 0:
                        out[b, i, j] = np.nansum(area[b] * values[b]) / area[b].sum()
    return out


def gdal_average(dst: gc.GeoTensor, src: gc.GeoTensor) -> np.ndarray:
    """GDAL's average, one band at a time: warping several bands at once with a NaN nodata
    value, GDAL 3.10 here returned NaN for nearly all of band 0."""
    out = np.full((src.shape[0], dst.height, dst.width), np.nan)
    with warnings.catch_warnings():  # affine's deprecation of `*`, used inside rasterio
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        for band in range(src.shape[0]):
            rasterio.warp.reproject(
                np.asarray(src.values)[band], out[band],
                src_transform=src.transform, src_crs=src.crs_string,
                dst_transform=dst.transform, dst_crs=dst.crs_string,
                resampling=Resampling.average, src_nodata=np.nan, dst_nodata=np.nan,
            )  # fmt: skip
    return out


@pytest.mark.parametrize("nan_fraction", [0.0, 0.3])
def test_a_misaligned_37_m_grid_is_the_area_weighted_mean(nan_fraction):
    src, dst = source(nan_fraction), target(1013, 4987, 37, 14, 17)
    got = average(dst, src)
    np.testing.assert_allclose(got, brute_force(dst, src), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, gdal_average(dst, src), rtol=1e-12, atol=1e-12)


def test_an_integer_ratio_is_the_block_mean_ignoring_nan():
    src = source(0.4, seed=3)
    got = average(target(1000, 5000, 30, 20, 23), src)
    blocks = np.asarray(src.values)[:, :60, :69].reshape(2, 20, 3, 23, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks give NaN
        want = np.nanmean(blocks, axis=(2, 4))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_cells_partly_off_the_source_average_what_they_cover():
    src, dst = source(), target(960, 5040, 25, 8, 8)  # starts 4 px up-left of the source
    got = average(dst, src)
    want = brute_force(dst, src)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.isnan(got[:, 0, :]).all() and np.isnan(got[:, :, 0]).all()  # no overlap at all
    assert not np.isnan(got[:, 1:, 1:]).any()


def test_jit_equals_eager_and_traces_once_for_every_location():
    src = source(0.1).replace(values=np.asarray(source(0.1).values, np.float32))
    op = gz.fusion.AlignAndStack(target_grid="dst", names=("dst", "src"), resampling="average")
    compiled = pj.jit(op)
    for x0, y0 in [(1013, 4987), (1013 + 37 * 3, 4987 - 37 * 2), (1013 - 37, 4987 + 37)]:
        dst = target(x0, y0, 37, 12, 14)
        got = compiled(jax.tree.map(jnp.asarray, dst), jax.tree.map(jnp.asarray, src))
        want = op(dst, src).values
        np.testing.assert_allclose(np.asarray(got.values), want, rtol=1e-5, equal_nan=True)
    assert compiled.traces == 1


def test_gradient_is_the_adjoint_of_the_averaging():
    src, dst = source(), jax.tree.map(jnp.asarray, target(1013, 4987, 37, 14, 17))
    rng = np.random.default_rng(1)
    v = jnp.asarray(rng.standard_normal((2, 60, 70)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((2, 14, 17)), jnp.float32)

    def averaged(values):
        return average(dst, src.replace(values=values))

    adjoint = jax.grad(lambda values: jnp.sum(averaged(values) * w))(v)
    assert float(jnp.sum(v * adjoint)) == pytest.approx(float(jnp.sum(averaged(v) * w)), rel=1e-4)


def test_average_across_crss_raises():
    wgs = gc.GeoTensor(np.ones((1, 4, 4)), Affine(0.01, 0, -3, 0, -0.01, 40), "EPSG:4326")
    with pytest.raises(gc.GeoValueError, match=r"resampling='average' needs the inputs in the "
                       r"target's CRS \('EPSG:32630'\), got one in 'EPSG:4326'"):  # fmt: skip
        average(target(1000, 5000, 30, 2, 2), wgs)
