"""Seed Case 4: the LitServe methane API, started as its README says and queried over HTTP.

``examples/case04_litserve/server.py --demo PATH`` writes its EMIT-like demo COG and serves
``methane_v3.yaml``. The answer to a POST on ``/predict`` must be what the pipeline gives
in this process on ``gc.read_from_url(url, bounds=bbox)`` (the serving layer adds nothing
and loses nothing), on the grid the bbox names (hand-computed from the demo's 60 m grid).
"""

from __future__ import annotations

import base64
import math
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from affine import Affine
from rasterio.io import MemoryFile

import geocatalog as gc
import geotoolz as gz  # noqa: F401  (registers the YAML's operators)
import pipekit as pk

from ._servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "examples" / "case04_litserve" / "server.py"
YAML = ROOT / "examples" / "pipelines" / "methane_v3.yaml"
# The demo grid: 60 m pixels, upper-left corner (500040, 3900000), 48 rows x 64 columns.
# The request asks for rows 8..32 and columns 24..32 (pixel edges), a 24 x 8 window
# (small: the matched filter's cost grows with the number of detector columns).
LEFT, TOP, RES = 500040.0, 3900000.0, 60.0
BBOX = [LEFT + 24 * RES, TOP - 32 * RES, LEFT + 32 * RES, TOP - 8 * RES]


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("case04")
    scene = tmp / "emit_demo.tif"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The README's command, on a free loopback port.
    cmd = [sys.executable, str(SERVER), "--demo", str(scene), "--port", str(port)]
    with serve(cmd, f"{base}/health", cwd=tmp, log=tmp / "server.log", timeout=240) as proc:
        deadline = time.monotonic() + 120
        while httpx.get(f"{base}/health", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "LitServe workers never became ready"
            time.sleep(0.2)
        workers = _descendants(proc.pid)
        assert workers, "LitServe runs its inference worker and HTTP server as child processes"
        yield base, scene
    left = [p for p in workers if Path(f"/proc/{p}").exists()]
    assert not left, f"LitServe processes left after the server stopped: {left}"


def _assert_json_close(got: Any, want: Any, path: str = "stats") -> None:
    """JSON ``got`` equals ``want`` with floats to float32 round-off."""
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for key in want:
            _assert_json_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_json_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-3), (path, got, want)
    else:
        assert got == want, path


def test_predict_returns_the_pipeline_result(server: tuple[str, Path]) -> None:
    base, scene = server
    url = scene.as_uri()
    resp = httpx.post(f"{base}/predict", json={"url": url, "bbox": BBOX}, timeout=180)
    assert resp.status_code == 200, resp.text
    body = resp.json()

    with open(YAML) as f:
        pipeline = pk.loads_yaml(f.read())
    want = pipeline(gc.read_from_url(url, bounds=tuple(BBOX)))
    assert body["config_hash"] == pk.config_hash(pipeline)

    with MemoryFile(base64.b64decode(body["cog_b64"])) as mem, mem.open() as src:
        assert src.driver == "GTiff"
        got, transform, crs = src.read(), src.transform, src.crs
    assert got.shape == (1, 24, 8)  # one CH4 band on the requested 24 x 8 window
    assert transform == Affine(RES, 0.0, BBOX[0], 0.0, -RES, BBOX[3])
    assert transform == want.transform and crs.to_epsg() == 32611
    values = np.asarray(want.values)
    assert np.isfinite(values).all()
    np.testing.assert_allclose(got, values, rtol=1e-4, atol=1e-2 * np.abs(values).max())
    _assert_json_close(body["stats"], want.summary_stats())
    assert body["stats"]["shape"] == [1, 24, 8] and body["stats"]["bounds"] == BBOX


@pytest.mark.parametrize(
    ("request_body", "status", "message"),
    [
        ({"bbox": [0.0, 0.0, 60.0, 60.0], "url": "{scene}"}, 400, "does not overlap the raster"),
        ({"bbox": BBOX, "url": "{missing}"}, 404, "no raster file at this path"),
        ({"bbox": [1.0, 2.0], "url": "{scene}"}, 400, r"bbox must be \[left, bottom"),
        ({"bbox": BBOX}, 400, "expected a JSON object"),
    ],
)
def test_bad_requests_get_json_errors(
    server: tuple[str, Path], request_body: dict, status: int, message: str
) -> None:
    base, scene = server
    body = {k: (v.format(scene=scene.as_uri(), missing=(scene.parent / "nope.tif").as_uri())
                if isinstance(v, str) else v) for k, v in request_body.items()}  # fmt: skip
    resp = httpx.post(f"{base}/predict", json=body, timeout=60)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert re.search(message, resp.json()["detail"]), resp.json()


def test_readme_command_is_the_one_tested() -> None:
    readme = (SERVER.parent / "README.md").read_text()
    assert "uv run python examples/case04_litserve/server.py --demo " in readme
