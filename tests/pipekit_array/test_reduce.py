"""``MeanScalar`` / ``nanmean_over`` against ``np.nanmean`` in float64 (the oracle)."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import geocatalog as gc
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene


class Out(NamedTuple):
    mean: Any
    sigma: Any


def oracle(x: np.ndarray, axis: Any = None) -> np.ndarray:
    """``np.nanmean`` in float64, its all-NaN RuntimeWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.asarray(x, np.float64), axis=axis)


def with_nans(shape: tuple[int, ...], seed: int = 0, frac: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=3.0, size=shape).astype(np.float32)
    x[rng.random(shape) < frac] = np.nan
    return x


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (13, 20, 24)])
def test_bare_array_equals_nanmean(shape):
    x = with_nans(shape, seed=len(shape))
    got = pa.MeanScalar()(x)
    assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got, oracle(x), rtol=1e-6, equal_nan=True)


def test_all_nan_gives_nan_without_warnings():
    x = np.full((2, 3, 4), np.nan, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = pa.MeanScalar()(x)
        jitted = jax.jit(pa.MeanScalar())(jnp.asarray(x))
    assert np.isnan(got) and np.isnan(np.asarray(jitted))


def test_infinities_follow_nanmean():
    x = np.array([1.0, np.inf, np.nan], np.float32)
    np.testing.assert_array_equal(pa.MeanScalar()(x), oracle(x))
    y = np.array([np.inf, -np.inf, 2.0], np.float32)
    with np.errstate(invalid="ignore"):  # inf - inf: NumPy's own invalid-value warning
        want, got = oracle(y), pa.MeanScalar()(y)
    np.testing.assert_array_equal(got, want)


def test_stacked_carrier_gives_one_value_per_sample():
    scene = synthetic_scene(32, 40, seed=2)
    values = scene.values.astype(np.float32) / 10_000
    values[:, :6, :9] = np.nan
    scene = scene.replace(values=values)
    chips = [scene[..., r : r + 12, c : c + 16] for r, c in [(0, 0), (4, 3), (20, 24), (1, 1)]]
    chips[3] = chips[3].replace(values=np.full_like(chips[3].values, np.nan))
    batch = gc.stack(chips)
    want = np.stack([oracle(c.values) for c in chips])
    got = pa.MeanScalar()(batch)
    assert isinstance(got, np.ndarray) and got.shape == (4,) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    assert np.isnan(got[3])
    single = pa.MeanScalar()(chips[1])
    assert single.shape == ()
    np.testing.assert_allclose(single, want[1], rtol=1e-6)
    # Under jit, and vmapped over the stack: the same numbers.
    jitted = eqx.filter_jit(lambda op, x: op(x))(pa.MeanScalar(), jax.tree.map(jnp.asarray, batch))
    vmapped = eqx.filter_vmap(lambda x: pa.MeanScalar()(x))(jax.tree.map(jnp.asarray, batch))
    for out in (jitted, vmapped):
        assert isinstance(out, jax.Array) and out.shape == (4,)
        np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6, equal_nan=True)


def test_integer_input_is_reduced_in_float32():
    scene = synthetic_scene(40, 48, seed=7)  # uint16 DN, sums reach ~1e8
    got = pa.MeanScalar()(scene)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, oracle(scene.values), rtol=1e-6)
    jitted = jax.jit(pa.MeanScalar())(jnp.asarray(scene.values))
    np.testing.assert_allclose(np.asarray(jitted), got, rtol=1e-6)


def test_float64_stays_float64():
    x = with_nans((5, 6)).astype(np.float64)
    got = pa.MeanScalar()(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, oracle(x), rtol=1e-12)


def test_field_of_dict_and_namedtuple():
    sigma = with_nans((3, 4, 5), seed=4)
    mean = np.zeros((3, 4, 5), np.float32)
    want = oracle(sigma)
    for out in ({"mean": mean, "sigma": sigma}, Out(mean, sigma)):
        np.testing.assert_allclose(pa.MeanScalar(field="sigma")(out), want, rtol=1e-6)
    with pytest.raises(ValueError, match=r"field='std'.*available: \['mean', 'sigma'\]"):
        pa.MeanScalar(field="std")({"mean": mean, "sigma": sigma})
    with pytest.raises(ValueError, match=r"Out has no such field; available: \['mean', 'sigma'\]"):
        pa.MeanScalar(field="std")(Out(mean, sigma))
    with pytest.raises(TypeError, match=r"field=None.*fields \['mean', 'sigma'\].*field="):
        pa.MeanScalar()({"mean": mean, "sigma": sigma})
    with pytest.raises(TypeError, match=r"field='sigma'.*got a ndarray"):
        pa.MeanScalar(field="sigma")(sigma)


def test_config_validation_and_yaml():
    with pytest.raises(pk.ConfigError, match="MeanScalar: field must be None or the name"):
        pa.MeanScalar(field=3)
    op = pa.MeanScalar(field="sigma")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again == op and pk.config_hash(again) == pk.config_hash(op)
    assert pk.config_hash(op) != pk.config_hash(pa.MeanScalar())


def test_complex_input_is_refused():
    with pytest.raises(TypeError, match="reduces real values"):
        pa.MeanScalar()(np.ones(3, np.complex64))
