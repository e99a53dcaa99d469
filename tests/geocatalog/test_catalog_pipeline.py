"""CatalogPipeline: one COG per slice, idempotent, resumable after SIGKILL, any executor."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import pipekit as pk
from geocatalog.integrations._catalog_pipeline import (
    CatalogPipeline,
    CatalogPipelineError,
    read_manifest,
)
from tests.geocatalog import pipeline_workers as w

ROOT = Path(__file__).parents[2]
N = 40
DAY = dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)


def make_scenes(folder: Path, n: int = N) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        transform = Affine(10.0, 0.0, 399960.0 + 320.0 * i, 0.0, -10.0, 4500000.0)
        scene = gc.testing.synthetic_scene(32, 32, seed=i, transform=transform)
        paths.append(str(gc.save_cog(scene, str(folder / f"scene_{i:02d}.tif"))))
    return paths


def make_catalog(paths: list[str], path: Path) -> gc.Catalog:
    return gc.open_catalog(gc.build_catalog(paths, str(path), datetime_fn=lambda p: DAY))


def process_map() -> pk.parallel.ProcessMap:
    return pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue")


def outputs(out_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out_dir.glob("*.tif"))}


def assert_manifest_complete(report, catalog, out_dir: Path, statuses=("ok", "skipped")):
    lines = read_manifest(out_dir / "manifest.jsonl")
    slices = list(catalog.iter_slices())
    assert [r["slice_hash"] for r in lines] == [sl.hash for sl in slices]
    assert {r["status"] for r in lines} <= set(statuses)
    assert {r["config_hash"] for r in lines} == {pk.config_hash(w.case1_op())}
    assert [r["item_id"] for r in lines] == [sl.item_id for sl in slices]
    assert [r["output"] for r in lines] == [str(out_dir / f"{sl.hash}.tif") for sl in slices]
    assert [r.status for r in report.records] == [r["status"] for r in lines]
    return lines


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """40 scenes, their catalog, and one uninterrupted reference run."""
    root = tmp_path_factory.mktemp("pipeline")
    paths = make_scenes(root / "scenes")
    catalog = make_catalog(paths, root / "catalog.parquet")
    ref_dir = root / "reference"
    report = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=ref_dir).run()
    return {"root": root, "paths": paths, "catalog": catalog, "ref": ref_dir, "report": report}


def test_full_run_writes_one_output_per_slice_equal_to_direct_computation(world):
    catalog, ref_dir, report = world["catalog"], world["ref"], world["report"]
    assert report.counts == {"ok": N, "skipped": 0, "failed": 0}
    lines = assert_manifest_complete(report, catalog, ref_dir, statuses=("ok",))
    assert all(r["error"] is None and r["seconds"] > 0 for r in lines)
    assert len(outputs(ref_dir)) == N
    op = w.case1_op()
    for sl in list(catalog.iter_slices())[::7]:
        want = op(gc.load_raster(sl))  # the oracle: the op applied directly, in this process
        got = gc.read_raster(ref_dir / f"{sl.hash}.tif")
        assert got.transform == want.transform
        np.testing.assert_array_equal(got.values[0], np.asarray(want.values))


def test_rerun_skips_everything_and_rewrites_nothing(world, tmp_path):
    out_dir = tmp_path / "out"
    shutil.copytree(world["ref"], out_dir)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out_dir.glob("*.tif")}
    report = CatalogPipeline(world["catalog"], w.case1_op(), process_map(), out_dir=out_dir).run()
    assert report.counts == {"ok": 0, "skipped": N, "failed": 0}
    assert_manifest_complete(report, world["catalog"], out_dir, statuses=("skipped",))
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.glob("*.tif")} == mtimes


def test_sigkill_mid_run_then_rerun_gives_identical_bytes(world, tmp_path):
    out_dir = tmp_path / "killed"
    w.run_until_killed(world["root"] / "catalog.parquet", out_dir, tmp_path)
    done_before = set(outputs(out_dir))
    assert len(done_before) == 6  # the kill landed exactly where the gate held the run
    # A temp file of ours (as a kill inside save_cog leaves), and files that are not ours.
    stale = out_dir / f".{'0' * 64}.tif.{'a' * 32}.tmp"
    stale.write_bytes(b"partial")
    (out_dir / ".notes.tmp").write_text("keep")
    (out_dir / "README.txt").write_text("keep")

    report = CatalogPipeline(world["catalog"], w.case1_op(), process_map(), out_dir=out_dir).run()
    assert outputs(out_dir) == outputs(world["ref"])  # byte-identical to the uninterrupted run
    assert not stale.exists()
    assert (out_dir / ".notes.tmp").exists() and (out_dir / "README.txt").exists()
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp") and p.name != ".notes.tmp"]
    lines = assert_manifest_complete(report, world["catalog"], out_dir)
    skipped = {Path(r["output"]).name for r in lines if r["status"] == "skipped"}
    assert skipped == done_before
    assert report.counts["ok"] == N - len(done_before)


def test_corrupt_inputs_fail_in_the_manifest_and_the_rest_succeed(world, tmp_path):
    folder = tmp_path / "scenes"
    shutil.copytree(world["root"] / "scenes", folder)
    paths = sorted(str(p) for p in folder.glob("*.tif"))
    catalog = make_catalog(paths, tmp_path / "catalog.parquet")
    bad = {3, 17, 31}
    for i in bad:
        Path(paths[i]).write_bytes(b"this is not a GeoTIFF" * 10)
    out_dir = tmp_path / "out"
    report = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out_dir).run()
    assert report.counts == {"ok": N - 3, "skipped": 0, "failed": 3}
    lines = read_manifest(out_dir / "manifest.jsonl")
    failed = [r for r in lines if r["status"] == "failed"]
    assert {r["item_id"] for r in failed} == {f"scene_{i:02d}" for i in bad}
    for r in failed:
        assert r["error"]["type"] == "RasterReadError"
        assert "not recognized as being in a supported file format" in r["error"]["message"]
        assert r["seconds"] is None and not Path(r["output"]).exists()
    assert len(outputs(out_dir)) == N - 3
    # A rerun retries only the failures (still failing) and skips the rest.
    again = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out_dir).run()
    assert again.counts == {"ok": 0, "skipped": N - 3, "failed": 3}


def test_on_error_raise_stops_and_still_writes_the_manifest(world, tmp_path):
    paths = make_scenes(tmp_path / "scenes", n=3)
    catalog = make_catalog(paths, tmp_path / "catalog.parquet")
    Path(paths[1]).write_bytes(b"garbage")
    out_dir = tmp_path / "out"
    executor = pk.parallel.ThreadMap(n_workers=1, on_error="raise")
    with pytest.raises(pk.parallel.ParallelError, match="RasterReadError"):
        CatalogPipeline(catalog, w.case1_op(), executor, out_dir=out_dir).run()
    lines = read_manifest(out_dir / "manifest.jsonl")
    by_id = {r["item_id"]: r for r in lines}
    assert by_id["scene_01"]["status"] == "failed"
    assert by_id["scene_01"]["error"]["type"] == "RasterReadError"
    assert {r["status"] for r in lines} <= {"ok", "failed", "pending"}


def test_default_executor_and_other_op_is_refused(world, tmp_path):
    catalog = make_catalog(world["paths"][:2], tmp_path / "catalog.parquet")
    out_dir = tmp_path / "out"
    report = CatalogPipeline(catalog, w.case1_op(), out_dir=out_dir, progress=True).run()
    assert report.counts["ok"] == 2
    for sl in catalog.iter_slices():
        ref = world["ref"] / f"{sl.hash}.tif"
        assert (out_dir / ref.name).read_bytes() == ref.read_bytes()
    with pytest.raises(CatalogPipelineError, match="holds outputs of another op"):
        CatalogPipeline(catalog, pk.Identity(), out_dir=out_dir).run()
    with pytest.raises(TypeError, match=r"expects a geocatalog.Catalog"):
        CatalogPipeline([1, 2], pk.Identity())
    with pytest.raises(TypeError, match=r"pipekit.parallel executor"):
        CatalogPipeline(catalog, pk.Identity(), parallel=4)
    # An executor without pipekit's failure policy is refused up front, not at a failure.
    with ThreadPoolExecutor(1) as pool, pytest.raises(TypeError, match=r"got ThreadPoolExec"):
        CatalogPipeline(catalog, pk.Identity(), parallel=pool)
    json.dumps(read_manifest(out_dir / "manifest.jsonl"))


def test_a_slice_past_the_executor_timeout_fails_alone(world, tmp_path):
    catalog = make_catalog(world["paths"][:3], tmp_path / "catalog.parquet")
    release = threading.Event()

    def hang_on_scene_01(sl: gc.GeoSlice) -> gc.GeoTensor:
        if sl.item_id == "scene_01":
            release.wait(30)
            raise RuntimeError("released after the test")  # never writes an output
        return gc.load_raster(sl)

    executor = pk.parallel.ThreadMap(n_workers=2, on_error="collect", timeout=1.0)
    out_dir = tmp_path / "out"
    try:
        pipe = CatalogPipeline(catalog, w.case1_op(), executor, hang_on_scene_01, out_dir)
        report = pipe.run()
    finally:
        release.set()
    assert report.counts == {"ok": 2, "skipped": 0, "failed": 1}
    by_id = {r["item_id"]: r for r in read_manifest(out_dir / "manifest.jsonl")}
    assert by_id["scene_01"]["status"] == "failed"
    assert by_id["scene_01"]["error"]["type"] == "TimeoutError"
    assert "timeout=1 s" in by_id["scene_01"]["error"]["message"]
    ref = outputs(world["ref"])  # the uninterrupted reference run of the same scenes
    for item in ("scene_00", "scene_02"):
        name = Path(by_id[item]["output"]).name
        assert (out_dir / name).read_bytes() == ref[name]


def test_async_and_batched_maps_give_the_same_outputs(world, tmp_path):
    catalog = make_catalog(world["paths"][:8], tmp_path / "catalog.parquet")
    ref = outputs(world["ref"])
    inner = pk.parallel.ProcessMap(n_workers=2, on_error="collect")
    executors = {
        "async": pk.parallel.AsyncMap(concurrency=2, on_error="log_and_continue"),
        "batched": pk.parallel.BatchedMap(3, on_error="log_and_continue", inner=inner),
    }
    for name, executor in executors.items():
        out_dir = tmp_path / name
        report = CatalogPipeline(catalog, w.case1_op(), executor, out_dir=out_dir).run()
        assert report.counts == {"ok": 8, "skipped": 0, "failed": 0}, name
        got = outputs(out_dir)
        assert len(got) == 8 and got == {k: v for k, v in ref.items() if k in got}, name


def test_batched_map_fails_only_the_slice_that_raised(world, tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    paths = [shutil.copy(p, folder) for p in world["paths"][:6]]
    catalog = make_catalog(paths, tmp_path / "catalog.parquet")
    Path(paths[4]).write_bytes(b"garbage")  # in the second batch of three
    out_dir = tmp_path / "out"
    executor = pk.parallel.BatchedMap(3, on_error="collect")
    report = CatalogPipeline(catalog, w.case1_op(), executor, out_dir=out_dir).run()
    assert report.counts == {"ok": 5, "skipped": 0, "failed": 1}
    (failed,) = report.by_status("failed")
    assert failed.item_id == "scene_04" and failed.error["type"] == "RasterReadError"
    assert len(outputs(out_dir)) == 5
    # under on_error="raise" the run stops after the batch, with the manifest written
    out_dir = tmp_path / "raise"
    executor = pk.parallel.BatchedMap(3, on_error="raise")
    with pytest.raises(pk.parallel.ParallelError, match="RasterReadError"):
        CatalogPipeline(catalog, w.case1_op(), executor, out_dir=out_dir, batch_size=3).run()
    statuses = [r["status"] for r in read_manifest(out_dir / "manifest.jsonl")]
    order = [sl.item_id for sl in catalog.iter_slices()]  # the pipeline's batches: 3 in a row
    bad = order.index("scene_04")
    last = bad // 3 * 3 + 3  # its batch ran to the end, later batches did not run
    assert statuses == ["ok"] * bad + ["failed"] + ["ok"] * (last - bad - 1) + ["pending"] * (
        len(order) - last
    )


@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")
@pytest.mark.filterwarnings("ignore:.*Creating scratch directories.*:UserWarning")
def test_dask_map_gives_the_same_outputs(world, tmp_path):
    distributed = pytest.importorskip("distributed")
    catalog = make_catalog(world["paths"][:8], tmp_path / "catalog.parquet")
    out_dir = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        executor = pk.parallel.DaskMap(client, on_error="log_and_continue")
        report = CatalogPipeline(catalog, w.case1_op(), executor, out_dir=out_dir).run()
    assert report.counts == {"ok": 8, "skipped": 0, "failed": 0}
    got = outputs(out_dir)
    assert got == {name: data for name, data in outputs(world["ref"]).items() if name in got}
    assert len(got) == 8


def test_etl_example_runs_case2_and_reruns_idempotently(tmp_path):
    script = ROOT / "examples" / "case02_etl" / "run_etl.py"
    for expected in ("ok=6 skipped=0 failed=0", "ok=0 skipped=6 failed=0"):
        done = subprocess.run(
            [sys.executable, str(script), "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert expected in done.stdout
    assert len(list((tmp_path / "ndvi").glob("*.tif"))) == 6
