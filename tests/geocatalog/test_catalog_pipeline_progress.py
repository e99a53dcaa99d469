"""CatalogPipeline.run(progress=True): a bar over the slices, moving as each one finishes."""

from __future__ import annotations

import sys
import time

import pytest

import geocatalog as gc
import pipekit as pk
from geocatalog.integrations._catalog_pipeline import CatalogPipeline
from tests.geocatalog import pipeline_workers as w
from tests.geocatalog.test_catalog_pipeline import make_catalog, make_scenes
from tests.pipekit.progress_fakes import install_fake_tqdm


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress")
    return make_catalog(make_scenes(root / "scenes", 3), root / "catalog.parquet")


def test_bar_advances_per_slice_failures_included(catalog, tmp_path, monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    order = {sl.hash: k for k, sl in enumerate(catalog.iter_slices())}

    def after_the_earlier_slices(sl: gc.GeoSlice) -> gc.GeoTensor:
        # All three slices are one batch of one map call; slice k waits until the bar
        # counts the k before it: a bar that moved per batch would time out here.
        k = order[sl.hash]
        _wait(lambda: bars[0].n == k)
        if k == 1:
            raise OSError("unreadable scene")
        return gc.load_raster(sl)

    parallel = pk.parallel.ThreadMap(n_workers=1, on_error="collect")
    pipeline = CatalogPipeline(
        catalog, w.case1_op(), parallel, after_the_earlier_slices, tmp_path, batch_size=3
    )
    report = pipeline.run(progress=True)
    assert report.counts == {"ok": 2, "skipped": 0, "failed": 1}
    (bar,) = bars
    assert (bar.desc, bar.total, bar.initial, bar.n, bar.unit) == (
        "CatalogPipeline", 3, 0, 3, "slice",
    )  # fmt: skip
    assert bar.closed

    # A rerun starts at the slices already written (the failed one is run again).
    report = pipeline.run(progress=True)
    assert report.counts == {"ok": 0, "skipped": 2, "failed": 1}
    assert (bars[1].total, bars[1].initial, bars[1].n) == (3, 2, 3)


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the bar did not move"
        time.sleep(0.005)


def test_real_bar_on_stderr_and_constructor_default(catalog, tmp_path, capsys):
    pipeline = CatalogPipeline(catalog, w.case1_op(), out_dir=tmp_path / "a", progress=True)
    assert pipeline.run().counts["ok"] == 3
    err = capsys.readouterr().err
    assert "CatalogPipeline: 100%" in err and "3/3" in err
    # run(progress=False) overrides the constructor; the default is no bar.
    assert pipeline.run(progress=False).counts["skipped"] == 3
    assert CatalogPipeline(catalog, w.case1_op(), out_dir=tmp_path / "b").run().counts["ok"] == 3
    assert capsys.readouterr().err == ""


def test_batched_map_bar_counts_slices(catalog, tmp_path, monkeypatch):
    bars = install_fake_tqdm(monkeypatch)
    parallel = pk.parallel.BatchedMap(2, on_error="collect", progress=True)
    report = CatalogPipeline(catalog, w.case1_op(), parallel, out_dir=tmp_path).run(progress=True)
    assert report.counts["ok"] == 3
    # One bar, the run's: the map's own (which would restart at each batch) is not drawn.
    assert [(b.desc, b.total, b.n) for b in bars] == [("CatalogPipeline", 3, 3)]


def test_missing_tqdm_teaches_the_extra(catalog, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    pipeline = CatalogPipeline(catalog, w.case1_op(), out_dir=tmp_path)
    with pytest.raises(ImportError, match=r"CatalogPipeline: .*pipekit-geo\[progress\]"):
        pipeline.run(progress=True)
    with pytest.raises(ValueError, match=r"CatalogPipeline.run\(progress\) expects a bool"):
        pipeline.run(progress="yes")
