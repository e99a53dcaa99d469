"""The CLI's user errors: exit status 2 and one line on stderr naming the cause (issue 13)."""

from pathlib import Path

import pytest

from geocatalog.testing import synthetic_scene
from pipekit._cli import main

from .test_cli_repro import CASE1


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("pipekit: error: ")
    return err


def test_non_utf8_pipeline(tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("_target_: pipekit.Identity\n# café\n".encode("latin-1"))
    assert main(["validate", str(bad)]) == 2
    err = _one_line_error(capsys)
    assert f"{bad} is not UTF-8 text (byte 0xe9 at line 2)" in err


def test_5000_digit_integer(tmp_path, capsys):
    doc = tmp_path / "big.yaml"
    doc.write_text("_target_: tests.pipekit.helpers.AddConst\nvalue: " + "7" * 5000 + "\n")
    assert main(["validate", str(doc)]) == 2
    assert "an integer of 5,000 digits at line 2" in _one_line_error(capsys)


def test_alias_bomb_in_validate(tmp_path, capsys):
    from .test_yaml_limits import BOMB

    doc = tmp_path / "laughs.yaml"
    doc.write_text(BOMB)
    assert main(["validate", str(doc)]) == 2
    assert "aliases expand to more than 100,000 nodes" in _one_line_error(capsys)


def test_duplicate_key_in_validate(tmp_path, capsys):
    doc = tmp_path / "dup.yaml"
    text = Path(CASE1).read_text().replace("  nir_idx: 3", "  nir_idx: 3\n  red_idx: 1")
    doc.write_text(text)
    assert main(["validate", str(doc)]) == 2
    assert "duplicate mapping key 'red_idx'" in _one_line_error(capsys)


def test_band_index_out_of_range_in_run(tmp_path, capsys):
    doc = tmp_path / "case1_band40.yaml"
    doc.write_text(Path(CASE1).read_text().replace("red_idx: 2", "red_idx: 40"))
    bands = synthetic_scene(512, 512).values.shape[-3]  # the demo scene main() generates
    assert main(["run", str(doc), "--out", str(tmp_path)]) == 2
    err = _one_line_error(capsys)
    assert "NDVI at ops[2].red_idx failed on generated demo scene" in err
    assert f"red_idx=40 is out of range for {bands} bands" in err
    assert not list(tmp_path.glob("*.tif"))


def test_construction_error_names_its_place(tmp_path, capsys):
    doc = tmp_path / "case1_bad.yaml"
    doc.write_text(Path(CASE1).read_text().replace("red_idx: 2", "red_idx: two"))
    assert main(["validate", str(doc)]) == 2
    assert "NDVI at ops[2].red_idx: red_idx must be a band index (int)" in _one_line_error(capsys)


def test_operators_of_a_missing_module(capsys):
    assert main(["operators", "--module", "nosuchmodule"]) == 2
    assert "--module nosuchmodule: no module named 'nosuchmodule'" in _one_line_error(capsys)


@pytest.mark.parametrize("form", ["plain", "file"])
def test_freeze_with_a_missing_input_file(tmp_path, capsys, form):
    missing = tmp_path / "nowhere.tif"
    uri = str(missing) if form == "plain" else missing.as_uri()
    art = tmp_path / "a.pipekit"
    assert main(["freeze", CASE1, str(art), "--input", f"scene={uri}"]) == 2
    assert f"--input scene={uri}: no such file" in _one_line_error(capsys)
    assert not art.exists()


def test_freeze_keeps_remote_uris(tmp_path, capsys):
    art = tmp_path / "a.pipekit"
    assert main(["freeze", CASE1, str(art), "--input", "scene=s3://bucket/scene.tif"]) == 0
    assert art.exists()
