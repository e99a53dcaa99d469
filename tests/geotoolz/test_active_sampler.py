"""ActiveSampler (seed Case 10) against a brute-force oracle: every chip scored one by one."""

from __future__ import annotations

import datetime as dt
import math
import pickle
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from affine import Affine
from array_api_compat import array_namespace

import geocatalog as gc
import geopatcher as gp
import geotoolz as gz
import pipekit as pk
import pipekit_array as pa
from geocatalog.testing import synthetic_scene
from geotoolz.patch_ops import ActiveSampler, ChipSelection, ScoredChip

CHIP = 16
BASE = gp.SpatialPatcher(
    geometry=gp.SpatialRectangular((CHIP, CHIP)),
    sampler=gp.SpatialRegularStride((CHIP, CHIP)),
    window=gp.SpatialBoxcar(),
    aggregation=gp.SpatialByIndex(),
)
SHAPE = (48, 64)  # 3 x 4 = 12 chips per scene, 48 in the catalog
N_SCENES = 4
BRIGHT = pk.Sequential([gz.radiometry.ToFloat32(), pa.MeanScalar()])


# Module-level models and ops, so that everything pickles.
class UQModel(eqx.Module):
    """13 bands -> a mean map and a positive sigma map (one sample, equinox convention)."""

    conv: eqx.nn.Conv2d

    def __init__(self, seed: int = 0) -> None:
        self.conv = eqx.nn.Conv2d(13, 2, 1, key=jax.random.key(seed))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.conv(x / 10_000.0)[0]

    def predict_with_uncertainty(self, x: jax.Array) -> dict[str, jax.Array]:
        y = self.conv(x / 10_000.0)
        return {"mean": y[0], "sigma": jax.nn.softplus(y[1])}


def uq_score() -> pk.Sequential:
    model = pa.ModelOp(UQModel(), method="predict_with_uncertainty")
    return pk.Sequential([gz.radiometry.ToFloat32(), model, pa.MeanScalar(field="sigma")])


class ConstantScore(pk.Operator):
    """Every chip scores 1.0: a ranking made only of ties."""

    def _apply(self, x: Any) -> Any:
        xp = array_namespace(x.values)
        return xp.mean(xp.astype(x.values, xp.float32)) * 0.0 + 1.0


class MeanOrNaN(pk.Operator):
    """The chip's mean DN, or NaN when it exceeds ``threshold``."""

    threshold: float = eqx.field(static=True)

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def _apply(self, x: Any) -> Any:
        xp = array_namespace(x.values)
        mean = pa.MeanScalar()(gz.radiometry.ToFloat32()(x))
        return xp.where(mean > self.threshold, xp.asarray(float("nan"), dtype=xp.float32), mean)


TRACES: list[tuple[int, ...]] = []


class CountTraces(pk.Operator):
    """Identity that records every time it is traced (not when it runs compiled)."""

    def _apply(self, x: Any) -> Any:
        if isinstance(x.values, jax.core.Tracer):
            TRACES.append(tuple(x.values.shape))
        return x


def window_loader(sl: gc.GeoSlice) -> gc.GeoTensor:
    """Load only rows 8: and columns 16: of the raster (still its native grid)."""
    return gc.load_raster(sl, window=((8, SHAPE[0]), (16, SHAPE[1])))


def reprojecting_loader(sl: gc.GeoSlice) -> gc.GeoTensor:
    return gc.load_raster(sl, crs="EPSG:4326", resolution=1e-4)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> gc.Catalog:
    root = tmp_path_factory.mktemp("active")
    paths, when = [], {}
    for i in range(N_SCENES):
        transform = Affine(10.0, 0.0, 399_960.0 + 2_000.0 * i, 0.0, -10.0, 4_500_000.0 - 640.0 * i)
        gt = synthetic_scene(*SHAPE, seed=10 + i, transform=transform, cloud_fraction=0.2)
        path = str(root / f"scene_{i}.tif")
        gc.save_cog(gt, path)
        paths.append(path)
        when[path] = dt.datetime(2024, 5, 1 + i, 10, 30)
    return gc.open_catalog(gc.build_catalog(paths, root / "catalog.parquet",
                                            datetime_fn=when.__getitem__))  # fmt: skip


def brute_force(catalog, score_op, k, mode, loader=gc.load_raster, origin=(0, 0)):
    """Every chip of every scene scored alone on NumPy, sorted by the documented rule."""
    entries = []
    for s, sl in enumerate(catalog.iter_slices()):
        scene = loader(sl)
        assert isinstance(scene.values, np.ndarray)
        for i, (r, c) in enumerate(BASE.offsets(scene.shape[-2:]).tolist()):
            score = float(score_op(scene[..., r : r + CHIP, c : c + CHIP]))
            entries.append((score, s, i, sl.item_id, origin[0] + r, origin[1] + c))

    def rank(e):
        nan = math.isnan(e[0])
        return (nan, 0.0 if nan else (-e[0] if mode == "top" else e[0]), e[1], e[2])

    return sorted(entries, key=rank)[:k]


def assert_matches(got: list[ScoredChip], want: list[tuple]) -> None:
    assert [(c.item_id, c.row, c.col) for c in got] == [(e[3], e[4], e[5]) for e in want]
    np.testing.assert_allclose([c.score for c in got], [e[0] for e in want], rtol=1e-5,
                               equal_nan=True)  # fmt: skip


@pytest.mark.parametrize(("score_op", "k", "mode"), [
    (BRIGHT, 10, "top"),
    (BRIGHT, 7, "bottom"),
    (uq_score(), 12, "top"),  # the seed's score: mean predictive sigma
    (uq_score(), 5, "bottom"),
])  # fmt: skip
def test_catalog_selection_equals_brute_force(catalog, score_op, k, mode):
    op = ActiveSampler(base=BASE, score_op=score_op, k=k, mode=mode, batch_size=5)
    got = op(catalog)
    assert len(got) == k and all(isinstance(c, ScoredChip) for c in got)
    assert_matches(got, brute_force(catalog, score_op, k, mode))
    assert len({c.item_id for c in got}) > 1  # the winners come from several scenes


def test_chosen_slices_load_exactly_the_chip(catalog):
    sources = {sl.item_id: sl for sl in catalog.iter_slices()}
    for chip in ActiveSampler(BASE, BRIGHT, k=6)(catalog):
        sl = chip.slice
        assert sl.window == ((chip.row, chip.row + CHIP), (chip.col, chip.col + CHIP))
        source = sources[chip.item_id]
        assert (sl.href, sl.item_id, sl.datetime) == (source.href, source.item_id, source.datetime)
        scene = gc.load_raster(source)
        want = scene[..., chip.row : chip.row + CHIP, chip.col : chip.col + CHIP]
        loaded = sl.load()
        np.testing.assert_array_equal(loaded.values, want.values)
        assert loaded.transform == want.transform and loaded.crs_string == want.crs_string
        assert chip.score == pytest.approx(float(BRIGHT(loaded)), rel=1e-5)
        assert gc.GeoSlice.from_dict(sl.to_dict()) == sl  # JSON-ready unit of work


def test_ties_go_to_catalog_then_sampler_order(catalog):
    k = 15  # all of scene 0, then the first 3 chips of scene 1
    got = ActiveSampler(BASE, ConstantScore(), k=k, mode="top")(catalog)
    ids = [sl.item_id for sl in catalog.iter_slices()]
    offsets = BASE.offsets(SHAPE).tolist()
    want = [(ids[0], r, c) for r, c in offsets] + [(ids[1], r, c) for r, c in offsets[:3]]
    assert [(c.item_id, c.row, c.col) for c in got] == want
    bottom = ActiveSampler(BASE, ConstantScore(), k=k, mode="bottom")(catalog)
    assert [(c.item_id, c.row, c.col) for c in bottom] == want
    assert {c.score for c in got} == {1.0}


@pytest.mark.parametrize("mode", ["top", "bottom"])
def test_nan_scores_rank_last_in_both_modes(catalog, mode):
    scores = sorted(s for s, *_ in brute_force(catalog, BRIGHT, 48, "top"))
    score_op = MeanOrNaN(threshold=scores[30])  # the 17 brightest chips score NaN
    k = 40
    want = brute_force(catalog, score_op, k, mode)
    assert sum(math.isnan(e[0]) for e in want) == 9  # 31 finite first, then NaNs in order
    got = ActiveSampler(BASE, score_op, k=k, mode=mode)(catalog)
    assert_matches(got, want)
    assert all(math.isnan(c.score) for c in got[31:]) and not any(
        math.isnan(c.score) for c in got[:31]
    )


def test_k_larger_than_the_catalog_returns_every_chip_ranked(catalog):
    got = ActiveSampler(BASE, BRIGHT, k=1000, mode="bottom")(catalog)
    assert len(got) == N_SCENES * 12
    assert_matches(got, brute_force(catalog, BRIGHT, 1000, "bottom"))


def test_scenes_of_one_shape_compile_once(catalog):
    TRACES.clear()
    op = ActiveSampler(BASE, pk.Sequential([CountTraces(), BRIGHT]), k=8)
    first_only = catalog.query(where={"id": catalog.ids[0]})
    op.sample(first_only)
    traced = len(TRACES)
    assert traced > 0
    got = op.sample(catalog)  # three more scenes of the same shape and grid: no new trace
    assert len(TRACES) == traced
    assert_matches(got, brute_force(catalog, BRIGHT, 8, "top"))
    op.sample(first_only, loader=window_loader)  # another shape: one new trace
    assert len(TRACES) > traced


def test_loader_window_reports_chips_in_source_pixels(catalog):
    got = ActiveSampler(BASE, BRIGHT, k=9).sample(catalog, loader=window_loader)
    assert_matches(got, brute_force(catalog, BRIGHT, 9, "top", window_loader, origin=(8, 16)))
    for chip in got:
        scene = gc.load_raster(chip.slice.href)
        want = scene[..., chip.row : chip.row + CHIP, chip.col : chip.col + CHIP]
        np.testing.assert_array_equal(chip.slice.load().values, want.values)
    with pytest.raises(gp.PatchShapeError, match="native grid"):
        ActiveSampler(BASE, BRIGHT, k=2).sample(catalog, loader=reprojecting_loader)


# ---------------------------------------------------------------------- one scene


def float_scene() -> gc.GeoTensor:
    """Float reflectances: two all-NaN chips, one chip at +inf, one at -inf."""
    gt = synthetic_scene(*SHAPE, seed=3)
    values = gt.values[:12].astype(np.float32) / 10_000
    values[:, 0:16, 16:32] = np.nan  # chip 1
    values[:, 32:48, 0:16] = np.nan  # chip 8
    values[0, 16:32, 16:32] = np.inf  # chip 5
    values[0, 0:16, 48:64] = -np.inf  # chip 3
    return gt.replace(values=values, fill_value=float("nan"))


def scene_oracle(scene, score_op, k, mode):
    scores = [
        float(score_op(scene[..., r : r + CHIP, c : c + CHIP]))
        for r, c in BASE.offsets(scene.shape[-2:]).tolist()
    ]

    def rank(i):
        s = scores[i]
        return (math.isnan(s), 0.0 if math.isnan(s) else (-s if mode == "top" else s), i)

    order = sorted(range(len(scores)), key=rank)[:k]
    return order, [scores[i] for i in order]


@pytest.mark.parametrize("mode", ["top", "bottom"])
def test_one_scene_numpy_and_jit_paths_equal_the_oracle(mode):
    scene = float_scene()
    op = ActiveSampler(BASE, pa.MeanScalar(), k=12, mode=mode, batch_size=4)
    order, scores = scene_oracle(scene, pa.MeanScalar(), 12, mode)
    assert order[-2:] == [1, 8]  # NaN chips last, in sampler order
    assert order[0] == (5 if mode == "top" else 3)  # +inf first in "top", -inf in "bottom"
    eager = op(scene)
    jitted = eqx.filter_jit(op)(jax.tree.map(jnp.asarray, scene))
    assert isinstance(eager, ChipSelection) and isinstance(jitted, ChipSelection)
    assert all(isinstance(leaf, np.ndarray) for leaf in jax.tree.leaves(eager))
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(jitted))
    offsets = BASE.offsets(SHAPE)
    for sel in (eager, jitted):
        assert np.asarray(sel.index).tolist() == order
        np.testing.assert_array_equal(np.asarray(sel.offsets), offsets[order])
        np.testing.assert_allclose(np.asarray(sel.scores), scores, rtol=1e-5, equal_nan=True)
        for i, (r, c) in enumerate(offsets[order].tolist()):
            assert sel.transform(i) == scene[..., r : r + CHIP, c : c + CHIP].transform


def test_one_scene_fewer_chips_than_k_and_top_k_in_the_program():
    scene = synthetic_scene(*SHAPE, seed=5)
    op = ActiveSampler(BASE, BRIGHT, k=100)
    order, _ = scene_oracle(scene, BRIGHT, 100, "top")
    assert len(op(scene)) == 12 and np.asarray(op(scene).index).tolist() == order
    jaxpr = str(eqx.filter_make_jaxpr(op)(jax.tree.map(jnp.asarray, scene))[0])
    assert "top_k" in jaxpr


def test_input_and_score_errors_teach():
    scene = synthetic_scene(*SHAPE, seed=1)
    op = ActiveSampler(BASE, BRIGHT, k=3)
    with pytest.raises(TypeError, match=r"one scene \(a geocatalog.GeoTensor\) or a catalog"):
        op(np.zeros((3, 48, 64)))
    with pytest.raises(gp.PatchShapeError, match=r"eqx\.filter_vmap over scenes"):
        op(gc.stack([scene, scene]))
    flat = ActiveSampler(BASE, gz.radiometry.ToFloat32(), k=3)
    with pytest.raises(gp.PatchShapeError, match=r"one real scalar; it returned shape \(13, 16"):
        flat(scene)
    with pytest.raises(gp.PatchShapeError, match="one real scalar"):
        eqx.filter_jit(flat)(jax.tree.map(jnp.asarray, scene))
    drop = gp.SpatialPatcher(gp.SpatialRectangular(64, "drop"), gp.SpatialRegularStride(64),
                             aggregation=gp.SpatialByIndex())  # fmt: skip
    small = ActiveSampler(drop, BRIGHT, k=1)
    with pytest.raises(gp.PatchShapeError, match="no chips on a scene of shape"):
        small(scene)


# ---------------------------------------------------------------------- config


def test_construction_errors_teach():
    with pytest.raises(pk.ConfigError, match=r"ActiveSampler: k must be an int >= 1, got 0"):
        ActiveSampler(BASE, BRIGHT, k=0)
    with pytest.raises(pk.ConfigError, match=r"must be an int >= 1, got True"):
        ActiveSampler(BASE, BRIGHT, k=True)
    with pytest.raises(pk.ConfigError, match=r"mode\) must be one of \('top', 'bottom'\)"):
        ActiveSampler(BASE, BRIGHT, k=3, mode="max")
    with pytest.raises(pk.ConfigError, match=r"base\) must be a geopatcher.SpatialPatcher"):
        ActiveSampler(gp.SpatialHann(), BRIGHT, k=3)
    with pytest.raises(pk.ConfigError, match="unknown kind"):
        ActiveSampler({"kind": "builtins.eval"}, BRIGHT, k=3)
    overlap = gp.SpatialPatcher(gp.SpatialRectangular(16), gp.SpatialRegularStride(16))
    with pytest.raises(pk.ConfigError, match=r"aggregation=gp.SpatialByIndex\(\)"):
        ActiveSampler(overlap, BRIGHT, k=3)
    with pytest.raises(pk.ConfigError, match=r"pk.Lambda\(fn\)"):
        ActiveSampler(BASE, np.mean, k=3)
    with pytest.raises(pk.ConfigError, match=r"batch_size must be None or an int >= 1"):
        ActiveSampler(BASE, BRIGHT, k=3, batch_size=0)


def test_yaml_round_trip_pickle_and_model_refusal(catalog):
    op = ActiveSampler(BASE, BRIGHT, k=4, mode="bottom", batch_size=3)
    again = pk.loads_yaml(pk.dumps_yaml(op))
    assert again == op and pk.config_hash(again) == pk.config_hash(op)
    assert ActiveSampler(BASE.to_config(), BRIGHT, k=4, mode="bottom", batch_size=3) == op
    sandboxed = pk.loads_yaml_sandboxed(pk.dumps_yaml(op), allowed=[
        "geotoolz.patch_ops.ActiveSampler", "pipekit.Sequential",
        "geotoolz.radiometry.ToFloat32", "pipekit_array.MeanScalar",
    ])  # fmt: skip
    assert sandboxed == op
    restored = pickle.loads(pickle.dumps(op))
    assert [(c.item_id, c.row, c.col) for c in restored(catalog)] == [
        (c.item_id, c.row, c.col) for c in op(catalog)
    ]
    with pytest.raises(pk.ConfigError, match="forbid_in_yaml"):
        pk.dumps_yaml(ActiveSampler(BASE, uq_score(), k=4))


# ---------------------------------------------------------------------- host (NumPy) models

WEIGHTS = np.random.default_rng(11).normal(size=(13,)).astype(np.float32)


def numpy_sigma(x: np.ndarray) -> np.ndarray:
    """A host model: plain NumPy (np.asarray refuses tracers), softplus of a band mix."""
    y = np.tensordot(WEIGHTS, np.asarray(x) / np.float32(10_000), axes=(0, 0))
    return np.logaddexp(np.float32(0), y)


class JaxSigma(eqx.Module):
    """The same model in jax.numpy."""

    weights: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return jax.nn.softplus(jnp.tensordot(self.weights, x / 10_000.0, axes=(0, 0)))


def sigma_score(model: Any) -> pk.Sequential:
    return pk.Sequential([gz.radiometry.ToFloat32(), pa.ModelOp(model), pa.MeanScalar()])


@pytest.mark.parametrize("mode", ["top", "bottom"])
def test_numpy_and_jax_models_select_the_same_chips(catalog, mode):
    host = ActiveSampler(BASE, sigma_score(numpy_sigma), k=9, mode=mode)
    device = ActiveSampler(BASE, sigma_score(JaxSigma(jnp.asarray(WEIGHTS))), k=9, mode=mode)
    got_host, got_device = host(catalog), device(catalog)
    assert [(c.item_id, c.row, c.col) for c in got_host] == [
        (c.item_id, c.row, c.col) for c in got_device
    ]
    np.testing.assert_allclose([c.score for c in got_host], [c.score for c in got_device],
                               rtol=1e-5)  # fmt: skip
    assert_matches(got_host, brute_force(catalog, sigma_score(numpy_sigma), 9, mode))
    # One scene: NumPy, and a concrete JAX scene (scored on the host, returned as JAX).
    scene = synthetic_scene(*SHAPE, seed=5)
    order, _ = scene_oracle(scene, sigma_score(numpy_sigma), 9, mode)
    on_jax = host(jax.tree.map(jnp.asarray, scene))
    assert isinstance(on_jax.scores, jax.Array)
    for sel in (host(scene), on_jax, device(scene)):
        assert np.asarray(sel.index).tolist() == order
    with pytest.raises(pa.ModelTracingError, match="could not be traced"):
        eqx.filter_jit(host)(jax.tree.map(jnp.asarray, scene))
