"""The `pipekit` command line, on the shipped Case 1 pipeline and the generated demo scene."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

import geocatalog as gc
import pipekit as pk
from geocatalog.testing import synthetic_scene
from pipekit._cli import main

ROOT = Path(__file__).parents[2]
CASE1 = str(ROOT / "examples" / "case1_ndvi.yaml")


def case1():
    return pk.loads_yaml(Path(CASE1).read_text())


def test_run_on_the_demo_scene_writes_cog_and_png(tmp_path, capsys):
    assert main(["run", CASE1, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"config_hash: {pk.config_hash(case1())}" in out
    tif, png = tmp_path / "case1_ndvi.tif", tmp_path / "case1_ndvi.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = case1()(synthetic_scene(512, 512))
    with rasterio.open(tif) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.transform == expected.transform
        np.testing.assert_array_equal(src.read(1), expected.values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case1_ndvi.png", "case1_ndvi.tif"]


def test_run_on_an_input_file_with_jit(tmp_path, capsys):
    scene = synthetic_scene(96, 128, seed=9)
    src = gc.save_cog(scene, tmp_path / "scene.tif")
    dst = tmp_path / "result" / "ndvi.tif"
    assert main(["run", CASE1, str(src), str(dst), "--jit"]) == 0
    assert "eqx" not in capsys.readouterr().err
    got = gc.read_raster(dst)
    want = case1()(scene)
    assert got.transform == scene.transform
    np.testing.assert_allclose(got.values[0], want.values, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert (tmp_path / "result" / "ndvi.png").exists()


def test_show_hash_validate_operators(capsys):
    assert main(["hash", CASE1]) == 0
    assert capsys.readouterr().out.strip() == pk.config_hash(case1())
    assert main(["show", CASE1]) == 0
    assert "PercentileClip" in capsys.readouterr().out
    assert main(["validate", CASE1, "--sandbox"]) == 0
    assert "sandboxed loader" in capsys.readouterr().out
    assert main(["operators"]) == 0
    listed = capsys.readouterr().out
    assert "geotoolz.indices.NDVI" in listed and "pipekit.Lambda" not in listed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("_target_: [unclosed", "invalid YAML"),
        ("_target_: geotoolz.indices.NoSuchIndex", "not a registered pipekit Operator"),
        ("_target_: os.system", "'os' is not an operator package"),
        ("_target_: geotoolz.indices.NDVI\nred_idx: 2\n", "missing 1 required"),
    ],
)
def test_user_errors_exit_2_with_one_line(tmp_path, capsys, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pipekit: error: ") and message in err
    assert err.count("\n") == 1


def test_missing_files_and_no_traceback_from_the_console_script(tmp_path):
    script = Path(sys.executable).parent / "pipekit"
    proc = subprocess.run(
        [str(script), "run", CASE1, str(tmp_path / "missing.tif")], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr == f"pipekit: error: no such input file: {tmp_path / 'missing.tif'}\n"
    assert main(["hash", str(tmp_path / "nope.yaml")]) == 2
