"""The one-pass YAML loader against ``yaml.load`` (the reference) and the scan's refusals."""

from __future__ import annotations

import math

import pytest
import yaml

import pipekit as pk
from pipekit._fastload import GiveUp, load_events
from pipekit._sandbox import Limits, SafeLoader

TRUSTED = Limits(max_bytes=None, max_depth=200, max_nodes=None, allow_aliases=True)
STRICT = Limits()
_T = {"max_bytes": None, "allow_aliases": True}

DOCUMENTS = [
    "_target_: pipekit.Identity",
    "a: 1\nb: -2\nc: 0x1F\nd: 1_000\ne: 0o17\nf: +3",
    "a: 1.5\nb: -.inf\nc: .NaN\nd: 1e3\ne: 6.8523015e+5\nf: .5",
    "a: true\nb: False\nc: yes\nd: off\ne: ~\nf: null\ng:\nh: ''",
    "a: '1'\nb: \"true\"\nc: |\n  two\n  lines\nd: >\n  folded\n  text\n",
    "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00",
    "base: &b {x: 1, y: [1, 2]}\nuse: *b\nlist: [*b, *b]",
    "- [1, [2, [3, []]]]\n- {}\n- {k: {j: v}}",
    "? simple\n: key\n1: int key\nnull: null key",
    "a: !!str 12\nb: !!int '7'\nc: !!float '2'\nd: !!seq [1]\ne: !!map {x: 1}",
    "",
    "# only a comment\n",
    "plain",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_data_as_yaml_load(text):
    want = yaml.load(text, Loader=SafeLoader)
    got = load_events(text, TRUSTED)
    assert repr(got) == repr(want)  # repr: NaN compares unequal; types must match too
    if isinstance(want, dict) and "c" in want and isinstance(want["c"], float):
        assert math.isnan(got["c"]) == math.isnan(want["c"])


def test_aliases_share_the_anchored_object():
    data = load_events("a: &x [1]\nb: *x", TRUSTED)
    assert data["a"] is data["b"]


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("a: !!python/object:os.system ls", TRUSTED),  # outside the core schema
        ("a: !custom 1", TRUSTED),
        ("base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2", TRUSTED),  # merge key: reference path
        ("? [1, 2]\n: complex key", TRUSTED),
        ("a: 1\n---\nb: 2", TRUSTED),  # several documents
        ("a: &x 1\nb: *x", STRICT),  # aliases refused by the sandbox limits
        ("a: " + "[" * 60 + "]" * 60, STRICT),  # too deep
        ("[" + ", ".join(["1"] * 20_000) + "]", STRICT),  # too many nodes
        ("a: " + "x" * 2_000_000, STRICT),  # too many bytes
        ("a: b\na: c", TRUSTED),  # a repeated key: the reference path names its line
        ("a: &x [1, *x]", TRUSTED),  # a recursive alias
        ("a: " + "9" * 5000, TRUSTED),  # over Python's 4,300-digit int conversion limit
        ("a: &a [1, 1]\nb: &b [*a, *a]\nc: [*b, *b]", Limits(max_alias_nodes=10, **_T)),
    ],
)
def test_gives_up_where_the_reference_path_must_decide(text, limits):
    with pytest.raises(GiveUp):
        load_events(text, limits)


def test_loaders_still_refuse_and_build_what_they_did():
    with pytest.raises(pk.UntrustedTargetError):
        pk.loads_yaml("_target_: pipekit.Identity\nx: !!python/name:os.system ''")
    with pytest.raises(pk.YAMLLimitError, match="anchors/aliases"):
        pk.loads_yaml_sandboxed("a: &x {_target_: pipekit.Identity}\nb: *x", ["pipekit.Identity"])
    with pytest.raises(pk.YAMLLimitError, match="nesting deeper than 200"):
        pk.loads_yaml("_target_: pipekit.Identity\nx: " + "[" * 250 + "]" * 250)
    with pytest.raises(pk.ConfigError, match="invalid YAML"):
        pk.loads_yaml("_target_: [unclosed")
    merged = pk.loads_yaml_dict(
        "base: &b {_target_: pipekit.Identity}\nother: *b\n"
    )  # trusted loads allow aliases, as yaml.load does
    assert sorted(merged) == ["base", "other"]
