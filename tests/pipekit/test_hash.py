import hashlib
import json
import subprocess
import sys

import pytest

import pipekit as pk

from .helpers import AddConst, Nested


def test_format_and_independent_recomputation():
    op = pk.Sequential([AddConst(1.5)])
    h = pk.config_hash(op)
    assert h.startswith("sha256:") and len(h) == 71
    # Independent oracle: the canonical JSON written out by hand.
    canonical = (
        '{"_target_":"pipekit.Sequential",'
        '"ops":[{"_target_":"tests.pipekit.helpers.AddConst","value":1.5}]}'
    )
    assert json.loads(canonical) == op.state
    assert h == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_any_change_changes_the_hash():
    base = Nested(inner=AddConst(1), bits=[10, 11], label="a")
    variants = [
        Nested(inner=AddConst(2), bits=[10, 11], label="a"),
        Nested(inner=AddConst(1), bits=[11, 10], label="a"),
        Nested(inner=AddConst(1), bits=[10], label="a"),
        Nested(inner=AddConst(1), bits=[10, 11], label="b"),
        Nested(inner=AddConst(1.0000000000000002), bits=[10, 11], label="a"),
    ]
    hashes = {pk.config_hash(v) for v in variants}
    assert len(hashes) == len(variants)
    assert pk.config_hash(base) not in hashes
    assert pk.config_hash(base) == pk.config_hash(
        Nested(inner=AddConst(1.0), bits=(10, 11), label="a")
    )


def test_identical_in_a_fresh_process():
    op = pk.Sequential(
        [pk.Identity(), AddConst(float("nan")), Nested(inner=AddConst(-0.0), bits=[1])]
    )
    code = (
        "import pipekit as pk, sys; import tests.pipekit.helpers; "
        "print(pk.config_hash(pk.loads_yaml(sys.stdin.read())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=pk.dumps_yaml(op),
        capture_output=True,
        text=True,
        check=True,
        cwd=str(__import__("pathlib").Path(__file__).parents[2]),
    )
    assert out.stdout.strip() == pk.config_hash(op)


def test_forbidden_operators_have_no_hash():
    with pytest.raises(pk.ConfigError, match="Tap at ops"):
        pk.config_hash(pk.Sequential([pk.Tap(print)]))
