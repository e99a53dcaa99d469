"""pipekit.repro: freeze / save / load / rerun, and refusal of every kind of damage (Case 9)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pipekit as pk
import pipekit.repro as repro
from pipekit.repro._archive import pack
from pipekit.repro._manifest import FORMAT, MANIFEST, ORDER, build_manifest


class Scale(pk.Operator):
    """x * weight: ``weight`` is a trainable array leaf built from the config ``init``."""

    init: float = eqx.field(static=True)
    weight: jax.Array

    def __init__(self, init: float = 1.0) -> None:
        self.init = float(init)
        self.weight = jnp.full((3,), self.init, dtype=jnp.float32)

    def _apply(self, x):
        return x * self.weight


class Mul(pk.Operator):
    """a * b (two named inputs)."""

    def _apply(self, a, b):
        return a * b


TRAINED = np.array([1.25, -0.5, 3.0000002], dtype=np.float32)


def _pipeline() -> pk.Operator:
    pipe = pk.Sequential([pk.Identity(), Scale(init=2.0)])
    return eqx.tree_at(lambda p: p.ops[1].weight, pipe, jnp.asarray(TRAINED))


@pytest.fixture
def frozen(tmp_path: Path):
    """A Case-9 artifact on disk: pipeline, input file, lock file, metadata, output."""
    scene = tmp_path / "scene.npy"
    np.save(scene, np.linspace(-1, 1, 3, dtype=np.float32))
    lock = tmp_path / "uv.lock"
    lock.write_bytes(b"version = 1\n[[package]]\nname = 'jax'\n")
    pipe = _pipeline()
    out = pipe(np.load(scene))
    art = repro.freeze(
        pipe,
        inputs={"scene_uri": str(scene), "scene_sha256": repro.file_sha256(scene)},
        deps_lock=lock,
        metadata={"author": "ej", "date": "2024-09-15", "doi": "10.xxxx/mars-2024Q3"},
        output=out,
    )
    path = art.save(tmp_path / "mars_methane_2024Q3.gtar")
    return path, pipe, out, scene


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf}


def _repack(path: Path, members: dict[str, bytes], **manifest_changes) -> None:
    """Rewrite the artifact with edited members and a manifest recomputed to match them."""
    manifest = json.loads(members[MANIFEST])
    fields = {
        k: v
        for k, v in manifest.items()
        if k not in {"format", "format_version", "members", "manifest_sha256"}
    }
    fields.update(manifest_changes)
    body = {k: v for k, v in members.items() if k != MANIFEST}
    members = {MANIFEST: build_manifest(fields, body), **body}
    path.write_bytes(pack((n, members[n]) for n in ORDER if n in members))


# -- Case 9 ------------------------------------------------------------------------------------


def test_case9_round_trip_reproduces_output_bit_for_bit(frozen):
    path, pipe, out, scene = frozen
    art = repro.load(path)
    assert art.pipeline_hash == pk.config_hash(pipe)
    assert art.pipeline_hash.startswith("sha256:") and len(art.pipeline_hash) == 71
    assert art.config_yaml == pk.dumps_yaml(pipe)
    assert "tests.pipekit.test_repro.Scale" in art.config_yaml
    assert art.metadata == {"author": "ej", "date": "2024-09-15", "doi": "10.xxxx/mars-2024Q3"}
    assert art.inputs["scene_uri"] == str(scene)
    assert art.deps_lock == (path.parent / "uv.lock").read_bytes()
    assert art.deps_lock_source == "uv.lock"
    assert art.environment["python"] and "jax" in art.environment["packages"]
    assert art.allowed == (
        "pipekit.Identity",
        "pipekit.Sequential",
        "tests.pipekit.test_repro.Scale",
    )
    # The trained weight (set with tree_at, not derivable from config) comes back exactly.
    np.testing.assert_array_equal(np.asarray(art.pipeline.ops[1].weight), TRAINED)
    result = art.rerun(np.load)
    got, want = np.asarray(result), np.asarray(out)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()
    assert art.output_sha256 == repro.output_sha256(out)


def test_two_freezes_give_identical_bytes_but_for_created(frozen, tmp_path):
    path = frozen[0]
    a = repro.load(path)
    b = repro.freeze(a.pipeline, a.inputs, tmp_path / "uv.lock", a.metadata, output=None)
    b = type(b)(**{**b.__dict__, "output_sha256": a.output_sha256, "created": a.created})
    assert b.to_bytes() == path.read_bytes()


def test_output_hash_covers_dtype_shape_and_geo_fields():
    a = np.arange(6, dtype=np.float32)
    h = repro.output_sha256
    assert h(a) == h(jnp.asarray(a)) == h(a.copy())
    assert h(a) != h(a.reshape(2, 3)) and h(a) != h(a.astype(np.float64))
    assert h({"x": a}) != h([a])

    class Geo:
        def __init__(self, values, transform, crs):
            self.values, self.transform, self.crs = values, transform, crs

    base = Geo(a, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32630")
    assert h(base) == h(Geo(a.copy(), base.transform, "EPSG:32630"))
    assert h(base) != h(Geo(a, (10.0, 0.0, 5.0, 0.0, -10.0, 0.0), "EPSG:32630"))
    assert h(base) != h(Geo(a, base.transform, "EPSG:4326"))


# -- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize("member", ORDER)
def test_flipping_a_byte_of_any_member_is_refused(frozen, member):
    path = frozen[0]
    members = _members(path)
    assert set(members) == set(ORDER)  # this artifact holds every kind of member
    data = bytearray(members[member])
    data[len(data) // 2] ^= 0x01
    members[member] = bytes(data)
    path.write_bytes(pack((n, members[n]) for n in ORDER))
    with pytest.raises(repro.ReproError, match=rf"member '{member}'"):
        repro.load(path)


def test_flipping_any_raw_byte_is_refused(frozen):
    path = frozen[0]
    raw = path.read_bytes()
    for offset in [*range(0, len(raw), 61), 148, 512 + 3, len(raw) - 1]:
        damaged = bytearray(raw)
        damaged[offset] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(repro.ReproError):
            repro.load(path)
    path.write_bytes(raw)
    repro.load(path)


def test_padding_edit_is_refused_naming_the_member(frozen):
    path = frozen[0]
    raw = bytearray(path.read_bytes())
    size = len(_members(path)[MANIFEST])
    raw[512 + size + 1] = ord("x")  # inside the zero padding after the manifest's data
    path.write_bytes(bytes(raw))
    with pytest.raises(repro.ReproError, match=r"canonical layout.*'manifest.json'"):
        repro.load(path)


@pytest.mark.parametrize("keep", [0, 100, 512, 2000, 0.5, -1, -512, -1500])
def test_truncated_file_is_refused(frozen, keep):
    path = frozen[0]
    raw = path.read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else keep % len(raw) if keep else 0
    path.write_bytes(raw[:n])
    with pytest.raises(repro.ReproError, match=r"truncated|not a readable|missing|canonical"):
        repro.load(path)


def test_not_a_tar_is_refused(tmp_path):
    path = tmp_path / "x.gtar"
    path.write_bytes(b"PK\x03\x04 definitely a zip" * 50)
    with pytest.raises(repro.ReproError, match=r"not a readable artifact"):
        repro.load(path)


def test_edited_parameter_with_matching_manifest_is_refused(frozen):
    path = frozen[0]
    members = _members(path)
    text = members["pipeline.yaml"].decode()
    assert "init: 2.0" in text
    members["pipeline.yaml"] = text.replace("init: 2.0", "init: 3.0").encode()
    _repack(path, members)
    with pytest.raises(repro.ReproError, match=r"'pipeline.yaml'.*pipeline hash.*expected"):
        repro.load(path)


@pytest.mark.parametrize("recompute", ["members", "pipeline_hash", "allowed"])
def test_yaml_targeting_os_system_is_refused(frozen, monkeypatch, recompute):
    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda cmd: calls.append(cmd) or 0)
    path = frozen[0]
    members = _members(path)
    evil = {"_target_": "os.system", "command": "echo pwned"}
    members["pipeline.yaml"] = b"_target_: os.system\ncommand: echo pwned\n"
    changes: dict = {}
    if recompute in {"pipeline_hash", "allowed"}:
        changes["pipeline_hash"] = pk.config_hash(evil)
    if recompute == "allowed":
        changes["allowed"] = ["os.system"]
    _repack(path, members, **changes)
    with pytest.raises(repro.ReproError, match=r"member 'pipeline.yaml'.*os\.system"):
        repro.load(path)
    assert calls == []


def test_load_allow_list_override_narrows(frozen):
    with pytest.raises(repro.ReproError, match=r"pipeline.yaml.*Scale"):
        repro.load(frozen[0], allowed=["pipekit.Sequential", "pipekit.Identity"])


def test_unsafe_tar_members_are_refused(tmp_path, frozen):
    members = _members(frozen[0])
    for name, kind in [("../evil", tarfile.REGTYPE), ("pipeline.yaml", tarfile.SYMTYPE)]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(members[MANIFEST])
            tf.addfile(info, io.BytesIO(members[MANIFEST]))
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            tf.addfile(info, io.BytesIO(b""))
        path = tmp_path / f"bad{kind!r}.gtar"
        path.write_bytes(buf.getvalue())
        with pytest.raises(repro.ReproError, match=r"unexpected member|not a regular file"):
            repro.load(path)
    with pytest.raises(repro.ReproError, match=r"over the bound"):
        repro.load(frozen[0], max_member_bytes=100)


def test_manifest_must_list_exactly_the_members(frozen):
    path = frozen[0]
    members = _members(path)
    del members["deps.lock"]
    path.write_bytes(pack((n, members[n]) for n in ORDER if n in members))
    with pytest.raises(
        repro.ReproError, match=r"'deps.lock' is listed in the manifest but missing"
    ):
        repro.load(path)
    manifest = json.loads(members[MANIFEST])
    assert manifest["format"] == FORMAT and manifest["format_version"] == 1


# -- rerun checks ----------------------------------------------------------------------------


def test_rerun_refuses_changed_input(frozen):
    path, _, _, scene = frozen
    np.save(scene, np.zeros(3, np.float32))
    with pytest.raises(repro.ReproError, match=r"input 'scene'.*expected sha256:.*found sha256:"):
        repro.load(path).rerun(np.load)
    # Skipping the input check still checks the output, which the new input changed.
    with pytest.raises(repro.ReproError, match=r"did not reproduce the recorded output"):
        repro.load(path).rerun(np.load, verify_inputs=False)


def test_rerun_refuses_different_output(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.ones(3, np.float32))
    pipe = _pipeline()
    art = repro.freeze(
        pipe,
        {"x_uri": str(x), "x_sha256": repro.file_sha256(x)},
        output=np.asarray(pipe(np.load(x))) + np.float32(1),
    )
    loaded = repro.load(art.save(tmp_path / "a.gtar"))
    with pytest.raises(repro.ReproError, match=r"expected sha256:[0-9a-f]{64}, found sha256:"):
        loaded.rerun(np.load)


def test_rerun_with_several_inputs_and_remote_uris(tmp_path):
    blobs = {"s3://b/a.npy": np.full(2, 3.0), "s3://b/b.npy": np.full(2, 4.0)}
    raw = {}
    for uri, arr in blobs.items():
        buf = io.BytesIO()
        np.save(buf, arr)
        raw[uri] = buf.getvalue()
    inputs = {
        "a_uri": "s3://b/a.npy",
        "a_sha256": "sha256:" + hashlib.sha256(raw["s3://b/a.npy"]).hexdigest(),
        "b_uri": "s3://b/b.npy",
    }
    art = repro.load(repro.freeze(Mul(), inputs, output=np.full(2, 12.0)).save(tmp_path / "m"))

    def loader(uri):
        return np.load(io.BytesIO(raw[uri]))

    with pytest.raises(repro.ReproError, match=r"cannot verify remote 's3://b/a.npy'"):
        art.rerun(loader)
    np.testing.assert_array_equal(art.rerun(loader, read_bytes=raw.__getitem__), [12.0, 12.0])
    np.testing.assert_array_equal(art.rerun(loader, verify_inputs=False), [12.0, 12.0])


# -- freeze validation and atomic save ------------------------------------------------------


def test_freeze_validates_inputs(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"abc")
    with pytest.raises(repro.ReproError, match=r"not a SHA-256 digest"):
        repro.freeze(pk.Identity(), {"f_uri": str(f), "f_sha256": "ab12cd34ef56..."})
    with pytest.raises(repro.ReproError, match=r"has no URI"):
        repro.freeze(pk.Identity(), {"f_sha256": "0" * 64})
    with pytest.raises(repro.ReproError, match=r"input 'f'.*changed"):
        repro.freeze(pk.Identity(), {"f_uri": str(f), "f_sha256": "0" * 64})
    with pytest.raises(repro.ReproError, match=r"JSON-able"):
        repro.freeze(pk.Identity(), metadata={"x": object()})
    with pytest.raises(pk.ConfigError, match=r"forbid_in_yaml"):
        repro.freeze(pk.Lambda(abs))
    with pytest.raises(repro.ReproError, match=r"leaves out"):
        repro.freeze(_pipeline(), allowed=["pipekit.Sequential"])
    with pytest.raises(repro.ReproError, match=r"needs inputs"):
        repro.freeze(pk.Identity()).rerun()


def test_save_is_atomic(tmp_path, monkeypatch):
    art = repro.freeze(_pipeline())
    path = tmp_path / "a.gtar"
    path.write_bytes(b"old artifact")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match=r"disk full"):
        art.save(path)
    assert path.read_bytes() == b"old artifact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gtar"]
    monkeypatch.undo()
    assert repro.load(art.save(path)).pipeline_hash == art.pipeline_hash


def test_repro_error_is_pipekit_and_value_error():
    assert issubclass(repro.ReproError, pk.PipekitError)
    assert issubclass(repro.ReproError, ValueError)


# -- geo (Case 9 with real operators and a COG on disk) ------------------------------------


def test_case9_with_geotoolz_and_a_cog(tmp_path):
    geocatalog = pytest.importorskip("geocatalog")
    gz = pytest.importorskip("geotoolz")
    from geocatalog.testing import synthetic_scene

    cog = geocatalog.save_cog(synthetic_scene(64, 64, seed=3), tmp_path / "scene.tif")
    pipe = pk.Sequential(
        [gz.cloud.MaskClouds(qa_band=-1, bits=[10, 11]), gz.indices.NDVI(red_idx=2, nir_idx=3)]
    )
    out = pipe(geocatalog.read_raster(cog))
    art = repro.freeze(
        pk.loads_yaml(pk.dumps_yaml(pipe)),
        {"scene_uri": str(cog), "scene_sha256": repro.file_sha256(cog)},
        output=out,
    )
    again = repro.load(art.save(tmp_path / "ndvi.gtar"))
    assert again.pipeline_hash == pk.config_hash(pipe)
    result = again.rerun(geocatalog.read_raster)
    got, want = np.asarray(result.values), np.asarray(out.values)
    assert got.dtype == want.dtype and got.shape == want.shape
    # Bit for bit, but for NaN sign bits: YAML's .nan is -nan (see output_sha256).
    nan = np.isnan(want)
    assert nan.any() and np.array_equal(np.isnan(got), nan)
    assert got[~nan].tobytes() == want[~nan].tobytes()
    assert result.transform == out.transform and result.crs == out.crs
