"""Seed Case 1 ("Notebook exploration") as written, eagerly on NumPy and under jit."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene


def case1_pipeline():
    return pk.Sequential(
        [
            gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]),
            pk.Tap(lambda gt: print(f"after mask: {np.isnan(gt).mean():.1%} NaN")),
            gz.radiometry.PercentileClip(p_min=2, p_max=98),
            gz.indices.NDVI(red_idx=2, nir_idx=3),
        ]
    )


def reference_ndvi(values):
    """Independent oracle: Case 1 written out in plain NumPy."""
    v = values.astype(np.float64)
    qa = values[-1].astype(np.int64)
    cloudy = ((qa >> 10) & 1 | (qa >> 11) & 1).astype(bool)
    v[:-1][:, cloudy] = np.nan
    lo = np.nanpercentile(v, 2, axis=(-2, -1), keepdims=True)
    hi = np.nanpercentile(v, 98, axis=(-2, -1), keepdims=True)
    v = np.clip(v, lo, hi)
    red, nir = v[2], v[3]
    return (nir - red) / (nir + red), cloudy


def test_case1_eager_numpy_as_written(capsys):
    scene_gt = synthetic_scene(128, 160)
    viz = case1_pipeline()
    ndvi_gt = viz(scene_gt)
    assert ndvi_gt.values.ndim == 2 and isinstance(ndvi_gt.values, np.ndarray)
    assert ndvi_gt.transform == scene_gt.transform and ndvi_gt.crs == scene_gt.crs
    ref, cloudy = reference_ndvi(np.asarray(scene_gt.values))
    np.testing.assert_allclose(ndvi_gt.values, ref, rtol=1e-5, atol=1e-6, equal_nan=True)
    # The Tap printed the NaN fraction: 12 of 13 bands are masked where cloudy.
    expected = f"after mask: {cloudy.mean() * 12 / 13:.1%} NaN"
    assert capsys.readouterr().out.strip() == expected


def test_case1_jit_equals_eager_and_tap_still_fires(capsys):
    scene_gt = synthetic_scene(128, 160)
    viz = case1_pipeline()
    eager = viz(scene_gt)
    capsys.readouterr()
    jitted = eqx.filter_jit(viz)(jax.tree.map(jnp.asarray, scene_gt))
    jax.effects_barrier()
    assert capsys.readouterr().out.startswith("after mask: ")
    np.testing.assert_allclose(jitted.values, eager.values, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert jitted.transform == scene_gt.transform


def test_case1_from_yaml_same_numbers_and_hash():
    # Tap holds a callable and is forbid_in_yaml; the YAML pipeline is Case 1 without the
    # observer, which does not change any number.
    viz = pk.Sequential([op for op in case1_pipeline() if not isinstance(op, pk.Tap)])
    text = pk.dumps_yaml(viz)
    loaded = pk.loads_yaml(text)
    assert pk.config_hash(loaded) == pk.config_hash(viz)
    with open("examples/case1_ndvi.yaml", encoding="utf-8") as fh:
        shipped = pk.loads_yaml(fh.read())
    assert pk.config_hash(shipped) == pk.config_hash(viz)
    scene_gt = synthetic_scene(96, 96, seed=4)
    np.testing.assert_array_equal(loaded(scene_gt).values, viz(scene_gt).values)
    jitted = eqx.filter_jit(loaded)(scene_gt)
    np.testing.assert_allclose(
        jitted.values, viz(scene_gt).values, rtol=1e-5, atol=1e-5, equal_nan=True
    )


def _scenes_at_100_locations(northing=4_500_000.0):
    base = synthetic_scene(64, 64, seed=5)
    rng = np.random.default_rng(0)
    scenes = []
    for _ in range(100):
        dr, dc = (int(v) for v in rng.integers(-50_000, 50_000, size=2))
        t = Affine(10.0, 0.0, 399_960.0 + 10.0 * dc, 0.0, -10.0, northing - 10.0 * dr)
        scenes.append(gc.GeoTensor(base.values, t, base.crs, fill_value=base.fill_value))
    return scenes


def test_one_compile_serves_100_locations_with_exact_transforms():
    viz = pk.Sequential([op for op in case1_pipeline() if not isinstance(op, pk.Tap)])
    for northing in (4_500_000.0, 9_990_000.0):
        traces = []

        @eqx.filter_jit
        def run(pipe, gt, traces=traces):
            traces.append(1)
            return pipe(gt)

        scenes = _scenes_at_100_locations(northing)
        for gt in scenes:
            out = run(viz, gt)
            assert out.transform == gt.transform  # exact float64 equality
        assert len(traces) == 1
        assert len({gt.transform for gt in scenes}) == 100


def test_float32_would_not_have_been_exact():
    """Why the design matters: the northing of this grid does not survive float32."""
    northing = 9_990_000.0 - 10.0 * 12_345 + 5.5
    assert float(np.float32(northing)) != northing
    transform = Affine(10, 0, 500_005.0, 0, -10, northing)
    gt = gc.GeoTensor(np.zeros((1, 5, 4), np.float32), transform, "EPSG:32736")
    out = eqx.filter_vmap(gz.radiometry.ToFloat32())(gc.stack([gt[..., 0:4, :], gt[..., 1:5, :]]))
    first, second = gc.unstack(out)
    assert first.transform == transform
    assert second.transform.f == northing - 10.0  # one row down, exact


def test_case6_sandboxed_upload_of_the_case1_pipeline():
    """Seed Case 6: an allow-list built by introspection, then an untrusted upload."""
    allowed = pk.registry.public_operators(
        include_modules=["geotoolz", "pipekit"], exclude_classes=["Lambda", "Sink", "ModelOp"]
    )
    assert "geotoolz.indices.NDVI" in allowed and "pipekit.Tap" not in allowed
    with open("examples/case1_ndvi.yaml", encoding="utf-8") as fh:
        pipe = pk.loads_yaml_sandboxed(fh.read(), allowed=allowed)
    scene_gt = synthetic_scene(32, 32)
    reference = pk.loads_yaml(pk.dumps_yaml(pipe))
    np.testing.assert_array_equal(pipe(scene_gt).values, reference(scene_gt).values)
    evil = (
        "_target_: pipekit.Sequential\nops:\n"
        "- {_target_: geotoolz.indices.NDVI, red_idx: 2, nir_idx: 3}\n"
        "- {_target_: pipekit.Tap, fn: print}\n"
    )
    with pytest.raises(pk.UntrustedTargetError) as info:
        pk.loads_yaml_sandboxed(evil, allowed=allowed)
    assert (info.value.target, info.value.path) == ("pipekit.Tap", "ops[1]")
