"""CatalogPipeline with its catalog, inputs and outputs on S3 (a moto server on 127.0.0.1).

The ``s3`` fixture (``conftest.py``) points ``AWS_*`` at the server for this module; the
worker processes inherit it. Every COG and manifest goes through the code paths real S3
uses (GDAL ``/vsis3/`` reads, pyarrow ``S3FileSystem`` listings and uploads). The oracle is
a run of the same op over local copies of the same scenes: per catalog item, the S3
outputs must be byte-identical to the local ones.
"""

from __future__ import annotations

import pyarrow.fs as pafs
import pytest

import geocatalog as gc
import pipekit as pk
from geocatalog._errors import GeoValueError
from geocatalog.integrations._catalog_pipeline import CatalogPipeline, read_manifest
from tests.geocatalog import pipeline_workers as w
from tests.geocatalog.conftest import BUCKET
from tests.geocatalog.test_catalog_pipeline import make_catalog, make_scenes

N = 12


def process_map() -> pk.parallel.ProcessMap:
    return pk.parallel.ProcessMap(n_workers=2, on_error="log_and_continue")


def upload_scenes(s3: pafs.S3FileSystem, paths: list[str], prefix: str) -> list[str]:
    """Copy local files to ``s3://BUCKET/{prefix}/`` with the test's own client."""
    uris = []
    for path in paths:
        key = f"{BUCKET}/{prefix}/{path.rsplit('/', 1)[1]}"
        with open(path, "rb") as src, s3.open_output_stream(key) as out:
            out.write(src.read())
        uris.append(f"s3://{key}")
    return uris


def listing(s3: pafs.S3FileSystem, prefix: str) -> dict[str, bytes]:
    """Every object directly under ``s3://BUCKET/{prefix}/``, name -> bytes."""
    infos = s3.get_file_info(pafs.FileSelector(f"{BUCKET}/{prefix}", allow_not_found=True))
    out = {}
    for info in infos:
        with s3.open_input_stream(info.path) as fh:
            out[info.base_name] = fh.read()
    return out


def by_item(catalog: gc.Catalog, outputs: dict[str, bytes]) -> dict[str, bytes]:
    """Outputs keyed by catalog item id (local and S3 slices differ in href, so in hash)."""
    return {
        sl.item_id: outputs[f"{sl.hash}.tif"]
        for sl in catalog.iter_slices()
        if f"{sl.hash}.tif" in outputs
    }


def expected_names(catalog: gc.Catalog) -> set[str]:
    return {f"{sl.hash}.tif" for sl in catalog.iter_slices()} | {"manifest.jsonl"}


@pytest.fixture(scope="module")
def world(s3, tmp_path_factory):
    """12 scenes on S3 with a catalog on S3; a reference run over local copies of them."""
    root = tmp_path_factory.mktemp("s3_pipeline")
    paths = make_scenes(root / "scenes", n=N)
    uris = upload_scenes(s3, paths, "pipe/scenes")
    remote = make_catalog(uris, f"s3://{BUCKET}/pipe/catalog.parquet")
    local = make_catalog(paths, root / "catalog.parquet")
    ref_dir = root / "reference"
    CatalogPipeline(local, w.case1_op(), out_dir=ref_dir).run()
    ref = by_item(local, {p.name: p.read_bytes() for p in ref_dir.glob("*.tif")})
    assert len(ref) == N
    return {"s3": s3, "root": root, "remote": remote, "ref": ref}


def test_run_on_s3_writes_the_local_bytes_and_a_rerun_runs_nothing(world):
    s3, catalog = world["s3"], world["remote"]
    out = f"s3://{BUCKET}/pipe/out"
    report = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out).run()
    assert report.counts == {"ok": N, "skipped": 0, "failed": 0}
    objects = listing(s3, "pipe/out")
    assert set(objects) == expected_names(catalog)  # outputs and the manifest, nothing else
    assert by_item(catalog, objects) == world["ref"]
    lines = read_manifest(f"{out}/manifest.jsonl")
    assert [r["output"] for r in lines] == [f"{out}/{sl.hash}.tif" for sl in catalog.iter_slices()]
    assert {r["status"] for r in lines} == {"ok"}
    assert {r["config_hash"] for r in lines} == {pk.config_hash(w.case1_op())}
    # A rerun finds every output with one listing: a loader that raises is never called.
    again = CatalogPipeline(catalog, w.case1_op(), process_map(), w.refuse_load, out).run()
    assert again.counts == {"ok": 0, "skipped": N, "failed": 0}
    assert {r["status"] for r in read_manifest(f"{out}/manifest.jsonl")} == {"skipped"}
    assert by_item(catalog, listing(s3, "pipe/out")) == world["ref"]


def test_sigkill_mid_run_on_s3_then_rerun_gives_the_local_bytes(world, tmp_path):
    s3, catalog = world["s3"], world["remote"]
    out = f"s3://{BUCKET}/pipe/killed"
    w.run_until_killed(f"s3://{BUCKET}/pipe/catalog.parquet", out, tmp_path)
    done_before = set(listing(s3, "pipe/killed")) - {"manifest.jsonl"}
    assert len(done_before) == 6  # the kill landed exactly where the gate held the run
    assert {r["status"] for r in read_manifest(f"{out}/manifest.jsonl")} <= {"ok", "pending"}
    report = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out).run()
    assert report.counts == {"ok": N - 6, "skipped": 6, "failed": 0}
    objects = listing(s3, "pipe/killed")
    assert set(objects) == expected_names(catalog)  # no partial or temporary objects
    assert by_item(catalog, objects) == world["ref"]
    lines = read_manifest(f"{out}/manifest.jsonl")
    assert {r["output"].rsplit("/", 1)[1] for r in lines if r["status"] == "skipped"} == (
        done_before
    )


def test_corrupt_object_fails_in_the_manifest_and_the_rest_succeed(world, tmp_path):
    s3 = world["s3"]
    paths = make_scenes(tmp_path / "scenes", n=3)
    uris = upload_scenes(s3, paths, "bad/scenes")
    catalog = make_catalog(uris, tmp_path / "catalog.parquet")
    with s3.open_output_stream(f"{BUCKET}/bad/scenes/scene_01.tif") as fh:
        fh.write(b"this is not a GeoTIFF" * 10)
    out = f"s3://{BUCKET}/bad/out"
    report = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out).run()
    assert report.counts == {"ok": 2, "skipped": 0, "failed": 1}
    (failed,) = report.by_status("failed")
    assert failed.item_id == "scene_01" and failed.error["type"] == "RasterReadError"
    assert not gc._storage.exists(failed.output)
    assert set(listing(s3, "bad/out")) == expected_names(catalog) - {
        failed.output.rsplit("/", 1)[1]
    }
    assert by_item(catalog, listing(s3, "bad/out")) == {
        k: v for k, v in world["ref"].items() if k in ("scene_00", "scene_02")
    }
    again = CatalogPipeline(catalog, w.case1_op(), process_map(), out_dir=out).run()
    assert again.counts == {"ok": 0, "skipped": 2, "failed": 1}


def test_missing_bucket_is_refused_before_any_work(world):
    pipeline = CatalogPipeline(world["remote"], w.case1_op(), out_dir="s3://no-such-bucket/out")
    with pytest.raises(GeoValueError, match=r"bucket 'no-such-bucket' .* does not exist"):
        pipeline.run()
