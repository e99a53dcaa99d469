"""Synthetic Sentinel-1, DEM and fusion scenes: grids, determinism, speckle and shared truth."""

import subprocess
import sys

import numpy as np
import pytest
from affine import Affine

from geocatalog import GeoValueError
from geocatalog.testing import (
    COVER_SOIL,
    COVER_VEGETATION,
    COVER_WATER,
    DEM_BANDS,
    FUSION_CLASSES,
    S1_BANDS,
    S2_BANDS,
    UPLAND_METRES,
    synthetic_dem,
    synthetic_fusion_scenes,
    synthetic_s1_scene,
    synthetic_scene,
)

RED, NIR = S2_BANDS.index("B04"), S2_BANDS.index("B08")


@pytest.fixture(scope="module")
def fusion():
    return synthetic_fusion_scenes(128, 144, seed=3, cloud_fraction=0.0)


def _contains(outer, inner, margin):
    (l0, b0, r0, t0), (l1, b1, r1, t1) = outer, inner
    return l0 <= l1 - margin and b0 <= b1 - margin and r0 >= r1 + margin and t0 >= t1 + margin


def _sample(gt, optical):
    """Nearest ``gt`` pixel under each optical pixel centre (host float64), ``(band, H, W)``."""
    t, o = gt.transform, optical.transform
    x = o.c + o.a * (np.arange(optical.width) + 0.5)
    y = o.f + o.e * (np.arange(optical.height) + 0.5)
    cols = np.floor((x - t.c) / t.a).astype(int)
    rows = np.floor((y - t.f) / t.e).astype(int)
    return gt.values[:, rows][:, :, cols]


def test_grids_cover_the_optical_footprint_off_its_lattice():
    optical = synthetic_scene(64, 80, seed=1)
    s1, dem = synthetic_s1_scene(64, 80, seed=1), synthetic_dem(64, 80, seed=1)
    assert s1.shape[0] == len(S1_BANDS) == 2 and dem.shape[0] == len(DEM_BANDS) == 1
    assert s1.dtype == dem.dtype == np.float32
    assert s1.res == (20.0, 20.0) and dem.res == (30.0, 30.0)
    for gt in (s1, dem):
        assert gt.crs_string == optical.crs_string == "EPSG:32630"
        assert _contains(gt.bounds, optical.bounds, margin=2 * gt.res[0])
        # No pixel corner of the optical grid falls on this grid's corners.
        assert (gt.transform.c - optical.transform.c) % 10 != 0
        assert (gt.transform.f - optical.transform.f) % 10 != 0
    t = Affine(10, 0, 500020, 0, -10, 4100000)
    moved = synthetic_s1_scene(32, 32, optical_transform=t, res=40.0, margin=0.0)
    assert moved.res == (40.0, 40.0)
    assert _contains(moved.bounds, synthetic_scene(32, 32, transform=t).bounds, margin=0.0)


def test_same_seed_same_bytes_other_seed_other_bytes():
    for make in (synthetic_s1_scene, synthetic_dem):
        a, b, c = make(48, 48, seed=4), make(48, 48, seed=4), make(48, 48, seed=5)
        assert a.values.tobytes() == b.values.tobytes() != c.values.tobytes()
    one, two = synthetic_fusion_scenes(40, 40, seed=9), synthetic_fusion_scenes(40, 40, seed=9)
    for x, y in zip(one, two, strict=True):
        assert x.values.tobytes() == y.values.tobytes() and x.transform == y.transform


def _log_ratio_mad(z):
    """Median |log z - log z_right|: speckle's spread, blind to a smooth sigma0."""
    logs = np.log(z.astype(np.float64))
    return np.median(np.abs(np.diff(logs, axis=-1)))


@pytest.mark.parametrize("enl", [2.0, 4.4])
def test_s1_speckle_has_the_requested_looks(enl):
    s1 = synthetic_s1_scene(256, 256, seed=2, enl=enl)
    assert (s1.values > 0).all()
    rng = np.random.default_rng(0)  # oracle: pure Gamma(L, 1/L) speckle, same statistic
    want = _log_ratio_mad(rng.gamma(enl, 1.0 / enl, size=(2, 256, 256)))
    for band in s1.values:
        np.testing.assert_allclose(_log_ratio_mad(band), want, rtol=0.05)
    other = _log_ratio_mad(rng.gamma(1.5 * enl, 1.0 / (1.5 * enl), size=(256, 256)))
    assert abs(other - want) > 0.1 * want  # the statistic does resolve the looks


def test_dem_is_smooth_relief_in_metres():
    dem = synthetic_dem(256, 256, seed=6).values[0]
    assert dem.dtype == np.float32 and dem.min() > -300 and dem.max() < 900
    assert 0.2 < (dem > UPLAND_METRES).mean() < 0.8
    first = np.diff(dem.astype(np.float64), axis=-1)
    assert np.abs(first).max() / 30.0 < 1.0 and dem.std() > 40  # slopes below 45 degrees
    assert np.diff(first, axis=-1).std() < 0.2 * first.std()  # smooth: no pixel-scale noise


def test_fusion_scenes_share_one_truth(fusion):
    optical, s1, dem, labels = fusion
    assert labels.shape == (128, 144) and labels.dtype == np.uint8
    assert labels.transform == optical.transform and labels.crs_string == optical.crs_string
    lab = labels.values
    counts = np.bincount(lab.ravel(), minlength=len(FUSION_CLASSES))
    assert counts.size == len(FUSION_CLASSES) == 9 and (counts > 0.005 * lab.size).all()
    red, nir = (optical.values[i].astype(np.float64) for i in (RED, NIR))
    ndvi = (nir - red) / (nir + red)
    water, vegetation = lab == 0, (lab >= 1) & (lab <= 4)
    assert np.median(ndvi[vegetation]) > 0.6 and np.median(ndvi[~vegetation & ~water]) < 0.3
    assert np.median(nir[water]) < 300  # DN: water is dark in NIR
    rough = ~water & (((lab - 1) // 2) % 2 == 1)
    vv_db = 10 * np.log10(_sample(s1, optical)[0])
    assert np.median(vv_db[rough]) - np.median(vv_db[~rough & ~water]) > 4.0
    assert np.median(vv_db[water]) < -18
    upland = ~water & ((lab - 1) % 2 == 1)
    height = _sample(dem, optical)[0]
    assert ((height > UPLAND_METRES) == upland)[~water].mean() > 0.95


def test_each_sensor_sees_one_factor(fusion):
    optical, _, _, labels = fusion
    lab = labels.values
    # The four vegetation classes (structure x relief) share one spectrum, as do the four
    # soil classes: optical data cannot tell them apart.
    red, nir = (optical.values[i].astype(np.float64) for i in (RED, NIR))
    ndvi = (nir - red) / (nir + red)
    for group in ((1, 2, 3, 4), (5, 6, 7, 8)):
        medians = [np.median(ndvi[lab == k]) for k in group]
        assert max(medians) - min(medians) < 0.02, medians


def test_synthetic_scene_takes_a_cover_map():
    cover = np.full((16, 24), COVER_VEGETATION, np.uint8)
    cover[:, :8], cover[:, 16:] = COVER_WATER, COVER_SOIL
    scene = synthetic_scene(16, 24, seed=1, cloud_fraction=0.0, cover=cover)
    red, nir = (scene.values[i].astype(np.float64) for i in (RED, NIR))
    ndvi = (nir - red) / (nir + red)
    assert (ndvi[:, 8:16] > 0.6).all() and (ndvi[:, 16:] < 0.3).all() and (nir[:, :8] < 500).all()
    with pytest.raises(GeoValueError, match=r"cover must be a \(16, 24\) integer map"):
        synthetic_scene(16, 24, cover=np.zeros((16, 23), np.uint8))
    with pytest.raises(GeoValueError, match=r"cover must be"):
        synthetic_scene(16, 24, cover=np.full((16, 24), 3))


def test_invalid_arguments_are_refused():
    with pytest.raises(GeoValueError, match=r"synthetic_s1_scene: enl .* positive .* -1.0"):
        synthetic_s1_scene(8, 8, enl=-1)
    with pytest.raises(GeoValueError, match=r"positive integer height and width .*\(0, 8\)"):
        synthetic_dem(0, 8)
    with pytest.raises(GeoValueError, match=r"north-up optical grid"):
        synthetic_dem(8, 8, optical_transform=Affine(10, 0, 0, 0, 10, 0))
    with pytest.raises(GeoValueError, match=r"res must be a positive pixel size"):
        synthetic_s1_scene(8, 8, res=0.0)


def test_testing_is_framework_free():
    code = (
        "import sys, geocatalog.testing as t\n"
        "t.synthetic_fusion_scenes(16, 16)\n"
        "bad = [m for m in ('pipekit', 'geotoolz') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
