"""Seed Case 13: config diff and A/B regression of two YAML pipelines.

``test_case13_as_written`` runs the seed's lines on a real GeoParquet catalog of COGs:
``reg = pk.diff.AB(old, new, metric=pa.metrics.RMSE()); reg.run(catalog.sample(100))``.
The first test keeps a list of in-memory scenes and a NumPy ``RMSE`` stand-in as a
second, independent path.
"""

from pathlib import Path

import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene

ROOT = Path(__file__).parents[2]


class RMSE(pk.Operator):
    """Stand-in for pa.metrics.RMSE: root-mean-square difference over finite pixels."""

    def _apply(self, a, b):
        d = np.asarray(a.values, np.float64) - np.asarray(b.values, np.float64)
        return float(np.sqrt(np.nanmean(d**2)))


def write_pipelines(tmp_path):
    old = (ROOT / "examples" / "case1_ndvi.yaml").read_text()
    new = old.replace("p_min: 2.0", "p_min: 1.0").replace(
        "- _target_: geotoolz.indices.NDVI",
        "- _target_: geotoolz.radiometry.ToFloat32\n- _target_: geotoolz.indices.NDVI",
    )
    (tmp_path / "v3.yaml").write_text(old)
    (tmp_path / "v4_candidate.yaml").write_text(new)
    return tmp_path / "v3.yaml", tmp_path / "v4_candidate.yaml"


def test_case13_on_in_memory_scenes(tmp_path):
    old_path, new_path = write_pipelines(tmp_path)
    old = pk.loads_yaml(old_path.read_text())
    new = pk.loads_yaml(new_path.read_text())
    diff = pk.diff.config_diff(old, new)
    assert str(diff).splitlines() == [
        "- PercentileClip.p_min: 2.0",
        "+ PercentileClip.p_min: 1.0",
        "+ ToFloat32 (added before NDVI): {}",
    ]
    assert len(diff.changes) == 2

    samples = [synthetic_scene(24, 24, seed=i) for i in range(100)]  # catalog.sample(100)
    reg = pk.diff.AB(old, new, metric=RMSE())
    report = reg.run(samples)
    summary = report.summary()
    # Independent oracle: the same numbers computed directly.
    expected = np.array(
        [
            np.sqrt(np.nanmean((old(s).values.astype(np.float64) - new(s).values) ** 2))
            for s in samples
        ]
    )
    np.testing.assert_allclose(report.values, expected, rtol=1e-12)
    assert summary["n"] == 100
    assert summary["mean"] == np.mean(expected)
    assert summary["median"] == np.median(expected)
    assert summary["max"] == np.max(expected)
    assert summary["p95"] == np.percentile(expected, 95)


def scene_of(i: int) -> gc.GeoTensor:
    """Scene ``i`` of the catalog: 16 x 16 px, each at its own place in UTM 30N."""
    transform = Affine(10.0, 0.0, 400_000.0 + 1_000.0 * i, 0.0, -10.0, 4_500_000.0)
    return synthetic_scene(16, 16, seed=i, transform=transform)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """120 COGs in a GeoParquet catalog, with the in-memory scenes they were written from."""
    root = tmp_path_factory.mktemp("case13")
    scenes = {}
    for i in range(120):
        path = str(root / f"tile_{i:03d}.tif")
        scenes[path] = scene_of(i)
        gc.save_cog(scenes[path], path, overviews=False)
    return gc.open_catalog(gc.build_catalog(list(scenes), root / "tiles.parquet")), scenes


def nan_rmse(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[both].astype(np.float64) - b[both]) ** 2)))


def test_case13_as_written(tmp_path, catalog):
    catalog, scenes = catalog
    old_path, new_path = write_pipelines(tmp_path)
    old = pk.loads_yaml(old_path.read_text())
    new = pk.loads_yaml(new_path.read_text())
    # The seed's lines:
    reg = pk.diff.AB(old, new, metric=pa.metrics.RMSE())
    report = reg.run(catalog.sample(100))
    summary = report.summary()
    # Oracle: the scenes the COGs were written from (uint16 round-trips exactly), in the
    # sample's order, through both pipelines, and a NumPy RMSE over pixels valid in both.
    rows = list(catalog.sample(100))
    expected = np.array(
        [nan_rmse(old(scenes[r["href"]]).values, new(scenes[r["href"]]).values) for r in rows]
    )
    assert len(rows) == 100 and summary["n"] == 100 and summary["n_nonfinite"] == 0
    np.testing.assert_allclose(report.values, expected, rtol=1e-4)
    assert summary["median"] == pytest.approx(np.median(expected), rel=1e-4)
    # Rows load themselves; GeoSlices too; loader= overrides (here: a shifted copy).
    first = rows[0]
    np.testing.assert_array_equal(first.load().values, scenes[first["href"]].values)
    by_slices = reg.run(list(catalog.sample(100).iter_slices()))
    np.testing.assert_array_equal(by_slices.values, report.values)
    parallel = pk.diff.AB(old, new, metric=pa.metrics.RMSE(), parallel=pk.parallel.ThreadMap(2))
    np.testing.assert_array_equal(parallel.run(rows[:8]).values, report.values[:8])
    constant = pk.diff.AB(old, new, metric=pa.metrics.RMSE(), loader=lambda r: scene_of(0))
    np.testing.assert_allclose(constant.run(rows[:3]).values, nan_rmse(
        old(scene_of(0)).values, new(scene_of(0)).values), rtol=1e-4)  # fmt: skip


def test_cli_diff_exit_codes(tmp_path, capsys):
    from pipekit._cli import main

    old_path, new_path = write_pipelines(tmp_path)
    assert main(["diff", str(old_path), str(new_path)]) == 1
    assert "+ ToFloat32 (added before NDVI): {}" in capsys.readouterr().out
    assert main(["diff", str(old_path), str(old_path)]) == 0
    assert capsys.readouterr().out.strip() == "no differences"
