"""Case 10 as written: ActiveSampler over a catalog returns loadable chips, best first."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

import geocatalog as gc

EXAMPLE = Path(__file__).parents[2] / "examples" / "case10_active" / "select_chips.py"


def test_case10_selects_the_most_uncertain_chips(tmp_path):
    spec = importlib.util.spec_from_file_location("case10_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        chosen = module.main(str(tmp_path), k=6)
    finally:
        sys.path[:] = [p for p in sys.path if not p.endswith("case03_chips")]
    lines = [json.loads(line) for line in (tmp_path / "to_label.jsonl").read_text().splitlines()]
    assert len(chosen) == len(lines) == 6
    scores = [c.score for c in chosen]
    assert scores == sorted(scores, reverse=True)
    # Oracle: score every 64² chip of every scene eagerly, one by one, and rank.
    import jax

    score = module.pk.Sequential([
        module.preprocess,
        module.pa.ModelOp(module.UncertainCNN(jax.random.key(0)),
                          method="predict_with_uncertainty"),
        module.pa.MeanScalar(field="sigma"),
    ])  # fmt: skip
    everything = []
    for sl in gc.open_catalog(tmp_path / "catalog.parquet").iter_slices():
        scene = gc.load_raster(sl)
        for r in range(0, 256, 64):
            for c in range(0, 256, 64):
                everything.append(
                    (float(score(scene[..., r : r + 64, c : c + 64])), sl.item_id, r, c)
                )
    everything.sort(key=lambda t: -t[0])
    assert [(c.item_id, c.row, c.col) for c in chosen] == [t[1:] for t in everything[:6]]
    np.testing.assert_allclose(scores, [t[0] for t in everything[:6]], rtol=1e-5)
    for line, chip in zip(lines, chosen, strict=True):
        sl = gc.GeoSlice.from_dict({k: v for k, v in line.items() if k != "score"})
        assert sl == chip.slice and sl.load().shape == (13, 64, 64)
