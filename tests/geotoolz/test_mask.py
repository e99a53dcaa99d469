"""Mask morphology against scipy.ndimage: erosion/dilation/opening/closing, label + sizes."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

import geotoolz as gz
import pipekit as pk
from geocatalog.testing import synthetic_scene

SCIPY_MORPH = {
    gz.mask.Erode: ndimage.binary_erosion,
    gz.mask.Dilate: ndimage.binary_dilation,
    gz.mask.Open: ndimage.binary_opening,
    gz.mask.Close: ndimage.binary_closing,
}


def random_masks(shape=(3, 23, 29), density=0.55, seed=0) -> np.ndarray:
    """Blobby masks: thresholded smoothed noise, so that morphology has shapes to work on."""
    noise = np.random.default_rng(seed).random(shape)
    smooth = ndimage.uniform_filter(noise, size=(1,) * (len(shape) - 2) + (3, 3))
    return smooth > np.quantile(smooth, 1 - density)


def disk(radius):
    """The disk footprint written independently: dy² + dx² <= r²."""
    return np.array(
        [[dy * dy + dx * dx <= radius * radius for dx in range(-radius, radius + 1)]
         for dy in range(-radius, radius + 1)]
    )  # fmt: skip


def footprint(radius, structure):
    return np.ones((2 * radius + 1,) * 2, bool) if structure == "square" else disk(radius)


def scipy_per_band(fn, m, **kw):
    return np.stack([fn(band, **kw) for band in m.reshape(-1, *m.shape[-2:])]).reshape(m.shape)


@pytest.mark.parametrize("op_cls", list(SCIPY_MORPH))
@pytest.mark.parametrize("structure", ["square", "disk"])
@pytest.mark.parametrize("radius", [1, 3])
@pytest.mark.parametrize("iterations", [1, 2])
@pytest.mark.parametrize("border_value", [False, True])
def test_morphology_equals_scipy(op_cls, structure, radius, iterations, border_value):
    m = random_masks()
    op = op_cls(radius=radius, structure=structure, iterations=iterations,
                border_value=border_value)  # fmt: skip
    want = scipy_per_band(
        SCIPY_MORPH[op_cls], m, structure=footprint(radius, structure),
        iterations=iterations, border_value=int(border_value),
    )  # fmt: skip
    got = op(m.astype(np.uint8))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    jitted = eqx.filter_jit(op)(jnp.asarray(m))
    np.testing.assert_array_equal(np.asarray(jitted), want)


def test_structuring_element_matches_scipy_for_radius_one():
    np.testing.assert_array_equal(
        gz.mask.structuring_element(1, "disk"), ndimage.generate_binary_structure(2, 1)
    )
    np.testing.assert_array_equal(
        gz.mask.structuring_element(1, "square"), ndimage.generate_binary_structure(2, 2)
    )
    np.testing.assert_array_equal(gz.mask.structuring_element(4, "disk"), disk(4))


def scipy_remove_small(m, min_size, connectivity):
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    out = np.zeros_like(m)
    for i, band in enumerate(m.reshape(-1, *m.shape[-2:])):
        labels, _ = ndimage.label(band, structure=structure)
        sizes = np.bincount(labels.ravel())
        keep = sizes >= min_size
        keep[0] = False
        out.reshape(-1, *m.shape[-2:])[i] = keep[labels]
    return out


@pytest.mark.parametrize("min_size", [1, 3, 8, 40])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_remove_small_objects_equals_label_and_sizes(min_size, connectivity):
    m = random_masks(density=0.4, seed=1)
    op = gz.mask.RemoveSmallObjects(min_size=min_size, connectivity=connectivity)
    want = scipy_remove_small(m, min_size, connectivity)
    assert want.sum() > 0 and (min_size == 1 or want.sum() < m.sum())  # non-trivial case
    np.testing.assert_array_equal(op(m), want)
    np.testing.assert_array_equal(np.asarray(jax.jit(op)(jnp.asarray(m))), want)


@pytest.mark.parametrize("area_threshold", [2, 5, 30])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_remove_small_holes_equals_label_of_the_complement(area_threshold, connectivity):
    m = random_masks(density=0.7, seed=2)
    op = gz.mask.RemoveSmallHoles(area_threshold=area_threshold, connectivity=connectivity)
    want = ~scipy_remove_small(~m, area_threshold, connectivity)
    assert (want != m).any()
    np.testing.assert_array_equal(op(m.astype(np.float32)), want.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(jax.jit(op)(jnp.asarray(m))), want)


def test_a_serpentine_component_converges_under_jit():
    # One 4-connected snake through the whole image: the longest path for label flooding.
    m = np.zeros((15, 15), bool)
    m[::2, :] = True
    m[1::4, -1] = True
    m[3::4, 0] = True
    op = gz.mask.RemoveSmallObjects(min_size=int(m.sum()), connectivity=4)
    np.testing.assert_array_equal(np.asarray(jax.jit(op)(jnp.asarray(m))), m)
    op = gz.mask.RemoveSmallObjects(min_size=int(m.sum()) + 1, connectivity=4)
    assert not np.asarray(jax.jit(op)(jnp.asarray(m))).any()


@pytest.mark.parametrize("mode", ["or", "and", "xor"])
def test_combine_masks_equals_numpy_logic(mode):
    m = random_masks(shape=(2, 4, 11, 13))
    reduce = {"or": np.logical_or, "and": np.logical_and, "xor": np.logical_xor}[mode]
    want = reduce.reduce(m, axis=-3, keepdims=True)
    got = gz.mask.CombineMasks(mode)(m.astype(np.uint8))
    assert got.shape == (2, 1, 11, 13)
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(jax.jit(gz.mask.CombineMasks(mode))(m)), want)


def test_invert_mask_keeps_dtype():
    m = random_masks()
    np.testing.assert_array_equal(gz.mask.InvertMask()(m), ~m)
    np.testing.assert_array_equal(gz.mask.InvertMask()(m.astype(np.int16)), (~m).astype(np.int16))


def mask_scene(fill=255):
    gt = synthetic_scene(20, 24, seed=3)
    m = (gt.values[:3] > np.median(gt.values[:3])).astype(np.uint16)
    return gt.replace(values=m, fill_value=fill)


def test_nodata_is_background_and_stays_nodata():
    gt = mask_scene()
    values = np.array(gt.values)
    values[:, 4:7, 5:9] = 255
    gt = gt.replace(values=values)
    nodata = values == 255
    valid = np.where(nodata, False, values.astype(bool))
    for op_cls, fn in SCIPY_MORPH.items():
        op = op_cls(radius=1, structure="disk")
        out = np.asarray(op(gt).values)
        assert (out[nodata] == 255).all(), op_cls.__name__
        # Off nodata: scipy on the mask with nodata as background, nodata re-masked between
        # the two halves of open/close (every elementary step sees nodata as background).
        s = footprint(1, "disk")
        if op_cls in (gz.mask.Erode, gz.mask.Dilate):
            want = scipy_per_band(fn, valid, structure=s)
        else:
            first, second = (
                (ndimage.binary_erosion, ndimage.binary_dilation)
                if op_cls is gz.mask.Open
                else (ndimage.binary_dilation, ndimage.binary_erosion)
            )
            want = scipy_per_band(second, scipy_per_band(first, valid, structure=s) & ~nodata,
                                  structure=s)  # fmt: skip
        np.testing.assert_array_equal(out[~nodata], want[~nodata].astype(np.uint16))
    kept = np.asarray(gz.mask.RemoveSmallObjects(5)(gt).values)
    np.testing.assert_array_equal(kept[~nodata], scipy_remove_small(valid, 5, 8)[~nodata])
    assert (kept[nodata] == 255).all()


def test_float_nan_is_nodata():
    m = random_masks(shape=(9, 10)).astype(np.float32)
    m[3, 4] = np.nan
    out = gz.mask.Dilate()(m)
    assert np.isnan(out[3, 4]) and np.isnan(out).sum() == 1
    want = ndimage.binary_dilation(np.nan_to_num(m).astype(bool), np.ones((3, 3)))
    np.testing.assert_array_equal(np.nan_to_num(out)[~np.isnan(out)], want[~np.isnan(out)])


def test_vmap_over_a_batch_equals_one_by_one():
    m = jnp.asarray(random_masks(shape=(4, 12, 14), density=0.4))
    for op in (gz.mask.Close(2, "disk"), gz.mask.RemoveSmallObjects(6, 4)):
        batched = jax.vmap(op)(m)
        for i in range(4):
            np.testing.assert_array_equal(np.asarray(batched[i]), op(np.asarray(m[i])))


def test_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"Erode: radius must be an int >= 1, got 0"):
        gz.mask.Erode(radius=0)
    with pytest.raises(pk.ConfigError, match=r"Dilate: structure must be one of .*'cross'"):
        gz.mask.Dilate(structure="cross")
    with pytest.raises(pk.ConfigError, match=r"Open: iterations must be an int >= 1, got 0"):
        gz.mask.Open(iterations=0)
    with pytest.raises(pk.ConfigError, match=r"RemoveSmallObjects: connectivity must be 4"):
        gz.mask.RemoveSmallObjects(connectivity=2)
    with pytest.raises(pk.ConfigError, match=r"RemoveSmallHoles: area_threshold must be"):
        gz.mask.RemoveSmallHoles(area_threshold=0)
    with pytest.raises(pk.ConfigError, match=r"CombineMasks: mode must be one of"):
        gz.mask.CombineMasks("nand")
    with pytest.raises(gz.GeotoolzValueError, match=r"Close: the input's fill_value 0"):
        gz.mask.Close()(mask_scene(fill=0))
    with pytest.raises(gz.GeotoolzValueError, match=r"CombineMasks expects .* band axis"):
        gz.mask.CombineMasks()(np.zeros((4, 4), bool))
    with pytest.raises(gz.GeotoolzValueError, match=r"InvertMask expects a mask of shape"):
        gz.mask.InvertMask()(np.zeros(4, bool))
