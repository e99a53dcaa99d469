"""Loaders key built objects by tuple paths and place construction errors (issue 13)."""

import numpy as np
import pytest

import pipekit as pk
import pipekit._yaml as pk_yaml
import pipekit_jax as pj
from pipekit._fastload import GiveUp

from .helpers import AddConst


class Negate(pk.Operator):
    """-x: an argument-free operator, so a mix-up of targets builds silently."""

    def _apply(self, x):
        return -x


ALLOWED = [pk.registry.target_name(c) for c in (pk.Graph, pj.Checkpoint, pk.Identity, Negate)]


def _reference_parser(monkeypatch):
    """Make the fast event loader give up, so the scan + ``yaml.load`` path parses."""

    def give_up(text, limits):
        raise GiveUp

    monkeypatch.setattr(pk_yaml, "load_events", give_up)


@pytest.mark.parametrize("parser", ["fast", "reference"])
@pytest.mark.parametrize("loader", ["trusted", "sandboxed"])
def test_dotted_node_names_round_trip(parser, loader, monkeypatch):
    # Node `a`'s op has an `op` argument; node `a.op` is another node. Keyed by the dotted
    # string "nodes.a.op.op", both were the same place and Checkpoint got Negate inside.
    g = pk.Graph(
        inputs=["x"],
        nodes={
            "a": {"op": pj.Checkpoint(pk.Identity()), "args": ["x"]},
            "a.op": {"op": Negate(), "args": ["a"]},
        },
        outputs={"y": "a", "z": "a.op"},
    )
    if parser == "reference":
        _reference_parser(monkeypatch)
    text = pk.dumps_yaml(g)
    if loader == "trusted":
        again = pk.loads_yaml(text)
    else:
        again = pk.loads_yaml_sandboxed(text, allowed=ALLOWED)
    assert type(again.ops[0].op) is pk.Identity
    assert pk.config_hash(again) == pk.config_hash(g)
    assert pk.dumps_yaml(again) == text
    x = np.array([1.0, -2.0, 3.5])
    out = again(x=x)
    np.testing.assert_array_equal(out["y"], x)  # oracle: identity
    np.testing.assert_array_equal(out["z"], -x)  # oracle: negation


def test_error_paths_quote_keys_with_dots():
    text = (
        "_target_: pipekit.Graph\ninputs: [x]\nnodes:\n"
        "  a.op: {op: {_target_: no.such.Op}, args: [x]}\noutputs: {y: a.op}\n"
    )
    with pytest.raises(pk.UntrustedTargetError, match=r"at nodes\['a.op'\]\.op:"):
        pk.loads_yaml(text)


def test_construction_error_names_the_argument_and_keeps_the_type():
    text = (
        "_target_: pipekit.Sequential\nops:\n"
        "- {_target_: tests.pipekit.helpers.AddConst, value: 1}\n"
        "- {_target_: tests.pipekit.helpers.AddConst, value: 2}\n"
        "- {_target_: geotoolz.indices.NDVI, red_idx: two, nir_idx: 3}\n"
    )
    assert AddConst  # registered under the name the document uses
    with pytest.raises(
        pk.ConfigError, match=r"^NDVI at ops\[2\]\.red_idx: red_idx must be a band index"
    ) as info:
        pk.loads_yaml(text)
    assert isinstance(info.value.__cause__, pk.ConfigError)


@pytest.mark.parametrize("loader", ["trusted", "sandboxed"])
def test_construction_type_error_stays_a_type_error(loader):
    import geotoolz.cloud

    text = "_target_: geotoolz.cloud.MaskClouds\nqa_band: -1\nbits: 10\n"
    with pytest.raises(TypeError, match=r"^MaskClouds at <root>: 'int' object is not iter") as info:
        if loader == "trusted":
            pk.loads_yaml(text)
        else:
            pk.loads_yaml_sandboxed(
                text, allowed=[pk.registry.target_name(geotoolz.cloud.MaskClouds)]
            )
    assert isinstance(info.value, pk.ConfigError)
    assert type(info.value.__cause__) is TypeError
