"""geopatcher core: samplers, boundary-aware windows, exact overlap-add, chip georeferencing."""

import numpy as np
import pytest
from affine import Affine

import geocatalog as gc
import geopatcher as gp

WINDOWS = [gp.SpatialBoxcar(), gp.SpatialHann(), gp.SpatialGaussian(), gp.SpatialTukey()]
TRANSFORM = Affine(10.0, 0.0, 399_960.0, 0.0, -10.0, 4_500_000.0)


def patcher(size=256, stride=224, window=None, boundary="shift", aggregation=None):
    return gp.SpatialPatcher(
        gp.SpatialRectangular((size, size), boundary=boundary),
        gp.SpatialRegularStride((stride, stride)),
        window or gp.SpatialHann(),
        aggregation or gp.SpatialOverlapAdd(),
    )


@pytest.fixture(scope="module")
def field():
    return np.random.default_rng(0).random((3, 1000, 777), dtype=np.float32)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("stride", [224, 128])
@pytest.mark.parametrize("boundary", ["shift", "pad", "drop"])
def test_identity_overlap_add_returns_the_input_borders_included(field, window, stride, boundary):
    p = patcher(256, stride, window, boundary)
    out = p.apply(field, lambda chip: chip)
    assert out.shape == field.shape and out.dtype == np.float32
    if boundary == "drop":
        covered = p.weight_map(field) > 0
        rows = (1000 - 256) // stride * stride + 256  # complete chips only
        cols = (777 - 256) // stride * stride + 256
        expected = np.zeros((1000, 777), bool)
        expected[:rows, :cols] = True
        np.testing.assert_array_equal(covered, expected)
        np.testing.assert_allclose(out[:, covered], field[:, covered], rtol=0, atol=1e-6)
        assert np.isnan(out[:, ~covered]).all()
        return
    np.testing.assert_allclose(out, field, rtol=0, atol=1e-6)
    weights = p.weight_map(field)
    assert (weights > 0).all()
    # No taper towards the border: the first rows/columns weigh exactly what the rows/columns
    # at the first chips' centres weigh (chips touching the border are held at their peak).
    np.testing.assert_array_equal(weights[0], weights[100])
    np.testing.assert_array_equal(weights[:, 0], weights[:, 100])
    if boundary == "shift":  # the last chips end flush with the border: held there too
        np.testing.assert_array_equal(weights[-1], weights[-5])
        np.testing.assert_array_equal(weights[:, -1], weights[:, -5])
    if not isinstance(window, gp.SpatialBoxcar):  # a plain taper would weigh them ~0
        corner = gp.chip_weights(window, (256, 256), np.array([[300, 300]]), (2000, 2000))[0]
        assert corner[0, 0] < 0.05 < weights[0, 0] == 1.0


def test_offsets_follow_the_boundary_rule():
    geometry = gp.SpatialRectangular(256, boundary="shift")
    offsets = gp.SpatialRegularStride(224).sample((1000, 777), geometry)
    rows, cols = sorted(set(offsets[:, 0])), sorted(set(offsets[:, 1]))
    assert rows == [0, 224, 448, 672, 744] and cols == [0, 224, 448, 521]  # last chips flush
    assert offsets.dtype == np.int64 and offsets.shape == (20, 2)
    assert offsets[:5].tolist() == [[0, 0], [0, 224], [0, 448], [0, 521], [224, 0]]  # row-major
    pad = gp.SpatialRegularStride(224).sample((1000, 777), gp.SpatialRectangular(256, "pad"))
    assert sorted(set(pad[:, 0])) == [0, 224, 448, 672, 896] and sorted(set(pad[:, 1])) == [
        0, 224, 448, 672
    ]  # fmt: skip
    drop = gp.SpatialRegularStride(224).sample((1000, 777), gp.SpatialRectangular(256, "drop"))
    assert sorted(set(drop[:, 0])) == [0, 224, 448, 672] and sorted(set(drop[:, 1])) == [
        0,
        224,
        448,
    ]
    with pytest.raises(gp.PatchShapeError, match="boundary='pad'"):
        gp.SpatialRegularStride(8).sample((5, 40), gp.SpatialRectangular(16))


def test_random_and_explicit_samplers():
    geometry = gp.SpatialRectangular((16, 8))
    a = gp.SpatialRandom(50, seed=3).sample((100, 60), geometry)
    assert (a == gp.SpatialRandom(50, seed=3).sample((100, 60), geometry)).all()
    assert not (a == gp.SpatialRandom(50, seed=4).sample((100, 60), geometry)).all()
    assert a[:, 0].min() >= 0 and a[:, 0].max() <= 84 and a[:, 1].max() <= 52
    rng = np.random.default_rng(3)  # the documented draw: rows, then columns
    assert a[:, 0].tolist() == rng.integers(0, 85, 50).tolist()
    explicit = gp.SpatialExplicit(((0, 0), (90, 55), (-4, 10)))
    with pytest.raises(gp.PatchShapeError, match="does not lie inside"):
        explicit.sample((100, 60), geometry)
    assert explicit.sample((100, 60), gp.SpatialRectangular((16, 8), "drop")).tolist() == [[0, 0]]
    assert len(explicit.sample((100, 60), gp.SpatialRectangular((16, 8), "pad"))) == 3
    with pytest.raises(gp.PatchConfigError, match="pairs"):
        gp.SpatialExplicit(((1, 2, 3),))


def test_window_profiles_match_their_formulas():
    n = 64
    x = (np.arange(n) + 0.5) / n
    hann = np.sin(np.pi * x) ** 2
    np.testing.assert_allclose(gp.SpatialHann().profile(n), hann / hann.max())
    gauss = np.exp(-0.5 * ((np.arange(n) + 0.5 - n / 2) / (0.125 * n)) ** 2)
    np.testing.assert_allclose(gp.SpatialGaussian().profile(n), gauss / gauss.max())
    alpha = 0.5
    tukey = np.ones(n)
    lo = x < alpha / 2
    tukey[lo] = 0.5 * (1 - np.cos(2 * np.pi * x[lo] / alpha))
    tukey[::-1][lo] = tukey[lo]
    np.testing.assert_allclose(gp.SpatialTukey(alpha).profile(n), tukey / tukey.max())
    np.testing.assert_allclose(gp.SpatialTukey(1.0).profile(n), gp.SpatialHann().profile(n))
    assert (gp.SpatialTukey(0.0).profile(n) == 1).all()
    # A chip touching the top-left border is held at 1 from its peak to those sides.
    w = gp.chip_weights(gp.SpatialHann(), (8, 8), np.array([[0, 0], [4, 4]]), (20, 20))
    assert (w[0][:4, :4] == 1).all() and w[0][-1, -1] < 0.1
    assert w[1].max() == pytest.approx(np.sin(np.pi * 3.5 / 8) ** 4 / np.sin(np.pi * 3.5 / 8) ** 4)
    assert (w > 0).all()


def test_chip_transforms_equal_rasterio_window_transforms(tmp_path, rio_window_transform):
    gt = gc.GeoTensor(np.zeros((2, 100, 90), np.float32), TRANSFORM, "EPSG:32630")
    path = gc.save_cog(gt, str(tmp_path / "scene.tif"))
    p = gp.SpatialPatcher(gp.SpatialRectangular(32, "pad"), gp.SpatialRegularStride(28))
    for source in (gt, path):
        field = gp.RasterField(source)
        for r, c, chip in p.iter_chips(field):
            want = rio_window_transform(TRANSFORM, r, c)
            assert chip.transform == want and chip.shape == (2, 32, 32)
    results = gp.SpatialPatcher(
        gp.SpatialRectangular(32), gp.SpatialRegularStride(32), aggregation=gp.SpatialByIndex()
    ).apply(gp.RasterField(gt), lambda chip: float(chip.values.mean()))
    assert [(res.row, res.col) for res in results[:3]] == [(0, 0), (0, 32), (0, 58)]
    for res in results:
        assert res.transform == rio_window_transform(TRANSFORM, res.row, res.col)


def test_pad_chips_read_the_fill_value_outside(tmp_path, rio_window_transform):
    values = np.arange(2 * 10 * 12, dtype=np.float32).reshape(2, 10, 12)
    gt = gc.GeoTensor(values, TRANSFORM, "EPSG:32630", fill_value=-1.0)
    path = gc.save_cog(gt, str(tmp_path / "scene.tif"))
    for source in (gt, path):
        chip = gp.RasterField(source).read(6, 8, 8, 8)
        assert (chip.values[:, :4, :4] == values[:, 6:, 8:]).all()
        assert (chip.values[:, 4:, :] == -1).all() and (chip.values[:, :, 4:] == -1).all()
        assert chip.transform == rio_window_transform(TRANSFORM, 6, 8)


def test_stitched_geotensor_keeps_the_grid_and_ops_may_change_bands():
    gt = gc.testing.synthetic_scene(300, 280, seed=2)
    p = patcher(64, 48, gp.SpatialGaussian())
    half = p.apply(gp.RasterField(gt), lambda chip: chip.replace(values=chip.values[3:4] * 0.5))
    assert isinstance(half, gc.GeoTensor) and half.transform == gt.transform
    np.testing.assert_allclose(half.values[0], gt.values[3] * 0.5, rtol=1e-6)
    with pytest.raises(gp.PatchShapeError, match="SpatialByIndex"):
        p.apply(gt, lambda chip: chip.values[..., :10, :10])


def test_patcher_config_round_trips_and_rejects_unknown_kinds():
    p = patcher(64, 48, gp.SpatialTukey(0.25), "pad", gp.SpatialByIndex())
    assert gp.from_config(p.to_config()) == p
    assert hash(gp.from_config(p.to_config())) == hash(p)
    assert gp.SpatialPatcher(**{k: v for k, v in p.to_config().items() if k != "kind"}) == p
    with pytest.raises(gp.PatchConfigError, match=r"unknown kind 'os\.system'"):
        gp.from_config({"kind": "os.system"})
    with pytest.raises(gp.PatchConfigError, match="boundary"):
        gp.SpatialRectangular(64, boundary="wrap")
    with pytest.raises(gp.PatchConfigError, match="positive int"):
        gp.SpatialRegularStride(0)
    with pytest.raises(gp.PatchConfigError, match="window"):
        gp.SpatialPatcher(gp.SpatialRectangular(8), gp.SpatialRegularStride(8), gp.SpatialByIndex())
