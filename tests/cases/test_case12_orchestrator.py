"""Seed Case 12: orchestrator task units shipped to worker processes, idempotent outputs."""

import functools
import json
from pathlib import Path

import numpy as np

import geocatalog as gc
import pipekit as pk
from geocatalog.testing import synthetic_scene

ROOT = Path(__file__).parents[2]
OP_YAML = str(ROOT / "examples" / "case1_ndvi.yaml")


def make_slices(href: str) -> list[dict]:
    slices = []
    for r0 in (0, 32):
        for c0 in (0, 48):
            sl = gc.GeoSlice(href=href, window=((r0, r0 + 32), (c0, c0 + 48)))
            slices.append(json.loads(json.dumps(sl.to_dict())))  # plain JSON, as shipped
    return slices


def test_case12_task_units_in_worker_processes_are_idempotent(tmp_path, monkeypatch):
    # The task body is the example's run_op (Case 12 as written). Fresh pools
    # (keep_pool=False) are spawned after the path change, so workers import it too.
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "case12_prefect"))
    from daily_flow import run_op

    scene = synthetic_scene(64, 96, seed=11)
    href = str(gc.save_cog(scene, tmp_path / "scene.tif"))
    out_dir = tmp_path / "daily"
    out_dir.mkdir()
    slices = make_slices(href)
    task = functools.partial(run_op, OP_YAML, out_dir=str(out_dir))
    results = pk.parallel.ProcessMap(n_workers=2, on_error="raise", keep_pool=False).map(
        task, slices
    )

    pipeline = pk.loads_yaml(Path(OP_YAML).read_text())
    for sl, res in zip(slices, results, strict=True):
        assert res["out_uri"] == str(out_dir / f"{sl['hash']}.tif")
        (r0, r1), (c0, c1) = sl["window"]
        want = pipeline(scene[..., r0:r1, c0:c1])
        assert sl["hash"] == gc.GeoSlice.from_dict(sl).hash
        got = gc.read_raster(res["out_uri"])
        assert got.transform == want.transform
        np.testing.assert_array_equal(got.values[0], want.values)
        json.dumps(res["stats"])  # task results are plain JSON
    # A retry rewrites the same files with the same content: nothing new appears.
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    again = pk.parallel.ProcessMap(n_workers=2, keep_pool=False).map(task, slices)
    assert [r["out_uri"] for r in again] == [r["out_uri"] for r in results]
    after = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    assert len(after) == 4 and after == before  # a retry produces the same bytes


def test_orchestrator_example_runs_and_retries_byte_identically(tmp_path):
    import subprocess
    import sys

    script = ROOT / "examples" / "case12_prefect" / "daily_flow.py"
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, str(script), "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        snapshot = {p.name: p.read_bytes() for p in tmp_path.glob("*.tif")}
        if _ == 0:
            first = snapshot
    assert len(proc.stdout.splitlines()) == 4
    assert snapshot == first and len(snapshot) == 5  # 4 outputs + the input scene


def test_every_case12_operator_pickles():
    pipeline = pk.loads_yaml(Path(OP_YAML).read_text())
    pk.parallel.check_pickleable(pipeline)


def test_case12_with_the_seeds_methane_v3_pipeline(tmp_path, monkeypatch):
    """The seed's ``op_yaml = "pipelines/methane_v3.yaml"`` through the same task body."""
    import geotoolz as gz
    from geocatalog.testing import synthetic_emit_scene

    monkeypatch.syspath_prepend(str(ROOT / "examples" / "case12_prefect"))
    from daily_flow import run_op

    op_yaml = str(ROOT / "examples" / "pipelines" / "methane_v3.yaml")
    plume = np.zeros((96, 64))
    plume[40:50, 20:40] = 3000.0
    absorption = gz.methane.ch4_absorption_spectrum()
    scene = synthetic_emit_scene(96, 64, seed=4, enhancement=plume, absorption=absorption).radiance
    href = str(gc.save_cog(scene, tmp_path / "emit.tif"))
    slices = []
    for c0 in (0, 32):
        sl = gc.GeoSlice(href=href, window=((0, 96), (c0, c0 + 32)))
        slices.append(json.loads(json.dumps(sl.to_dict())))
    task = functools.partial(run_op, op_yaml, out_dir=str(tmp_path))
    results = pk.parallel.ProcessMap(n_workers=2, keep_pool=False).map(task, slices)
    pipeline = pk.loads_yaml(Path(op_yaml).read_text())
    for sl, res in zip(slices, results, strict=True):
        (r0, r1), (c0, c1) = sl["window"]
        want = pipeline(scene[..., r0:r1, c0:c1])
        got = gc.read_raster(res["out_uri"])
        assert got.transform == want.transform
        np.testing.assert_array_equal(got.values[0], np.asarray(want.values)[0])
        json.dumps(res["stats"])
    left = np.asarray(gc.read_raster(results[0]["out_uri"]).values[0])
    background = left[:30]
    assert np.nanmean(left[40:50, 20:32]) > np.nanmean(background) + 3 * np.nanstd(background)
