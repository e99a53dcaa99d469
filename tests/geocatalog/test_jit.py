"""Under jit and vmap: one compile for many locations, float64-exact georeferencing."""

import pickle

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

from geocatalog import GeoTensor, TracedGeoreferenceError, stack, unstack
from geocatalog.testing import synthetic_scene


def _scenes(n, *, y0=9990000.0, fill_value=None, seed=0):
    """``n`` tiles of one 10 m UTM grid at random places, northings near 9,990 km."""
    rng = np.random.default_rng(seed)
    values = rng.random((2, 8, 8), dtype=np.float32)
    out = []
    for _ in range(n):
        dr, dc = (int(v) for v in rng.integers(-20_000, 20_000, size=2))
        transform = Affine(10.0, 0.0, 399960.0 + 10.0 * dc, 0.0, -10.0, y0 - 10.0 * dr)
        out.append(GeoTensor(values, transform, "EPSG:32630", fill_value=fill_value))
    return out


def test_one_compile_for_100_locations_and_exact_transforms():
    traces = 0

    @eqx.filter_jit
    def double(gt):
        nonlocal traces
        traces += 1
        return gt.replace(values=gt.values * 2.0)

    scenes = _scenes(100) + _scenes(3, y0=4_500_000.0, seed=1)
    assert len({(s.transform.c, s.transform.f) for s in scenes}) == len(scenes)
    for scene in scenes:
        out = double(scene)
        assert out.transform == scene.transform  # bit for bit, far north included
        assert out.lattice == scene.lattice and out.crs_string == "EPSG:32630"
        np.testing.assert_array_equal(np.asarray(out.values), scene.values * 2.0)
    assert traces == 1


def test_nan_fill_value_does_not_retrace_even_after_pickling():
    traces = 0

    @eqx.filter_jit
    def ident(gt):
        nonlocal traces
        traces += 1
        return gt

    for scene in _scenes(5, fill_value=float("nan")) + _scenes(2, fill_value=np.float32("nan")):
        ident(scene)
        ident(pickle.loads(pickle.dumps(scene)))
    assert traces == 1


def test_a_different_lattice_retraces():
    traces = 0

    @eqx.filter_jit
    def ident(gt):
        nonlocal traces
        traces += 1
        return gt

    ident(_scenes(1)[0])
    ident(GeoTensor(np.zeros((2, 8, 8), np.float32), Affine(10, 0, 5, 0, -10, 0), "EPSG:32630"))
    assert traces == 2


def test_vmap_over_100_stacked_locations_keeps_each_transform_exact():
    scenes = _scenes(100, seed=3)
    batch = stack(scenes)
    assert batch.offset.shape == (100, 2) and batch.offset.dtype == np.int32

    @eqx.filter_jit
    @eqx.filter_vmap
    def per_scene(gt):
        assert gt.offset.shape == (2,) and gt.shape == (2, 8, 8)  # an ordinary GeoTensor
        red, nir = gt.values[0], gt.values[1]
        return gt.replace(values=(nir - red) / (nir + red))[..., 1:, 2:]

    out = unstack(per_scene(batch))
    assert len(out) == 100
    for scene, result in zip(scenes, out, strict=True):
        assert result.shape == (7, 6)
        assert result.transform == scene[..., 1:, 2:].transform
        assert result.transform.c == scene.transform.c + 20.0
        assert result.transform.f == scene.transform.f - 10.0


def test_slicing_inside_jit_moves_the_transform_exactly(rio_window_transform):
    traces = 0

    @eqx.filter_jit
    def crop(gt):
        nonlocal traces
        traces += 1
        return gt[1:, 3:7, -4:]

    for scene in _scenes(10, seed=4):
        out = crop(scene)
        assert out.shape == (1, 4, 4)
        assert out.transform == rio_window_transform(scene.transform, 3, 4)
        np.testing.assert_array_equal(np.asarray(out.values), scene.values[1:, 3:7, -4:])
    assert traces == 1


def test_dynamic_slice_at_traced_positions():
    scene = synthetic_scene(64, 64, transform=Affine(10, 0, 399960, 0, -10, 9990000))

    @eqx.filter_jit
    def chips(gt, rows, cols):
        return eqx.filter_vmap(lambda r, c: gt.dynamic_slice(r, c, 16, 16))(rows, cols)

    rows = jnp.array([0, 10, 48, 60], dtype=jnp.int32)  # 60 is clamped to 48, as lax does
    cols = jnp.array([5, 0, 30, -3], dtype=jnp.int32)
    out = unstack(chips(scene, rows, cols))
    for chip, r, c in zip(out, [0, 10, 48, 48], [5, 0, 30, 0], strict=True):
        assert chip.transform == scene[..., r : r + 16, c : c + 16].transform
        np.testing.assert_array_equal(
            np.asarray(chip.values), scene.values[:, r : r + 16, c : c + 16]
        )
    eager = scene.dynamic_slice(60, -3, 16, 16)  # NumPy path, same clamping
    assert isinstance(eager.values, np.ndarray) and eager.same_grid(out[3])


def test_host_georeferencing_inside_jit_is_explained():
    @jax.jit
    def bad(values, offset):
        gt = GeoTensor._from_parts(values, offset, _scenes(1)[0].lattice, None)
        return gt.transform

    scene = _scenes(1)[0]
    with pytest.raises(
        TracedGeoreferenceError, match=r"inside jax\.jit.*read \.transform on the result"
    ):
        bad(scene.values, scene.offset)


def test_static_georeferencing_is_available_inside_jit():
    @eqx.filter_jit
    def pixel_area(gt):
        xres, yres = gt.res
        assert gt.crs_string == "EPSG:32630" and "traced" in repr(gt)
        return gt.replace(values=jnp.full(gt.shape[-2:], xres * yres, dtype=jnp.float32))

    assert float(pixel_area(_scenes(1)[0]).values[0, 0]) == 100.0


def test_replace_inside_jit_keeps_offset_leaf_dtype():
    @eqx.filter_jit
    def f(gt):
        return gt.replace(values=gt.values.sum(axis=0), fill_value=-1.0)

    out = f(_scenes(1)[0])
    assert out.offset.dtype == jnp.int32 and out.fill_value == -1.0 and out.shape == (8, 8)
