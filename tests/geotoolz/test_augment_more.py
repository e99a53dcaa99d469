"""RandomCrop, GaussianNoise, BrightnessJitter, ContrastJitter, BandDropout and Compose.

Oracles: the same ``jax.random`` draws made here in the test and the formulas written in
NumPy; ``rasterio.windows.transform`` for the crop's georeferencing.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk

aug = gz.augment
KEYS = [jax.random.key(s) for s in (0, 1, 7, 42)]


def scene(dtype=np.float32, fill=-9999.0, bands=4, h=12, w=10) -> gc.GeoTensor:
    """Reflectance-like values with nodata: column 0 and a 2x2 block are ``fill`` everywhere."""
    rng = np.random.default_rng(5)
    v = rng.uniform(0.05, 0.6, (bands, h, w)).astype(dtype)
    v[:, :, 0] = fill
    v[:, 4:6, 3:5] = fill
    t = Affine(20.0, 0.0, 500_000.0, 0.0, -20.0, 4_200_000.0)
    return gc.GeoTensor(v, t, "EPSG:32630", fill_value=fill)


def valid(gt: gc.GeoTensor) -> np.ndarray:
    return ~np.all(np.asarray(gt.values) == gt.fill_value, axis=-3)


def jit_call(op, x, key):
    return eqx.filter_jit(lambda o, x, k: o(x, key=k))(op, jax.tree.map(jnp.asarray, x), key)


# ----------------------------------------------------------------------------- RandomCrop


@pytest.mark.parametrize("key", KEYS)
def test_crop_transform_is_rasterio_window_transform_eager_and_jit(key, rio_window_transform):
    gt = scene()
    h, w = 5, 4
    r, c = (int(v) for v in jax.random.randint(key, (2,), 0, np.array([12 - h + 1, 10 - w + 1])))
    want_t = rio_window_transform(gt.transform, r, c)
    want_v = gt.values[..., r : r + h, c : c + w]
    for out in (aug.RandomCrop((h, w))(gt, key=key), jit_call(aug.RandomCrop((h, w)), gt, key)):
        assert out.transform == want_t  # exact, float64
        assert out.lattice == gt.lattice
        np.testing.assert_array_equal(np.asarray(out.values), want_v)
    eager = aug.RandomCrop((h, w))(gt, key=key)
    assert isinstance(eager.values, np.ndarray)
    assert eager.transform.c == gt.transform.c + c * 20.0
    assert eager.transform.f == gt.transform.f - r * 20.0


def test_crop_under_jit_has_a_traced_offset_and_does_not_retrace_across_keys():
    gt = jax.tree.map(jnp.asarray, scene())
    traces = []

    @eqx.filter_jit
    def run(x, key):
        traces.append(1)
        out = aug.RandomCrop(4)(x, key=key)
        assert isinstance(out.offset, jax.core.Tracer)
        return out

    offsets = {tuple(np.asarray(run(gt, k).offset)) for k in KEYS}
    assert len(traces) == 1 and len(offsets) > 1


def test_crop_vmap_over_scenes_with_split_keys_gives_per_scene_windows(rio_window_transform):
    big = scene(h=30, w=30)
    scenes = [big[..., 0:12, 0:10], big[..., 10:22, 5:15], big[..., 18:30, 20:30]]
    keys = jax.random.split(jax.random.key(11), 3)
    op = aug.RandomCrop((5, 4))
    batched = eqx.filter_vmap(lambda x, k: op(x, key=k))(gc.stack(scenes), keys)
    got = gc.unstack(batched)
    want = [op(s, key=k) for s, k in zip(scenes, keys, strict=True)]
    starts = set()
    for s, g, e, k in zip(scenes, got, want, keys, strict=True):
        assert g.transform == e.transform
        np.testing.assert_array_equal(np.asarray(g.values), e.values)
        r, c = (int(v) for v in jax.random.randint(k, (2,), 0, np.array([8, 7])))
        assert g.transform == rio_window_transform(s.transform, r, c)
        starts.add((r, c))
    assert len(starts) == 3  # independent draws per scene


def test_crop_bare_array_generator_and_errors():
    v = np.arange(2 * 6 * 7).reshape(2, 6, 7)
    rng_draw = np.random.default_rng(3).integers(0, np.array([3, 5], dtype=np.int32))
    out = aug.RandomCrop((4, 3))(v, key=np.random.default_rng(3))
    r, c = rng_draw
    np.testing.assert_array_equal(out, v[..., r : r + 4, c : c + 3])
    key = jax.random.key(2)
    np.testing.assert_array_equal(
        np.asarray(jax.jit(lambda x, k: aug.RandomCrop((4, 3))(x, key=k))(v, key)),
        aug.RandomCrop((4, 3))(v, key=key),
    )
    with pytest.raises(ValueError, match=r"RandomCrop: size .* = \(7, 3\) must fit .* \(6, 7\)"):
        aug.RandomCrop((7, 3))(v, key=key)
    with pytest.raises(pk.ConfigError, match=r"RandomCrop: size height must be an int >= 1"):
        aug.RandomCrop(0)
    with pytest.raises(pk.ConfigError, match=r"RandomCrop: size must be an int or a"):
        aug.RandomCrop((1, 2, 3))
    with pytest.raises(TypeError, match=r"RandomCrop is a random operator and needs"):
        aug.RandomCrop(2)(v)


# ------------------------------------------------------------------------- photometric


def reference_floats(gt: gc.GeoTensor) -> np.ndarray:
    v = np.asarray(gt.values).astype(np.float32)
    return np.where(valid(gt)[None], v, np.nan)


@pytest.mark.parametrize("key", KEYS[:2])
def test_gaussian_noise_is_sigma_times_the_same_normal_draws(key):
    gt = scene()
    z = np.asarray(jax.random.normal(key, gt.shape, jnp.float32))
    want = reference_floats(gt) + np.float32(0.05) * z
    eager = aug.GaussianNoise(0.05)(gt, key=key)
    jitted = jit_call(aug.GaussianNoise(0.05), gt, key)
    assert isinstance(eager.values, np.ndarray) and eager.values.dtype == np.float32
    for out in (eager, jitted):
        np.testing.assert_allclose(np.asarray(out.values), want, rtol=1e-6, atol=1e-7)
        assert np.isnan(out.fill_value) and out.transform == gt.transform
    assert np.isnan(eager.values[:, ~valid(gt)]).all()  # no noise on nodata
    assert np.isfinite(eager.values[:, valid(gt)]).all()


def test_brightness_adds_one_uniform_delta_to_valid_pixels():
    key = jax.random.key(4)
    gt = scene(dtype=np.uint16, fill=0)
    gt = gt.replace(values=(np.asarray(gt.values) * 10_000).astype(np.uint16))
    delta = np.asarray(jax.random.uniform(key, (), jnp.float32, -300.0, 300.0))
    want = reference_floats(gt) + delta
    for out in (
        aug.BrightnessJitter(300)(gt, key=key),
        jit_call(aug.BrightnessJitter(300), gt, key),
    ):
        np.testing.assert_allclose(np.asarray(out.values), want, rtol=1e-6)
    assert delta != 0


def test_contrast_scales_each_band_about_its_valid_mean():
    key = jax.random.key(9)
    gt = scene()
    c = np.float64(jax.random.uniform(key, (), jnp.float32, 0.5, 1.5))
    v = np.asarray(gt.values, np.float64)
    ok = valid(gt)
    means = np.array([band[ok].mean() for band in v])[:, None, None]  # fill -9999 left out
    want = np.where(ok, (v - means) * c + means, np.nan)
    for out in (
        aug.ContrastJitter(0.5, 1.5)(gt, key=key),
        jit_call(aug.ContrastJitter(0.5, 1.5), gt, key),
    ):
        np.testing.assert_allclose(np.asarray(out.values), want, rtol=1e-5, atol=1e-6)
    # the band mean is a fixed point: the valid mean is unchanged
    out = aug.ContrastJitter(0.5, 1.5)(gt, key=key)
    np.testing.assert_allclose(np.nanmean(out.values, axis=(-2, -1)), means[:, 0, 0], rtol=1e-5)


def test_band_dropout_zeroes_the_drawn_bands_and_keeps_nodata():
    key = jax.random.key(1)
    gt = scene(bands=6)
    drop = np.asarray(jax.random.uniform(key, (6,))) < 0.5
    assert 0 < drop.sum() < 6  # the key drops some bands, not all
    ref = reference_floats(gt)
    want = np.where(drop[:, None, None] & ~np.isnan(ref), 0.0, ref)
    for out in (aug.BandDropout(0.5)(gt, key=key), jit_call(aug.BandDropout(0.5), gt, key)):
        np.testing.assert_array_equal(np.asarray(out.values), want)
        assert np.isnan(np.asarray(out.values)[:, ~valid(gt)]).all()


def test_photometric_vmap_with_split_keys_equals_per_scene_calls_and_differs():
    gt = scene()
    stacked = gc.stack([gt, gt, gt])
    keys = jax.random.split(jax.random.key(21), 3)
    for op in (aug.GaussianNoise(0.1), aug.BrightnessJitter(0.2), aug.ContrastJitter(0.5, 2.0)):
        got = eqx.filter_vmap(lambda x, k, op=op: op(x, key=k))(stacked, keys)
        outs = [np.asarray(u.values) for u in gc.unstack(got)]
        for o, k in zip(outs, keys, strict=True):
            np.testing.assert_allclose(o, op(gt, key=k).values, rtol=1e-5, atol=1e-6)
        ok = valid(gt)
        assert not np.allclose(outs[0][:, ok], outs[1][:, ok])  # independent draws
        assert not np.allclose(outs[1][:, ok], outs[2][:, ok])


def test_generator_keys_and_config_errors():
    gt = scene()
    z = np.random.default_rng(0).standard_normal(gt.shape, dtype=np.float32)
    out = aug.GaussianNoise(0.5)(gt, key=np.random.default_rng(0))
    np.testing.assert_allclose(out.values, reference_floats(gt) + np.float32(0.5) * z, rtol=1e-6)
    with pytest.raises(pk.ConfigError, match=r"GaussianNoise: sigma must be a finite number >= 0"):
        aug.GaussianNoise(-1.0)
    with pytest.raises(pk.ConfigError, match=r"BrightnessJitter: max_delta must be a real"):
        aug.BrightnessJitter("0.1")
    with pytest.raises(pk.ConfigError, match=r"ContrastJitter: upper must be >= lower"):
        aug.ContrastJitter(1.5, 0.5)
    with pytest.raises(pk.ConfigError, match=r"BandDropout: p is a probability .* p=2.0"):
        aug.BandDropout(2.0)
    with pytest.raises(ValueError, match=r"BandDropout drops bands along axis -3"):
        aug.BandDropout(0.5)(np.zeros((4, 4)), key=jax.random.key(0))


# ------------------------------------------------------------------------------ Compose


def test_compose_splits_keys_per_op_and_flips_a_coin_each():
    key = jax.random.key(5)
    gt = scene()
    ops = [aug.GaussianNoise(0.1), aug.BrightnessJitter(0.3), aug.BandDropout(0.5)]
    want = reference_floats(gt)
    applied = []
    for k in jax.random.split(key, 3):  # the plumbing, written out with jax.random
        coin, op_key = jax.random.split(k, 2)
        applied.append(bool(jax.random.uniform(coin, ()) < 0.5))
        if applied[-1]:
            if len(applied) == 1:
                want = want + np.float32(0.1) * np.asarray(jax.random.normal(op_key, gt.shape))
            elif len(applied) == 2:
                want = want + np.asarray(jax.random.uniform(op_key, (), jnp.float32, -0.3, 0.3))
            else:
                drop = np.asarray(jax.random.uniform(op_key, (4,))) < 0.5
                want = np.where(drop[:, None, None] & ~np.isnan(want), 0.0, want)
    assert 0 < sum(applied) < 3  # this key really skips some and applies some
    op = aug.Compose(ops, p=0.5)
    for out in (op(gt, key=key), jit_call(op, gt, key)):
        np.testing.assert_allclose(np.asarray(out.values), want, rtol=1e-5, atol=1e-6)


def test_compose_skipped_float_op_still_gives_floats_and_vmap_is_per_scene():
    gt = scene(dtype=np.uint16, fill=0)
    op = aug.Compose([aug.GaussianNoise(1.0)], p=0.0)
    out = op(gt, key=jax.random.key(0))
    assert out.values.dtype == np.float32
    np.testing.assert_array_equal(out.values, reference_floats(gt))
    op = aug.Compose([aug.BrightnessJitter(0.5), aug.GaussianNoise(0.1)], p=0.5)
    keys = jax.random.split(jax.random.key(8), 4)
    got = eqx.filter_vmap(lambda x, k: op(x, key=k))(gc.stack([scene()] * 4), keys)
    outs = [np.asarray(u.values) for u in gc.unstack(got)]
    for o, k in zip(outs, keys, strict=True):
        np.testing.assert_allclose(o, op(scene(), key=k).values, rtol=1e-5, atol=1e-6)
    assert len({np.nansum(o).round(3) for o in outs}) == 4


def test_compose_refuses_a_conditional_shape_change_under_jit_only():
    gt = scene()
    op = aug.Compose([aug.RandomCrop(4)], p=0.5)
    assert op(gt, key=jax.random.key(0)).shape[-2:] in {(4, 4), (12, 10)}  # eager: fine
    with pytest.raises(ValueError, match=r"Compose: ops\[0\] \(RandomCrop\) changes the output"):
        jit_call(op, gt, jax.random.key(0))
    always = aug.Compose([aug.RandomCrop(4)], p=1.0)
    assert jit_call(always, gt, jax.random.key(0)).shape[-2:] == (4, 4)
    with pytest.raises(pk.ConfigError, match=r"Compose: ops\[1\] must be an Operator"):
        aug.Compose([aug.RandomCrop(4), "flip"])
