"""Case 3's ``infer``: GridSampler -> ApplyToChips(preprocess + ModelOp) -> Stitch, both paths."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geopatcher.integrations.pipekit import ApplyToChips, ChipResults, GridSampler, Stitch
from geopatcher.integrations.pipekit_jax import GridSampler as JaxGridSampler


class TinyCNN(eqx.Module):
    """13 bands -> 2 channels, per sample ``(C, H, W)`` (equinox convention)."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d

    def __init__(self, key: jax.Array) -> None:
        k1, k2 = jax.random.split(key)
        self.conv1 = eqx.nn.Conv2d(13, 4, 3, padding=1, key=k1)
        self.conv2 = eqx.nn.Conv2d(4, 2, 1, key=k2)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.conv2(jnp.tanh(self.conv1(x / 10_000.0)))


PATCHER = gp.SpatialPatcher(
    geometry=gp.SpatialRectangular((64, 64)),
    sampler=gp.SpatialRegularStride((56, 56)),
    window=gp.SpatialHann(),
    aggregation=gp.SpatialOverlapAdd(),
)


def scene(row: int = 0, col: int = 0, shape: tuple[int, int] = (200, 180)) -> gc.GeoTensor:
    transform = Affine(10.0, 0.0, 399_960.0 + 10.0 * col, 0.0, -10.0, 4_500_000.0 - 10.0 * row)
    return gc.testing.synthetic_scene(*shape, seed=row + col, transform=transform)


def case3_infer(model: eqx.Module) -> pk.Sequential:
    preprocess = pk.Sequential([
        gz.radiometry.ToFloat32(),
        gz.radiometry.PercentileClip(p_min=2, p_max=98, axis=(-2, -1)),
        gz.cloud.ApplyMask(gz.cloud.MaskFromQABits(qa_band=-1, bits=[10, 11])),
    ])  # fmt: skip
    return pk.Sequential([
        GridSampler(PATCHER),
        ApplyToChips(pk.Sequential([
            preprocess,  # same object as training
            pa.ModelOp(model, batch_size=8),
        ])),
        Stitch(gp.SpatialOverlapAdd()),
    ])  # fmt: skip


def on_device(gt: gc.GeoTensor) -> gc.GeoTensor:
    return jax.tree.map(jnp.asarray, gt)


def count_equations(jaxpr: jax.extend.core.Jaxpr) -> int:
    """Equations of a jaxpr and of every sub-jaxpr (loop bodies, maps, conds)."""
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, tuple | list) else [param]:
                inner = getattr(sub, "jaxpr", None)
                if inner is not None:
                    total += count_equations(getattr(inner, "jaxpr", inner))
    return total


def test_case3_infer_host_equals_jit_and_traces_once_for_five_locations():
    infer = case3_infer(TinyCNN(jax.random.key(0)))
    traces = []

    @eqx.filter_jit
    def run(pipeline, gt):
        traces.append(1)
        return pipeline(gt)

    for row, col in [(0, 0), (37, 11), (1000, 2000), (5, 400), (64, 64)]:
        gt = scene(row, col)
        host = infer(gp.RasterField(gt))  # the seed's call: a field over the scene
        assert isinstance(host.values, np.ndarray) and host.shape == (2, 200, 180)
        jitted = run(infer, on_device(gt))
        np.testing.assert_allclose(np.asarray(jitted.values), host.values, rtol=1e-5, atol=1e-5)
        assert jitted.transform == host.transform == gt.transform
        assert np.isnan(host.values).any() and np.isfinite(host.values).mean() > 0.5  # clouds
    assert len(traces) == 1


def test_the_compiled_program_does_not_grow_with_the_number_of_chips():
    infer = case3_infer(TinyCNN(jax.random.key(1)))
    # Pairs of the same structure: chips on a regular grid only (120, 400 = 64 + k * 56), and
    # a regular grid plus a flush last row and column (130, 410: boundary="shift").
    for small, large in [((120, 120), (400, 400)), ((130, 130), (410, 410))]:
        sizes = {}
        for shape in (small, large):
            gt = on_device(scene(shape=shape))
            n_chips = len(PATCHER.offsets(shape))
            sizes[n_chips] = count_equations(eqx.filter_make_jaxpr(infer)(gt)[0].jaxpr)
        (few, a), (many, b) = sorted(sizes.items())
        # Equal up to a zero-width pad or a no-op slice that depends on divisibility; a
        # traced loop over chips would add hundreds of equations per chip.
        assert many > 5 * few and abs(a - b) <= 4, sizes


def test_grad_through_the_stitch_matches_finite_differences():
    with jax.enable_x64(True):
        model = TinyCNN(jax.random.key(2))
        model = jax.tree.map(lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a,
                             model)  # fmt: skip
        gt = scene(shape=(90, 80))
        gt = on_device(gt.replace(values=gt.values[:13].astype(np.float64)))
        patcher = gp.SpatialPatcher(gp.SpatialRectangular(32), gp.SpatialRegularStride(20),
                                    gp.SpatialHann())  # fmt: skip

        def loss(op: pa.ModelOp) -> jax.Array:
            out = pk.Sequential([GridSampler(patcher), ApplyToChips(op, batch_size=4), Stitch()])
            return jnp.mean(out(gt).values ** 2)

        op = pa.ModelOp(model)
        grads = eqx.filter_grad(loss)(op)
        where = lambda m: m.model.conv1.weight  # noqa: E731
        analytic = np.asarray(where(grads))
        eps = 1e-6
        for index in [(0, 0, 0, 0), (1, 5, 2, 1), (3, 12, 1, 1)]:
            bump = np.zeros(where(op).shape)
            bump[index] = eps
            plus = eqx.tree_at(where, op, where(op) + bump)
            minus = eqx.tree_at(where, op, where(op) - bump)
            numeric = (float(loss(plus)) - float(loss(minus))) / (2 * eps)
            assert analytic[index] == pytest.approx(numeric, rel=1e-5, abs=1e-10)
        assert np.abs(analytic).max() > 0


@pytest.mark.parametrize("boundary", ["shift", "pad", "drop"])
def test_jax_path_identity_is_exact_for_every_boundary(boundary):
    rng = np.random.default_rng(3)
    gt = gc.GeoTensor(rng.random((3, 100, 77), dtype=np.float32),
                      Affine(10.0, 0, 500_000.0, 0, -10.0, 4_000_000.0), "EPSG:32631")  # fmt: skip
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(32, boundary), gp.SpatialRegularStride(24),
                                gp.SpatialTukey())  # fmt: skip
    infer = pk.Sequential([JaxGridSampler(patcher), ApplyToChips(pk.Identity(), 7), Stitch()])
    out = np.asarray(eqx.filter_jit(infer)(on_device(gt)).values)
    host = infer(gt).values
    covered = patcher.weight_map(gt) > 0
    np.testing.assert_allclose(out[:, covered], gt.values[:, covered], rtol=0, atol=1e-6)
    np.testing.assert_allclose(out, host, rtol=0, atol=1e-6, equal_nan=True)
    assert np.isnan(out[:, ~covered]).all() and (boundary == "drop") == (not covered.all())


WINDOWS = [gp.SpatialBoxcar(), gp.SpatialHann(), gp.SpatialGaussian(), gp.SpatialTukey()]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("stride", [224, 128])
@pytest.mark.parametrize("boundary", ["shift", "pad", "drop"])
def test_jax_path_identity_on_the_issue_grid(window, stride, boundary):
    # The done-when grid of the core test, on the compiled path: (3, 1000, 777), 256² chips.
    values = np.random.default_rng(0).random((3, 1000, 777), dtype=np.float32)
    gt = gc.GeoTensor(values, Affine(10.0, 0, 399_960.0, 0, -10.0, 4_500_000.0), "EPSG:32630")
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(256, boundary),
                                gp.SpatialRegularStride(stride), window)  # fmt: skip
    infer = pk.Sequential([JaxGridSampler(patcher), ApplyToChips(pk.Identity()), Stitch()])
    out = np.asarray(eqx.filter_jit(infer)(on_device(gt)).values)
    covered = patcher.weight_map(gt) > 0
    np.testing.assert_allclose(out[:, covered], values[:, covered], rtol=0, atol=1e-6)
    assert np.isnan(out[:, ~covered]).all() and (boundary == "drop") == (not covered.all())


def test_by_index_results_match_on_both_paths(rio_window_transform):
    gt = scene(shape=(100, 90))
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(32), gp.SpatialRegularStride(32),
                                aggregation=gp.SpatialByIndex())  # fmt: skip
    score = pk.Sequential([gz.radiometry.ToFloat32(), pa.MeanScalar()])
    pipeline = pk.Sequential(
        [GridSampler(patcher), ApplyToChips(score), Stitch(gp.SpatialByIndex())]
    )
    host, jitted = pipeline(gt), eqx.filter_jit(pipeline)(on_device(gt))
    assert isinstance(host, ChipResults) and isinstance(jitted, ChipResults)
    assert len(host) == len(jitted) == 12  # rows 0, 32, 64, 68 (flush) x cols 0, 32, 58
    np.testing.assert_allclose(np.asarray(jitted.values), host.values, rtol=1e-6)
    for res, (r, c) in zip(host, patcher.offsets(gt).tolist(), strict=True):
        chip = gt.values[:, r : r + 32, c : c + 32].astype(np.float64)
        assert res.value == pytest.approx(chip.mean(), rel=1e-6)
        assert res.transform == rio_window_transform(gt.transform, r, c)
    for a, b in zip(host, jitted, strict=True):
        assert (a.row, a.col, a.transform) == (b.row, b.col, b.transform)


def test_pipeline_yaml_round_trip_and_errors():
    infer = pk.Sequential([GridSampler(PATCHER), ApplyToChips(gz.indices.NDVI(2, 3), 4), Stitch()])
    again = pk.loads_yaml(pk.dumps_yaml(infer))
    assert again == infer and pk.config_hash(again) == pk.config_hash(infer)
    sandboxed = pk.loads_yaml_sandboxed(
        pk.dumps_yaml(infer),
        allowed=[
            "pipekit.Sequential", "geotoolz.indices.NDVI",
            "geopatcher.integrations.pipekit.GridSampler",
            "geopatcher.integrations.pipekit.ApplyToChips",
            "geopatcher.integrations.pipekit.Stitch",
        ],
    )  # fmt: skip
    assert sandboxed == infer
    with pytest.raises(gp.PatchConfigError, match="unknown kind"):
        GridSampler({"kind": "builtins.eval"})
    with pytest.raises(TypeError, match="Put GridSampler"):
        ApplyToChips(pk.Identity())(scene())
    crop = pk.Sequential([GridSampler(PATCHER), ApplyToChips(pk.Lambda(_crop)), Stitch()])
    with pytest.raises(gp.PatchShapeError, match="SpatialByIndex"):
        eqx.filter_jit(crop)(on_device(scene()))


def _crop(chip: gc.GeoTensor) -> gc.GeoTensor:
    return chip[..., :10, :10]


def test_grad_of_the_pipeline_on_a_numpy_scene_equals_grad_on_a_jax_scene():
    """The op's leaves are traced while the scene is NumPy: the JAX path is taken."""
    model = TinyCNN(jax.random.key(5))
    gt = scene(shape=(90, 80))
    gt = gt.replace(values=gt.values.astype(np.float32))
    patcher = gp.SpatialPatcher(gp.SpatialRectangular(32), gp.SpatialRegularStride(20),
                                gp.SpatialHann())  # fmt: skip

    def loss(op: pa.ModelOp, x: gc.GeoTensor) -> jax.Array:
        out = pk.Sequential([GridSampler(patcher), ApplyToChips(op), Stitch()])(x)
        return jnp.mean(out.values**2)

    op = pa.ModelOp(model)
    on_host = eqx.filter_grad(loss)(op, gt)  # TracerArrayConversionError before the fix
    on_jax = eqx.filter_grad(loss)(op, on_device(gt))
    for a, b in zip(jax.tree.leaves(on_host), jax.tree.leaves(on_jax), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-8)
    assert max(float(jnp.abs(g).max()) for g in jax.tree.leaves(on_host)) > 0
    # And the value: the loss on the host path (eager NumPy) equals the traced one.
    np.testing.assert_allclose(float(loss(op, gt)), float(loss(op, on_device(gt))), rtol=1e-5)
