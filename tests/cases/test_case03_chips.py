"""Case 3 end to end: train on random catalog chips, infer a scene with the chip pipeline."""

import importlib.util
from pathlib import Path

import jax
import numpy as np

import geocatalog as gc

EXAMPLE = Path(__file__).parents[2] / "examples" / "case03_chips" / "train_and_infer.py"


def load_example():
    spec = importlib.util.spec_from_file_location("case3_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_case3_trains_and_infers_the_same_on_both_paths(tmp_path):
    example = load_example()
    # optax's Adam mixes Python floats with its int32 step count, which the suite's strict
    # promotion (conftest.py) refuses; our own code runs strict everywhere else.
    with jax.numpy_dtype_promotion("standard"):
        result = example.main(str(tmp_path), steps=25)
    losses = result["losses"]
    assert len(losses) == 25 and np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])  # it learns
    assert result["gap"] < 1e-5  # eager NumPy path == compiled JAX path
    prediction = gc.read_raster(result["prediction"])
    scene = gc.read_raster(result["scene"])
    assert prediction.shape == (1, 256, 256) and prediction.transform == scene.transform
    # Augmentation keeps input and target aligned: one key drives both.
    batches = example.training_batches(example.make_catalog(tmp_path / "again"), 8, 4, seed=1)
    x, y = next(batches)
    assert x.shape == (4, 13, 64, 64) and y.shape == (4, 1, 64, 64)
