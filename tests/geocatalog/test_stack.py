"""Stacking GeoTensors of one lattice into a batch and back."""

import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

from geocatalog import (
    BatchedGeoTensorError,
    GeoTensor,
    GeoValueError,
    GridShapeError,
    LatticeMismatchError,
    stack,
    unstack,
)


def _gt(c=399960.0, f=4500000.0, shape=(2, 4, 4), crs="EPSG:32630", fill_value=None, xp=np):
    values = xp.ones(shape, dtype=xp.float32)
    return GeoTensor(values, Affine(10.0, 0.0, c, 0.0, -10.0, f), crs, fill_value=fill_value)


def test_roundtrip_numpy_stays_numpy():
    gts = [_gt(c=399960.0 + 10 * i, f=4500000.0 - 30 * i) for i in range(5)]
    batch = stack(gts)
    assert isinstance(batch.values, np.ndarray) and isinstance(batch.offset, np.ndarray)
    assert batch.shape == (5, 2, 4, 4) and batch.batch_shape == (5,)
    back = unstack(batch)
    assert [g.transform for g in back] == [g.transform for g in gts]
    assert all(b.same_grid(g) for b, g in zip(back, gts, strict=True))


def test_mixed_numpy_and_jax_stacks_with_jax():
    batch = stack([_gt(), _gt(c=400000.0, xp=jnp)])
    assert batch.offset.dtype == jnp.int32 and batch.offset.shape == (2, 2)
    assert unstack(batch)[1].transform.c == 400000.0


def test_lattice_mismatch_names_the_index():
    gts = [_gt(), _gt(c=399965.0), _gt()]
    with pytest.raises(
        LatticeMismatchError, match=r"gts\[1\]\.lattice = Lattice\(.*differs from gts\[0\]"
    ):
        stack(gts)
    with pytest.raises(LatticeMismatchError, match=r"gts\[2\]\.lattice"):
        stack([_gt(), _gt(), _gt(crs="EPSG:32631")])
    with pytest.raises(ValueError):  # also a builtin ValueError
        stack(gts)


def test_fill_and_shape_mismatch_are_explained():
    with pytest.raises(LatticeMismatchError, match=r"gts\[1\]\.fill_value = 0"):
        stack([_gt(), _gt(fill_value=0)])
    stack([_gt(fill_value=float("nan")), _gt(fill_value=np.nan)])  # NaN equals NaN here
    with pytest.raises(GridShapeError, match=r"gts\[1\] has shape \(2, 4, 5\)"):
        stack([_gt(), _gt(shape=(2, 4, 5))])


def test_empty_and_unbatched_inputs_are_explained():
    with pytest.raises(GeoValueError, match="at least one GeoTensor"):
        stack([])
    with pytest.raises(TypeError, match=r"gts\[1\] is ndarray"):
        stack([_gt(), np.zeros((2, 4, 4))])
    with pytest.raises(BatchedGeoTensorError, match=r"received offset shape \(2,\)"):
        unstack(_gt())
