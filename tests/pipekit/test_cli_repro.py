"""`pipekit freeze` / `pipekit verify` on the shipped Case 1 pipeline."""

from pathlib import Path

import pipekit as pk
from pipekit._cli import main

CASE1 = str(Path(__file__).parents[2] / "examples" / "case1_ndvi.yaml")


def test_freeze_then_verify_and_refuse_a_flipped_byte(tmp_path, capsys):
    data = tmp_path / "scene.bin"
    data.write_bytes(b"pretend raster")
    art = tmp_path / "case1.gtar"
    assert main(["freeze", CASE1, str(art), "--input", f"scene={data}", "--meta", "author=ej"]) == 0
    expected = pk.config_hash(pk.loads_yaml(Path(CASE1).read_text()))
    assert f"pipeline_hash: {expected}" in capsys.readouterr().out
    loaded = pk.repro.load(art)
    assert loaded.inputs["scene_uri"] == str(data)
    assert len(loaded.inputs["scene_sha256"].removeprefix("sha256:")) == 64
    assert loaded.metadata == {"author": "ej"}
    assert main(["verify", str(art)]) == 0
    assert expected in capsys.readouterr().out
    raw = bytearray(art.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    art.write_bytes(bytes(raw))
    assert main(["verify", str(art)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pipekit: error: ") and err.count("\n") == 1
