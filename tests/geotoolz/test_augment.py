"""RandomFlip / RandomRotate90: np.flip / np.rot90 values, corner-exact transforms, key paths."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import geotoolz as gz
import pipekit as pk

# An integer-metre UTM grid (products exact in float64) and a rotated, fractional one.
AXIS_ALIGNED = Affine(10, 0, 399960, 0, -10, 4500000)
ROTATED = Affine(8.25, 6.5, 1003.125, 6.5, -8.25, 2007.5)
# Fractional pixel size and origin: float64 products round, so paths must round alike.
FRACTIONAL = Affine(10.1, 0, 399960.3, 0, -10.1, 4500000.7)


def scene(height=3, width=4, transform=AXIS_ALIGNED, bands=2, fill_value=0):
    values = np.arange(bands * height * width, dtype=np.uint16).reshape(bands, height, width)
    return gz.GeoTensor(values, transform, "EPSG:32630", fill_value=fill_value)


# -------------------------------------------------------- documented draws (the oracles)


def flip_draws(key, p):
    """The documented rule: u = uniform(key, (2,)); left-right if u[0] < p, up-down if u[1] < p."""
    u = np.asarray(jax.random.uniform(key, (2,)))
    return bool(u[0] < np.float32(p)), bool(u[1] < np.float32(p))


def rot_draw(key):
    return int(jax.random.randint(key, (), 0, 4))


def key_with_flips(lr, ud, p=0.5):
    return next(
        jax.random.key(s) for s in range(1000) if flip_draws(jax.random.key(s), p) == (lr, ud)
    )


def key_with_turns(k):
    return next(jax.random.key(s) for s in range(1000) if rot_draw(jax.random.key(s)) == k)


def np_flip(v, lr, ud):
    if lr:
        v = np.flip(v, -1)
    if ud:
        v = np.flip(v, -2)
    return v


# ------------------------------------------------------------------------ config, keys


def test_flip_validates_p():
    with pytest.raises(
        pk.ConfigError, match=r"RandomFlip: p .* must lie in \[0, 1\]; received p=1.5"
    ):
        gz.augment.RandomFlip(p=1.5)
    with pytest.raises(pk.ConfigError, match=r"received p=-0.1"):
        gz.augment.RandomFlip(p=-0.1)
    with pytest.raises(pk.ConfigError, match=r"received p=nan"):
        gz.augment.RandomFlip(p=float("nan"))
    with pytest.raises(pk.ConfigError, match=r"a number in \[0, 1\]; received '0.5' of type str"):
        gz.augment.RandomFlip(p="0.5")
    with pytest.raises(pk.ConfigError, match=r"received True of type bool"):
        gz.augment.RandomFlip(p=True)
    assert gz.augment.RandomFlip(p=1).p == 1.0 and gz.augment.RandomFlip().state["p"] == 0.5


@pytest.mark.parametrize("op", [gz.augment.RandomFlip(), gz.augment.RandomRotate90()])
def test_random_ops_need_a_key(op):
    name = type(op).__name__
    with pytest.raises(TypeError, match=rf"{name} is a random operator and needs an explicit key"):
        op(np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"pass key= to the Sequential"):
        pk.Sequential([op])(np.zeros((2, 2)))
    with pytest.raises(TypeError, match=rf"{name}: key must be one JAX PRNG key .*received int 0"):
        op(np.zeros((2, 2)), key=0)
    with pytest.raises(TypeError, match=r"received a JAX array key<fry>\(3,\).*jax.vmap over"):
        op(np.zeros((2, 2)), key=jax.random.split(jax.random.key(0), 3))
    with pytest.raises(ValueError, match=rf"{name} expects values of shape \(..., y, x\)"):
        op(np.zeros(3), key=jax.random.key(0))


def test_legacy_uint32_keys_are_accepted():
    x = np.arange(16.0).reshape(4, 4)
    legacy, typed = jax.random.PRNGKey(5), jax.random.key(5)
    for op in (gz.augment.RandomFlip(), gz.augment.RandomRotate90()):
        np.testing.assert_array_equal(op(x, key=legacy), op(x, key=typed))


# ------------------------------------------------------------------- values: NumPy path


def test_flip_values_follow_np_flip_with_the_documented_draw():
    x = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    seen = set()
    for s in range(24):
        key = jax.random.key(s)
        for p in (0.0, 0.3, 0.5, 1.0):
            lr, ud = flip_draws(key, p)
            seen.add((lr, ud))
            out = gz.augment.RandomFlip(p=p)(x, key=key)
            assert type(out) is np.ndarray and out.dtype == x.dtype  # NumPy stays NumPy
            np.testing.assert_array_equal(out, np_flip(x, lr, ud))
        assert flip_draws(key, 0.0) == (False, False) and flip_draws(key, 1.0) == (True, True)
    assert seen == set(itertools.product([False, True], repeat=2))


def test_generator_draws_documented_uniforms():
    x = np.arange(12).reshape(3, 4)
    for s in range(10):
        u = np.random.default_rng(s).random(2)
        out = gz.augment.RandomFlip(p=0.5)(x, key=np.random.default_rng(s))
        np.testing.assert_array_equal(out, np_flip(x, u[0] < 0.5, u[1] < 0.5))
        k = int(np.random.default_rng(s).integers(4))
        out = gz.augment.RandomRotate90()(x, key=np.random.default_rng(s))
        np.testing.assert_array_equal(out, np.rot90(x, k, axes=(-2, -1)))


def test_rotate_values_follow_np_rot90_including_non_square():
    x = np.arange(2 * 3 * 5, dtype=np.int32).reshape(2, 3, 5)
    seen = set()
    for s in range(16):
        key = jax.random.key(s)
        k = rot_draw(key)
        seen.add(k)
        out = gz.augment.RandomRotate90()(x, key=key)
        assert type(out) is np.ndarray and out.dtype == x.dtype
        np.testing.assert_array_equal(out, np.rot90(x, k, axes=(-2, -1)))
    assert seen == {0, 1, 2, 3}


def test_jax_values_stay_jax_with_a_concrete_key():
    x = jnp.arange(12.0).reshape(3, 4)
    key = key_with_turns(1)
    out = gz.augment.RandomRotate90()(x, key=key)
    assert isinstance(out, jax.Array)
    np.testing.assert_array_equal(out, np.rot90(np.asarray(x)))


# ------------------------------------------------------------- corner-exact GeoTensors


def footprint(transform, row, col):
    """The 4 corner points of pixel (row, col), sorted so that orientation does not matter."""
    pts = [transform @ (col + dc, row + dr) for dr in (0, 1) for dc in (0, 1)]
    return np.array(sorted(pts))


def assert_corner_exact(src, out, index_map, atol):
    """Each output pixel covers the footprint of the input pixel ``index_map`` says it came from."""
    height_in, width_in = src.shape[-2:]
    sources = index_map(np.arange(height_in * width_in).reshape(height_in, width_in))
    assert out.shape[-2:] == sources.shape
    for r, c in np.ndindex(*sources.shape):
        r_in, c_in = divmod(int(sources[r, c]), width_in)
        np.testing.assert_allclose(
            footprint(out.transform, r, c), footprint(src.transform, r_in, c_in), rtol=0, atol=atol
        )
    np.testing.assert_array_equal(out.values, index_map(np.asarray(src.values)))
    np.testing.assert_allclose(out.bounds, src.bounds, rtol=0, atol=atol)


def envelope(bounds):
    left, bottom, right, top = bounds
    return (min(left, right), min(bottom, top), max(left, right), max(bottom, top))


GRIDS = [(AXIS_ALIGNED, 0.0), (ROTATED, 1e-9), (FRACTIONAL, 1e-8)]


@pytest.mark.parametrize(("transform", "atol"), GRIDS)
@pytest.mark.parametrize(("lr", "ud"), list(itertools.product([False, True], repeat=2)))
def test_flip_is_corner_exact(transform, atol, lr, ud, rio_array_bounds):
    gt = scene(3, 4, transform)
    out = gz.augment.RandomFlip(p=0.5)(gt, key=key_with_flips(lr, ud))
    assert_corner_exact(gt, out, lambda v: np_flip(v, lr, ud), atol)
    assert out.crs_string == gt.crs_string and out.fill_value == gt.fill_value
    assert out.dtype == gt.dtype
    if transform is AXIS_ALIGNED:
        a, _, c, _, e, f = AXIS_ALIGNED[:6]
        want = Affine(-a if lr else a, 0, c + 4 * a if lr else c, 0, -e if ud else e,
                      f + 3 * e if ud else f)  # fmt: skip
        assert out.transform == want  # W*a, not (W-1)*a: corner-anchored
        got = envelope(rio_array_bounds(out.height, out.width, out.transform))
        assert got == envelope(rio_array_bounds(gt.height, gt.width, gt.transform))


@pytest.mark.parametrize(("transform", "atol"), GRIDS)
@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize(("height", "width"), [(3, 4), (4, 4)])
def test_rotate_is_corner_exact(transform, atol, k, height, width, rio_array_bounds):
    gt = scene(height, width, transform)
    out = gz.augment.RandomRotate90()(gt, key=key_with_turns(k))
    assert out.shape == (2, *((width, height) if k % 2 else (height, width)))
    assert_corner_exact(gt, out, lambda v: np.rot90(v, k, axes=(-2, -1)), atol)
    if transform is AXIS_ALIGNED:
        # Opposite corners of an axis-aligned rectangle give its bounds, in any orientation.
        got = envelope(rio_array_bounds(out.height, out.width, out.transform))
        assert got == envelope(rio_array_bounds(gt.height, gt.width, gt.transform))


def test_quarter_turn_transform_formula():
    gt = scene(3, 4)
    a, b, c, d, e, f = gt.transform[:6]
    h, w = 3, 4
    want = {
        1: Affine(b, -a, c + w * a, e, -d, f + w * d),
        2: Affine(-a, -b, c + w * a + h * b, -d, -e, f + w * d + h * e),
        3: Affine(-b, a, c + h * b, -e, d, f + h * e),
    }
    for k, transform in want.items():
        assert gz.augment.RandomRotate90()(gt, key=key_with_turns(k)).transform == transform


# ----------------------------------------------------------------------- jit and vmap


@pytest.mark.parametrize("op", [gz.augment.RandomFlip(p=0.5), gz.augment.RandomRotate90()])
def test_numpy_path_and_jit_path_decide_alike(op):
    x = np.arange(3 * 6 * 6, dtype=np.float32).reshape(3, 6, 6)
    traces = []

    @eqx.filter_jit
    def run(op, x, key):
        traces.append(1)
        return op(x, key=key)

    for s in range(16):
        key = jax.random.key(s)
        np.testing.assert_array_equal(np.asarray(run(op, jnp.asarray(x), key)), op(x, key=key))
    assert len(traces) == 1


@pytest.mark.parametrize("op", [gz.augment.RandomFlip(p=0.5), gz.augment.RandomRotate90()])
def test_vmap_over_keys_gives_one_decision_per_sample(op):
    x = np.arange(8 * 5 * 5, dtype=np.float32).reshape(8, 5, 5)
    keys = jax.random.split(jax.random.key(1), 8)
    out = jax.vmap(lambda v, k: op(v, key=k))(jnp.asarray(x), keys)
    for i in range(8):
        np.testing.assert_array_equal(np.asarray(out[i]), op(x[i], key=keys[i]))


def test_traced_key_on_a_geotensor_is_refused_with_the_fixes():
    gt = scene(4, 4)
    for op in (gz.augment.RandomFlip(), gz.augment.RandomRotate90()):
        name = type(op).__name__
        with pytest.raises(gc.TracedGeoreferenceError, match=rf"{name}: the key is traced") as err:
            eqx.filter_jit(lambda op, gt, key: op(gt, key=key))(op, gt, jax.random.key(0))
        message = str(err.value)
        assert "lattice" in message and "static part of its georeferencing" in message
        assert "gt.values" in message and "concrete key outside jit" in message


def test_traced_rotation_needs_a_square_input():
    with pytest.raises(
        ValueError, match=r"RandomRotate90 under jit .* \(H, W\) = \(3, 5\).*H == W"
    ):
        eqx.filter_jit(lambda x, key: gz.augment.RandomRotate90()(x, key=key))(
            jnp.zeros((2, 3, 5)), jax.random.key(0)
        )


@pytest.mark.parametrize(
    ("op", "key"),
    [
        (gz.augment.RandomFlip(p=0.5), key_with_flips(True, True)),
        (gz.augment.RandomFlip(p=0.5), key_with_flips(True, False)),
        (gz.augment.RandomRotate90(), key_with_turns(1)),
        (gz.augment.RandomRotate90(), key_with_turns(3)),
    ],
)
@pytest.mark.parametrize("transform", [AXIS_ALIGNED, ROTATED, FRACTIONAL])
def test_concrete_key_on_traced_or_stacked_geotensors(op, key, transform):
    """A concrete key decides on the host, so GeoTensors with traced or stacked offsets work.

    Eager, stacked, vmapped and jitted results agree on lattice, offset and transform bit for
    bit, and chips of one size share one output lattice (a downstream jit does not retrace).
    """
    big = scene(12, 14, transform)
    chips = [big[..., 0:6, 0:5], big[..., 5:11, 7:12], big[..., 2:8, 3:8]]
    want = [op(chip, key=key) for chip in chips]
    assert len({w.lattice for w in want}) == 1

    stacked = op(gc.stack(chips), key=key)  # eager, batched offset
    mapped = eqx.filter_vmap(lambda gt: op(gt, key=key))(gc.stack(chips))
    jitted = [eqx.filter_jit(lambda gt: op(gt, key=key))(chip) for chip in chips]
    for batch in (stacked, mapped):
        for w, got in zip(want, gc.unstack(batch), strict=True):
            assert got.lattice == w.lattice and got.transform == w.transform
            np.testing.assert_array_equal(np.asarray(got.offset), w.offset)
            np.testing.assert_array_equal(np.asarray(got.values), w.values)
    for w, got in zip(want, jitted, strict=True):
        assert got.lattice == w.lattice and got.transform == w.transform
        np.testing.assert_array_equal(np.asarray(got.offset), w.offset)
        np.testing.assert_array_equal(np.asarray(got.values), w.values)


# ------------------------------------------------------------------------ pipelines


def test_sequential_splits_the_key_and_round_trips():
    pipe = pk.Sequential([gz.augment.RandomFlip(p=0.5), gz.augment.RandomRotate90()])
    gt = scene(5, 7)
    key = jax.random.key(11)
    k_flip, k_rot = jax.random.split(key, 2)
    want = gz.augment.RandomRotate90()(gz.augment.RandomFlip(p=0.5)(gt, key=k_flip), key=k_rot)
    out = pipe(gt, key=key)
    assert out.transform == want.transform
    np.testing.assert_array_equal(out.values, want.values)
    again = pk.loads_yaml(pk.dumps_yaml(pipe))
    assert again.state == pipe.state and again.ops[0].p == 0.5
    np.testing.assert_array_equal(again(gt, key=key).values, out.values)
    rng_out = pipe(gt, key=np.random.default_rng(0))
    np.testing.assert_array_equal(rng_out.values, pipe(gt, key=np.random.default_rng(0)).values)
