"""Seed Case 5: the FastAPI multi-pipeline backend, started as its README says, over HTTP.

``examples/case05_fastapi/app.py`` runs under uvicorn in a subprocess whose working
directory is a temporary folder (``ndvi_etl``'s ``WriteCOG`` writes ``boa/`` there) and
writes its results to a moto S3 server (bucket ``outputs``, the default prefix). Each
answer is checked against this process: the hashes and configs of the YAMLs loaded here,
and the pipelines run here on ``gc.read_from_url(url, bounds=bbox)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow.fs as pafs
import pytest
from affine import Affine

import geocatalog as gc
import geotoolz as gz  # noqa: F401  (registers the YAMLs' operators)
import pipekit as pk
from geocatalog.testing import synthetic_emit_scene, synthetic_scene

from .._s3 import s3_server
from ._servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "case05_fastapi" / "app.py"
YAMLS = {
    "methane_v3": ROOT / "examples" / "pipelines" / "methane_v3.yaml",
    "methane_v4": ROOT / "examples" / "pipelines" / "methane_v4_candidate.yaml",
    "ndvi_etl": ROOT / "examples" / "pipelines" / "ndvi_etl.yaml",
}


def load(name: str) -> pk.Operator:
    return pk.loads_yaml(YAMLS[name].read_text())


@pytest.fixture(scope="module")
def s3() -> Iterator[pafs.S3FileSystem]:
    yield from s3_server("outputs")


@pytest.fixture(scope="module")
def server(
    s3: pafs.S3FileSystem, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    cwd = tmp_path_factory.mktemp("case05_server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The README's command on a free port; the AWS_* variables s3_server set are inherited.
    cmd = [sys.executable, str(APP), "--port", str(port)]
    with serve(cmd, f"{base}/pipelines", cwd=cwd, log=cwd / "server.log", timeout=180):
        yield base, cwd


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("case05_inputs")
    emit = synthetic_emit_scene(48, 64, seed=4).radiance  # 60 m, corner (500040, 3900000)
    s2 = synthetic_scene(48, 48, seed=9)  # 10 m, corner (399960, 4500000)
    return {
        "emit": Path(gc.save_cog(emit, root / "emit.tif")),
        "s2": Path(gc.save_cog(s2, root / "s2.tif")),
    }


def test_list_pipelines_gives_each_config_hash(server: tuple[str, Path]) -> None:
    base, _ = server
    resp = httpx.get(f"{base}/pipelines", timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {name: pk.config_hash(load(name)) for name in YAMLS}
    assert resp.json()["methane_v3"] != resp.json()["methane_v4"]


@pytest.mark.parametrize("name", ["methane_v3", "ndvi_etl"])
def test_describe_gives_the_config(server: tuple[str, Path], name: str) -> None:
    base, _ = server
    resp = httpx.get(f"{base}/pipelines/{name}", timeout=30)
    assert resp.status_code == 200, resp.text
    config = resp.json()
    want = load(name)
    assert config == json.loads(json.dumps(want.get_config(), allow_nan=False))
    # The served config rebuilds the same pipeline (ndvi_etl's NaN fill comes as "nan").
    assert pk.config_hash(pk.Operator.from_state(config)) == pk.config_hash(want)


def test_process_methane_v3_writes_the_result_to_s3(
    server: tuple[str, Path], scenes: dict[str, Path]
) -> None:
    base, _ = server
    url = scenes["emit"].as_uri()
    bbox = [501480.0, 3898080.0, 501960.0, 3899520.0]  # rows 8..32, columns 24..32
    resp = httpx.post(f"{base}/process/methane_v3", json={"url": url, "bbox": bbox}, timeout=180)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    pipe = load("methane_v3")
    assert body["config_hash"] == pk.config_hash(pipe)
    assert body["cog_url"].startswith("s3://outputs/") and body["cog_url"].endswith(".tif")

    got = gc.read_raster(body["cog_url"])  # from the moto server, through GDAL's /vsis3/
    want = pipe(gc.read_from_url(url, bounds=tuple(bbox)))
    assert got.shape == (1, 24, 8)
    assert got.transform == want.transform == Affine(60.0, 0.0, 501480.0, 0.0, -60.0, 3899520.0)
    assert got.crs_string == "EPSG:32611"
    values = np.asarray(want.values)
    np.testing.assert_allclose(np.asarray(got.values), values, rtol=1e-4,
                               atol=1e-2 * np.abs(values).max())  # fmt: skip


def test_process_ndvi_etl_writes_ndvi_to_s3_and_boa_in_its_cwd(
    server: tuple[str, Path],
    scenes: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, server_cwd = server
    url = scenes["s2"].as_uri()
    bbox = [400000.0, 4499700.0, 400300.0, 4499960.0]  # rows 4..30, columns 4..34
    resp = httpx.post(f"{base}/process/ndvi_etl", json={"url": url, "bbox": bbox}, timeout=120)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["config_hash"] == pk.config_hash(load("ndvi_etl"))

    monkeypatch.chdir(tmp_path)  # the direct run's WriteCOG writes boa/ here
    want = load("ndvi_etl")(gc.read_from_url(url, bounds=tuple(bbox)))
    got = gc.read_raster(body["cog_url"])
    assert got.shape == (1, 26, 30)
    assert got.transform == want.transform == Affine(10.0, 0.0, 400000.0, 0.0, -10.0, 4499960.0)
    ndvi = np.asarray(want.values)  # NDVI drops the band axis; the COG has one band
    assert ndvi.shape == (26, 30)
    assert np.isfinite(ndvi).mean() > 0.5 and np.nanmax(np.abs(ndvi)) <= 1.0
    np.testing.assert_allclose(np.asarray(got.values)[0], ndvi, rtol=1e-6, equal_nan=True)

    # WriteCOG inside the YAML wrote the same haze-corrected stack, named by its content,
    # under the server's working directory.
    (mine,) = (tmp_path / "boa").glob("*.tif")
    theirs = server_cwd / "boa" / mine.name
    assert theirs.exists(), sorted((server_cwd / "boa").glob("*"))
    np.testing.assert_array_equal(gc.read_raster(theirs).values, gc.read_raster(mine).values)


def test_unknown_pipeline_is_a_404_listing_the_names(server: tuple[str, Path]) -> None:
    base, _ = server
    for resp in (
        httpx.get(f"{base}/pipelines/methane_v5", timeout=30),
        httpx.post(f"{base}/process/methane_v5", json={"url": "file:///x.tif",
                                                       "bbox": [0, 0, 1, 1]}, timeout=30),
    ):  # fmt: skip
        assert resp.status_code == 404, resp.text
        detail = resp.json()["detail"]
        assert "'methane_v5'" in detail
        assert all(name in detail for name in YAMLS)


def test_missing_input_404_bounds_off_the_raster_400_wrong_sensor_422(
    server: tuple[str, Path], scenes: dict[str, Path]
) -> None:
    base, _ = server

    def post(name: str, url: str, bbox: list[float]) -> httpx.Response:
        return httpx.post(f"{base}/process/{name}", json={"url": url, "bbox": bbox}, timeout=30)

    s2 = scenes["s2"].as_uri()
    resp = post("ndvi_etl", (scenes["s2"].parent / "nope.tif").as_uri(), [0, 0, 1, 1])
    assert resp.status_code == 404 and "no raster file" in resp.json()["detail"]
    resp = post("ndvi_etl", s2, [0, 0, 1, 1])
    assert resp.status_code == 400 and "does not overlap" in resp.json()["detail"]
    # A Sentinel-2 scene (13 bands) sent to the methane pipeline fails its AssertShape.
    resp = post("methane_v3", s2, [400000.0, 4499700.0, 400300.0, 4499960.0])
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith("pipeline 'methane_v3': ")
    assert "285" in resp.json()["detail"]
