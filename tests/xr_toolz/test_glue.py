"""Glue: catalog_ops is geocatalog's integration (not a copy); a data cube patched through a
jitted model with geopatcher's XarrayField, checked against the model applied in NumPy."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog.integrations.pipekit as gc_pipekit
import geopatcher as gp
import geotoolz
import pipekit as pk
import pipekit_array as pa
import xr_toolz as xt
from geopatcher.integrations.pipekit import ApplyToChips, GridSampler, Stitch


def test_catalog_ops_reexports_the_geocatalog_integration():
    for name in xt.catalog_ops.__all__:
        assert getattr(xt.catalog_ops, name) is getattr(gc_pipekit, name)
    assert xt.catalog_ops.CatalogPipeline is geotoolz.catalog_ops.CatalogPipeline


def _cube(seed: int = 0):
    cube = xt.testing.reanalysis_like(nlat=24, nlon=40, seed=seed).isel(time=slice(0, 5))
    return cube.astype(np.float32)


def _pipeline(conv) -> pk.Sequential:
    patcher = gp.SpatialPatcher(
        gp.SpatialRectangular(12), gp.SpatialRegularStride(8), gp.SpatialHann()
    )
    return pk.Sequential(
        [GridSampler(patcher), ApplyToChips(pa.ModelOp(conv), batch_size=3),
         Stitch(gp.SpatialOverlapAdd())]
    )  # fmt: skip


def test_cube_patched_through_a_jitted_model_equals_the_model_on_the_whole_cube():
    conv = eqx.nn.Conv2d(5, 2, kernel_size=1, key=jax.random.key(0))
    pipe = _pipeline(conv)
    traces = []

    @eqx.filter_jit
    def run(pipe, gt):
        traces.append(1)
        return pipe(gt)

    w = np.asarray(conv.weight, np.float64)[:, :, 0, 0]
    b = np.asarray(conv.bias, np.float64)[:, 0, 0]
    for seed in (0, 1):  # a second cube on the same grid: same program, no retrace
        cube = _cube(seed)
        field = gp.XarrayField(cube, x="lon", y="lat")
        out = run(pipe, jax.tree.map(jnp.asarray, field.to_geotensor()))
        da = field.wrap(np.asarray(out.values), out.fill_value)
        # A 1x1 convolution is per pixel: Hann-weighted overlap-add of chips of it is it.
        want = np.einsum("oc,chw->ohw", w, cube.values.astype(np.float64)) + b[:, None, None]
        np.testing.assert_allclose(da.values, want, rtol=1e-5, atol=2e-3)
        assert da.dims[-2:] == ("lat", "lon") and da.attrs == cube.attrs
        np.testing.assert_array_equal(da["lat"].values, cube["lat"].values)
        np.testing.assert_array_equal(da["lon"].values, cube["lon"].values)
    assert len(traces) == 1
    host = pipe(gp.XarrayField(_cube(1), x="lon", y="lat"))  # chip by chip, eager
    np.testing.assert_allclose(host.values, da.values, rtol=1e-5, atol=2e-3)


def test_to_geotensor_needs_a_crs_unless_the_axes_are_lon_lat():
    cube = _cube().rename(lat="row", lon="col")
    for name in ("row", "col"):
        cube[name].attrs = {}
    with pytest.raises(gp.PatchShapeError, match=r"no CRS.*crs=.EPSG"):
        gp.XarrayField(cube, x="col", y="row").to_geotensor()
    gt = gp.XarrayField(cube, x="col", y="row", crs="EPSG:4326").to_geotensor()
    assert gt.crs == _cube().pipe(lambda c: gp.XarrayField(c, x="lon", y="lat")).to_geotensor().crs
