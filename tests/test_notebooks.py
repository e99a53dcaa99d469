"""Every notebook in notebooks/ runs in a real Jupyter kernel (``notebooks.run``, nbclient).

Each run must finish without a cell error or anything on stderr, draw its figures (as
``image/png`` outputs of a sane size), and print numbers that an independent computation
here reproduces: NumPy from the generated scenes' QA bits and bands, ``np.bincount`` of the
true labels, a NumPy RMSE of the pipelines' outputs and a rerun of one pipeline on a
rasterio read. Small data throughout; the fusion notebook trains 3 steps (``FUSION_STEPS``).
"""

import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

from nbclient.exceptions import CellExecutionError  # noqa: E402
from notebooks.run import execute, main, notebooks  # noqa: E402

from geocatalog.testing import synthetic_fusion_scenes, synthetic_scene  # noqa: E402

from ._notebook_checks_xr import XR_CHECKS  # noqa: E402

ROOT = Path(__file__).parents[1]
CLOUD_BITS = (1 << 10) | (1 << 11)  # QA60: opaque cloud, cirrus


def outputs(notebook):
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]


def printed(notebook) -> str:
    return "".join(o.text for o in outputs(notebook) if o.output_type == "stream")


def png_sizes(notebook) -> list[tuple[int, int]]:
    """``(width, height)`` of every ``image/png`` output, read from the PNG header."""
    import base64

    sizes = []
    for o in outputs(notebook):
        if "image/png" in o.get("data", {}):
            png = base64.b64decode(o.data["image/png"])
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            sizes.append(struct.unpack(">II", png[16:24]))
    return sizes


def number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the notebook's output:\n{text}"
    return float(match.group(1))


def masked_bands(scene) -> np.ndarray:
    """Float64 bands with every QA-flagged pixel NaN (MaskClouds' rule, written in NumPy)."""
    flagged = (scene.values[-1] & CLOUD_BITS) != 0
    return np.where(flagged, np.nan, scene.values[:-1].astype(np.float64))


def check_case01(notebook, text, data_dir):
    scene = synthetic_scene(256, 256, seed=0)
    flagged = (scene.values[-1] & CLOUD_BITS) != 0
    # 12 reflectance bands become NaN at flagged pixels; the QA band itself stays.
    assert f"after mask: {12 * flagged.sum() / scene.values.size:.1%} NaN" in text
    bands = masked_bands(scene)
    red, nir = (np.clip(b, *np.nanpercentile(b, [2, 98])) for b in (bands[2], bands[3]))
    ndvi = (nir - red) / (nir + red)
    ok = np.isfinite(ndvi)
    assert f"NDVI over {ok.sum()} cloud-free pixels" in text
    expected = np.percentile(ndvi[ok], [5, 50, 95])
    got = [number(text, r"5th-95th percentile (-?[\d.]+)"), number(text, r"median (-?[\d.]+)"),
           number(text, r"\.\. (-?[\d.]+)")]  # fmt: skip
    np.testing.assert_allclose(got, expected, atol=2e-4)
    return 2  # figures: the NDVI map, true colour


def check_patching(notebook, text, data_dir):
    scene = synthetic_scene(512, 512, seed=4)
    chips_per_side = len(range(0, 512 - 128 + 1, 96))  # 128-px chips every 96 px
    assert f"{chips_per_side**2} chips; stitched (512, 512), transform kept: True" in text
    bands = masked_bands(scene)
    ndvi = (bands[3] - bands[2]) / (bands[3] + bands[2])
    ok = np.isfinite(ndvi)
    assert f"stitched NDVI: {(~ok).sum()} NaN pixels" in text
    assert number(text, r"mean (-?[\d.]+) over the others") == pytest.approx(
        ndvi[ok].mean(), abs=2e-6
    )
    assert "same NaN pixels: True" in text
    assert number(text, r"max \|stitched - whole scene\| = ([\d.e+-]+);") < 1e-5
    return 3  # chips over true colour, stitched NDVI, weight map


def check_fusion(notebook, text, data_dir):
    assert "3 steps: loss" in text  # FUSION_STEPS reached the first cell
    assert "max |logit gap| = 0.0" in text  # pj.save / pj.load round trip is exact
    accuracies = re.search(r"held-out accuracy: fused ([\d.]+), optical ([\d.]+), sar "
                           r"([\d.]+), dem ([\d.]+)", text)  # fmt: skip
    assert accuracies and all(0 <= float(a) <= 1 for a in accuracies.groups())
    from geocatalog.testing import FUSION_CLASSES

    labels = synthetic_fusion_scenes(48, 48, seed=100, cloud_fraction=0.05).labels.values
    share = np.bincount(labels.ravel(), minlength=len(FUSION_CLASSES)) / labels.size
    line = ", ".join(f"{c} {100 * s:.1f}%" for c, s in zip(FUSION_CLASSES, share, strict=True))
    assert f"truth: {line}" in text
    return 3  # loss curve, the three inputs, predicted vs truth


def nan_rmse(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[both].astype(np.float64) - b[both]) ** 2)))


def check_case13(notebook, text, data_dir):
    import rasterio

    import geocatalog as gc
    import pipekit as pk

    assert (
        "- DarkObjectSubtraction.percentile: 1.0\n+ DarkObjectSubtraction.percentile: 2.0\n"
        "+ LeeSpeckle (added before MatchedFilter): {window: 5}" in text
    )
    # catalog.sample(4) of 6 tiles: rng(0).choice without replacement, in file order.
    picked = np.sort(np.random.default_rng(0).choice(6, size=4, replace=False))
    saved = np.load(data_dir / "ab_outputs.npz")
    assert list(saved["ids"]) == [f"emit_{i}" for i in picked]
    rmse = np.array([nan_rmse(a, b) for a, b in zip(saved["v3"], saved["v4"], strict=True)])
    for tile, value in zip(saved["ids"], rmse, strict=True):
        assert number(text, rf"{tile}: RMSE ([\d.]+) ppm·m") == pytest.approx(value, rel=1e-5)
    line = re.search(r"summary: median ([\d.]+), mean ([\d.]+), p95 ([\d.]+)", text)
    assert line, text
    summary = dict(zip(("median", "mean", "p95"), map(float, line.groups()), strict=True))
    assert summary["median"] == pytest.approx(np.median(rmse), rel=1e-5)
    assert summary["mean"] == pytest.approx(np.mean(rmse), rel=1e-5)
    assert summary["p95"] == pytest.approx(np.percentile(rmse, 95), rel=1e-5)
    # The kept maps are the pipeline's output: v3 on a rasterio read of the first tile.
    path = data_dir / f"emit_{picked[0]}.tif"
    with rasterio.open(path) as src:
        radiance = gc.read_raster(str(path)).replace(values=src.read())
    v3 = pk.loads_yaml((ROOT / "examples" / "pipelines" / "methane_v3.yaml").read_text())
    np.testing.assert_allclose(np.asarray(v3(radiance).values), saved["v3"][0], rtol=1e-5,
                               atol=1e-3)  # fmt: skip
    return 2  # per-tile violins + RMSE histogram, maps of the worst tile


CHECKS = {
    "case01_ndvi.ipynb": check_case01,
    "case13_ab.ipynb": check_case13,
    "fusion.ipynb": check_fusion,
    "patching.ipynb": check_patching,
}
CHECKS.update(XR_CHECKS)  # the xr_toolz notebooks' checks live in their own module


@pytest.mark.parametrize("path", notebooks(ROOT / "notebooks"), ids=lambda p: p.stem)
def test_notebook_runs_draws_and_prints_the_right_numbers(path, tmp_path):
    assert path.name in CHECKS, f"{path.name}: add a check of its printed numbers to CHECKS"
    env = {"FUSION_STEPS": "3", "CASE13_DIR": str(tmp_path)}
    notebook = execute(path, timeout=240, env=env, out=tmp_path / path.name)
    assert nbformat.read(tmp_path / path.name, as_version=4).cells == notebook.cells
    streams = [o for o in outputs(notebook) if o.output_type == "stream"]
    assert [o.text for o in streams if o.name == "stderr"] == []  # no warnings, no logs
    assert all(o.output_type != "error" for o in outputs(notebook))
    figures = CHECKS[path.name](notebook, printed(notebook), tmp_path)
    sizes = png_sizes(notebook)
    assert len(sizes) == figures, sizes
    for width, height in sizes:
        assert 300 <= width <= 2000 and 200 <= height <= 1000, (width, height)


def write_notebook(path: Path, *sources: str) -> Path:
    from nbformat.v4 import new_code_cell, new_notebook

    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


def test_runner_uses_this_python_in_the_notebook_folder_and_draws_inline(tmp_path):
    path = write_notebook(
        tmp_path / "probe.ipynb",
        "import os, sys\nprint(sys.executable)\nprint(os.getcwd())\nprint(os.environ['PROBE'])",
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()",
    )
    # A GUI backend in the caller's environment must not stop figures becoming PNGs.
    notebook = execute(path, env={"PROBE": "42", "MPLBACKEND": "TkAgg"})
    assert printed(notebook).splitlines() == [sys.executable, str(tmp_path.resolve()), "42"]
    assert len(png_sizes(notebook)) == 1
    assert notebook.metadata.kernelspec.name == "python3"


def test_runner_fails_on_a_cell_error(tmp_path, caplog):
    path = write_notebook(tmp_path / "broken.ipynb", "x = 1", "x / 0")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        execute(path, timeout=60)
    assert main([str(path), "--timeout", "60"]) == 1
    assert "broken.ipynb failed" in caplog.text
    with pytest.raises(SystemExit):
        main([str(path), "--env", "NOVALUE"])
