"""pipekit_jax.save / load: exact round trip in a fresh process, tampering refused by file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pipekit as pk
import pipekit_jax as pj


class Gains(pk.Operator):
    """Per-feature gain and offset (a test-only operator with two parameters)."""

    gain: jax.Array
    offset: jax.Array
    n: int

    def __init__(self, n: int = 3) -> None:
        self.n = n
        self.gain = jnp.ones((n,), jnp.float32)
        self.offset = jnp.zeros((n,), jnp.float32)

    def _apply(self, x):
        return x * self.gain[None, :] + self.offset[None, :]


def trained() -> pk.Sequential:
    x = jnp.asarray(np.random.default_rng(0).normal(size=(32, 3)), jnp.float32)
    y = 2.0 * x - 1.0

    def loss(op, batch):
        return jnp.mean((op(batch[0]) - batch[1]) ** 2)

    op, _ = pj.fit(pk.Sequential([Gains(3), pk.Identity()]), loss, (x, y), optax.adam(0.1),
                   steps=50)  # fmt: skip
    return op


FRESH = textwrap.dedent("""
    import json, sys
    import numpy as np
    import pipekit as pk, pipekit_jax as pj
    import tests.pipekit_jax.test_save_load  # registers the test operator
    op = pj.load(sys.argv[1], allowed=sys.argv[2].split(","))
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    print(json.dumps({"out": np.asarray(op(x)).tolist(), "config": pk.config_hash(op),
                      "weights": pj.weights_hash(op)}))
""")


def test_round_trip_is_exact_in_a_fresh_process(tmp_path):
    op = trained()
    path = pj.save(op, tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["manifest.json", "pipeline.yaml",
                                                      "weights.eqx"]  # fmt: skip
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["config_hash"] == pk.config_hash(op)
    assert manifest["weights_hash"] == pj.weights_hash(op)
    allowed = ["pipekit.Sequential", "pipekit.Identity", pk.registry.target_name(Gains)]
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, str(path), ",".join(allowed)],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(np.asarray(got["out"], np.float32), np.asarray(op(x)))
    assert got["config"] == pk.config_hash(op) and got["weights"] == pj.weights_hash(op)
    again = pj.load(path)
    for a, b in zip(jax.tree.leaves(again), jax.tree.leaves(op), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(again.ops[0].gain, 1.0)  # the trained weights, not the init


def test_tampering_is_refused_naming_the_file(tmp_path):
    path = pj.save(trained(), tmp_path / "model")
    weights = bytearray((path / "weights.eqx").read_bytes())
    weights[len(weights) // 2] ^= 0x01
    (path / "weights.eqx").write_bytes(bytes(weights))
    with pytest.raises(pj.LoadError, match=r"weights\.eqx"):
        pj.load(path)
    path = pj.save(trained(), tmp_path / "model", overwrite=True)
    text = (path / "pipeline.yaml").read_text()
    (path / "pipeline.yaml").write_text(text.replace("n: 3", "n: 4"))
    with pytest.raises(pj.LoadError, match=r"pipeline\.yaml"):
        pj.load(path)
    (path / "manifest.json").unlink()
    with pytest.raises(pj.LoadError, match=r"manifest\.json is missing"):
        pj.load(path)


def test_save_is_atomic_and_refuses_what_yaml_cannot_hold(tmp_path):
    with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
        pj.save(pk.Sequential([pk.Lambda(abs)]), tmp_path / "bad")
    assert list(tmp_path.iterdir()) == []  # nothing left behind
    pj.save(trained(), tmp_path / "model")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pj.save(trained(), tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with pytest.raises(pk.UntrustedTargetError):
        pj.load(tmp_path / "model", allowed=["pipekit.Sequential"])


def test_repro_freeze_stores_trained_network_weights_the_same_way(tmp_path):
    import hashlib

    import pipekit_array as pa
    from pipekit import repro
    from pipekit_jax import nn

    net = pa.ModelOp(nn.ConvNet(in_channels=2, num_classes=3, widths=(4,), seed=1))
    x = np.random.default_rng(2).random((2, 8, 8), dtype=np.float32)
    y = np.argmax(np.stack([x[0], x[1], x[0] * x[1]]), axis=0)

    def loss(op, batch):
        log_p = jax.nn.log_softmax(op(batch[0]), axis=0)
        return -jnp.mean(jnp.take_along_axis(log_p, batch[1][None], axis=0))

    trained, _ = pj.fit(net, loss, (jnp.asarray(x), jnp.asarray(y)), optax.adam(0.05),
                        steps=20)  # fmt: skip
    art = repro.freeze(trained, output=trained(x))
    again = repro.load(art.save(tmp_path / "run.tar"))
    np.testing.assert_array_equal(np.asarray(again.pipeline(x)), np.asarray(trained(x)))
    # The artifact's weights member is the bytes pipekit_jax.save writes to weights.eqx.
    saved = pj.save(trained, tmp_path / "model")
    assert again.leaves == (saved / "weights.eqx").read_bytes()
    assert "sha256:" + hashlib.sha256(again.leaves).hexdigest() == pj.weights_hash(trained)


def _shifted(op: pk.Sequential, by: float) -> pk.Sequential:
    return jax.tree.map(lambda a: a + by if eqx.is_inexact_array(a) else a, op)


def test_overwrite_refuses_a_folder_that_is_not_a_save(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(
        pj.SaveError, match=r"results is not an earlier pipekit_jax save.*notes\.txt"
    ):
        pj.save(trained(), folder, overwrite=True)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no temporaries left


def test_overwrite_replaces_an_earlier_save_and_loads_the_new_weights(tmp_path):
    first = trained()
    target = pj.save(first, tmp_path / "model")
    second = _shifted(first, 0.5)
    assert pj.save(second, target, overwrite=True) == target
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing aside is left
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "pipeline.yaml",
                                                         "weights.eqx"]  # fmt: skip
    loaded = pj.load(target)
    # Oracle: the arrays we shifted by hand, not what save reports.
    for got, want in zip(jax.tree.leaves(loaded), jax.tree.leaves(second), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    gains = np.asarray(loaded.ops[0].gain)
    np.testing.assert_array_equal(gains, np.asarray(first.ops[0].gain) + np.float32(0.5))
    # An empty directory holds nothing to lose: it is replaced too.
    empty = tmp_path / "empty"
    empty.mkdir()
    pj.save(second, empty, overwrite=True)
    assert pj.weights_hash(pj.load(empty)) == pj.weights_hash(second)


def test_a_file_target_is_refused_cleanly(tmp_path):
    path = tmp_path / "model.eqx"
    path.write_bytes(b"user data")
    for overwrite in (False, True):
        with pytest.raises(pj.SaveError, match=r"model\.eqx is a file, not a directory"):
            pj.save(trained(), path, overwrite=overwrite)
    assert path.read_bytes() == b"user data"
    assert [p.name for p in tmp_path.iterdir()] == ["model.eqx"]  # no .old-PID, no .tmp
    with pytest.raises(FileExistsError):  # SaveError is a FileExistsError
        pj.save(trained(), path, overwrite=True)


def test_an_earlier_save_with_a_user_file_added_is_refused(tmp_path):
    """Decision: refuse (keeping the user file inside would make it no longer a save)."""
    first = trained()
    target = pj.save(first, tmp_path / "model")
    (target / "README.md").write_text("trained on 2024 data")
    with pytest.raises(pj.SaveError, match=r"earlier save plus files save did not write "
                                           r"\(README\.md\).*Move them out"):  # fmt: skip
        pj.save(_shifted(first, 1.0), target, overwrite=True)
    assert (target / "README.md").read_text() == "trained on 2024 data"
    assert pj.weights_hash(pj.load(target)) == pj.weights_hash(first)  # the old save, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_symlink_target_is_refused(tmp_path):
    real = pj.save(trained(), tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(pj.SaveError, match=r"link is a symbolic link"):
        pj.save(trained(), link, overwrite=True)
    assert link.is_symlink() and pj.load(real) is not None
