"""Seed Case 13: config diff and A/B regression of two YAML pipelines.

Stand-ins: ``pa.metrics.RMSE`` (pipekit_array issue) is the ``RMSE`` operator below, and
``catalog.sample(100)`` (geocatalog issue) is a list of 100 small synthetic scenes.
"""

from pathlib import Path

import numpy as np

import pipekit as pk
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


def test_case13_as_written(tmp_path):
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


def test_cli_diff_exit_codes(tmp_path, capsys):
    from pipekit._cli import main

    old_path, new_path = write_pipelines(tmp_path)
    assert main(["diff", str(old_path), str(new_path)]) == 1
    assert "+ ToFloat32 (added before NDVI): {}" in capsys.readouterr().out
    assert main(["diff", str(old_path), str(old_path)]) == 0
    assert capsys.readouterr().out.strip() == "no differences"
