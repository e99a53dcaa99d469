"""pipekit.diff: config_diff (structure, alignment, printing) and the AB harness."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import equinox as eqx
import numpy as np
import pytest

import pipekit as pk
from pipekit.diff import AB, ABReport, config_diff, is_multimodal

from .helpers import AddConst


class DarkObjectSubtraction(pk.Operator):
    percentile: float = eqx.field(static=True)

    def _apply(self, x):
        return x - np.percentile(x, self.percentile)


class MatchedFilter(pk.Operator):
    target: str = eqx.field(static=True, default="CH4")

    def _apply(self, x):
        return x


class LeeSpeckle(pk.Operator):
    window: int = eqx.field(static=True)

    def _apply(self, x):
        return x


class RMSE(pk.Operator):
    """Stand-in for pipekit_array.metrics.RMSE: a two-input operator returning a float."""

    def _apply(self, a, b):
        return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def seed_pipelines():
    old = pk.Sequential([DarkObjectSubtraction(1), pk.Identity(), MatchedFilter()])
    new = pk.Sequential(
        [DarkObjectSubtraction(2), pk.Identity(), LeeSpeckle(window=5), MatchedFilter()]
    )
    return old, new


# -- config_diff -----------------------------------------------------------------------------


def test_seed_example_reports_exactly_two_changes_and_prints_the_seed_lines():
    old, new = seed_pipelines()
    diff = config_diff(old, new)
    assert str(diff) == (
        "- DarkObjectSubtraction.percentile: 1\n"
        "+ DarkObjectSubtraction.percentile: 2\n"
        "+ LeeSpeckle (added before MatchedFilter): {window: 5}"
    )
    changed, added = diff.changes
    assert (changed.kind, changed.path, changed.operator, changed.param) == (
        "changed",
        "ops[0].percentile",
        "DarkObjectSubtraction",
        "percentile",
    )
    assert (changed.old, changed.new) == (1, 2)
    assert (added.kind, added.path, added.operator, added.position) == (
        "added",
        "ops[2]",
        "LeeSpeckle",
        2,
    )
    assert (added.before, added.after) == ("MatchedFilter", "Identity")
    assert added.new["window"] == 5 and added.old is None


def test_state_dicts_and_yaml_loaded_configs_give_the_same_diff():
    old, new = seed_pipelines()
    assert config_diff(old.state, new.state) == config_diff(old, new)
    assert str(config_diff(pk.loads_yaml(pk.dumps_yaml(old)), new)) == str(config_diff(old, new))


def test_identical_configs_give_an_empty_falsy_diff():
    old, _ = seed_pipelines()
    diff = config_diff(old, pk.loads_yaml(pk.dumps_yaml(old)))
    assert not diff and len(diff) == 0 and str(diff) == ""
    assert diff.to_dict() == {"changes": []}


def long_pipe(values):
    return pk.Sequential([AddConst(v) for v in values])


def test_insert_and_remove_in_the_middle_of_a_long_sequence():
    base = list(range(20))
    inserted = config_diff(long_pipe(base), long_pipe([*base[:10], 99, *base[10:]]))
    [c] = inserted.changes
    assert (c.kind, c.path, c.position, c.new["value"]) == ("added", "ops[10]", 10, 99.0)
    removed = config_diff(long_pipe(base), long_pipe(base[:7] + base[8:]))
    [c] = removed.changes
    assert (c.kind, c.path, c.position, c.old["value"]) == ("removed", "ops[7]", 7, 7.0)
    assert str(removed) == "- AddConst (removed before AddConst): {value: 7.0}"


def test_insert_plus_change_after_the_insertion_point():
    old = pk.Sequential([AddConst(1), LeeSpeckle(3), MatchedFilter("CH4"), AddConst(4)])
    new = pk.Sequential(
        [AddConst(1), LeeSpeckle(3), DarkObjectSubtraction(5), MatchedFilter("CO2"), AddConst(4)]
    )
    kinds = [(c.kind, c.path) for c in config_diff(old, new)]
    assert kinds == [("added", "ops[2]"), ("changed", "ops[3].target")]


def test_replaced_step_is_a_removal_and_an_addition():
    old = pk.Sequential([AddConst(1), LeeSpeckle(3), AddConst(2)])
    new = pk.Sequential([AddConst(1), MatchedFilter(), AddConst(2)])
    assert [(c.kind, c.operator) for c in config_diff(old, new)] == [
        ("removed", "LeeSpeckle"),
        ("added", "MatchedFilter"),
    ]


def test_nested_sequentials_are_aligned_inside():
    inner_old = pk.Sequential([AddConst(1), AddConst(2)])
    inner_new = pk.Sequential([AddConst(1), LeeSpeckle(7), AddConst(3)])
    old = pk.Sequential([MatchedFilter(), inner_old])
    new = pk.Sequential([MatchedFilter(), inner_new])
    diff = config_diff(old, new)
    assert [(c.kind, c.path) for c in diff] == [
        ("added", "ops[1].ops[1]"),
        ("changed", "ops[1].ops[2].value"),
    ]
    assert str(diff).splitlines()[0] == "+ LeeSpeckle (added before AddConst): {window: 7}"


def graph(bits, extra: bool):
    x = pk.Input("scene")
    y = MatchedFilter()(x)
    if extra:
        y = LeeSpeckle(window=5)(y)
    out = DarkObjectSubtraction(bits)(y)
    return pk.Graph(inputs={"scene": x}, outputs={"out": out})


def test_graph_configs_diff_by_node():
    diff = config_diff(graph(1, extra=False), graph(2, extra=True))
    got = [(c.kind, c.path, c.operator, c.param) for c in diff]
    assert got == [
        ("added", "nodes.lee_speckle", "LeeSpeckle", None),
        ("changed", "nodes.dark_object_subtraction.op.percentile", "DarkObjectSubtraction",
         "percentile"),
        ("changed", "nodes.dark_object_subtraction.args", "DarkObjectSubtraction", "args"),
    ]  # fmt: skip
    added = diff.changes[0]
    assert (added.before, added.after, added.position) == (
        "dark_object_subtraction",
        "matched_filter",
        1,
    )
    assert str(diff).splitlines()[0] == (
        "+ LeeSpeckle (added before dark_object_subtraction): {window: 5}"
    )
    assert not config_diff(graph(1, False), graph(1, False))


def test_added_and_removed_parameters_and_root_replacement():
    old = {"_target_": "a.Op", "x": 1}
    new = {"_target_": "a.Op", "x": 1, "y": [1, 2]}
    [c] = config_diff(old, new).changes
    assert (c.kind, c.param, c.new) == ("added", "y", [1, 2])
    assert str(config_diff(new, old)) == "- Op.y: [1, 2] (removed)"
    [c] = config_diff(old, {"_target_": "b.Other"}).changes
    assert (c.kind, c.path) == ("changed", "<root>")


def test_same_class_changed_twice_is_disambiguated_by_path():
    diff = config_diff(long_pipe([1, 2, 3]), long_pipe([1, 5, 6]))
    assert str(diff).splitlines() == [
        "- AddConst@ops[1].value: 2.0",
        "+ AddConst@ops[1].value: 5.0",
        "- AddConst@ops[2].value: 3.0",
        "+ AddConst@ops[2].value: 6.0",
    ]


def test_to_dict_is_json_and_bad_input_is_refused():
    old, new = seed_pipelines()
    data = config_diff(old, new).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["changes"][1]["before"] == "MatchedFilter"
    with pytest.raises(TypeError, match="expects an Operator or its state dict"):
        config_diff("a: 1", old)


# -- AB --------------------------------------------------------------------------------------


def numpy_rmse(a, b):
    return np.sqrt(np.mean((a - b) ** 2))


def samples(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 5)) for _ in range(n)]


def test_ab_values_match_an_independent_numpy_rmse():
    xs = samples()
    old, new = pk.Identity(), AddConst(0.5) | pk.Lambda(np.tanh)
    report = AB(old, new, metric=RMSE()).run(xs)
    want = [numpy_rmse(x, np.tanh(x + 0.5)) for x in xs]
    np.testing.assert_allclose(report.values, want, rtol=1e-12)
    assert report.sample_ids == tuple(range(len(xs)))
    assert report.metric == "RMSE"


def test_summary_matches_numpy():
    xs = samples(41)
    report = AB(pk.Identity(), pk.Lambda(np.tanh), metric=RMSE()).run(xs)
    v = np.array([numpy_rmse(x, np.tanh(x)) for x in xs])
    s = report.summary(tolerance=0.1)
    assert s["n"] == 41 and s["n_nonfinite"] == 0
    np.testing.assert_allclose(s["mean"], np.mean(v))
    np.testing.assert_allclose(s["median"], np.median(v))
    np.testing.assert_allclose(s["p95"], np.percentile(v, 95))
    np.testing.assert_allclose(s["max"], np.max(v))
    assert s["fraction_above_tolerance"] == pytest.approx(np.mean(v > 0.1))
    assert s["multimodal"] is False
    assert json.loads(json.dumps(report.to_dict()))["summary"] == report.summary()


def test_ids_from_mapping_or_pairs_and_parallel_executor():
    xs = samples(6)
    ab = AB(pk.Identity(), AddConst(1.0), metric=RMSE())
    by_map = ab.run({f"tile_{i}": x for i, x in enumerate(xs)})
    by_pairs = ab.run(((f"tile_{i}", x) for i, x in enumerate(xs)), with_ids=True)
    with ThreadPoolExecutor(2) as pool:
        parallel = AB(pk.Identity(), AddConst(1.0), metric=RMSE(), parallel=pool).run(xs)
    assert by_map.sample_ids == by_pairs.sample_ids == tuple(f"tile_{i}" for i in range(6))
    np.testing.assert_allclose(by_map.values, 1.0)
    np.testing.assert_array_equal(by_pairs.values, parallel.values)
    with pytest.raises(ValueError, match=r"\(sample_id, input\) pairs; item 0"):
        ab.run(xs, with_ids=True)
    with pytest.raises(ValueError, match="no samples"):
        ab.run([])
    with pytest.raises(TypeError, match=r"\.map\(fn, items\)"):
        AB(pk.Identity(), pk.Identity(), metric=RMSE(), parallel=object())


class _FailOnNegative(pk.Operator):
    """``x + 1``, raising on an input whose first value is negative."""

    def _apply(self, x):
        if float(np.asarray(x).ravel()[0]) < 0:
            raise ValueError("negative sample")
        return x + 1.0


def test_ab_runs_through_a_pipekit_map_and_a_failed_sample_is_nan(caplog):
    """One executor contract: pipekit.parallel maps are diff's executors (Mapper = alias)."""
    assert pk.diff.Mapper is pk.parallel.Executor
    assert isinstance(pk.parallel.ThreadMap(2), pk.diff.Mapper)
    xs = [np.full(4, 1.0), np.full(4, -1.0), np.full(4, 2.0)]
    executor = pk.parallel.ThreadMap(2, on_error="collect")
    with caplog.at_level("WARNING", logger="pipekit.diff"):
        report = AB(pk.Identity(), _FailOnNegative(), metric=RMSE(), parallel=executor).run(xs)
    # RMSE of x against x + 1 is 1 (NumPy oracle); the failed sample is NaN, counted above
    # tolerance and non-finite.
    np.testing.assert_allclose(report.values[[0, 2]], np.sqrt(np.mean(np.ones(4))))
    assert np.isnan(report.values[1])
    assert report.summary()["n_nonfinite"] == 1
    assert report.summary(tolerance=2.0)["fraction_above_tolerance"] == pytest.approx(1 / 3)
    assert "sample 1 failed" in caplog.text and "negative sample" in caplog.text


def test_multimodal_flag_on_bimodal_and_unimodal_samples():
    rng = np.random.default_rng(1)
    unimodal = rng.normal(1.0, 0.1, size=500)
    bimodal = np.concatenate([rng.normal(0.01, 0.002, 350), rng.normal(2.0, 0.1, 150)])
    skewed = rng.exponential(1.0, size=500)
    assert not is_multimodal(unimodal) and not is_multimodal(skewed)
    assert is_multimodal(bimodal)
    assert not is_multimodal(bimodal[:9])  # too few samples to say
    few_outliers = np.concatenate([unimodal, [50.0] * 10])  # 2% far away: a tail, not a mode
    assert not is_multimodal(few_outliers)
    report = ABReport(tuple(range(500)), bimodal, "RMSE")
    assert report.summary()["multimodal"] is True
    text = str(report)
    assert "multimodal: yes" in text and text.startswith("A/B report: RMSE over 500 sample(s)")


def test_nonfinite_metric_values_count_as_regressions():
    report = ABReport(("a", "b", "c"), np.array([0.0, np.nan, 1.0]), "m")
    s = report.summary(tolerance=0.5)
    assert s["n_nonfinite"] == 1 and s["mean"] == 0.5
    assert s["fraction_above_tolerance"] == pytest.approx(2 / 3)
    assert report.worst(2)[0][0] == "b"


# -- what a config sets, not its defaults ------------------------------------------------------


def test_added_and_removed_operators_print_only_their_non_default_arguments():
    import geotoolz as gz

    old = pk.Sequential([gz.radiometry.PercentileClip(p_min=2, p_max=98), gz.indices.NDVI(2, 3)])
    new = pk.Sequential(
        [
            gz.radiometry.PercentileClip(p_min=1, p_max=98),
            gz.sar.LeeSpeckle(window=5),
            gz.indices.NDVI(2, 3),
        ]
    )
    diff = config_diff(old, new)
    # LeeSpeckle's enl=None and PercentileClip's axis/method defaults are not printed.
    assert str(diff) == (
        "- PercentileClip.p_min: 2.0\n"
        "+ PercentileClip.p_min: 1.0\n"
        "+ LeeSpeckle (added before NDVI): {window: 5}"
    )
    assert diff.changes[1].new == {"_target_": "geotoolz.sar.LeeSpeckle", "window": 5, "enl": None}
    back = config_diff(new, old)
    assert str(back).splitlines()[-1] == "- LeeSpeckle (removed before NDVI): {window: 5}"
    # All defaults: nothing set; a set default-typed value (enl) and a nested op show.
    nested = pk.Sequential([old, pk.Sequential([gz.sar.LeeSpeckle(enl=4.0)])])
    assert str(config_diff(pk.Sequential([old]), nested)) == (
        "+ Sequential (added after Sequential): {ops: [LeeSpeckle{enl: 4.0}]}"
    )
    plain = pk.Sequential([gz.indices.NDVI(2, 3)])
    added = config_diff(plain, pk.Sequential([gz.sar.LeeSpeckle(), gz.indices.NDVI(2, 3)]))
    assert str(added) == "+ LeeSpeckle (added before NDVI): {}"
    tupled = pk.Sequential([gz.radiometry.PercentileClip(axis=(-2, -1)), gz.indices.NDVI(2, 3)])
    assert str(config_diff(plain, tupled)) == "+ PercentileClip (added before NDVI): {}"
