"""The sandboxed loader: every refusal the foundation issue lists, and nothing imported."""

import sys

import pytest

import pipekit as pk

from .helpers import AddConst

ALLOWED = pk.registry.public_operators(include_modules=["pipekit"])


def refused(text, **limits):
    before = set(sys.modules)
    with pytest.raises((pk.UntrustedTargetError, pk.YAMLLimitError)) as info:
        pk.loads_yaml_sandboxed(text, allowed=ALLOWED, **limits)
    assert set(sys.modules) == before, "the sandbox imported something"
    return info.value


def in_pipeline(step: str) -> str:
    return f"_target_: pipekit.Sequential\nops:\n- _target_: pipekit.Identity\n- {step}\n"


@pytest.mark.parametrize(
    "target",
    [
        "tests.pipekit.helpers.AddConst",  # registered, but not allow-listed
        "os.system",
        "builtins.eval",
        "logging.os.system",
        "pipekit.Lambda",
        "pipekit.Tap",
        "pipekit.Sink",
        "antigravity.fly",  # would open a browser if ever imported
    ],
)
def test_refuses_targets_outside_the_allow_list(target):
    err = refused(in_pipeline(f"{{_target_: {target}}}"))
    assert isinstance(err, pk.UntrustedTargetError)
    assert err.target == target
    assert err.path == "ops[1]"
    assert target in str(err) and "ops[1]" in str(err)


def test_refuses_forbidden_classes_even_when_allow_listed():
    text = "_target_: pipekit.Tap\nfn: print\n"
    with pytest.raises(pk.UntrustedTargetError, match="forbid_in_yaml"):
        pk.loads_yaml_sandboxed(text, allowed=["pipekit.Tap"])


class WriteTo(AddConst):
    """A stand-in writer: config naming a destination (``side_effects``)."""

    side_effects = True


def test_refuses_side_effect_classes_even_when_allow_listed_but_trusted_yaml_builds_them():
    text = pk.dumps_yaml(WriteTo(1.0))
    target = "tests.pipekit.test_sandbox.WriteTo"
    with pytest.raises(pk.UntrustedTargetError, match="writes outside the process"):
        pk.loads_yaml_sandboxed(text, allowed=[target])
    assert pk.loads_yaml(text) == WriteTo(1.0)
    listed = pk.registry.public_operators(include_modules=["tests.pipekit.test_sandbox"])
    assert target not in listed
    every = pk.registry.public_operators(
        include_modules=["tests.pipekit.test_sandbox"], include_forbidden=True
    )
    assert target in every


def test_refuses_python_object_apply_tag():
    err = refused(in_pipeline("!!python/object/apply:os.system ['echo pwned']"))
    assert isinstance(err, pk.UntrustedTargetError)
    assert err.target == "tag:yaml.org,2002:python/object/apply:os.system"
    assert err.path == "ops[1]"


def test_refuses_a_100000_step_sequential():
    text = "_target_: pipekit.Sequential\nops:\n" + "- {_target_: pipekit.Identity}\n" * 100_000
    err = refused(text, max_bytes=None)
    assert isinstance(err, pk.YAMLLimitError)
    assert "more than 10,000 nodes" in str(err)


def test_refuses_a_huge_document_by_size():
    text = "_target_: pipekit.Sequential\nops:\n" + "- {_target_: pipekit.Identity}\n" * 100_000
    err = refused(text)
    assert isinstance(err, pk.YAMLLimitError) and "bytes; the limit is 1,000,000" in str(err)


def test_refuses_1000_deep_nesting():
    depth = 1000
    text = (
        "{_target_: pipekit.Sequential, ops: [" * depth
        + "{_target_: pipekit.Identity}"
        + "]}" * depth
    )
    err = refused(text)
    assert isinstance(err, pk.YAMLLimitError)
    assert "nesting deeper than 50" in str(err)


def test_refuses_aliases():
    text = "_target_: pipekit.Sequential\nops:\n- &a {_target_: pipekit.Identity}\n- *a\n"
    err = refused(text)
    assert isinstance(err, pk.YAMLLimitError) and "anchors/aliases" in str(err)


def test_limits_are_configurable_and_good_documents_load():
    text = "_target_: pipekit.Sequential\nops:\n" + "- {_target_: pipekit.Identity}\n" * 200
    pipe = pk.loads_yaml_sandboxed(text, allowed=ALLOWED)
    assert len(pipe) == 200
    with pytest.raises(pk.YAMLLimitError, match="more than 100 nodes"):
        pk.loads_yaml_sandboxed(text, allowed=ALLOWED, max_nodes=100)
    allowed = {**ALLOWED, "tests.pipekit.helpers.AddConst": AddConst}
    op = pk.loads_yaml_sandboxed(
        in_pipeline("{_target_: tests.pipekit.helpers.AddConst, value: 2}"), allowed
    )
    assert op.ops[1].value == 2.0


def test_nothing_is_built_when_a_later_target_is_refused():
    from .helpers import BUILT, Recorder

    allowed = {**ALLOWED, "tests.pipekit.helpers.Recorder": Recorder}
    step = "{_target_: tests.pipekit.helpers.Recorder, tag: first}"
    BUILT.clear()
    assert len(pk.loads_yaml_sandboxed(in_pipeline(step), allowed)) == 2
    assert BUILT == ["first"]  # the probe works
    BUILT.clear()
    with pytest.raises(pk.UntrustedTargetError):
        pk.loads_yaml_sandboxed(in_pipeline(step) + "- {_target_: os.system}\n", allowed)
    assert BUILT == []
