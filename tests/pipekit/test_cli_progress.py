"""`pipekit run --inputs ... --progress`: one pipeline over many files, a bar on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import geocatalog as gc
import pipekit as pk
from geocatalog.testing import synthetic_scene
from pipekit._cli import main

CASE1 = str(Path(__file__).parents[2] / "examples" / "case1_ndvi.yaml")


def scenes(folder: Path, n: int) -> list[tuple[str, gc.GeoTensor]]:
    out = []
    for i in range(n):
        scene = synthetic_scene(32, 48, seed=i)
        out.append((str(gc.save_cog(scene, folder / f"scene{i}.tif")), scene))
    return out


def test_progress_bar_over_inputs_on_stderr(tmp_path, capsys):
    files = scenes(tmp_path, 3)
    out_dir = tmp_path / "out"
    argv = ["run", CASE1, "--inputs", *(p for p, _ in files), "--out", str(out_dir)]
    assert main([*argv, "--progress"]) == 0
    captured = capsys.readouterr()
    assert "pipekit run: 100%" in captured.err and "3/3" in captured.err
    assert captured.out.count("input:") == 3  # one summary per input, on stdout
    case1 = pk.loads_yaml(Path(CASE1).read_text())
    for i, (_, scene) in enumerate(files):
        got = gc.read_raster(out_dir / f"scene{i}_case1_ndvi.tif")
        np.testing.assert_allclose(got.values[0], case1(scene).values, rtol=1e-6, equal_nan=True)


def test_no_bar_without_the_flag(tmp_path, capsys):
    ((path, _),) = scenes(tmp_path, 1)
    assert main(["run", CASE1, "--inputs", path, "--out", str(tmp_path / "o")]) == 0
    assert main(["run", CASE1, path, "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().err == ""


def test_one_input_with_progress(tmp_path, capsys):
    ((path, _),) = scenes(tmp_path, 1)
    assert main(["run", CASE1, path, "--out", str(tmp_path / "o"), "--progress"]) == 0
    assert "1/1" in capsys.readouterr().err


def test_progress_without_tqdm_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert main(["run", CASE1, "--out", str(tmp_path), "--progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pipekit: error: run --progress: drawing a progress bar needs tqdm")
    assert "pip install 'pipekit-geo[progress]'" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing ran


def test_inputs_errors_teach(tmp_path, capsys):
    ((path, _),) = scenes(tmp_path, 1)
    assert main(["run", CASE1, path, "--inputs", path]) == 2
    assert "give the input as INPUT" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    other = gc.save_cog(synthetic_scene(8, 8), tmp_path / "b" / "scene0.tif")
    assert main(["run", CASE1, "--inputs", path, str(other), "--out", str(tmp_path)]) == 2
    assert "several inputs are named 'scene0'" in capsys.readouterr().err
    assert main(["run", CASE1, "--inputs", path, str(tmp_path / "nope.tif")]) == 2
    assert "no such input file" in capsys.readouterr().err
