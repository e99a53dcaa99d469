"""pipekit.qc: carrier-agnostic checks, the on_error policy, jit/vmap behaviour, config."""

from __future__ import annotations

import logging
import pickle
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk
import pipekit.qc as qc
from geocatalog.testing import synthetic_scene


@pytest.fixture
def scene():
    return synthetic_scene(40, 48, seed=7)


PASSING = [
    qc.AssertShape((13, -1, -1)),
    qc.AssertShape((-1, 40, 48)),
    qc.AssertHasAttribute("crs"),
    qc.AssertHasAttribute("transform"),
    qc.AssertCallable("replace"),
    qc.AssertDType("uint16"),
    qc.AssertDType("unsigned integer"),
    qc.AssertDType("integer"),
    qc.AssertDType("numeric"),
]

# (op, check name, expected observed value) on the (13, 40, 48) uint16 scene.
FAILING = [
    (qc.AssertShape((-1, -1)), "shape", (13, 40, 48)),
    (qc.AssertShape((12, -1, -1)), "shape", (13, 40, 48)),
    (qc.AssertHasAttribute("nodata_mask"), "attribute", "GeoTensor"),
    (qc.AssertCallable("crs"), "callable", None),
    (qc.AssertCallable("missing"), "callable", "GeoTensor without 'missing'"),
    (qc.AssertDType("float32"), "dtype", "uint16"),
    (qc.AssertDType("floating"), "dtype", "uint16"),
]


@pytest.mark.parametrize("op", PASSING, ids=repr)
def test_passing_checks_return_the_same_object(op, scene):
    assert op(scene) is scene
    arr = np.zeros((13, 40, 48), np.uint16)
    if not isinstance(op, qc.AssertHasAttribute | qc.AssertCallable):
        assert op(arr) is arr


@pytest.mark.parametrize(("op", "check", "observed"), FAILING, ids=lambda v: repr(v)[:40])
def test_raise_carries_operator_check_and_observed(op, check, observed, scene):
    with pytest.raises(qc.QCError, match=rf"{type(op).__name__}\(.*\) failed: expected") as info:
        op(scene)
    err = info.value
    assert isinstance(err, pk.PipekitError) and isinstance(err, ValueError)
    assert err.operator is op
    assert err.check == check
    if observed is not None:
        assert err.observed == observed


def test_message_names_expectation_and_observed(scene):
    with pytest.raises(qc.QCError, match=r"expected shape \(\*, \*\); observed \(13, 40, 48\)"):
        qc.AssertShape((-1, -1))(scene)
    with pytest.raises(qc.QCError, match=r"kind 'floating'; observed 'uint16'"):
        qc.AssertDType("floating")(scene)
    with pytest.raises(qc.QCError, match=r"attribute 'crs'; observed 'ndarray'"):
        qc.AssertHasAttribute("crs")(np.zeros(3))


@pytest.mark.parametrize(("op", "check", "observed"), FAILING, ids=lambda v: repr(v)[:40])
def test_warn_mode_emits_qcwarning_and_passes_through(op, check, observed, scene):
    warn = pk.Operator.from_state({**op.state, "on_error": "warn"})
    with pytest.warns(qc.QCWarning, match="failed: expected") as record:
        out = warn(scene)
    assert out is scene
    assert record[0].message.check == check


@pytest.mark.parametrize(("op", "check", "observed"), FAILING, ids=lambda v: repr(v)[:40])
def test_log_mode_logs_a_warning_and_passes_through(op, check, observed, scene, caplog):
    log = pk.Operator.from_state({**op.state, "on_error": "log_and_continue"})
    with caplog.at_level(logging.WARNING, logger="pipekit.qc"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out = log(scene)
    assert out is scene
    [rec] = caplog.records
    assert rec.name == "pipekit.qc" and rec.levelno == logging.WARNING
    assert "failed: expected" in rec.getMessage()


def test_shape_and_dtype_checks_hold_under_jit(scene):
    traced = jax.tree.map(jnp.asarray, scene)
    calls = []

    @eqx.filter_jit
    def run(op, x):
        calls.append(1)
        return op(x)

    ok = pk.Sequential(PASSING)
    out = run(ok, traced)
    np.testing.assert_array_equal(np.asarray(out.values), np.asarray(scene.values))
    run(ok, traced)
    assert len(calls) == 1  # no retrace: the checks are static config
    with pytest.raises(qc.QCError, match="observed"):
        jax.jit(qc.AssertShape((-1, -1)))(jnp.zeros((2, 3, 4)))
    with pytest.raises(qc.QCError, match="observed 'float32'"):
        eqx.filter_jit(qc.AssertDType("integer"))(jnp.zeros(3, jnp.float32))
    with pytest.warns(qc.QCWarning):
        jax.jit(qc.AssertDType("int32", on_error="warn"))(jnp.zeros(3, jnp.float32))


def test_vmap_sees_the_unbatched_shape():
    x = jnp.zeros((5, 3, 4))
    out = jax.vmap(qc.AssertShape((3, 4)))(x)
    assert out.shape == (5, 3, 4)
    with pytest.raises(qc.QCError, match=r"observed \(3, 4\)"):
        jax.vmap(qc.AssertShape((5, 3, 4)))(x)


def test_inputs_without_shape_or_dtype_fail_cleanly():
    with pytest.raises(qc.QCError, match="observed 'list'"):
        qc.AssertShape((2,))([1, 2])
    with pytest.raises(qc.QCError, match="observed 'int'"):
        qc.AssertDType("floating")(3)


@pytest.mark.parametrize("op", PASSING, ids=repr)
def test_config_round_trips_yaml_and_pickle(op, scene):
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again == op and again.state == op.state
    assert pickle.loads(pickle.dumps(op)) == op
    assert again(scene) is scene


def test_config_is_plain_and_normalised():
    assert qc.AssertShape([1, -1]).shape == (1, -1)
    assert qc.AssertDType(np.float32).dtype == "float32"
    assert qc.AssertDType(jnp.dtype("bfloat16")).dtype == "bfloat16"
    assert qc.AssertDType("floating").state == {
        "_target_": "pipekit.qc.AssertDType",
        "dtype": "floating",
        "on_error": "raise",
    }


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: qc.AssertShape((1, -2)), r"int >= 0, or -1 .* got -2"),
        (lambda: qc.AssertShape("abc"), "tuple of ints"),
        (lambda: qc.AssertShape((1.5,)), "got 1.5"),
        (lambda: qc.AssertShape((True,)), "got True"),
        (
            lambda: qc.AssertShape((1,), on_error="ignore"),
            r"AssertShape\(on_error\) expects one of 'raise', 'warn', 'log_and_continue', "
            r"got 'ignore'",
        ),
        (
            lambda: qc.AssertShape((1,), on_error="collect"),
            r"expects one of 'raise', 'warn', 'log_and_continue', got 'collect'",
        ),
        (lambda: qc.AssertHasAttribute("a.b"), "identifier"),
        (lambda: qc.AssertCallable(3), "identifier"),
        (lambda: qc.AssertDType("float33"), r"dtype name .* kinds \['bool'"),
    ],
)
def test_invalid_config_is_refused_with_a_clear_error(build, match):
    with pytest.raises(pk.ConfigError, match=match):
        build()


def test_registered_under_public_paths():
    ops = pk.registry.public_operators(include_modules=["pipekit.qc"])
    assert {"pipekit.qc.AssertShape", "pipekit.qc.AssertDType"} <= set(ops)
    assert "pipekit.qc.AbstractAssertion" not in ops


# ----------------------------------------------------------------------------- old spellings


@pytest.mark.parametrize(
    "build",
    [
        lambda: qc.AssertShape((1,), on_fail="warn"),
        lambda: qc.AssertHasAttribute("crs", on_fail="warn"),
        lambda: qc.AssertCallable("replace", on_fail="warn"),
        lambda: qc.AssertDType("floating", on_fail="warn"),
    ],
)
def test_old_on_fail_keyword_names_on_error(build):
    with pytest.raises(TypeError, match=r"on_fail= was renamed on_error=; pass on_error='warn'"):
        build()


def test_old_log_value_names_log_and_continue():
    with pytest.raises(pk.ConfigError, match=r"'log' was renamed 'log_and_continue'"):
        qc.AssertShape((1,), on_error="log")
    with pytest.raises(TypeError, match=r"pass on_error='log_and_continue' instead"):
        qc.AssertShape((1,), on_fail="log")


@pytest.mark.parametrize(
    "loads",
    [pk.loads_yaml, lambda text: pk.loads_yaml_sandboxed(text, {"pipekit.qc.AssertShape"})],
    ids=["trusted", "sandboxed"],
)
def test_yaml_with_the_old_key_or_value_names_the_new_one(loads):
    old_key = "_target_: pipekit.qc.AssertShape\nshape: [1]\non_fail: warn\n"
    with pytest.raises(pk.ConfigError, match=r"\['on_fail'\].*'on_fail' was renamed 'on_error'"):
        loads(old_key)
    old_value = "_target_: pipekit.qc.AssertShape\nshape: [1]\non_error: log\n"
    with pytest.raises(pk.ConfigError, match=r"'log' was renamed 'log_and_continue'"):
        loads(old_value)


def test_a_check_declaring_the_old_field_is_told_the_new_one():
    with pytest.raises(TypeError, match=r"declares the field 'on_fail', which was renamed 'on_e"):

        class OldStyle(qc.AbstractAssertion):
            on_fail: str = "raise"

            def _check(self, x):
                return None
