"""Seed Case 6: the Streamlit app runs allowed YAML pipelines and refuses everything else.

Driven with Streamlit's ``AppTest`` (the script runs as ``streamlit run`` runs it, widgets
set and the Run button clicked); the oracle is the same pipeline built with the trusted
``pk.loads_yaml`` and run directly on the demo scene. A last test starts the README's
command for real and asks the server's health endpoint.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio.windows
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

import pipekit as pk
from geocatalog.testing import synthetic_scene

from ._servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "case06_streamlit" / "app.py"
NDVI_YAML = (ROOT / "examples" / "case1_ndvi.yaml").read_text()  # MaskClouds->Clip->NDVI
DEMO = {"height": 128, "width": 128, "seed": 6}  # the app's DEMO_SIZE / DEMO_SEED


class KeptMediaStorage(MemoryMediaFileStorage):
    """AppTest's in-memory media store, remembered so a test can read what ``st.image`` sent."""

    last: KeptMediaStorage | None = None

    def __init__(self, media_endpoint: str) -> None:
        super().__init__(media_endpoint)
        KeptMediaStorage.last = self


@pytest.fixture(autouse=True)
def kept_media(monkeypatch: pytest.MonkeyPatch) -> None:
    # AppTest builds a fresh store per run and drops its mock runtime afterwards.
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMediaStorage)


def run_app(yaml_text: str, bounds: str = "") -> AppTest:
    """Open the app, paste ``yaml_text``, type ``bounds``, press Run; return the finished run."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert [t.label for t in at.text_area] == ["Pipeline YAML"]
    at.text_area[0].input(yaml_text)
    at.text_input[0].input(bounds)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def shown_pixels(at: AppTest) -> np.ndarray:
    """Decode the one ``st.image`` of the run from the (in-memory) media file store."""
    assert len(at.image) == 1
    (url,) = at.image[0].value
    assert KeptMediaStorage.last is not None
    media = KeptMediaStorage.last.get_file(url.rsplit("/", 1)[-1])
    assert media.mimetype == "image/png"
    return np.asarray(Image.open(io.BytesIO(media.content)))


def test_allowed_pipeline_shows_its_result_and_config() -> None:
    at = run_app(NDVI_YAML)
    assert [e.value for e in at.error] == []
    trusted = pk.loads_yaml(NDVI_YAML)
    want = trusted(synthetic_scene(**DEMO)).to_rgb_array()
    assert want.shape[:2] == (128, 128) and len(np.unique(want)) > 50  # a picture, not flat
    np.testing.assert_array_equal(shown_pixels(at), want)
    assert len(at.json) == 1
    assert json.loads(at.json[0].value) == trusted.get_config()


def test_bounds_read_only_that_part_of_the_scene() -> None:
    scene = synthetic_scene(**DEMO)
    bounds = (400160.0, 4499000.0, 400560.0, 4499600.0)  # 40 x 60 px, inside the scene
    at = run_app(NDVI_YAML, bounds=", ".join(str(b) for b in bounds))
    assert [e.value for e in at.error] == []
    win = rasterio.windows.from_bounds(*bounds, transform=scene.transform)
    r0, c0 = round(win.row_off), round(win.col_off)
    r1, c1 = r0 + round(win.height), c0 + round(win.width)
    assert (r1 - r0, c1 - c0) == (60, 40)
    want = pk.loads_yaml(NDVI_YAML)(scene[..., r0:r1, c0:c1]).to_rgb_array()
    np.testing.assert_array_equal(shown_pixels(at), want)


def test_bad_bounds_teach_the_form() -> None:
    at = run_app(NDVI_YAML, bounds="1, 2, three")
    assert len(at.error) == 1 and not at.image
    assert at.error[0].value.startswith("Run error: Bounds must be four numbers")


@pytest.mark.parametrize(
    "doc",
    [
        "_target_: os.system\ncommand: touch {marker}\n",
        "_target_: pipekit.Sequential\nops:\n"
        "- {{_target_: geotoolz.indices.NDVI, red_idx: 2, nir_idx: 3}}\n"
        "- {{_target_: os.system, command: touch {marker}}}\n",
    ],
    ids=["root", "nested"],
)
def test_os_system_is_refused_and_never_runs(tmp_path: Path, doc: str) -> None:
    marker = tmp_path / "pwned"
    at = run_app(doc.format(marker=marker))
    assert [e.value for e in at.error] == ["Operator not allowed: `os.system`"]
    assert not at.image and not at.json
    assert not marker.exists()


def test_python_tag_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    at = run_app(f"!!python/object/apply:os.system ['touch {marker}']\n")
    (err,) = at.error
    assert err.value == "Operator not allowed: `tag:yaml.org,2002:python/object/apply:os.system`"
    assert not marker.exists()


def test_lambda_is_refused() -> None:
    at = run_app("_target_: pipekit.Lambda\nfn: builtins.print\n")
    assert [e.value for e in at.error] == ["Operator not allowed: `pipekit.Lambda`"]
    assert not at.image


def test_malformed_yaml_is_a_yaml_error() -> None:
    at = run_app("_target_: pipekit.Sequential\nops: [unclosed\n")
    (err,) = at.error
    assert err.value.startswith("YAML error: invalid YAML")
    assert "did not find expected ',' or ']'" in err.value
    assert not at.image and not at.json


def test_readme_command_serves(tmp_path: Path) -> None:
    """``streamlit run`` (the README's command, as this interpreter) answers its health check."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    url = f"http://127.0.0.1:{port}/_stcore/health"
    with serve(cmd, url, cwd=ROOT, log=tmp_path / "streamlit.log", timeout=60):
        import urllib.request

        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.status == 200 and resp.read() == b"ok"


def test_writer_is_refused_though_the_trusted_loader_builds_it(tmp_path: Path) -> None:
    """The sandbox, not just the registry, guards the app: a registered writer is refused."""
    out = tmp_path / "written.tif"
    doc = (
        "_target_: pipekit.Sequential\nops:\n"
        "- {_target_: geotoolz.indices.NDVI, red_idx: 2, nir_idx: 3}\n"
        f"- {{_target_: geotoolz.io.WriteCOG, path_template: '{out}'}}\n"
    )
    pk.loads_yaml(doc)(synthetic_scene(8, 8, seed=1))  # trusted: builds, runs and writes
    assert out.exists()
    out.unlink()
    at = run_app(doc)
    assert [e.value for e in at.error] == ["Operator not allowed: `geotoolz.io.WriteCOG`"]
    assert not out.exists() and not at.image
