"""Seed Case 12 as a real Prefect flow: per-slice tasks to S3, retried, idempotent on rerun.

``examples/case12_prefect/flow.py`` runs under ``prefect_test_harness`` (a temporary Prefect
server, ``PREFECT_HOME`` in a temp dir) against a moto S3 server (bucket ``daily``), on a
demo catalog of three small EMIT-like scenes (two on the date, one the day after) through
the seed's ``methane_v3.yaml``. Oracle: the same pipeline run directly on each slice's
raster, read whole with ``gc.read_raster``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pyarrow.fs as pafs
import pytest

import geocatalog as gc
import pipekit as pk
from tests._s3 import s3_server

ROOT = Path(__file__).resolve().parents[2]
FLOW_PY = ROOT / "examples" / "case12_prefect" / "flow.py"
DAY, NEXT_DAY = "2024-09-15", "2024-09-16"
SIZE = (24, 16)  # small: the matched filter solves a 161-band system per detector column


@pytest.fixture(scope="module")
def s3() -> Iterator[pafs.S3FileSystem]:
    yield from s3_server("daily")


@pytest.fixture(scope="module")
def case12(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The example module, imported (with Prefect) inside a temporary Prefect server."""
    with pytest.MonkeyPatch.context() as mp:
        # Prefect reads its settings when first imported: set them before that.
        mp.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
        mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        mp.delenv("PREFECT_API_URL", raising=False)
        mp.delenv("CASE12_OUT_ROOT", raising=False)
        from prefect.testing.utilities import prefect_test_harness

        spec = importlib.util.spec_from_file_location("case12_prefect_flow", FLOW_PY)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        try:
            with prefect_test_harness(server_startup_timeout=120):
                yield module
        finally:
            sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def catalog(case12: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> str:
    return case12.make_demo_catalog(tmp_path_factory.mktemp("case12"), DAY, size=SIZE)


def slices_on(catalog: str, date: str) -> list[dict]:
    return [sl.to_dict() for sl in gc.open_catalog(catalog).iter_slices_for_date(date)]


def listing(s3: pafs.S3FileSystem, prefix: str) -> dict[str, tuple[int, object]]:
    infos = s3.get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
    return {i.path: (i.size, i.mtime) for i in infos if i.type == pafs.FileType.File}


class Counting:
    """Wrap a function, count its calls; optionally fail the first ``fail`` calls."""

    def __init__(self, fn, fail: int = 0) -> None:
        self.fn, self.fail, self.calls = fn, fail, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.fail:
            raise ConnectionError(f"flaky read #{self.calls} (injected by the test)")
        return self.fn(*args, **kwargs)


@pytest.fixture(scope="module")
def first_run(case12: ModuleType, catalog: str, s3: pafs.S3FileSystem) -> list[dict]:
    """The README's CLI path (``main``) over the day: default output root s3://daily."""
    return case12.main(["--catalog", catalog, "--date", DAY])


def test_outputs_on_s3_at_deterministic_uris_equal_the_direct_run(
    first_run: list[dict], catalog: str, s3: pafs.S3FileSystem
) -> None:
    slices = slices_on(catalog, DAY)
    assert len(slices) == 2  # the next day's scene is not part of this run
    assert [r["out_uri"] for r in first_run] == [f"s3://daily/{sl['hash']}.tif" for sl in slices]
    assert not any(r["skipped"] for r in first_run)
    (other,) = slices_on(catalog, NEXT_DAY)
    assert set(listing(s3, "daily")) == {f"daily/{sl['hash']}.tif" for sl in slices}
    assert f"daily/{other['hash']}.tif" not in listing(s3, "daily")
    pipeline = pk.loads_yaml(
        Path(FLOW_PY.parent.parent / "pipelines" / "methane_v3.yaml").read_text()
    )
    for sl, result in zip(slices, first_run, strict=True):
        want = pipeline(gc.read_raster(sl["href"]))
        got = gc.read_raster(result["out_uri"])
        assert got.transform == want.transform and got.crs_string == want.crs_string
        np.testing.assert_array_equal(np.asarray(got.values), np.asarray(want.values))
        assert result["stats"]["valid_fraction"] == 1.0
        assert result["stats"]["bands"][0]["max"] == pytest.approx(float(np.nanmax(want.values)))


def test_rerun_skips_finished_slices_and_writes_nothing(
    case12: ModuleType, catalog: str, s3: pafs.S3FileSystem, first_run: list[dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    before = listing(s3, "daily")
    loads = Counting(gc.load_raster)
    saves = Counting(gc.save_cog)
    monkeypatch.setattr(gc, "load_raster", loads)
    monkeypatch.setattr(gc, "save_cog", saves)
    again = case12.daily_methane_flow(DAY, catalog)
    assert (loads.calls, saves.calls) == (0, 0)  # existence checked before any work
    assert [r["skipped"] for r in again] == [True, True]
    assert [r["out_uri"] for r in again] == [r["out_uri"] for r in first_run]
    assert [r["stats"] for r in again] == [r["stats"] for r in first_run]
    assert listing(s3, "daily") == before  # same objects, sizes and modification times


def test_flaky_read_is_retried_and_the_flow_succeeds(
    case12: ModuleType, catalog: str, s3: pafs.S3FileSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    assert (case12.run_op.retries, case12.run_op.retry_delay_seconds) == (3, 60)  # the seed's
    monkeypatch.setattr(case12, "run_op", case12.run_op.with_options(retry_delay_seconds=0))
    flaky = Counting(gc.load_raster, fail=2)
    monkeypatch.setattr(gc, "load_raster", flaky)
    state = case12.daily_methane_flow(NEXT_DAY, catalog, out_root="s3://daily/retry",
                                      return_state=True)  # fmt: skip
    assert state.is_completed(), state
    assert flaky.calls == 3  # failed twice, then read
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))  # fmt: skip
    assert [(r.run_count, r.state.type.value) for r in runs] == [(3, "COMPLETED")]
    (sl,) = slices_on(catalog, NEXT_DAY)
    (result,) = state.result()
    assert result["out_uri"] == f"s3://daily/retry/{sl['hash']}.tif"
    want = pk.loads_yaml(Path(case12.OP_YAML).read_text())(gc.read_raster(sl["href"]))
    got = gc.read_raster(result["out_uri"])
    np.testing.assert_array_equal(np.asarray(got.values), np.asarray(want.values))
