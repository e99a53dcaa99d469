"""``nanpercentile`` against ``np.nanpercentile`` (the oracle), eager and under jit/vmap."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Float

import pipekit_array._percentile_select as select_engine
from pipekit_array import nanpercentile
from pipekit_array._percentile_select import _linear_position

JAX_METHODS = ("radix", "host", "auto")
Q_SEQ = (0.0, 2.0, 50.0, 98.0, 100.0)


def oracle(x: np.ndarray, q, axis) -> np.ndarray:
    """``np.nanpercentile`` with its warnings (All-NaN slice, inf - inf) silenced."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(x, q, axis=axis)


def scene(kind: str, shape=(3, 24, 20), dtype=np.float32, seed: int = 0) -> np.ndarray:
    """Test images; 'kind' names the difficulty."""
    rng = np.random.default_rng(seed)
    if kind == "ties":  # integer-valued like uint16 DN: many equal neighbours
        x = rng.integers(0, 12, size=shape).astype(dtype)
    else:
        x = rng.normal(size=shape).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan
    if kind == "all_nan_band":
        x[1] = np.nan
    elif kind == "single_valid":
        x[0] = np.nan
        x[0, 3, 4] = 7.5
    elif kind == "inf":
        x[0, :2] = np.inf
        x[0, 2, :5] = -np.inf
        x[1] = np.where(rng.random(shape[1:]) < 0.5, np.inf, -np.inf)
    elif kind == "signed_zero":
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0).astype(dtype)
        x[:, 0, 0] = 1.0
    return x


KINDS = ("normal", "ties", "all_nan_band", "single_valid", "inf", "signed_zero")
AXES = ((-2, -1), -1, (0,), 1, (0, 2))


def assert_close(got, ref, data: np.ndarray) -> None:
    """Exact selection, interpolation in float32: 1e-6 of the finite data range."""
    finite = data[np.isfinite(data)]
    scale = float(finite.max() - finite.min()) if finite.size else 1.0
    np.testing.assert_allclose(np.asarray(got), ref, rtol=0, atol=1e-6 * max(scale, 1.0))


# --- NumPy path: equal to np.nanpercentile, bit for bit and dtype for dtype ---------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("q", [Q_SEQ, 2.0, 50, [98.0]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_path_equals_numpy(kind, axis, q, dtype):
    x = scene(kind, dtype=dtype)
    ref = oracle(x, q, axis)
    got = nanpercentile(x, q, axis=axis)
    assert type(got) is type(ref) and got.shape == ref.shape
    if got.dtype != ref.dtype:
        # NumPy quirk we do not copy: np.apply_along_axis takes the dtype of the
        # first slice's result, so an all-NaN first slice makes NumPy return
        # float32 (rounding every other result) where float64 is otherwise due.
        first = ref.reshape(len(q), -1)[:, 0] if isinstance(q, tuple | list) else ref.flat[0]
        assert np.isnan(first).all() and (got.dtype, ref.dtype) == (np.float64, np.float32)
        got = got.astype(ref.dtype)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("kind", ["normal", "ties", "inf"])
@pytest.mark.parametrize("equal_nan_counts", [False, True])
def test_numpy_path_long_rows_partition(kind, equal_nan_counts, monkeypatch):
    # Rows longer than the sort threshold take the partition path (the threshold is
    # lowered so that small rows take it); equal NaN counts make rows share one
    # vectorised partition.
    monkeypatch.setattr(select_engine, "_NUMPY_SORT_MAX_LENGTH", 1000)
    x = scene(kind, shape=(4, 100, 120))
    if equal_nan_counts:
        x[:] = x[0]
    ref = oracle(x, Q_SEQ, (-2, -1))
    np.testing.assert_array_equal(nanpercentile(x, Q_SEQ), ref)
    np.testing.assert_array_equal(nanpercentile(x, 37.5), oracle(x, 37.5, (-2, -1)))


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int64])
def test_numpy_path_integers(dtype):
    x = np.random.default_rng(3).integers(0, 1000, size=(3, 9000)).astype(dtype)
    ref = oracle(x, Q_SEQ, -1)
    got = nanpercentile(x, Q_SEQ, axis=-1)
    assert got.dtype == ref.dtype == np.float64
    np.testing.assert_array_equal(got, ref)


def test_numpy_path_all_nan_does_not_warn():
    # pytest turns warnings into errors, so merely returning proves no warning escaped.
    x = np.full((2, 5, 5), np.nan, np.float32)
    assert np.isnan(nanpercentile(x, (2, 98))).all()
    assert np.isnan(nanpercentile(np.zeros((2, 0)), 50.0, axis=-1)).all()


def test_numpy_path_does_not_modify_input():
    x = scene("normal", shape=(2, 100, 100))
    before = x.copy()
    nanpercentile(x, Q_SEQ)
    np.testing.assert_array_equal(x, before)


# --- JAX path: exact selection under jit, vmap and grad ------------------------------------


@pytest.mark.parametrize("method", JAX_METHODS)
@pytest.mark.parametrize("axis", AXES)
def test_jit_matches_numpy(method, axis):
    f = jax.jit(lambda a: nanpercentile(a, Q_SEQ, axis=axis, method=method))
    for kind in KINDS:  # one compilation serves every kind: same shape and dtype
        x = scene(kind)
        got = f(jnp.asarray(x))
        assert got.dtype == jnp.float32
        assert_close(got, oracle(x, Q_SEQ, axis), x)


@pytest.mark.parametrize("method", JAX_METHODS)
@pytest.mark.parametrize("shape", [(3, 5, 9), (2, 30, 40), (70, 33), (80, 300)])
def test_jit_sizes_and_scalar_q(method, shape):
    # Covers short rows (sorted), long rows (radix) and > 64 rows (vectorised).
    x = scene("ties", shape=shape, seed=5) + scene("normal", shape=shape, seed=6) / 64
    axis = -1 if len(shape) == 2 else (-2, -1)
    got = eqx.filter_jit(nanpercentile)(jnp.asarray(x), 2.0, axis, method=method)
    assert got.shape == shape[:1]
    assert_close(got, oracle(x, 2.0, axis), x)


@pytest.mark.parametrize("method", JAX_METHODS)
def test_unsorted_and_repeated_q(method):
    q = (98.0, 2.0, 50.0, 50.0, 2.0)  # ranks sharing digits share a histogram slot
    x = scene("ties", seed=7)
    np.testing.assert_array_equal(nanpercentile(x, q), oracle(x, q, (-2, -1)))
    got = jax.jit(lambda a: nanpercentile(a, q, method=method))(jnp.asarray(x))
    assert isinstance(got, Float[jax.Array, "q band"]) and got.shape == (5, 3)
    assert_close(got, oracle(x, q, (-2, -1)), x)


@pytest.mark.parametrize("method", ["radix", "host"])
def test_jax_float64_input_is_selected_in_float32(method):
    x = scene("normal", dtype=np.float64)
    got = jax.jit(lambda a: nanpercentile(a, Q_SEQ, method=method))(jnp.asarray(x))
    x32 = x.astype(np.float32)
    assert_close(got, oracle(x32, Q_SEQ, (-2, -1)), x32)


@pytest.mark.parametrize("method", ["radix", "host"])
def test_jax_x64_float64_exact(method):
    x = scene("ties", dtype=np.float64) + scene("normal", dtype=np.float64) / 64
    with jax.enable_x64(True):
        got = jax.jit(lambda a: nanpercentile(a, Q_SEQ, method=method))(jnp.asarray(x))
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(got), oracle(x, Q_SEQ, (-2, -1)), rtol=1e-14)


@pytest.mark.parametrize("dtype", [jnp.uint16, jnp.int32, jnp.float16, jnp.bfloat16])
def test_jax_other_dtypes(dtype):
    # Casting happens before either kernel runs (both see float32), so one
    # method suffices here.
    x = np.random.default_rng(4).integers(0, 1000, size=(2, 16, 16)).astype(np.float32)
    got = jax.jit(lambda a: nanpercentile(a, Q_SEQ, method="host"))(jnp.asarray(x, dtype))
    out_dtype = dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.float32
    assert got.dtype == out_dtype
    ref = oracle(np.asarray(jnp.asarray(x, dtype).astype(jnp.float32)), Q_SEQ, (-2, -1))
    rtol = 1e-6 if out_dtype == jnp.float32 else 1e-2  # half precision rounds the result
    np.testing.assert_allclose(np.asarray(got, np.float32), ref, rtol=rtol)


@pytest.mark.parametrize("method", JAX_METHODS)
def test_vmap_equals_batched_call(method):
    x = jnp.asarray(np.stack([scene(k, seed=i) for i, k in enumerate(KINDS)]))
    f = jax.jit(jax.vmap(lambda a: nanpercentile(a, (2.0, 98.0), method=method)))
    batched = nanpercentile(x, (2.0, 98.0), method=method)  # (q, batch, band)
    np.testing.assert_allclose(f(x), jnp.moveaxis(batched, 1, 0), rtol=1e-6)
    assert_close(batched, oracle(np.asarray(x), (2.0, 98.0), (-2, -1)), np.asarray(x))


@pytest.mark.parametrize("method", JAX_METHODS)
def test_grad_treats_thresholds_as_constants(method):
    x = jnp.asarray(scene("normal", seed=9))
    x = jnp.nan_to_num(x)

    def loss(a, thresholds=None):
        lo, hi = nanpercentile(a, (2.0, 98.0), method=method) if thresholds is None else thresholds
        return jnp.sum(jnp.clip(a, lo[:, None, None], hi[:, None, None]) ** 2)

    constants = tuple(jnp.asarray(t) for t in oracle(np.asarray(x), (2.0, 98.0), (-2, -1)))
    grad = jax.jit(jax.grad(loss))(x)
    np.testing.assert_allclose(grad, jax.grad(loss)(x, constants), rtol=1e-6)
    inside = (np.asarray(x) > constants[0][:, None, None]) & (
        np.asarray(x) < constants[1][:, None, None]
    )
    np.testing.assert_allclose(np.asarray(grad)[~inside], 0.0)


@pytest.mark.parametrize("method", ["radix", "host"])
def test_unused_bands_are_dropped_by_jit(method):
    # The per-band sub-computations let XLA delete the bands nobody reads.
    x = jnp.zeros((6, 16, 16), jnp.float32)

    def count(f, op):
        return jax.jit(f).lower(x).compile().as_text().count(op)

    op = "custom-call" if method == "host" else "scatter("
    full = count(lambda a: nanpercentile(a, (2.0, 98.0), method=method), op)
    two = count(lambda a: nanpercentile(a, (2.0, 98.0), method=method)[:, 2:4], op)
    assert full >= 6 and two * 6 == full * 2


def test_no_recompile_on_second_call():
    traces = []

    @jax.jit
    def f(a):
        traces.append(a.shape)
        return nanpercentile(a, (2.0, 98.0))

    f(jnp.asarray(scene("normal", seed=1)))
    f(jnp.asarray(scene("ties", seed=2)))
    assert len(traces) == 1


def test_empty_inputs():
    got = jax.jit(nanpercentile, static_argnums=(1, 2))(jnp.zeros((0, 4)), (2.0, 98.0), -1)
    assert got.shape == (2, 0)
    assert jnp.isnan(nanpercentile(jnp.zeros((3, 0)), 50.0, axis=-1)).all()


# --- The float32 position h = (n - 1) * q / 100 ------------------------------------------


@pytest.mark.parametrize("q", [2.0, 37.5, 50.0, 98.0, 99.99, 1e-3, 100 / 3])
def test_float32_position_is_exact(q):
    fraction = float(np.float64(q) / 100.0)
    last = np.array([0, 1, 7, 999, 4_194_303, 16_777_215, 123_456_789, 2**31 - 2], np.int32)
    lower, upper, gamma = jax.jit(lambda m: _linear_position(m, fraction, jnp.float32))(last)
    for m, k, k1, g in zip(
        last.tolist(), lower.tolist(), upper.tolist(), gamma.tolist(), strict=True
    ):
        h = Fraction(m) * Fraction(fraction)  # exact rational position
        whole = min(math.floor(h), m)
        assert (k, k1) == (whole, min(whole + 1, m))
        if whole < m:
            assert abs(g - float(h - whole)) <= 2e-7


# --- Argument errors -----------------------------------------------------------------------


def test_errors_teach():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"every q in \[0, 100\], got q=\(2, 150\)"):
        nanpercentile(x, (2, 150))
    with pytest.raises(ValueError, match=r"method='median'; expected one of"):
        nanpercentile(x, 2.0, method="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"axis=5 for an array with 3 dimensions"):
        nanpercentile(x, 2.0, axis=5)
    with pytest.raises(ValueError, match="distinct axes"):
        nanpercentile(x, 2.0, axis=(1, -2))
    with pytest.raises(TypeError, match=r"real .* got dtype complex64"):
        nanpercentile(x.astype(np.complex64), 2.0)
    with pytest.raises(TypeError, match="q as Python numbers"):
        jax.jit(lambda a, q: nanpercentile(a, q))(jnp.asarray(x), 2.0)
