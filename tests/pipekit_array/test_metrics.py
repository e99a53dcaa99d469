"""pipekit_array.metrics against NumPy formulas and scipy.stats.pearsonr, nodata left out."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import geocatalog as gc
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene

METRICS = ["RMSE", "MAE", "Bias", "Correlation", "R2"]


def oracle(name: str, r: np.ndarray, p: np.ndarray) -> float:
    """The textbook formula in float64 over the pairs where both are finite."""
    ok = np.isfinite(r) & np.isfinite(p)
    r, p = r[ok].astype(np.float64), p[ok].astype(np.float64)
    if name == "RMSE":
        return float(np.sqrt(np.mean((p - r) ** 2)))
    if name == "MAE":
        return float(np.mean(np.abs(p - r)))
    if name == "Bias":
        return float(np.mean(p - r))
    if name == "Correlation":
        return float(stats.pearsonr(r, p).statistic)
    return float(1 - np.sum((r - p) ** 2) / np.sum((r - r.mean()) ** 2))


def pair(seed: int = 0, shape=(3, 40, 50)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    r = rng.gamma(2.0, 0.1, size=shape).astype(np.float32)
    p = (0.9 * r + rng.normal(0.01, 0.02, size=shape)).astype(np.float32)
    r[0, :5, :5] = np.nan
    p[1, 10, 10:20] = np.nan
    return r, p


@pytest.mark.parametrize("name", METRICS)
def test_metrics_equal_the_formulas_eager_and_jit(name):
    r, p = pair()
    metric = getattr(pa.metrics, name)()
    got = metric(r, p)
    assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(float(got), oracle(name, r, p), rtol=2e-5)
    jitted = jax.jit(metric)(jnp.asarray(r), jnp.asarray(p))
    np.testing.assert_allclose(float(jitted), float(got), rtol=2e-5)


@pytest.mark.parametrize("name", METRICS)
def test_nodata_pixels_of_either_carrier_are_left_out(name):
    gt = synthetic_scene(32, 40, seed=3)
    dn = np.array(gt.values)
    dn[:, :, :4] = 0  # a nodata edge in the reference (every band at fill 0)
    ref = gt.replace(values=dn)
    pred = gt.replace(values=(np.asarray(gt.values) // 2 + 7).astype(np.uint16))
    r = np.where((dn == 0).all(axis=0), np.nan, dn.astype(np.float64))
    p = np.asarray(pred.values, np.float64)
    got = getattr(pa.metrics, name)()(ref, pred)
    np.testing.assert_allclose(float(got), oracle(name, r, p), rtol=2e-5)


def test_stacked_carriers_give_one_value_per_sample_and_vmap_agrees():
    a, b = synthetic_scene(24, 24, seed=1), synthetic_scene(24, 24, seed=2)
    ref = gc.stack([a, b])
    pred = ref.replace(values=(np.asarray(ref.values) // 3).astype(np.uint16))
    got = pa.metrics.RMSE()(ref, pred)
    assert got.shape == (2,)
    for i, s in enumerate((a, b)):
        v = np.asarray(s.values, np.float64)
        np.testing.assert_allclose(got[i], oracle("RMSE", v, np.floor(v / 3)), rtol=2e-5)
    vm = eqx.filter_vmap(lambda x, y: pa.metrics.RMSE()(x, y))(
        jax.tree.map(jnp.asarray, ref), jax.tree.map(jnp.asarray, pred)
    )
    np.testing.assert_allclose(np.asarray(vm), got, rtol=2e-5)


def test_edge_cases_and_errors():
    const = np.ones((4, 4), np.float32)
    assert np.isnan(
        pa.metrics.Correlation()(const, np.arange(16.0, dtype=np.float32).reshape(4, 4))
    )
    assert np.isnan(pa.metrics.R2()(const, const))
    all_nan = np.full((2, 2), np.nan, np.float32)
    assert np.isnan(pa.metrics.RMSE()(all_nan, const[:2, :2]))
    with pytest.raises(pa.metrics.MetricShapeError, match=r"RMSE\(reference, prediction\).*"
                       r"reference \(4, 4\) and prediction \(2, 2\)"):  # fmt: skip
        pa.metrics.RMSE()(const, const[:2, :2])


def test_ab_with_rmse_and_yaml_round_trip():
    old = pk.Identity()
    new = pk.Sequential([pk.Identity()])
    samples = [pair(s)[0] for s in range(3)]
    report = pk.diff.AB(old, new, metric=pa.metrics.RMSE()).run(samples)
    np.testing.assert_array_equal(report.values, [0.0, 0.0, 0.0])
    again = pk.loads_yaml(pk.dumps_yaml(pa.metrics.Bias()))
    assert type(again) is pa.metrics.Bias
