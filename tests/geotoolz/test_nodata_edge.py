"""The README pipeline on a Sentinel-2 scene with a nodata edge: nodata there, eager and jit.

Before the carrier contract, the zeros of a DN-0 edge stayed zeros through MaskClouds,
PercentileClip lifted them to each band's 2nd percentile and NDVI read about -0.79 there
(looks like water). The oracle is NumPy by hand: nodata -> NaN, np.nanpercentile, NDVI.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene


def readme_pipeline() -> pk.Sequential:
    return pk.Sequential([
        gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
        gz.radiometry.PercentileClip(p_min=2, p_max=98),
        gz.indices.NDVI(red_idx=2, nir_idx=3),
    ])  # fmt: skip


def oracle(dn: np.ndarray, fill: int) -> np.ndarray:
    edge = (dn == fill).all(axis=0)
    cloudy = (dn[-1].astype(np.int64) & (1 << 10 | 1 << 11)) != 0
    x = dn.astype(np.float64)
    x[:, edge | cloudy] = np.nan
    lo = np.nanpercentile(x, 2, axis=(1, 2))[:, None, None]
    hi = np.nanpercentile(x, 98, axis=(1, 2))[:, None, None]
    x = np.clip(x, lo, hi)
    red, nir = x[2], x[3]
    return (nir - red) / (nir + red)


@pytest.mark.parametrize("fill", [0, 65535])
def test_nodata_edge_gives_nodata_ndvi_eager_and_jit(fill):
    gt = synthetic_scene(64, 72, seed=11)
    dn = np.array(gt.values)
    dn[:, :, 0] = fill  # a 1-column nodata edge, every band at the fill value
    gt = gt.replace(values=dn, fill_value=fill)
    want = oracle(dn, fill)
    pipe = readme_pipeline()
    eager = pipe(gt)
    jitted = eqx.filter_jit(pipe)(jax.tree.map(jnp.asarray, gt))
    assert np.isnan(eager.values[:, 0]).all() and np.isnan(np.asarray(jitted.values)[:, 0]).all()
    np.testing.assert_allclose(eager.values, want, rtol=1e-5, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(np.asarray(jitted.values), eager.values, rtol=1e-5, atol=1e-6,
                               equal_nan=True)  # fmt: skip


@pytest.mark.parametrize("fill", [65535, -9999])
def test_ndvi_of_a_fill_pixel_is_nodata_not_zero(fill):
    dtype = np.uint16 if fill > 0 else np.int16
    x = np.array([[[fill, 100]], [[fill, 300]]], dtype)
    gt = gz.GeoTensor(x, synthetic_scene(1, 2).transform, "EPSG:32630", fill_value=fill)
    out = gz.indices.NDVI(red_idx=0, nir_idx=1)(gt)
    assert np.isnan(out.values[0, 0]) and out.values[0, 1] == pytest.approx(0.5)
