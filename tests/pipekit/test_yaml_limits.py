"""Loader budgets: parameters, alias expansion, duplicate keys, long integers (issue 13)."""

import itertools

import jax
import numpy as np
import pytest

import pipekit as pk
import pipekit._yaml as pk_yaml
import pipekit_jax as pj
from pipekit._fastload import GiveUp

NN = pk.registry.public_operators(include_modules=["pipekit", "pipekit_jax"])

# Nine levels of nine aliases under an operator: 9**9 ~ 3.9e8 strings from 369 bytes
# ("billion laughs"); the loaders used to walk every one of them (25 s in pipekit validate).
_LAUGHS = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
BOMB = "_target_: pipekit.Identity\n" + _LAUGHS


def _mlp_elements(in_f: int, out_f: int, width: int, depth: int) -> int:
    """Weights + biases of a dense MLP, by hand (the oracle)."""
    sizes = [in_f, *[width] * depth, out_f]
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def _reference_parser(monkeypatch):
    def give_up(text, limits):
        raise GiveUp

    monkeypatch.setattr(pk_yaml, "load_events", give_up)


def test_sandbox_refuses_a_huge_network_before_allocating():
    text = "_target_: pipekit_jax.nn.MLP\nin_features: 1\nout_features: 1\nwidth: 1000000\n"
    assert len(text.encode()) < 100
    want = _mlp_elements(1, 1, 10**6, 2)
    assert want == 1_000_004_000_001
    with pytest.raises(pk.YAMLLimitError, match=rf"MLP at <root> holds {want:,} array elements"):
        pk.loads_yaml_sandboxed(text, allowed=NN)


def test_the_budget_names_the_path_and_is_exact():
    mlp = "{_target_: pipekit_jax.nn.MLP, in_features: 3, out_features: 2, width: 8}"
    text = f"_target_: pipekit.Sequential\nops:\n- {{_target_: pipekit.Identity}}\n- {mlp}\n"
    n = _mlp_elements(3, 2, 8, 2)  # 122
    op = pk.loads_yaml_sandboxed(text, allowed=NN, max_parameters=n)
    leaves = [x for x in jax.tree_util.tree_leaves(op) if hasattr(x, "shape")]
    assert sum(x.size for x in leaves) == n  # really built, arrays and all
    assert pk.config_hash(op) == pk.config_hash(pk.loads_yaml(text))
    with pytest.raises(pk.YAMLLimitError, match=rf"MLP at ops\[1\] holds {n} .*at most {n - 1}"):
        pk.loads_yaml_sandboxed(text, allowed=NN, max_parameters=n - 1)
    assert pk.loads_yaml_sandboxed(text, allowed=NN, max_parameters=None).ops[1].width == 8


def test_budgeted_load_gives_the_numbers_of_the_direct_build():
    op = pj.nn.MLP(in_features=3, out_features=2, width=8, seed=3)
    again = pk.loads_yaml_sandboxed(pk.dumps_yaml(op), allowed=NN)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(op(x)))


@pytest.mark.parametrize("parser", ["fast", "reference"])
def test_trusted_loaders_refuse_an_alias_bomb(parser, monkeypatch):
    if parser == "reference":
        _reference_parser(monkeypatch)
    with pytest.raises(pk.YAMLLimitError, match="aliases expand to more than 100,000 nodes"):
        pk.loads_yaml(BOMB)
    with pytest.raises(pk.YAMLLimitError, match="billion laughs"):
        pk.loads_yaml_dict("op:\n" + "".join(f"  {line}\n" for line in BOMB.splitlines()))


@pytest.mark.parametrize("parser", ["fast", "reference"])
def test_a_few_aliases_still_load(parser, monkeypatch):
    if parser == "reference":
        _reference_parser(monkeypatch)
    text = "a: &s {_target_: pipekit.Identity}\nb: *s\nc: *s\n"
    assert sorted(pk.loads_yaml_dict(text)) == ["a", "b", "c"]


def test_a_recursive_alias_is_refused():
    with pytest.raises(pk.YAMLLimitError, match=r"alias \*x at ops\[0\] refers to a collection"):
        pk.loads_yaml("_target_: pipekit.Sequential\nops: &x [*x]\n")


DUPLICATE = (
    "_target_: pipekit.Sequential\nops:\n- _target_: geotoolz.indices.NDVI\n"
    "  red_idx: 2\n  nir_idx: 3\n  red_idx: 4\n"
)


@pytest.mark.parametrize("parser", ["fast", "reference"])
@pytest.mark.parametrize("loader", ["trusted", "dict", "sandboxed"])
def test_duplicate_keys_are_refused_everywhere(parser, loader, monkeypatch):
    if parser == "reference":
        _reference_parser(monkeypatch)
    load = {
        "trusted": pk.loads_yaml,
        "dict": lambda t: pk.loads_yaml_dict("x:\n" + "".join(f"  {ln}\n" for ln in t.split("\n"))),
        "sandboxed": lambda t: pk.loads_yaml_sandboxed(
            t, allowed=["pipekit.Sequential", "geotoolz.indices.NDVI"]
        ),
    }[loader]
    line, first = (7, 5) if loader == "dict" else (6, 4)
    match = rf"duplicate mapping key 'red_idx' at line {line} \(first at line {first}\)"
    with pytest.raises(pk.ConfigError, match=match):
        load(DUPLICATE)


def test_merge_keys_may_still_be_overridden():
    text = "base: &b {_target_: tests.pipekit.helpers.AddConst, value: 1}\n"
    text += "two: {<<: *b, value: 2}\n"
    from .helpers import AddConst

    assert pk.loads_yaml_dict(text)["two"] == AddConst(2)


def test_a_5000_digit_integer_names_its_line():
    text = "_target_: tests.pipekit.helpers.AddConst\nvalue: " + "9" * 5000 + "\n"
    with pytest.raises(pk.ConfigError, match=r"integer of 5,000 digits at line 2"):
        pk.loads_yaml(text)
