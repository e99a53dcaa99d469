"""pipekit_array.qc: value checks, nodata-aware, with the three policies eager, jitted and vmapped.

Oracles are NumPy formulas on the same arrays (the valid mask built by hand from the fill
value), never the checks' own output.
"""

from __future__ import annotations

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene
from pipekit.qc import QCError, QCWarning

EqxError = eqx.EquinoxRuntimeError


@pytest.fixture
def scene():
    """A (13, 40, 48) uint16 scene; fill 0; two nodata pixels (every band 0)."""
    gt = synthetic_scene(40, 48, seed=7)
    values = np.array(gt.values)
    values[:, 0, 0] = 0
    values[:, 3, 5] = 0
    return gt.replace(values=values, fill_value=0)


def with_values(gt, values, fill):
    return gt.replace(values=values, fill_value=fill)


# -- eager: QCError / QCWarning / log, observed against NumPy --------------------------------


def test_value_range_leaves_the_fill_value_out(scene):
    # 65535 as the fill: every band of those pixels is 65535, far above 10,000.
    v = np.array(scene.values)
    v[:, [0, 3], [0, 5]] = 65535
    op = pa.qc.AssertValueRange(min_val=0, max_val=10_000)
    x = with_values(scene, v, 65535)
    assert op(x) is x
    # The same numbers without a declared fill are data, and out of range.
    with pytest.raises(QCError, match=r"AssertValueRange\(min_val=0, max_val=10000.*value") as e:
        op(with_values(scene, v, None))
    valid = np.ones(v.shape, bool)  # no fill: all valid
    assert e.value.check == "value range" and e.value.operator is op
    assert e.value.observed == {
        "n_outside": int(((v > 10_000) & valid).sum()),  # 2 pixels x 13 bands
        "min": float(v.min()),
        "max": 65535.0,
    }
    assert e.value.observed["n_outside"] == 26


def test_value_range_observed_over_valid_values_only(scene):
    v = np.array(scene.values)
    v[2, 10, 10] = 12_000  # one value above, inside a valid pixel
    with pytest.raises(QCError) as e:
        pa.qc.AssertValueRange(min_val=0, max_val=10_000)(with_values(scene, v, 0))
    valid = ~np.broadcast_to((v == 0).all(axis=0), v.shape)
    assert e.value.observed == {
        "n_outside": 1,
        "min": float(v[valid].min()),
        "max": 12_000.0,
    }


def test_value_range_integer_bounds_are_exact_and_one_sided():
    x = np.array([0, 5, 255], np.uint8)
    assert pa.qc.AssertValueRange(-1, 300)(x) is x  # bounds beyond the dtype: no overflow
    assert pa.qc.AssertValueRange(max_val=255)(x) is x
    with pytest.raises(QCError) as e:
        pa.qc.AssertValueRange(0.5, None)(x)  # 0 < 0.5 although 0 == round(0.5)
    assert e.value.observed["n_outside"] == 1
    with pytest.raises(QCError) as e:
        pa.qc.AssertValueRange(None, 254.9)(x)
    assert e.value.observed == {"n_outside": 1, "min": 0.0, "max": 255.0}
    big = np.array([2**24 + 1], np.int64)  # float32 would round it onto the bound
    with pytest.raises(QCError):
        pa.qc.AssertValueRange(max_val=2**24)(big)


def test_no_nan_counts_nan_elements_and_allow_nodata_accepts_a_declared_nan_fill(scene):
    v = scene.values.astype(np.float32)
    v[:, 1, 1] = np.nan
    v[4, 7, 7] = np.nan
    n_nan = int(np.isnan(v).sum())
    assert n_nan == 13 + 1
    for fill in (float("nan"), None, 0.0):
        with pytest.raises(QCError, match=r"AssertNoNaN.*no NaN element") as e:
            pa.qc.AssertNoNaN()(with_values(scene, v, fill))
        assert (e.value.check, e.value.observed) == ("NaN", n_nan)
    declared = with_values(scene, v, float("nan"))
    assert pa.qc.AssertNoNaN(allow_nodata=True)(declared) is declared
    for fill in (None, 0.0):  # NaN that the carrier does not declare is an error
        with pytest.raises(QCError, match=r"except as the carrier's declared fill"):
            pa.qc.AssertNoNaN(allow_nodata=True)(with_values(scene, v, fill))
    assert pa.qc.AssertNoNaN()(scene) is scene  # integers hold no NaN
    bare = np.array([1.0, np.nan, np.nan])
    with pytest.raises(QCError) as e:
        pa.qc.AssertNoNaN(allow_nodata=True)(bare)
    assert e.value.observed == 2


def test_valid_fraction_counts_pixels_with_data_in_every_band(scene):
    v = scene.values.astype(np.float32)
    v[:, 10:20, :] = np.nan  # 10 rows of 40: nodata in every band
    v[3, 30, :] = np.nan  # one band missing: the pixel is not usable either
    x = with_values(scene, v, float("nan"))
    pixel_nodata = np.isnan(v).any(axis=0)  # fill NaN: the two 0-pixels are data now
    want = 1 - pixel_nodata.mean()
    assert want == pytest.approx((40 * 48 - 10 * 48 - 48) / (40 * 48))
    assert pa.qc.AssertValidFraction(min_valid=want)(x) is x  # exact at the threshold
    with pytest.raises(QCError, match=r"AssertValidFraction\(min_valid=0.8.*valid-pixel") as e:
        pa.qc.AssertValidFraction(min_valid=0.8)(x)
    assert e.value.check == "valid fraction"
    assert e.value.observed == pytest.approx(want, abs=1e-12)
    # uint16 with fill 0: two pixels of 1920 are nodata.
    with pytest.raises(QCError) as e:
        pa.qc.AssertValidFraction(min_valid=1.0)(scene)
    assert e.value.observed == pytest.approx(1 - 2 / 1920)


def test_valid_fraction_threshold_is_exact_for_decimal_fractions():
    x = np.ones((1, 1, 10))
    x[..., 7:] = np.nan  # exactly 0.7 valid; 0.7 * 10 is 7.000000000000001 in floats
    assert pa.qc.AssertValidFraction(0.7)(x) is x
    with pytest.raises(QCError):
        pa.qc.AssertValidFraction(0.71)(x)


def test_valid_fraction_of_a_stack_requires_every_sample(scene):
    import geocatalog as gc

    a = scene.values.astype(np.float32)
    b = a.copy()
    b[:, :30] = np.nan  # 10 of 40 rows valid
    stacked = gc.stack([with_values(scene, a, float("nan")), with_values(scene, b, float("nan"))])
    with pytest.raises(QCError) as e:
        pa.qc.AssertValidFraction(0.5)(stacked)
    assert e.value.observed == pytest.approx(10 / 40)


def test_warn_and_log_and_continue_eagerly(scene, caplog):
    v = np.array(scene.values)
    v[0, 9, 9] = 20_000
    x = with_values(scene, v, 0)
    with pytest.warns(QCWarning, match=r"AssertValueRange.*'n_outside': 1") as rec:
        assert pa.qc.AssertValueRange(0, 10_000, on_error="warn")(x) is x
    assert rec[0].message.check == "value range"
    with caplog.at_level(logging.WARNING, logger="pipekit.qc"):
        assert pa.qc.AssertValueRange(0, 10_000, on_error="log_and_continue")(x) is x
    [record] = [r for r in caplog.records if r.name == "pipekit.qc"]
    assert "'max': 20000.0" in record.getMessage()


# -- under jit and vmap ------------------------------------------------------------------------

FAILING_JAX = [
    (pa.qc.AssertValueRange(min_val=0.0, max_val=1.0), "value range", r"AssertValueRange"),
    (pa.qc.AssertNoNaN(), "NaN", r"AssertNoNaN\(allow_nodata=False"),
    (pa.qc.AssertValidFraction(0.9), "valid fraction", r"AssertValidFraction\(min_valid=0.9"),
]


def bad_input() -> jax.Array:
    """(2, 4, 5) floats: one value 2.0 (> 1), four pixels NaN in band 0 (80 % valid)."""
    x = np.full((2, 4, 5), 0.5, np.float32)
    x[1, 0, 0] = 2.0
    x[0, 3, 1:] = np.nan
    return x


@pytest.mark.parametrize(("op", "check", "name"), FAILING_JAX, ids=lambda v: str(v)[:20])
def test_jitted_raise_is_a_runtime_error_naming_the_check(op, check, name):
    run = eqx.filter_jit(op)
    good = jnp.full((2, 4, 5), 0.5, jnp.float32)
    np.testing.assert_array_equal(np.asarray(run(good)), np.asarray(good))
    with pytest.raises(EqxError, match=rf"{name}.*failed the {check} check"):
        jax.block_until_ready(run(jnp.asarray(bad_input())))
    with pytest.raises(QCError, match=name):  # the same op eagerly: a QCError
        op(bad_input())


@pytest.mark.parametrize(("op", "check", "name"), FAILING_JAX, ids=lambda v: str(v)[:20])
def test_jitted_warn_fires_on_every_run_with_the_concrete_values(op, check, name):
    warn = pk.Operator.from_state({**op.state, "on_error": "warn"})
    run = eqx.filter_jit(warn)
    x = jnp.asarray(bad_input())
    with pytest.warns(QCWarning, match=name) as rec:
        run(x)
        run(x)
        jax.effects_barrier()
    got = [w.message for w in rec if isinstance(w.message, QCWarning)]
    assert len(got) == 2  # one per run, not once per compilation
    eager = pytest.warns(QCWarning)
    with eager as eager_rec:
        warn(bad_input())
    assert got[0].observed == eager_rec[0].message.observed
    assert got[0].check == check and got[0].operator == warn  # rebuilt by filter_jit


def test_jitted_observed_values_equal_numpy():
    x = bad_input()
    with pytest.warns(QCWarning) as rec:
        eqx.filter_jit(pa.qc.AssertValueRange(0, 1, on_error="warn"))(jnp.asarray(x))
        eqx.filter_jit(pa.qc.AssertValidFraction(0.9, on_error="warn"))(jnp.asarray(x))
        jax.effects_barrier()
    valid = ~np.isnan(x)
    assert rec[0].message.observed == {
        "n_outside": int(((x > 1) & valid).sum()),
        "min": float(x[valid].min()),
        "max": float(x[valid].max()),
    }
    assert rec[1].message.observed == pytest.approx(1 - np.isnan(x).any(axis=0).mean())


def test_jitted_log_and_continue_logs_on_every_run(caplog):
    run = eqx.filter_jit(pa.qc.AssertNoNaN(on_error="log_and_continue"))
    x = jnp.asarray(bad_input())
    with caplog.at_level(logging.WARNING, logger="pipekit.qc"):
        for _ in range(3):
            out = run(x)
        jax.effects_barrier()
    records = [r for r in caplog.records if r.name == "pipekit.qc"]
    assert len(records) == 3
    assert "AssertNoNaN" in records[0].getMessage() and "observed 4" in records[0].getMessage()
    np.testing.assert_array_equal(np.asarray(out), bad_input())


def test_vmap_checks_each_sample():
    samples = np.full((4, 2, 3, 3), 5.0, np.float32)
    samples[1, 0, 0, 0] = 50.0
    samples[3, 1, 2, 2] = -1.0
    op = pa.qc.AssertValueRange(0, 10, on_error="warn")
    with pytest.warns(QCWarning) as rec:
        eqx.filter_vmap(op)(jnp.asarray(samples))
        jax.effects_barrier()
    assert sorted(w.message.observed["max"] for w in rec) == [5.0, 50.0]  # samples 1 and 3
    with pytest.raises(EqxError, match=r"AssertValueRange.*value range"):
        jax.block_until_ready(eqx.filter_jit(eqx.filter_vmap(pa.qc.AssertValueRange(0, 10)))(
            jnp.asarray(samples)))  # fmt: skip


def test_jitted_geotensor_with_fill_passes_and_keeps_the_carrier(scene):
    v = np.array(scene.values)
    v[:, 0, 0] = 65535
    x = jax.tree.map(jnp.asarray, with_values(scene, v, 65535))
    out = eqx.filter_jit(pa.qc.AssertValueRange(0, 10_000))(x)
    assert out.transform == scene.transform
    np.testing.assert_array_equal(np.asarray(out.values), v)


# -- config --------------------------------------------------------------------------------


def test_seed_case8_on_fail_names_on_error():
    with pytest.raises(TypeError, match=r"AssertValueRange: argument on_fail= was renamed "
                       r"on_error=; pass on_error='warn' instead"):  # fmt: skip
        pa.qc.AssertValueRange(min_val=0, max_val=10_000, on_fail="warn")
    for build in (lambda: pa.qc.AssertNoNaN(on_fail="warn"),
                  lambda: pa.qc.AssertValidFraction(0.5, on_fail="warn")):  # fmt: skip
        with pytest.raises(TypeError, match="on_fail= was renamed on_error="):
            build()
    op = pa.qc.AssertValueRange(min_val=0, max_val=10_000, on_error="warn")
    assert pk.loads_yaml(pk.dumps_yaml(op)) == op


def test_construction_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"min_val must be <= max_val.*swap"):
        pa.qc.AssertValueRange(5, 1)
    with pytest.raises(pk.ConfigError, match=r"give min_val, max_val or both"):
        pa.qc.AssertValueRange()
    with pytest.raises(pk.ConfigError, match=r"max_val must be a number or None, got '1'"):
        pa.qc.AssertValueRange(0, "1")
    with pytest.raises(pk.ConfigError, match=r"min_valid must be a fraction in \[0, 1\]"):
        pa.qc.AssertValidFraction(50)
    with pytest.raises(pk.ConfigError, match=r"allow_nodata\) expects a bool"):
        pa.qc.AssertNoNaN(allow_nodata="yes")
    with pytest.raises(pk.ConfigError, match=r"'log' was renamed 'log_and_continue'"):
        pa.qc.AssertNoNaN(on_error="log")
