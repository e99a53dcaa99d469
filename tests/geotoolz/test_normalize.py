"""geotoolz.normalize against scikit-learn's scalers and NumPy formulas written here.

The oracle sees each band's valid pixels as one sklearn feature column: ``X[:, b]``.
Tolerances: statistics and outputs in float32 (the leaves' dtype), rtol 1e-5.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import preprocessing

import geocatalog as gc
import geotoolz as gz
import pipekit as pk
import pipekit_jax as pj
from geocatalog.testing import synthetic_scene


def scene_with_nodata(seed: int = 3) -> gc.GeoTensor:
    """A uint16 scene (fill 0) with a nodata edge and block, and one cloud-free outlier."""
    gt = synthetic_scene(24, 30, seed=seed)
    values = np.array(gt.values)
    values[:, :, 0] = 0
    values[:, 4:7, 10:15] = 0
    values[2, 12, 20] = 60000  # an outlier: moves the mean and max, not the quartiles
    return gt.replace(values=values)


def valid_columns(gt: gc.GeoTensor) -> tuple[np.ndarray, np.ndarray]:
    """``(X, mask)``: X[:, b] is band b's valid pixels (float64); mask the valid pixels."""
    v = np.asarray(gt.values, dtype=np.float64)
    valid = ~np.all(v == gt.fill_value, axis=0)
    return v[:, valid].T, valid


def check_against(sk, op: pk.Operator, gt: gc.GeoTensor) -> None:
    X, valid = valid_columns(gt)
    sk.fit(X)
    out = op(gt)
    assert out.values.dtype == np.float32 and np.isnan(out.fill_value)
    np.testing.assert_allclose(out.values[:, valid].T, sk.transform(X), rtol=1e-5, atol=1e-5)
    assert np.isnan(out.values[:, ~valid]).all()  # nodata stays nodata
    assert out.transform == gt.transform


def test_standard_scaler_matches_sklearn_on_valid_pixels():
    gt = scene_with_nodata()
    op = gz.normalize.StandardScaler().fit(gt)
    sk = preprocessing.StandardScaler().fit(valid_columns(gt)[0])
    np.testing.assert_allclose(op.center, sk.mean_, rtol=1e-6)
    np.testing.assert_allclose(op.scale, sk.scale_, rtol=1e-5)
    check_against(preprocessing.StandardScaler(), op, gt)


@pytest.mark.parametrize("q", [(25, 75), (10, 90), (0, 100)])
def test_robust_scaler_matches_sklearn(q):
    gt = scene_with_nodata()
    op = gz.normalize.RobustScaler(quantile_range=q).fit(gt)
    sk = preprocessing.RobustScaler(quantile_range=q).fit(valid_columns(gt)[0])
    np.testing.assert_allclose(op.center, sk.center_, rtol=1e-6)
    np.testing.assert_allclose(op.scale, sk.scale_, rtol=1e-5)
    check_against(preprocessing.RobustScaler(quantile_range=q), op, gt)


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 2)])
def test_minmax_scaler_matches_sklearn(feature_range):
    gt = scene_with_nodata()
    op = gz.normalize.MinMaxScaler(feature_range=feature_range).fit(gt)
    sk = preprocessing.MinMaxScaler(feature_range=feature_range).fit(valid_columns(gt)[0])
    np.testing.assert_allclose(op.center, sk.data_min_, rtol=1e-6)
    np.testing.assert_allclose(op.scale, sk.data_range_, rtol=1e-6)
    check_against(preprocessing.MinMaxScaler(feature_range=feature_range), op, gt)


def test_fit_on_a_stack_pools_the_scenes_and_applies_per_scene():
    a, b = scene_with_nodata(3), synthetic_scene(24, 30, seed=4)
    op = gz.normalize.StandardScaler().fit(gc.stack([a, b]))
    X = np.concatenate([valid_columns(a)[0], valid_columns(b)[0]])
    sk = preprocessing.StandardScaler().fit(X)
    np.testing.assert_allclose(op.center, sk.mean_, rtol=1e-6)
    np.testing.assert_allclose(op.scale, sk.scale_, rtol=1e-5)
    Xb, valid = valid_columns(b)
    np.testing.assert_allclose(op(b).values[:, valid].T, sk.transform(Xb), rtol=1e-5, atol=1e-5)


def test_constant_band_is_divided_by_one_as_in_sklearn():
    x = np.stack([np.full((4, 5), 7.0), np.arange(20.0).reshape(4, 5)])
    for ours, theirs in [
        (gz.normalize.StandardScaler(), preprocessing.StandardScaler()),
        (gz.normalize.RobustScaler(), preprocessing.RobustScaler()),
        (gz.normalize.MinMaxScaler(), preprocessing.MinMaxScaler()),
    ]:
        fitted = ours.fit(x)
        want = theirs.fit_transform(x.reshape(2, -1).T).T.reshape(x.shape)
        assert fitted.scale[0] == 1.0
        np.testing.assert_allclose(fitted(x), want, rtol=1e-6, atol=1e-6)


def test_statistics_are_array_leaves_and_config():
    gt = scene_with_nodata()
    op = gz.normalize.RobustScaler().fit(gt)
    leaves = jax.tree.leaves(op)
    assert len(leaves) == 2 and all(leaf.shape == (13,) for leaf in leaves)
    assert all(leaf.dtype == np.float32 for leaf in leaves)
    state = op.state
    assert state["quantile_range"] == [25.0, 75.0] and len(state["center"]) == 13
    again = pk.loads_yaml(pk.dumps_yaml(op))
    np.testing.assert_array_equal(again.center_array, op.center_array)  # exact float32
    assert pk.config_hash(again) == pk.config_hash(op)
    other = gz.normalize.RobustScaler().fit(synthetic_scene(24, 30, seed=9))
    assert pk.config_hash(other) != pk.config_hash(op)  # the hash names the fitted numbers
    assert not jax.tree.leaves(gz.normalize.RobustScaler())  # unfitted: no leaves


def test_two_fits_share_one_compiled_program():
    traces = []

    @eqx.filter_jit
    def run(op, x):
        traces.append(1)
        return op(x)

    gt = scene_with_nodata()
    x = jax.tree.map(jnp.asarray, gt)
    for seed in (1, 2):
        op = gz.normalize.StandardScaler().fit(synthetic_scene(24, 30, seed=seed))
        np.testing.assert_allclose(run(op, x).values, op(gt).values, rtol=1e-5, equal_nan=True)
    assert len(traces) == 1


def test_statistics_are_trainable_gradient_matches_the_formula():
    # d/d center_b of sum(valid outputs) = -count_b / scale_b.
    gt = scene_with_nodata()
    op = gz.normalize.StandardScaler().fit(gt)
    _, valid = valid_columns(gt)
    x = jax.tree.map(jnp.asarray, gt)
    params, static = eqx.partition(op, eqx.is_array)

    def loss(p):
        out = eqx.combine(p, static)(x).values
        return jnp.nansum(out)

    grads = jax.grad(loss)(params)
    want = -valid.sum() / np.asarray(op.scale_array)
    np.testing.assert_allclose(grads.center_array, want, rtol=1e-5)


def test_fit_under_jit_equals_eager_fit():
    gt = scene_with_nodata()
    for op in (gz.normalize.StandardScaler(), gz.normalize.RobustScaler(),
               gz.normalize.MinMaxScaler()):  # fmt: skip
        eager = op.fit(gt)
        traced = eqx.filter_jit(lambda o, x: o.fit(x))(op, jax.tree.map(jnp.asarray, gt))
        np.testing.assert_allclose(traced.center_array, eager.center_array, rtol=1e-5)
        np.testing.assert_allclose(traced.scale_array, eager.scale_array, rtol=1e-5)


def test_save_and_load_carry_the_statistics(tmp_path):
    gt = scene_with_nodata()
    op = pk.Sequential([gz.normalize.MinMaxScaler().fit(gt), gz.normalize.AsinhScale(0.5)])
    loaded = pj.load(pj.save(op, tmp_path / "run"))
    np.testing.assert_array_equal(loaded.ops[0].scale_array, op.ops[0].scale_array)
    np.testing.assert_array_equal(loaded(gt).values, op(gt).values)


def test_unfitted_scaler_raises_a_clear_error():
    with pytest.raises(gz.normalize.NotFittedError, match=r"StandardScaler: not fitted.*\.fit"):
        gz.normalize.StandardScaler()(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="MinMaxScaler: not fitted"):  # a ValueError too
        gz.normalize.MinMaxScaler()(np.ones((1, 2, 2)))


def test_errors_teach():
    op = gz.normalize.StandardScaler().fit(np.ones((2, 3, 3)))
    with pytest.raises(gz.GeotoolzValueError, match=r"fitted on 2 bands.*\(\.\.\., 2, y, x\)"):
        op(np.ones((3, 3, 3)))
    with pytest.raises(gz.GeotoolzValueError, match=r"StandardScaler.fit: band\(s\) \[1\]"):
        gz.normalize.StandardScaler().fit(np.stack([np.ones((2, 2)), np.full((2, 2), np.nan)]))
    with pytest.raises(gz.GeotoolzValueError, match=r"RobustScaler.fit: expects .*band, y, x"):
        gz.normalize.RobustScaler().fit(np.ones((3, 3)))
    with pytest.raises(pk.ConfigError, match="RobustScaler: quantile_range must satisfy"):
        gz.normalize.RobustScaler(quantile_range=(75, 25))
    with pytest.raises(pk.ConfigError, match="MinMaxScaler: feature_range must be finite"):
        gz.normalize.MinMaxScaler(feature_range=(1, 1))
    with pytest.raises(pk.ConfigError, match="StandardScaler: center and scale must be given"):
        gz.normalize.StandardScaler(center=[1.0])
    with pytest.raises(pk.ConfigError, match=r"StandardScaler: scale must be > 0"):
        gz.normalize.StandardScaler(center=[1.0], scale=[0.0])
    with pytest.raises(pk.ConfigError, match="AsinhScale: softening must be a finite number"):
        gz.normalize.AsinhScale(0.0)


def match_histograms_reference(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """skimage.exposure's ``_match_cumulative_cdf`` for one channel (NumPy, float64)."""
    _, src_idx, src_counts = np.unique(source.ravel(), return_inverse=True, return_counts=True)
    ref_values, ref_counts = np.unique(reference.ravel(), return_counts=True)
    src_q = np.cumsum(src_counts) / source.size
    ref_q = np.cumsum(ref_counts) / reference.size
    return np.interp(src_q, ref_q, ref_values)[src_idx].reshape(source.shape)


def test_histogram_match_equals_the_skimage_algorithm_per_band_on_valid_pixels():
    source, ref = scene_with_nodata(3), scene_with_nodata(8)[:, 2:14, 3:19]
    out = gz.normalize.HistogramMatch(ref)(source)
    X_src, valid = valid_columns(source)
    X_ref, _ = valid_columns(ref)
    for b in range(13):
        want = match_histograms_reference(X_src[:, b], X_ref[:, b])
        np.testing.assert_allclose(out.values[b][valid], want, rtol=1e-5)
    assert np.isnan(out.values[:, ~valid]).all()


def test_histogram_match_to_itself_is_the_identity_and_stacks_match_per_image():
    gt = scene_with_nodata()
    op = gz.normalize.HistogramMatch(gt)
    _, valid = valid_columns(gt)
    np.testing.assert_allclose(op(gt).values[:, valid], gt.values[:, valid], rtol=1e-6)
    other = synthetic_scene(24, 30, seed=5)
    stacked = op(gc.stack([other, gt]))
    np.testing.assert_allclose(stacked.values[0], op(other).values, rtol=1e-6)
    np.testing.assert_allclose(stacked.values[1], op(gt).values, rtol=1e-6, equal_nan=True)
    again = pk.loads_yaml(pk.dumps_yaml(op))
    np.testing.assert_array_equal(again.values_array, op.values_array)


def test_asinh_scale_matches_numpy():
    gt = scene_with_nodata()
    _, valid = valid_columns(gt)
    v = np.asarray(gt.values, np.float32)
    out = gz.normalize.AsinhScale(300.0)(gt)
    np.testing.assert_allclose(out.values[:, valid], np.arcsinh(v[:, valid] / 300.0), rtol=1e-6)
    assert np.isnan(out.values[:, ~valid]).all()
    s = np.linspace(10.0, 1000.0, 13)
    per_band = gz.normalize.AsinhScale(list(s))(gt)
    want = np.arcsinh(v / s[:, None, None])
    np.testing.assert_allclose(per_band.values[:, valid], want[:, valid], rtol=1e-6)
