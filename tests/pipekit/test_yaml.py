import math

import numpy as np
import pytest

import pipekit as pk

from .helpers import AddConst, Nested


def test_round_trip_preserves_config_and_numbers():
    op = pk.Sequential([AddConst(1.5), Nested(inner=AddConst(-1), bits=[10, 11], label="q")])
    text = pk.dumps_yaml(op)
    assert text.startswith(
        "_target_: pipekit.Sequential\nops:\n- _target_: tests.pipekit.helpers.AddConst\n"
    )
    again = pk.loads_yaml(text)
    assert again.state == op.state
    assert again.ops[1].bits == (10, 11)
    x = np.arange(3, dtype=np.float32)
    np.testing.assert_array_equal(again(x), op(x))


def test_nan_and_inf_survive_yaml():
    op = Nested(inner=AddConst(float("nan")), bits=[], label="inf")
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert math.isnan(again.inner.value)


def test_loads_yaml_dict_builds_a_mapping():
    text = """
ndvi: {_target_: tests.pipekit.helpers.AddConst, value: 1}
plain:
  _target_: pipekit.Sequential
  ops: [{_target_: pipekit.Identity}]
"""
    layers = pk.loads_yaml_dict(text)
    assert set(layers) == {"ndvi", "plain"}
    assert isinstance(layers["plain"], pk.Sequential)
    assert layers["ndvi"].value == 1.0
    with pytest.raises(pk.ConfigError, match="entry 'x' is not an operator mapping"):
        pk.loads_yaml_dict("x: 3")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("os.system", "'os' is not an operator package"),
        ("builtins.eval", "'builtins' is not an operator package"),
        ("logging.os.system", "'logging' is not an operator package"),
        ("pipekit.os.system", "not a registered pipekit Operator"),
        ("pipekit._yaml.yaml.load", "not a registered pipekit Operator"),
        ("pipekit.Lambda", "forbid_in_yaml"),
    ],
)
def test_trusted_loader_resolves_only_registered_operators(target, reason):
    text = (
        f"_target_: pipekit.Sequential\nops:\n- _target_: pipekit.Identity\n- _target_: {target}\n"
    )
    with pytest.raises(pk.UntrustedTargetError, match=reason) as info:
        pk.loads_yaml(text)
    assert info.value.target == target
    assert info.value.path == "ops[1]"


def test_python_tags_are_refused_by_the_trusted_loader_too():
    with pytest.raises(pk.UntrustedTargetError) as info:
        pk.loads_yaml("_target_: pipekit.Identity\nx: !!python/object/apply:os.system ['true']\n")
    assert info.value.target == "tag:yaml.org,2002:python/object/apply:os.system"
    assert info.value.path == "x"


def test_dumping_forbidden_operators_is_refused():
    with pytest.raises(pk.ConfigError, match=r"Tap at ops\[1\] holds a Python callable"):
        pk.dumps_yaml(pk.Sequential([pk.Identity(), pk.Tap(print)]))
    with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
        pk.config_hash(pk.Lambda(abs))


def test_user_errors_are_clear():
    with pytest.raises(pk.ConfigError, match="invalid YAML"):
        pk.loads_yaml("_target_: [unclosed")
    with pytest.raises(pk.ConfigError, match="mapping with a '_target_' key"):
        pk.loads_yaml("- 1\n- 2\n")
    with pytest.raises(pk.ConfigError, match=r"AddConst at <root>: could not convert string"):
        pk.loads_yaml("_target_: tests.pipekit.helpers.AddConst\nvalue: abc\n")
    with pytest.raises(TypeError, match="read the file first"):
        pk.loads_yaml(b"_target_: pipekit.Identity")


def test_yaml_nan_has_the_bits_of_python_nan():
    import struct

    again = pk.loads_yaml(pk.dumps_yaml(AddConst(float("nan"))))
    assert struct.pack("<d", again.value) == struct.pack("<d", math.nan)
