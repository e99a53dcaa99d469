"""Band names through geotoolz operators: kept where bands are kept, subset or dropped otherwise.

Case 1's pieces run on a named Sentinel-2 scene; the expected names are S2_BANDS indexed
as the operator indexes the bands (a NumPy oracle on the names), or None where the band
axis is reduced away (NDVI, the QA mask) or replaced by model outputs.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import (
    DEM_BANDS,
    S1_BANDS,
    S2_BANDS,
    synthetic_fusion_scenes,
    synthetic_s1_scene,
    synthetic_scene,
)

BAND_KEEPERS = [
    gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
    gz.cloud.ApplyMask(gz.cloud.MaskFromQABits(qa_band=-1, bits=[10]), keep_band=-1),
    gz.radiometry.ToFloat32(),
    gz.radiometry.FillNodata(value=0.0),
    gz.radiometry.PercentileClip(p_min=2, p_max=98),
    gz.fusion.BandNormalize(mean=(100.0,) * 13, std=(10.0,) * 13),
]


@pytest.mark.parametrize("op", BAND_KEEPERS, ids=lambda op: type(op).__name__)
def test_operators_that_keep_bands_keep_names_eager_and_jit(op):
    scene = synthetic_scene(32, 32, seed=1)
    assert op(scene).band_names == S2_BANDS
    jitted = eqx.filter_jit(op)(jax.tree.map(jnp.asarray, scene))
    assert jitted.band_names == S2_BANDS


def test_case1_pipeline_keeps_names_until_ndvi_which_has_none():
    scene = synthetic_scene(48, 40, seed=2)
    head = pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            gz.radiometry.PercentileClip(p_min=2, p_max=98),
        ]
    )
    clipped = head(scene)
    assert clipped.band_names == S2_BANDS
    ndvi = gz.indices.NDVI(red_idx=2, nir_idx=3)(clipped)
    assert ndvi.shape == (48, 40) and ndvi.band_names is None
    nd = gz.indices.NormalizedDifference(a_idx=3, b_idx=2)(scene)
    assert nd.band_names is None
    assert gz.cloud.MaskFromQABits(qa_band=-1, bits=[10])(scene).band_names is None


def test_ndvi_on_a_time_series_gives_no_stale_names():
    # (time=13, band=13, y, x) -> NDVI (13, y, x): axis -3 has 13 entries again, but they
    # are dates, not bands; the rank changed, so the names must go.
    scene = synthetic_scene(8, 8)
    stacked = np.stack([np.asarray(scene.values)] * 13)
    series = scene.replace(values=stacked, band_names=S2_BANDS)  # a new rank: named again
    assert gz.indices.NDVI(red_idx=2, nir_idx=3)(series).band_names is None


def test_select_bands_subsets_and_reorders_names():
    scene = synthetic_scene(16, 16)
    picked = gz.fusion.SelectBands((3, 2, -1))(scene)
    assert picked.band_names == tuple(np.asarray(S2_BANDS, dtype=object)[[3, 2, -1]])
    swapped = gz.fusion.SelectBands(tuple(range(12, -1, -1)))(scene)  # same count, reversed
    assert swapped.band_names == S2_BANDS[::-1]
    assert gz.fusion.SelectBands((0, 0))(scene).band_names is None  # not unique: no names


def test_sar_and_augment_keep_names():
    s1 = synthetic_s1_scene(24, 24)
    assert gz.sar.LinearToDB()(s1).band_names == S1_BANDS
    assert gz.sar.LeeSpeckle(window=3)(s1).band_names == S1_BANDS
    scene = synthetic_scene(16, 16)
    flipped = gz.augment.RandomFlip(p=1.0)(scene, key=np.random.default_rng(0))
    turned = gz.augment.RandomRotate90()(scene, key=jax.random.key(1))
    assert flipped.band_names == S2_BANDS and turned.band_names == S2_BANDS


def test_align_and_stack_concatenates_names_in_stacking_order():
    scenes = synthetic_fusion_scenes(24, 24)
    out = gz.fusion.AlignAndStack(target_grid="optical")(scenes.optical, scenes.s1, scenes.dem)
    assert out.band_names == S2_BANDS + S1_BANDS + DEM_BANDS
    assert out.shape[0] == len(out.band_names)
    dem_first = gz.fusion.AlignAndStack(names=("optical", "dem"), target_grid="dem")
    assert dem_first(scenes.optical, scenes.dem).band_names == DEM_BANDS + S2_BANDS
    unnamed = gz.fusion.AlignAndStack(target_grid="optical")(
        scenes.optical, scenes.s1.replace(band_names=None), scenes.dem
    )
    assert unnamed.band_names is None


def test_model_outputs_do_not_inherit_input_names():
    scene = synthetic_scene(8, 8)
    same_count = pa.ModelOp(lambda v: v * 2.0)(scene.replace(values=np.float32(scene.values)))
    assert same_count.shape == scene.shape and same_count.band_names is None
